import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeFileAtomicAsync } from '../storage/atomic-file.js';

/**
 * One partition's replication state, as Kafka's controller keeps it (KRaft's PartitionRecord):
 * the replica list in preference order, the leader (-1 when offline), the leader epoch bumped
 * by every leader change, the in-sync replicas, and a version bumped by every change so that
 * writers can compare-and-swap.
 *
 * While the partition's replicas move (a reassignment, KIP-455) `replicas` is the target list
 * followed by the replicas being removed, `addingReplicas` are the target's replicas that were not
 * replicas before and `removingReplicas` the old ones the target drops (see
 * partition-reassignment.ts). Both are absent (or empty) when nothing moves, so records stored
 * before reassignments existed read as they are.
 */
export interface PartitionState {
  replicas: number[];
  leader: number;
  leaderEpoch: number;
  isr: number[];
  addingReplicas?: number[];
  removingReplicas?: number[];
  version: number;
}

export interface TopicMetadata {
  name: string;
  /** Kafka's topic id: 16 random bytes, base64url (22 chars), fixed at creation. */
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides, Kafka names. */
  configs: Record<string, string>;
  /** One entry per partition, index = partition id. */
  partitionStates: PartitionState[];
  /** Bumped by every change of the topic's own fields (configs, partition count). */
  version: number;
}

/** A compare-and-swap lost: someone else changed the record first. The caller re-reads and retries or gives up. */
export class MetadataConflictError extends Error {
  constructor(what: string, expected: number, actual: number) {
    super(`${what}: expected version ${expected}, found ${actual}`);
    this.name = 'MetadataConflictError';
  }
}

/** A topic that is already there (or being created by a concurrent call). */
export class TopicAlreadyStoredError extends Error {
  constructor(readonly topic: string) {
    super(`Topic '${topic}' already exists in the metadata store`);
    this.name = 'TopicAlreadyStoredError';
  }
}

/**
 * Cluster metadata: topics with their partition states and config overrides, and the cluster
 * id. Every method is asynchronous and every change is atomic, so the local file below and an
 * etcd-backed store (cluster mode, transactions on revisions) can stand behind it. Nothing that
 * uses it may count on a write finishing before the call returns.
 */
