import { createHash, randomBytes } from 'node:crypto';
import type { Etcd3, MultiRangeBuilder, Namespace, SingleRangeBuilder } from 'etcd3';
import { connectEtcd, type EtcdClusterOptions } from './etcd-client.js';
import {
  MetadataConflictError,
  type MetadataStore,
  newKafkaId,
  nextPartitionState,
  type PartitionState,
  type StoredAcl,
  storedAclKey,
  TopicAlreadyStoredError,
  type TopicMetadata,
} from './metadata-store.js';

/** A topic's own record, without its partitions' states (each has its own key, changed on its own). */
type StoredTopic = Omit<TopicMetadata, 'partitionStates'>;

/** Tries at a producer id block before giving up to the caller, which retries later (nodes race only at a block's end). */
const MAX_ALLOCATION_ATTEMPTS = 16;

/**
 * The metadata store of a cluster: topics and partition states in etcd, as KRaft keeps topic and
 * partition records. Layout under `/samsa/<cluster>/`:
 *
 *   cluster-id                     the Kafka cluster id, written once by the first node
 *   topics/<name>                  StoredTopic JSON (configs, partition count, version)
 *   partitions/<name>/<p>          PartitionState JSON (replicas, leader, leader epoch, ISR, version)
 *   broker-configs/<entity>        run-time broker configs (a broker id, or `<default>`)
 *   producer-ids/next              the first producer id no node's block has had (a decimal number)
 *   acls/<sha-256 of the ACL>      one StoredAcl JSON per ACL (one key each: 100,000 ACLs exceed etcd's request size)
 *
 * Each partition has its own key so that a leader change (controller) and an ISR change (leader)
 * of different partitions never conflict. Every change is one etcd transaction that compares the
 * key's mod revision with the one the caller read, so two nodes racing on one record cannot both
 * win: the loser gets MetadataConflictError (or TopicAlreadyStoredError for a create) and re-reads.
 */
export class EtcdMetadataStore implements MetadataStore {
  private constructor(
    private readonly client: Etcd3,
    private readonly kv: Namespace,
    readonly clusterId: string,
    /** The secret node-to-node calls carry: written once by the first node, like the cluster id. */
    readonly clusterSecret: string,
  ) {}

