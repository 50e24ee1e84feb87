/**
 * Topic administration (Kafka's CreateTopics, DeleteTopics, IncrementalAlterConfigs and
 * CreatePartitions): every change is validated, written to the metadata store, then applied to the
 * live partitions. Changes run one at a time through one queue, so each starts from the metadata
 * version the last one wrote; concurrent creations of one name share one creation.
 */
import {
  type MetadataStore,
  newKafkaId,
  type PartitionState,
  singleReplicaState,
  TopicAlreadyStoredError,
  type TopicMetadata,
} from '../cluster/metadata-store.js';
import { type PlacementNode, placeReplicas, ReplicaPlacementError } from '../cluster/replica-placement.js';
import {
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidReplicationFactorError,
  InvalidTopicError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../errors.js';
import {
  buildLogConfig,
  type LogConfig,
  type ResolvedConfig,
  resolveTopicConfigs,
  topicConfigDef,
  validateTopicConfigs,
} from '../storage/log-config.js';
import type { LogManager } from '../storage/log-manager.js';
import type { PartitionLog } from '../storage/partition-log.js';
import { throwAsStorageFault } from '../storage/storage-fault.js';
import type { BrokerSettings } from './broker-config.js';
import type { BrokerConfigScope, DynamicBrokerConfig } from './dynamic-broker-config.js';
import { type HostedPartitions, Partition, type PartitionRole } from './partition.js';
import { alterPartitionReassignment } from './partition-reassignments.js';
import { isInternalTopic, validateTopicName } from './topic-name.js';

/** What the config routes of the edge read about topic configs: each one resolved, and the known names. */
export { type ResolvedConfig, topicConfigDef };

/** Most partitions one topic may have; a bound on files and memory per topic. */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;

/** What changed about a topic; groups rebalance on these (regex matches, partition growth). */
export interface TopicChange {
  kind: 'created' | 'deleted' | 'partitions';
  topic: string;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  /** A reassignment in progress: the replicas being added and removed (both empty when nothing moves). */
  addingReplicas: number[];
  removingReplicas: number[];
}

export interface TopicDescription {
  name: string;
  topicId: string;
  replicationFactor: number;
  partitions: PartitionDescription[];
  /** Topic-level overrides only. */
  configOverrides: Record<string, string>;
}

/** One config change: a value to set, or null to return to the default. */
export interface ConfigChange {
  name: string;
  value: string | null;
}

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
  validateOnly?: boolean;
}

/** What topic administration shares with the rest of the broker. */
export interface TopicAdminContext {
  nodeId: number;
  settings: BrokerSettings;
  store: MetadataStore;
  dynamicConfigs: DynamicBrokerConfig;
  logManager: LogManager;
  /** The store's topics as this broker last wrote or read them (the hot paths read them here). */
  topics: Map<string, TopicMetadata>;
  /** The live partitions of each topic in `topics`. */
  partitions: Map<string, HostedPartitions>;
  /** Called once a topic is deleted, to drop what the broker keeps per topic (sticky partition, traffic). */
  onTopicDeleted: (name: string) => void;
  /** What every Partition needs of this node (its id, replica lag limit, whether it may lead). */
  role: PartitionRole;
  /** Cluster mode: the live nodes replicas are placed on. Null on a single node (every replica is here). */
  cluster: ClusterView | null;
  /** Called when a hosted partition is opened or its state changes (the replica manager starts following or leading). */
  onPartitionState: (partition: Partition) => void;
  /** Called when a hosted partition is closed (its topic deleted). */
  onPartitionClosed: (topic: string, partition: number) => void;
}

/** The cluster as topic administration sees it: who is alive to hold replicas. */
export interface ClusterView {
  liveNodes(): PlacementNode[];
}