export interface MetadataStore {
  readonly clusterId: string;
  listTopics(): Promise<TopicMetadata[]>;
  getTopic(name: string): Promise<TopicMetadata | undefined>;
  /** Stores a new topic; throws TopicAlreadyStoredError when the name is taken (also by a create in flight). */
  createTopic(topic: TopicMetadata): Promise<void>;
  /** Replaces a topic's record when its stored version is `expectedVersion`; the stored version becomes +1. */
  updateTopic(topic: TopicMetadata, expectedVersion: number): Promise<TopicMetadata>;
  /** Removes a topic; false when there was none. */
  deleteTopic(name: string): Promise<boolean>;
  /** Replaces one partition's state when its version is `expectedVersion`; the stored version becomes +1. */
  updatePartitionState(
    topic: string,
    partition: number,
    next: Omit<PartitionState, 'version'>,
    expectedVersion: number,
  ): Promise<PartitionState>;
  /**
   * Reserves the next `count` producer ids (a block, as Kafka's controller hands them out, KIP-730):
   * no other call, on this node or another, before or after a restart, gets any of them. Returns
   * the first; the block is `[first, first + count)`.
   */
  allocateProducerIds(count: number): Promise<number>;
  /** The run-time broker configs of `entity` (a broker id, or `<default>` for the cluster-wide ones). */
  getBrokerConfigs(entity: string): Promise<Record<string, string>>;
  /** Replaces the run-time broker configs of `entity`, atomically (all of them, or none). */
  putBrokerConfigs(entity: string, configs: Record<string, string>): Promise<void>;
  /** Every stored ACL (Kafka keeps them in its cluster metadata too), in no particular order. */
  listAcls(): Promise<StoredAcl[]>;
  /** Stores these ACLs (distinct, none stored yet); the caller keeps the count bounded. */
  addAcls(acls: readonly StoredAcl[]): Promise<void>;
  /** Removes exactly these stored ACLs. */
  removeAcls(acls: readonly StoredAcl[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * One ACL as the store keeps it: Kafka's names as text (`TOPIC`, `PREFIXED`, `User:alice`, `*`,
 * `READ`, `ALLOW`). What the fields may hold is the authorizer's to check (src/security); the store
 * only keeps them, and `storedAclKey` is the identity of one.
 */
export interface StoredAcl {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permission: string;
}

/** One text per distinct ACL, over every field. */
export function storedAclKey(a: StoredAcl): string {
  return JSON.stringify([
    a.resourceType,
    a.patternType,
    a.resourceName,
    a.principal,
    a.host,
    a.operation,
    a.permission,
  ]);
}

function copyStoredAcl(a: StoredAcl): StoredAcl {
  const { resourceType, resourceName, patternType, principal, host, operation, permission } = a;
  return { resourceType, resourceName, patternType, principal, host, operation, permission };
}

/**
 * Run-time broker configs (Kafka's dynamic broker configs, which Kafka keeps in its cluster
 * metadata), by entity: a broker id, or `<default>` for the cluster-wide values.
 */
interface StoredBrokerConfigs {
  version: 1;
  entities: Record<string, Record<string, string>>;
}

interface StoredMetadata {
  version: 1 | 2;
  topics: Array<Omit<TopicMetadata, 'partitionStates' | 'version'> & Partial<TopicMetadata>>;
}

const METADATA_FILE = 'samsa-metadata.json';
const BROKER_CONFIGS_FILE = 'dynamic-broker-configs.json';
/** `{ "version": 1, "nextProducerId": N }`: the first producer id no block has had. */
const PRODUCER_IDS_FILE = 'producer-ids.json';
/** Kafka's per-log-dir identity file; we keep its key=value format. */
const META_PROPERTIES_FILE = 'meta.properties';
/** `{ "version": 1, "acls": [StoredAcl, ...] }`, replaced atomically on every change. */
const ACLS_FILE = 'acls.json';

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 chars). */
export function newKafkaId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The record a compare-and-swap from `expectedVersion` stores: `next`'s fields (copied) at the
 * following version. The reassignment fields are stored only while something moves, so a partition
 * that never moved keeps the record shape it always had.
 */
export function nextPartitionState(next: Omit<PartitionState, 'version'>, expectedVersion: number): PartitionState {
  return { ...copyPartitionState({ ...next, version: 0 }), version: expectedVersion + 1 };
}

/** A deep copy of a partition state; empty reassignment fields are left out. */
export function copyPartitionState(state: PartitionState): PartitionState {
  const out: PartitionState = {
    replicas: [...state.replicas],
    leader: state.leader,
    leaderEpoch: state.leaderEpoch,
    isr: [...state.isr],
    version: state.version,
  };
  if (state.addingReplicas?.length) out.addingReplicas = [...state.addingReplicas];
  if (state.removingReplicas?.length) out.removingReplicas = [...state.removingReplicas];
  return out;
}

/** The state of a partition that only `nodeId` hosts: it leads, it is the ISR, epoch 0. */
export function singleReplicaState(nodeId: number): PartitionState {
  return { replicas: [nodeId], leader: nodeId, leaderEpoch: 0, isr: [nodeId], version: 0 };
}

function copyTopic(t: TopicMetadata): TopicMetadata {
  return {
    ...t,
    configs: { ...t.configs },
    partitionStates: t.partitionStates.map(copyPartitionState),
  };
}

/**
 * The metadata store of the embedded single node: one JSON file in the data dir, replaced
 * atomically (temp + fsync + rename) on every change, so a crash leaves the old or the new
 * metadata. Changes are applied to memory at once (a second create of a name in flight fails
 * at once) and written one after another in call order; a write that fails undoes its change.
 */
export class LocalMetadataStore implements MetadataStore {
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly brokerConfigs = new Map<string, Record<string, string>>();
  private writes: Promise<void> = Promise.resolve();
  private nextProducerId = 0;
  private readonly acls = new Map<string, StoredAcl>();

  private constructor(
    private readonly dataDir: string,
    readonly clusterId: string,
  ) {}