  static async open(opts: EtcdClusterOptions): Promise<EtcdMetadataStore> {
    const { client, kv } = connectEtcd(opts);
    try {
      // The first node to get here names the cluster and draws its secret; everyone else reads them.
      const clusterId = await storeOnce(kv, 'cluster-id', newKafkaId(), opts);
      const clusterSecret = await storeOnce(kv, 'cluster-secret', randomBytes(32).toString('base64url'), opts);
      return new EtcdMetadataStore(client, kv, clusterId, clusterSecret);
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /**
   * Topic records and partition states read at one etcd revision. A topic and its partitions'
   * states are written in one transaction, so each topic is seen whole or not at all; two reads at
   * their own revisions could meet a topic created (or deleted) between them, half of it stored.
   */
  private async readAtOneRevision(
    topicsRange: MultiRangeBuilder | SingleRangeBuilder,
    partitionsPrefix: string,
  ): Promise<{ topics: string[]; partitions: Record<string, string> }> {
    const first = await topicsRange.exec();
    const second = await this.kv.getAll().prefix(partitionsPrefix).revision(first.header.revision).exec();
    // Topic records by value only: etcd3 strips the namespace from a prefix range's keys, not from a single key's.
    const partitions = Object.fromEntries(
      second.kvs.map((kv) => [kv.key.toString('utf8'), kv.value.toString('utf8')] as const),
    );
    return { topics: first.kvs.map((kv) => kv.value.toString('utf8')), partitions };
  }

  async listTopics(): Promise<TopicMetadata[]> {
    const { topics, partitions } = await this.readAtOneRevision(this.kv.getAll().prefix('topics/'), 'partitions/');
    const states = new Map<string, PartitionState[]>();
    for (const [key, value] of Object.entries(partitions)) {
      const [, topic, partition] = key.split('/');
      if (topic === undefined || partition === undefined) continue;
      let list = states.get(topic);
      if (!list) {
        list = [];
        states.set(topic, list);
      }
      list[Number(partition)] = JSON.parse(value) as PartitionState;
    }
    return topics.map((value) => {
      const topic = JSON.parse(value) as StoredTopic;
      return { ...topic, partitionStates: completeStates(topic, states.get(topic.name) ?? []) };
    });
  }

  async getTopic(name: string): Promise<TopicMetadata | undefined> {
    const { topics, partitions } = await this.readAtOneRevision(this.kv.get(`topics/${name}`), `partitions/${name}/`);
    const [topic] = topics;
    if (topic === undefined) return undefined;
    const stored = JSON.parse(topic) as StoredTopic;
    const list: PartitionState[] = [];
    for (const [key, value] of Object.entries(partitions)) {
      list[Number(key.slice(key.lastIndexOf('/') + 1))] = JSON.parse(value) as PartitionState;
    }
    return { ...stored, partitionStates: completeStates(stored, list) };
  }

  async createTopic(topic: TopicMetadata): Promise<void> {
    const { partitionStates, ...stored } = topic;
    const result = await this.kv
      .if(`topics/${topic.name}`, 'Create', '==', 0)
      .then(
        this.kv.put(`topics/${topic.name}`).value(JSON.stringify(stored)),
        ...partitionStates.map((s, p) => this.kv.put(`partitions/${topic.name}/${p}`).value(JSON.stringify(s))),
      )
      .commit();
    if (!result.succeeded) throw new TopicAlreadyStoredError(topic.name);
  }

  async updateTopic(topic: TopicMetadata, expectedVersion: number): Promise<TopicMetadata> {
    const key = `topics/${topic.name}`;
    const current = await this.kv.get(key).exec();
    const kv = current.kvs[0];
    const what = `topic ${topic.name}`;
    if (!kv) throw new MetadataConflictError(what, expectedVersion, -1);
    const stored = JSON.parse(kv.value.toString('utf8')) as StoredTopic;
    if (stored.version !== expectedVersion) throw new MetadataConflictError(what, expectedVersion, stored.version);
    const { partitionStates, ...next } = { ...topic, version: expectedVersion + 1 };
    // Partitions the update adds (CreatePartitions) get their first state in the same transaction;
    // existing partitions' states are not the topic's to change.
    const added = partitionStates.slice(stored.partitions);
    const result = await this.kv
      .if(key, 'Mod', '==', kv.mod_revision)
      .then(
        this.kv.put(key).value(JSON.stringify(next)),
        ...added.map((s, i) =>
          this.kv.put(`partitions/${topic.name}/${stored.partitions + i}`).value(JSON.stringify(s)),
        ),
      )
      .commit();
    if (!result.succeeded) throw new MetadataConflictError(what, expectedVersion, Number.NaN);
    return (await this.getTopic(topic.name)) as TopicMetadata;
  }

  async deleteTopic(name: string): Promise<boolean> {
    const result = await this.kv
      .if(`topics/${name}`, 'Create', '>', 0)
      .then(this.kv.delete().key(`topics/${name}`), this.kv.delete().prefix(`partitions/${name}/`))
      .commit();
    return result.succeeded;
  }

  async updatePartitionState(
    topic: string,
    partition: number,
    next: Omit<PartitionState, 'version'>,
    expectedVersion: number,
  ): Promise<PartitionState> {
    const key = `partitions/${topic}/${partition}`;
    const what = `partition ${topic}-${partition}`;
    const kv = (await this.kv.get(key).exec()).kvs[0];
    if (!kv) throw new MetadataConflictError(what, expectedVersion, -1);
    const current = JSON.parse(kv.value.toString('utf8')) as PartitionState;
    if (current.version !== expectedVersion) throw new MetadataConflictError(what, expectedVersion, current.version);
    const stored = nextPartitionState(next, expectedVersion);
    const result = await this.kv
      .if(key, 'Mod', '==', kv.mod_revision)
      .then(this.kv.put(key).value(JSON.stringify(stored)))
      .commit();
    if (!result.succeeded) throw new MetadataConflictError(what, expectedVersion, Number.NaN);
    return stored;
  }

  async allocateProducerIds(count: number): Promise<number> {
    const key = 'producer-ids/next';
    for (let attempt = 0; attempt < MAX_ALLOCATION_ATTEMPTS; attempt++) {
      const kv = (await this.kv.get(key).exec()).kvs[0];
      const first = kv ? Number(kv.value.toString('utf8')) : 0;
      if (!Number.isSafeInteger(first) || first < 0)
        throw new Error(`etcd metadata: ${key} holds ${String(kv?.value)}`);
      // Compare-and-swap on the key's revision: two nodes racing for a block cannot both get it.
      const result = await this.kv
        .if(key, kv ? 'Mod' : 'Create', '==', kv ? kv.mod_revision : 0)
        .then(this.kv.put(key).value(String(first + count)))
        .commit();
      if (result.succeeded) return first;
    }
    throw new MetadataConflictError(key, -1, Number.NaN);
  }

  async getBrokerConfigs(entity: string): Promise<Record<string, string>> {
    const value = await this.kv.get(`broker-configs/${entity}`).string();
    return value === null ? {} : (JSON.parse(value) as Record<string, string>);
  }

  async putBrokerConfigs(entity: string, configs: Record<string, string>): Promise<void> {
    const key = `broker-configs/${entity}`;
    if (Object.keys(configs).length === 0) await this.kv.delete().key(key).exec();
    else await this.kv.put(key).value(JSON.stringify(configs)).exec();
  }

  async listAcls(): Promise<StoredAcl[]> {
    const values = await this.kv.getAll().prefix('acls/').strings();
    return Object.values(values).map((v) => JSON.parse(v) as StoredAcl);
  }

  async addAcls(acls: readonly StoredAcl[]): Promise<void> {
    // etcd takes at most 128 operations per transaction by default: chunks, each atomic.
    for (let i = 0; i < acls.length; i += ACL_OPS_PER_TXN) {
      const chunk = acls.slice(i, i + ACL_OPS_PER_TXN);
      await this.kv
        .if('cluster-id', 'Create', '>', 0)
        .then(...chunk.map((a) => this.kv.put(aclKeyOf(a)).value(JSON.stringify(a))))
        .commit();
    }
  }

  async removeAcls(acls: readonly StoredAcl[]): Promise<void> {
    for (let i = 0; i < acls.length; i += ACL_OPS_PER_TXN) {
      const chunk = acls.slice(i, i + ACL_OPS_PER_TXN);
      await this.kv
        .if('cluster-id', 'Create', '>', 0)
        .then(...chunk.map((a) => this.kv.delete().key(aclKeyOf(a))))
        .commit();
    }
  }

  /** Calls `listener` (debounced) after any node changed the ACLs; returns a stop function. */
  async watchAcls(listener: () => void, debounceMs = 20): Promise<() => Promise<void>> {
    let timer: NodeJS.Timeout | null = null;
    const changed = () => {
      timer ??= setTimeout(() => {
        timer = null;
        listener();
      }, debounceMs);
    };
    const watcher = await this.kv.watch().prefix('acls/').create();
    watcher
      .on('put', changed)
      .on('delete', changed)
      .on('error', () => undefined);
    return async () => {
      if (timer) clearTimeout(timer);
      await watcher.cancel().catch(() => undefined);
    };
  }

  /**
   * Calls `listener` (at most once per `debounceMs`) after any topic or partition state changes in
   * etcd, by whichever node. Returns a stop function.
   */
  async watch(listener: () => void, debounceMs = 50): Promise<() => Promise<void>> {
    let timer: NodeJS.Timeout | null = null;
    const changed = () => {
      timer ??= setTimeout(() => {
        timer = null;
        listener();
      }, debounceMs);
    };
    const watchers = await Promise.all(
      ['topics/', 'partitions/'].map((prefix) => this.kv.watch().prefix(prefix).create()),
    );
    for (const w of watchers)
      w.on('put', changed)
        .on('delete', changed)
        .on('error', () => undefined);
    return async () => {
      if (timer) clearTimeout(timer);
      await Promise.all(watchers.map((w) => w.cancel().catch(() => undefined)));
    };
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** Operations per etcd transaction when ACLs are added or removed (etcd's --max-txn-ops is 128 by default). */
const ACL_OPS_PER_TXN = 100;

/** An ACL's key: a hash of its fields, so the same ACL stored twice is one key. */
function aclKeyOf(acl: StoredAcl): string {
  return `acls/${createHash('sha256').update(storedAclKey(acl)).digest('base64url')}`;
}

/** Writes `proposed` under `key` unless a value is there already, and returns the value that stands. */
async function storeOnce(kv: Namespace, key: string, proposed: string, opts: EtcdClusterOptions): Promise<string> {
  const result = await kv.if(key, 'Create', '==', 0).then(kv.put(key).value(proposed)).else(kv.get(key)).commit();
  const value = result.succeeded ? proposed : String(result.responses[0]?.response_range?.kvs[0]?.value ?? '');
  if (value === '') throw new Error(`etcd at ${opts.endpoints.join(',')}: ${key} is stored empty`);
  return value;
}

/**
 * A topic's partition states in partition order. A partition key missing while its topic record
 * names it means the store was edited by hand; that is refused loudly rather than guessed at.
 */
function completeStates(topic: StoredTopic, states: PartitionState[]): PartitionState[] {
  const out: PartitionState[] = [];
  for (let p = 0; p < topic.partitions; p++) {
    const s = states[p];
    if (!s) throw new Error(`etcd metadata: topic ${topic.name} has no state for partition ${p}`);
    out.push(s);
  }
  return out;
}