export class TopicAdmin {
  /** Creations in flight, so concurrent auto-creates of one topic share one creation. */
  private readonly creating = new Map<string, Promise<TopicDescription>>();
  /** Metadata changes run one at a time, so each starts from the version the last one wrote. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly topicListeners = new Set<(change: TopicChange) => void>();

  constructor(private readonly ctx: TopicAdminContext) {}

  get nodeId(): number {
    return this.ctx.nodeId;
  }

  /** Settles once every change queued so far has run (shutdown waits for it). */
  idle(): Promise<void> {
    return this.queue.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Calls `listener` after a topic is created, deleted or grows partitions. Returns an unsubscribe. */
  onTopicChange(listener: (change: TopicChange) => void): () => void {
    this.topicListeners.add(listener);
    return () => this.topicListeners.delete(listener);
  }

  private emitTopicChange(change: TopicChange): void {
    for (const listener of [...this.topicListeners]) listener(change);
  }

  /** The log config of a topic: its overrides over the broker's current topic defaults. */
  logConfigOf(meta: TopicMetadata): LogConfig {
    return buildLogConfig(meta.configs, this.ctx.dynamicConfigs.topicDefaults.values);
  }

  newPartition(meta: TopicMetadata, p: number, log: PartitionLog): Partition {
    const state = meta.partitionStates[p] ?? singleReplicaState(this.ctx.nodeId);
    const partition = new Partition(meta.name, p, log, state, this.ctx.role);
    this.ctx.onPartitionState(partition);
    return partition;
  }

  /** Opens partition `p` of `meta` on this node: its log, loaded or created, as a Partition in its stored state. */
  private openPartition(meta: TopicMetadata, p: number, config: LogConfig): Partition {
    return this.newPartition(meta, p, this.ctx.logManager.loadLog(meta.name, p, config).log);
  }

  /** Whether this node holds a replica of partition `p` (always on a single node). */
  hosts(meta: TopicMetadata, p: number): boolean {
    const state = meta.partitionStates[p];
    return state === undefined || state.replicas.includes(this.ctx.nodeId);
  }

  /** Opens the logs of the partitions of `meta` this node hosts, from `from` on. */
  private openHosted(meta: TopicMetadata, list: HostedPartitions, from: number): void {
    const config = this.logConfigOf(meta);
    for (let p = from; p < meta.partitions; p++) {
      list[p] = this.hosts(meta, p) ? this.openPartition(meta, p, config) : undefined;
    }
  }

  private topicOrThrow(name: string): TopicMetadata {
    const meta = this.ctx.topics.get(name);
    if (!meta) throw new UnknownTopicError(name);
    return meta;
  }

  /** Runs a metadata change after the ones before it (see queue). */
  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const run = this.queue.then(change, change);
    this.queue = run.catch(() => undefined);
    return run;
  }

  describeTopic(name: string): TopicDescription {
    const meta = this.topicOrThrow(name);
    const list = this.ctx.partitions.get(name) ?? [];
    return {
      name,
      topicId: meta.topicId,
      replicationFactor: meta.replicationFactor,
      configOverrides: { ...meta.configs },
      partitions: meta.partitionStates.map((state, p) => {
        // A hosted partition knows its latest state first (an ISR change it made); others, the store's.
        const local = list[p];
        return local
          ? {
              partition: p,
              leader: local.leaderId,
              replicas: [...local.replicas],
              isr: [...local.isr],
              addingReplicas: [...local.addingReplicas],
              removingReplicas: [...local.removingReplicas],
            }
          : {
              partition: p,
              leader: state.leader,
              replicas: [...state.replicas],
              isr: [...state.isr],
              addingReplicas: [...(state.addingReplicas ?? [])],
              removingReplicas: [...(state.removingReplicas ?? [])],
            };
      }),
    };
  }

  /** Every topic config with its effective value and source (override, broker level, default). */
  topicConfigs(name: string): ResolvedConfig[] {
    const { values, sources } = this.ctx.dynamicConfigs.topicDefaults;
    return resolveTopicConfigs(this.topicOrThrow(name).configs, values, sources);
  }

  /** Every topic config a topic with these overrides would have, resolved as `topicConfigs` does. */
  previewTopicConfigs(overrides: Record<string, string>): ResolvedConfig[] {
    const { values, sources } = this.ctx.dynamicConfigs.topicDefaults;
    return resolveTopicConfigs(overrides, values, sources);
  }