  static async open(dataDir: string, nodeId: number): Promise<LocalMetadataStore> {
    await fs.promises.mkdir(dataDir, { recursive: true });
    const store = new LocalMetadataStore(dataDir, loadOrCreateIdentity(dataDir, nodeId));
    const file = path.join(dataDir, METADATA_FILE);
    if (fs.existsSync(file)) {
      const stored = JSON.parse(await fs.promises.readFile(file, 'utf8')) as StoredMetadata;
      if (stored.version !== 1 && stored.version !== 2) {
        throw new Error(`${file}: unsupported metadata version ${String(stored.version)}`);
      }
      for (const t of stored.topics) {
        // Version 1 files predate partition states: every partition was this node's alone.
        const partitionStates =
          t.partitionStates ?? Array.from({ length: t.partitions }, () => singleReplicaState(nodeId));
        store.topics.set(t.name, { ...t, partitionStates, version: t.version ?? 0 });
      }
    }
    const producerIdsFile = path.join(dataDir, PRODUCER_IDS_FILE);
    if (fs.existsSync(producerIdsFile)) {
      const stored = JSON.parse(await fs.promises.readFile(producerIdsFile, 'utf8')) as {
        version: number;
        nextProducerId: number;
      };
      if (stored.version !== 1 || !Number.isSafeInteger(stored.nextProducerId) || stored.nextProducerId < 0)
        throw new Error(`${producerIdsFile}: unsupported content ${JSON.stringify(stored)}`);
      store.nextProducerId = stored.nextProducerId;
    }
    const configsFile = path.join(dataDir, BROKER_CONFIGS_FILE);
    if (fs.existsSync(configsFile)) {
      const stored = JSON.parse(await fs.promises.readFile(configsFile, 'utf8')) as StoredBrokerConfigs;
      if (stored.version !== 1) throw new Error(`${configsFile}: unsupported version ${String(stored.version)}`);
      for (const [entity, configs] of Object.entries(stored.entities)) store.brokerConfigs.set(entity, configs);
    }
    const aclsFile = path.join(dataDir, ACLS_FILE);
    if (fs.existsSync(aclsFile)) {
      const stored = JSON.parse(await fs.promises.readFile(aclsFile, 'utf8')) as { version: number; acls: StoredAcl[] };
      if (stored.version !== 1 || !Array.isArray(stored.acls))
        throw new Error(`${aclsFile}: unsupported version ${String(stored.version)}`);
      for (const acl of stored.acls) store.acls.set(storedAclKey(acl), copyStoredAcl(acl));
    }
    return store;
  }

  /** Queues a write of the current state; `undo` restores memory if it fails. */
  private persist(undo: () => void): Promise<void> {
    const stored: StoredMetadata = { version: 2, topics: [...this.topics.values()] };
    const text = `${JSON.stringify(stored, null, 2)}\n`;
    const write = this.writes.then(() => writeFileAtomicAsync(path.join(this.dataDir, METADATA_FILE), text));
    this.writes = write.catch(() => undefined);
    return write.catch((err: unknown) => {
      undo();
      throw err;
    });
  }

  async listTopics(): Promise<TopicMetadata[]> {
    return [...this.topics.values()].map(copyTopic);
  }

  async getTopic(name: string): Promise<TopicMetadata | undefined> {
    const t = this.topics.get(name);
    return t && copyTopic(t);
  }

  createTopic(topic: TopicMetadata): Promise<void> {
    if (this.topics.has(topic.name)) return Promise.reject(new TopicAlreadyStoredError(topic.name));
    this.topics.set(topic.name, copyTopic(topic));
    return this.persist(() => this.topics.delete(topic.name));
  }

  async updateTopic(topic: TopicMetadata, expectedVersion: number): Promise<TopicMetadata> {
    const current = this.topics.get(topic.name);
    if (!current) throw new MetadataConflictError(`topic ${topic.name}`, expectedVersion, -1);
    if (current.version !== expectedVersion) {
      throw new MetadataConflictError(`topic ${topic.name}`, expectedVersion, current.version);
    }
    const next = copyTopic({ ...topic, version: expectedVersion + 1 });
    this.topics.set(topic.name, next);
    await this.persist(() => this.topics.set(topic.name, current));
    return copyTopic(next);
  }

  async deleteTopic(name: string): Promise<boolean> {
    const current = this.topics.get(name);
    if (!current) return false;
    this.topics.delete(name);
    await this.persist(() => this.topics.set(name, current));
    return true;
  }