  /**
   * Sets or removes run-time broker configs on this broker or cluster-wide (see
   * dynamic-broker-config.ts): validated, persisted, then applied at once to every live log whose
   * topic has no override of its own (a new `log.retention.ms` reaches them all without a restart).
   */
  alterBrokerConfigs(scope: BrokerConfigScope, changes: readonly ConfigChange[], validateOnly: boolean): Promise<void> {
    return this.serialized(async () => {
      if (!(await this.ctx.dynamicConfigs.alter(scope, changes, validateOnly))) return;
      for (const meta of this.ctx.topics.values()) {
        const config = this.logConfigOf(meta);
        for (const p of this.ctx.partitions.get(meta.name) ?? []) p?.log.updateConfig(config);
      }
    });
  }

  /** Creates a topic; a second create of the same name, even while the first is in flight, fails with TopicExistsError. */
  createTopic(name: string, opts: CreateTopicOptions): Promise<TopicDescription> {
    this.validateCreate(name, false);
    if (opts.validateOnly) return Promise.resolve(this.planTopic(name, opts).description);
    if (this.creating.has(name)) throw new TopicExistsError(name);
    return this.createOrJoin(name, opts, false);
  }

  /** Creates an internal topic (such as `__consumer_offsets`) unless it exists. */
  async ensureInternalTopic(name: string, partitions: number, configs: Record<string, string>): Promise<void> {
    if (!isInternalTopic(name)) throw new Error(`${name} is not an internal topic`);
    if (this.ctx.topics.has(name)) return;
    // Cluster mode: offsets.topic.replication.factor, as far as the live nodes allow.
    const live = this.ctx.cluster?.liveNodes().length ?? 0;
    const replicationFactor = this.ctx.cluster
      ? Math.max(1, Math.min(this.ctx.settings.replication.offsetsTopicReplicationFactor, live))
      : undefined;
    try {
      await this.createOrJoin(name, { partitions, configs, replicationFactor }, true);
    } catch (err) {
      // Cluster mode: another node created it first (and the create took it as stored).
      if (!(err instanceof TopicExistsError)) throw err;
    }
  }

  /**
   * Creates the topic, or waits for the creation already in flight for that name: concurrent
   * auto-creates (produce requests to a new topic) all see one topic.
   */
  createOrJoin(name: string, opts: CreateTopicOptions, internal: boolean): Promise<TopicDescription> {
    const inFlight = this.creating.get(name);
    if (inFlight) return inFlight;
    const created = this.serialized(() => this.createTopicNow(name, opts, internal)).finally(() =>
      this.creating.delete(name),
    );
    this.creating.set(name, created);
    return created;
  }

  private validateCreate(name: string, internal: boolean): void {
    validateTopicName(name);
    if (isInternalTopic(name) && !internal) throw new InvalidTopicError(`Topic '${name}' is internal to the broker.`);
    if (this.ctx.topics.has(name)) throw new TopicExistsError(name);
  }

  private async createTopicNow(name: string, opts: CreateTopicOptions, internal: boolean): Promise<TopicDescription> {
    this.validateCreate(name, internal);
    const { meta } = this.planTopic(name, opts);
    // Metadata first: a crash after this line leaves a topic whose logs start-up creates.
    try {
      await this.ctx.store.createTopic(meta);
    } catch (err) {
      // A full or read-only data dir refuses the metadata file: 507/KAFKA_STORAGE_ERROR, nothing created.
      if (!(err instanceof TopicAlreadyStoredError)) throwAsStorageFault(err, `topic ${name}`);
      // Cluster mode: another node created it and this node's watch has not shown it yet; take the
      // stored topic now, so every caller that meets TopicExistsError finds the topic here.
      const stored = await this.ctx.store.getTopic(name);
      if (stored && !this.ctx.topics.has(name)) await this.applyStoredTopicNow(stored);
      throw new TopicExistsError(name);
    }
    this.ctx.topics.set(name, meta);
    const list: HostedPartitions = [];
    this.openHosted(meta, list, 0);
    this.ctx.partitions.set(name, list);
    this.emitTopicChange({ kind: 'created', topic: name });
    return this.describeTopic(name);
  }

  /** The metadata a create would store, validated; nothing is written. */
  private planTopic(name: string, opts: CreateTopicOptions): { meta: TopicMetadata; description: TopicDescription } {
    const partitions = opts.partitions ?? this.ctx.settings.numPartitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
      throw new InvalidPartitionsError(
        `Number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}, got ${partitions}.`,
      );
    }
    const nodes = this.ctx.cluster?.liveNodes() ?? [{ nodeId: this.ctx.nodeId }];
    const { settings } = this.ctx;
    // Kafka's default.replication.factor is 1; a cluster of three or more defaults to 3 unless it is set.
    const defaultFactor =
      this.ctx.cluster && !settings.replicationFactorGiven
        ? Math.max(1, Math.min(3, nodes.length))
        : settings.defaultReplicationFactor;
    const replicationFactor = opts.replicationFactor ?? defaultFactor;
    const configs = validateTopicConfigs(opts.configs ?? {});
    const partitionStates = this.placeStates(nodes, partitions, replicationFactor, 0);
    const meta: TopicMetadata = {
      name,
      topicId: newKafkaId(),
      partitions,
      replicationFactor,
      configs,
      partitionStates,
      version: 0,
    };
    const description = { name, topicId: meta.topicId, replicationFactor, configOverrides: configs, partitions: [] };
    return { meta, description };
  }

  /**
   * New partitions' states: replicas placed as Kafka places them, the first one leading, every
   * replica in sync (an empty log is caught up), epoch 0.
   */
  private placeStates(
    nodes: PlacementNode[],
    partitions: number,
    replicationFactor: number,
    firstPartition: number,
  ): PartitionState[] {
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
      throw new InvalidReplicationFactorError(`Replication factor must be at least 1, got ${replicationFactor}.`);
    }
    if (this.ctx.cluster === null) {
      if (replicationFactor > 1)
        throw new InvalidReplicationFactorError(
          `Replication factor: ${replicationFactor} larger than available brokers: 1.`,
        );
      return Array.from({ length: partitions }, () => singleReplicaState(this.ctx.nodeId));
    }
    let placed: number[][];
    try {
      placed = placeReplicas(nodes, { partitions, replicationFactor, firstPartition });
    } catch (err) {
      if (err instanceof ReplicaPlacementError) throw new InvalidReplicationFactorError(err.message);
      throw err;
    }
    return placed.map((replicas) => ({
      replicas,
      leader: replicas[0] as number,
      leaderEpoch: 0,
      isr: [...replicas],
      version: 0,
    }));
  }

  /**
   * Reads every topic from the metadata store and applies what differs from what this node knows
   * (cluster mode: other nodes' creates, deletes, config and partition changes, the controller's
   * leader elections, leaders' ISR changes). Runs in the change queue, so it never sees a create
   * of this node's half done.
   */
  refreshFromStore(): Promise<void> {
    return this.serialized(async () => {
      const stored = await this.ctx.store.listTopics();
      const names = new Set<string>();
      for (const t of stored) {
        names.add(t.name);
        const known = this.ctx.topics.get(t.name);
        if (known && !differs(known, t)) continue;
        await this.applyStoredTopicNow(t);
      }
      for (const name of [...this.ctx.topics.keys()]) if (!names.has(name)) await this.dropLocally(name);
    });
  }

  /**
   * A topic as the metadata store holds it, written by another node (cluster mode): this node opens
   * the partitions it hosts, applies partition states, and grows with CreatePartitions. Runs inside
   * the change queue (refreshFromStore, or a create that found the topic already stored).
   */
  private async applyStoredTopicNow(fromStore: TopicMetadata): Promise<void> {
    const known = this.ctx.topics.get(fromStore.name);
    if (known && known.topicId !== fromStore.topicId) await this.dropLocally(fromStore.name);
    const existing = this.ctx.topics.get(fromStore.name);
    // A partition state this node stored itself (an ISR change) may be newer than the list read.
    const stored: TopicMetadata = existing
      ? {
          ...fromStore,
          partitionStates: fromStore.partitionStates.map((st, p) => {
            const mine = existing.partitionStates[p];
            return mine && mine.version > st.version ? mine : st;
          }),
        }
      : fromStore;
    this.ctx.topics.set(stored.name, stored);
    let list = this.ctx.partitions.get(stored.name);
    if (!existing || !list) {
      list = [];
      this.ctx.partitions.set(stored.name, list);
      this.openHosted(stored, list, 0);
      this.emitTopicChange({ kind: 'created', topic: stored.name });
      return;
    }
    const config = this.logConfigOf(stored);
    for (let p = 0; p < list.length; p++) {
      const partition = list[p];
      const state = stored.partitionStates[p];
      if (!state) continue;
      if (!partition) {
        // A replica newly placed here (reassignment): open its log; the fetcher fills it.
        if (this.hosts(stored, p)) list[p] = this.openPartition(stored, p, config);
        continue;
      }
      if (!this.hosts(stored, p)) {
        await this.closeMovedAway(stored.name, p, partition, state);
        list[p] = undefined;
        continue;
      }
      partition.log.updateConfig(config);
      partition.applyState(state, Date.now());
      this.ctx.onPartitionState(partition);
    }
    if (stored.partitions > list.length) {
      this.openHosted(stored, list, list.length);
      this.emitTopicChange({ kind: 'partitions', topic: stored.name });
    }
  }

  /**
   * A replica the store no longer places here (a reassignment moved it away, Kafka's StopReplica
   * with deletion): it takes the stored state first, so writers waiting on it as leader wake and
   * find it no longer leads, stops following, and its log directory is deleted. The store is the
   * authority: only a state read from it, listing other replicas, gets here.
   */
  private async closeMovedAway(topic: string, p: number, partition: Partition, state: PartitionState): Promise<void> {
    partition.applyState(state, Date.now());
    this.ctx.onPartitionClosed(topic, p);
    await this.ctx.logManager.deleteLog(topic, p);
  }

  /**
   * Starts moving a partition's replicas to `target`, or cancels the move in progress when `target`
   * is null (see partition-reassignments.ts), then applies the stored state here at once.
   */
  async alterPartitionReassignment(
    topic: string,
    partition: number,
    target: readonly number[] | null,
  ): Promise<PartitionDescription> {
    const meta = this.topicOrThrow(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions)
      throw new UnknownPartitionError(topic, partition);
    const { cluster } = this.ctx;
    const stored = await alterPartitionReassignment(
      {
        nodeId: this.ctx.nodeId,
        store: this.ctx.store,
        liveNodeIds: cluster ? () => new Set(cluster.liveNodes().map((n) => n.nodeId)) : null,
        uncleanLeaderElection: this.ctx.settings.replication.uncleanLeaderElection,
      },
      topic,
      partition,
      target,
    );
    if (cluster) await this.refreshFromStore();
    return {
      partition,
      leader: stored.leader,
      replicas: [...stored.replicas],
      isr: [...stored.isr],
      addingReplicas: [...(stored.addingReplicas ?? [])],
      removingReplicas: [...(stored.removingReplicas ?? [])],
    };
  }

  /** A topic gone from the store without this node deleting it (another node did): its local logs go. */
  private async dropLocally(name: string): Promise<void> {
    if (!this.ctx.topics.has(name)) return;
    const list = this.ctx.partitions.get(name);
    this.ctx.topics.delete(name);
    this.ctx.partitions.delete(name);
    await this.closeDeleted(name, list);
  }

  /** After a topic left `topics` and `partitions`: drop what the broker keeps for it and delete its hosted logs. */
  private async closeDeleted(name: string, list: HostedPartitions | undefined): Promise<void> {
    this.ctx.onTopicDeleted(name);
    for (let p = 0; p < (list?.length ?? 0); p++) {
      if (!list?.[p]) continue;
      this.ctx.onPartitionClosed(name, p);
      await this.ctx.logManager.deleteLog(name, p);
    }
    this.emitTopicChange({ kind: 'deleted', topic: name });
  }

  deleteTopic(name: string): Promise<void> {
    this.topicOrThrow(name);
    if (isInternalTopic(name))
      throw new InvalidTopicError(`Topic '${name}' is internal to the broker and cannot be deleted.`);
    return this.serialized(() => this.deleteTopicNow(name));
  }

  private async deleteTopicNow(name: string): Promise<void> {
    const { topics, partitions } = this.ctx;
    const meta = this.topicOrThrow(name);
    const list = partitions.get(name);
    // Gone for every new request at once; back only if the store refuses the delete.
    topics.delete(name);
    partitions.delete(name);
    try {
      await this.ctx.store.deleteTopic(name);
    } catch (err) {
      topics.set(name, meta);
      if (list) partitions.set(name, list);
      throw err;
    }
    await this.closeDeleted(name, list);
  }

  /**
   * Sets or removes topic config overrides (Kafka's IncrementalAlterConfigs): all are validated
   * first, then persisted atomically, then applied to the live logs (retention, segment size,
   * cleanup policy, max.message.bytes take effect at once).
   */
  alterTopicConfigs(name: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<void> {
    this.topicOrThrow(name);
    return this.serialized(() => this.alterTopicConfigsNow(name, changes, validateOnly));
  }

  private async alterTopicConfigsNow(name: string, changes: readonly ConfigChange[], validateOnly: boolean) {
    const meta = this.topicOrThrow(name);
    const next: Record<string, string> = { ...meta.configs };
    const toSet: Record<string, string> = {};
    for (const c of changes) {
      if (c.value === null) {
        if (!topicConfigDef(c.name)) throw new InvalidConfigError(`Unknown topic config name: ${c.name}`);
        delete next[c.name];
      } else toSet[c.name] = c.value;
    }
    Object.assign(next, validateTopicConfigs(toSet));
    if (validateOnly) return;
    const updated = await this.ctx.store.updateTopic({ ...meta, configs: next }, meta.version);
    this.ctx.topics.set(name, updated);
    const config = this.logConfigOf(updated);
    for (const p of this.ctx.partitions.get(name) ?? []) p?.log.updateConfig(config);
  }

  /** Grows a topic to `count` partitions (Kafka's CreatePartitions); shrinking is refused. */
  createPartitions(name: string, count: number, validateOnly: boolean): Promise<TopicDescription> {
    this.topicOrThrow(name);
    return this.serialized(() => this.createPartitionsNow(name, count, validateOnly));
  }

  private async createPartitionsNow(name: string, count: number, validateOnly: boolean): Promise<TopicDescription> {
    const meta = this.topicOrThrow(name);
    if (!Number.isInteger(count) || count > MAX_PARTITIONS_PER_TOPIC) {
      throw new InvalidPartitionsError(
        `Number of partitions must be at most ${MAX_PARTITIONS_PER_TOPIC}, got ${count}.`,
      );
    }
    if (count < meta.partitions) {
      throw new InvalidPartitionsError(
        `Topic '${name}' has ${meta.partitions} partitions; the count can only grow, not shrink to ${count}.`,
      );
    }
    if (count === meta.partitions) throw new InvalidPartitionsError(`Topic '${name}' already has ${count} partitions.`);
    if (validateOnly) return this.describeTopic(name);
    const nodes = this.ctx.cluster?.liveNodes() ?? [{ nodeId: this.ctx.nodeId }];
    const partitionStates = [
      ...meta.partitionStates,
      ...this.placeStates(nodes, count - meta.partitions, meta.replicationFactor, meta.partitions),
    ];
    const updated = await this.ctx.store.updateTopic({ ...meta, partitions: count, partitionStates }, meta.version);
    this.ctx.topics.set(name, updated);
    const list = this.ctx.partitions.get(name) as HostedPartitions;
    this.openHosted(updated, list, list.length);
    this.emitTopicChange({ kind: 'partitions', topic: name });
    return this.describeTopic(name);
  }
}

/** Whether the store's record of a topic differs from this node's: another topic by that name, or any version moved. */
function differs(known: TopicMetadata, stored: TopicMetadata): boolean {
  if (known.topicId !== stored.topicId || known.version !== stored.version) return true;
  if (known.partitionStates.length !== stored.partitionStates.length) return true;
  return stored.partitionStates.some((s, p) => s.version !== known.partitionStates[p]?.version);
}