  async updatePartitionState(
    topic: string,
    partition: number,
    next: Omit<PartitionState, 'version'>,
    expectedVersion: number,
  ): Promise<PartitionState> {
    const current = this.topics.get(topic);
    const state = current?.partitionStates[partition];
    const what = `partition ${topic}-${partition}`;
    if (!current || !state) throw new MetadataConflictError(what, expectedVersion, -1);
    if (state.version !== expectedVersion) throw new MetadataConflictError(what, expectedVersion, state.version);
    const stored = nextPartitionState(next, expectedVersion);
    const states = [...current.partitionStates];
    states[partition] = stored;
    this.topics.set(topic, { ...current, partitionStates: states });
    await this.persist(() => this.topics.set(topic, current));
    return copyPartitionState(stored);
  }

  async allocateProducerIds(count: number): Promise<number> {
    const first = this.nextProducerId;
    this.nextProducerId += count;
    const text = `${JSON.stringify({ version: 1, nextProducerId: this.nextProducerId })}\n`;
    const write = this.writes.then(() => writeFileAtomicAsync(path.join(this.dataDir, PRODUCER_IDS_FILE), text));
    this.writes = write.catch(() => undefined);
    // A failed write keeps the block spent in memory: ids are never handed out twice, only skipped.
    await write;
    return first;
  }

  async getBrokerConfigs(entity: string): Promise<Record<string, string>> {
    return { ...this.brokerConfigs.get(entity) };
  }

  async putBrokerConfigs(entity: string, configs: Record<string, string>): Promise<void> {
    const before = this.brokerConfigs.get(entity);
    if (Object.keys(configs).length === 0) this.brokerConfigs.delete(entity);
    else this.brokerConfigs.set(entity, { ...configs });
    const stored: StoredBrokerConfigs = { version: 1, entities: Object.fromEntries(this.brokerConfigs) };
    const text = `${JSON.stringify(stored, null, 2)}\n`;
    const write = this.writes.then(() => writeFileAtomicAsync(path.join(this.dataDir, BROKER_CONFIGS_FILE), text));
    this.writes = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      if (before) this.brokerConfigs.set(entity, before);
      else this.brokerConfigs.delete(entity);
      throw err;
    }
  }

  async listAcls(): Promise<StoredAcl[]> {
    return [...this.acls.values()].map(copyStoredAcl);
  }

  addAcls(acls: readonly StoredAcl[]): Promise<void> {
    const added = acls.map((a) => [storedAclKey(a), copyStoredAcl(a)] as const).filter(([k]) => !this.acls.has(k));
    for (const [k, a] of added) this.acls.set(k, a);
    return this.persistAcls(() => {
      for (const [k] of added) this.acls.delete(k);
    });
  }

  removeAcls(acls: readonly StoredAcl[]): Promise<void> {
    const removed: Array<[string, StoredAcl]> = [];
    for (const a of acls) {
      const k = storedAclKey(a);
      const had = this.acls.get(k);
      if (had) removed.push([k, had]);
      this.acls.delete(k);
    }
    return this.persistAcls(() => {
      for (const [k, a] of removed) this.acls.set(k, a);
    });
  }

  /** Queues a write of every ACL; `undo` restores memory if it fails. */
  private persistAcls(undo: () => void): Promise<void> {
    const text = `${JSON.stringify({ version: 1, acls: [...this.acls.values()] })}\n`;
    const write = this.writes.then(() => writeFileAtomicAsync(path.join(this.dataDir, ACLS_FILE), text));
    this.writes = write.catch(() => undefined);
    return write.catch((err: unknown) => {
      undo();
      throw err;
    });
  }

  /** Waits for queued writes. */
  async close(): Promise<void> {
    await this.writes;
  }
}

function loadOrCreateIdentity(dataDir: string, nodeId: number): string {
  const file = path.join(dataDir, META_PROPERTIES_FILE);
  if (fs.existsSync(file)) {
    const props = new Map(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()] as const),
    );
    const id = props.get('cluster.id');
    if (id) return id;
  }
  const id = newKafkaId();
  writeFileAtomic(file, `#Samsa log dir identity\nversion=1\ncluster.id=${id}\nnode.id=${nodeId}\n`);
  return id;
}
