import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  LocalMetadataStore,
  type MetadataStore,
  newKafkaId,
  singleReplicaState,
  TopicAlreadyStoredError,
  type TopicMetadata,
} from '../cluster/metadata-store.js';
import {
  IdempotencyKeyReusedError,
  InvalidConfigError,
  InvalidPartitionsError,
  InvalidReplicationFactorError,
  InvalidTopicError,
  NotEnoughReplicasError,
  ServiceUnavailableError,
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
import { LogDirSpace } from '../storage/log-dir-space.js';
import { LogManager } from '../storage/log-manager.js';
import { type PartitionLog, type PreparedBatch, prepareBatch } from '../storage/partition-log.js';
import {
  type DecodedRecord,
  decodeRecordBatch,
  forEachBatch,
  type RecordHeader,
  type RecordInput,
} from '../storage/record-batch.js';
import { columnsOf, fieldAt, type RecordColumns } from '../storage/record-columns.js';
import { type BrokerConfigEntry, type BrokerSettings, parseBrokerConfigs } from './broker-config.js';
import { type BrokerConfigScope, DynamicBrokerConfig } from './dynamic-broker-config.js';
import { type FetchRequest, type FetchResponse, fetchPartitions, readPartitions } from './fetch.js';
import { producerIdOfKey, type RememberedBatch } from './idempotency-cache.js';
import { Partition } from './partition.js';
import { partitionForKey, StickyPartitioner } from './partitioner.js';
import { CONSUMER_OFFSETS_TOPIC, isInternalTopic, validateTopicName } from './topic-name.js';

/** Kafka's acks: 0 (no acknowledgement), 1 (leader has it), -1 = all (the ISR has it). */
export type Acks = 0 | 1 | -1;

export type { RecordInput };
/** Internal topics are hidden from listings and closed to client writes (see topic-name.ts). */
export { CONSUMER_OFFSETS_TOPIC, isInternalTopic };

/** What changed about a topic; groups rebalance on these (regex matches, partition growth). */
export interface TopicChange {
  kind: 'created' | 'deleted' | 'partitions';
  topic: string;
}

/** Where background-task failures go when no handler is given: one JSON line on stderr. */
export function reportBackgroundError(task: string, err: unknown): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', task, message: String((err as Error)?.message ?? err) })}\n`,
  );
}

/** Most partitions one topic may have; a bound on files and memory per topic. */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;

export interface BrokerOptions {
  dataDir: string;
  nodeId: number;
  /** Broker-wide settings, Kafka broker names: `log.retention.ms`, `num.partitions`, ... */
  brokerConfigs: Record<string, string>;
  /** Where background-task failures are reported (default: one JSON line on stderr). */
  onError?: (task: string, err: unknown) => void;
  /** Where topics and partition states are kept; default: the local file in `dataDir`. */
  metadataStore?: MetadataStore;
}

export interface ProduceRecord {
  partition?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** CreateTime in ms; the append time when absent. */
  timestamp?: number;
}

export interface ProduceOptions {
  acks: Acks;
  timeoutMs: number;
  /**
   * A client's key for this request: a retry with the same key (and topic) answers with the first
   * request's results instead of writing again (see idempotency-cache.ts).
   */
  idempotencyKey?: string;
}

export interface ProduceRecordResult {
  partition: number;
  offset: number;
  timestamp: number;
}

/**
 * A produce request in columns (see storage/record-columns.ts), as the v2 edge builds it: no object
 * per record. A NaN timestamp is one the request did not give; the broker stamps its clock.
 */
export interface ProduceColumns {
  records: RecordColumns;
  /** Explicit partition of each record, -1 where the record names none; null when none names one. */
  partitions: Int32Array | null;
}

/** Where each record of a ProduceColumns request went, in request order. */
export interface ProduceColumnsResult {
  partitions: Int32Array;
  offsets: Float64Array;
  /** LogAppendTime when the topic uses it, else the record's CreateTime. */
  timestamps: Float64Array;
}

export interface PartitionOffsets {
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
}

export interface FetchResult {
  /** Stored record batches, exactly as on disk (Kafka v2 format). */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

export interface PartitionDescription {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface TopicDescription {
  name: string;
  topicId: string;
  replicationFactor: number;
  partitions: PartitionDescription[];
  /** Topic-level overrides only. */
  configOverrides: Record<string, string>;
}

/** Running totals per topic since start-up; what the metrics layer exposes. */
export interface TopicTraffic {
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
}

/** One config change: a value to set, or null to return to the default. */
export interface ConfigChange {
  name: string;
  value: string | null;
}

export interface StartReport {
  cleanShutdown: boolean;
  partitions: number;
  truncatedBytes: number;
  durationMs: number;
}

export interface CreateTopicOptions {
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
  validateOnly?: boolean;
}

/**
 * The one facade every edge calls (HTTP today, a native Kafka listener later): topics,
 * partitions, partitioning, produce with acks, fetch and offsets. Leadership, leader epochs,
 * the ISR and the high watermark live here (in Partition) from day one; in the embedded
 * single-node mode this node leads everything.
 */
export class Broker {
  readonly nodeId: number;
  readonly clusterId: string;
  private readonly settings: BrokerSettings;
  private readonly store: MetadataStore;
  /**
   * The store's topics as this broker last wrote or read them: the hot paths (produce, fetch,
   * `hasTopic` in every stream loop) look topics up here without waiting on the store.
   */
  private readonly topics = new Map<string, TopicMetadata>();
  /** Creations in flight, so concurrent auto-creates of one topic share one creation. */
  private readonly creating = new Map<string, Promise<TopicDescription>>();
  /** Metadata changes run one at a time, so each starts from the version the last one wrote. */
  private adminQueue: Promise<unknown> = Promise.resolve();
  private readonly dynamicConfigs: DynamicBrokerConfig;
  private readonly logManager: LogManager;
  private readonly partitions = new Map<string, Partition[]>();
  private readonly sticky = new StickyPartitioner();
  private readonly traffic = new Map<string, TopicTraffic>();
  private readonly topicListeners = new Set<(change: TopicChange) => void>();
  private isReady = false;
  private stopping = false;
  private starting: Promise<StartReport> | null = null;
  private startReport: StartReport | undefined;
  private logFlushObserver: (durationMs: number) => void = () => {};
  private logDirSpace: LogDirSpace | undefined;

  private constructor(
    opts: BrokerOptions,
    settings: BrokerSettings,
    store: MetadataStore,
    topics: TopicMetadata[],
    dynamicConfigs: DynamicBrokerConfig,
  ) {
    this.nodeId = opts.nodeId;
    this.settings = settings;
    this.store = store;
    this.clusterId = store.clusterId;
    for (const t of topics) this.topics.set(t.name, t);
    this.dynamicConfigs = dynamicConfigs;
    const onError = opts.onError ?? reportBackgroundError;
    this.logManager = new LogManager({
      dataDir: opts.dataDir,
      retentionCheckIntervalMs: this.settings.retentionCheckIntervalMs,
      flushCheckIntervalMs: this.settings.flushCheckIntervalMs,
      checkpointIntervalMs: this.settings.checkpointIntervalMs,
      highWatermarkCheckpointIntervalMs: this.settings.highWatermarkCheckpointIntervalMs,
      cleanerBackoffMs: this.settings.cleanerBackoffMs,
      onError,
      onFlush: (durationMs) => this.logFlushObserver(durationMs),
    });
  }

  /** Validates settings and reads metadata; cheap. Logs are recovered by `start()`. */
  static async open(opts: BrokerOptions): Promise<Broker> {
    const settings = parseBrokerConfigs(opts.brokerConfigs);
    const store = opts.metadataStore ?? (await LocalMetadataStore.open(opts.dataDir, opts.nodeId));
    const dynamicConfigs = await DynamicBrokerConfig.load(settings, store, opts.nodeId);
    return new Broker(opts, settings, store, await store.listTopics(), dynamicConfigs);
  }

  get ready(): boolean {
    return this.isReady && !this.stopping;
  }

  /** Where the node is in its life, for health probes: recovering its logs (or not yet started), serving, stopping. */
  get phase(): 'recovering' | 'ready' | 'stopping' {
    return this.stopping ? 'stopping' : this.isReady ? 'ready' : 'recovering';
  }

  get dataDir(): string {
    return this.logManager.dataDir;
  }

  /**
   * Bytes free for new data on the data dir's filesystem (undefined when it cannot be asked), read
   * at most once per `maxAgeMs` however often health probes ask.
   */
  availableDiskBytes(maxAgeMs = 5_000): Promise<number | undefined> {
    this.logDirSpace ??= new LogDirSpace(this.logManager.dataDir, maxAgeMs);
    return this.logDirSpace.available();
  }

  /** What the completed start-up recovery reported; undefined while it runs. */
  get lastStartReport(): StartReport | undefined {
    return this.startReport;
  }

  /** Told how long each fsync of a partition log took (one observer, for metrics; storage cannot import them). */
  setLogFlushObserver(observer: (durationMs: number) => void): void {
    this.logFlushObserver = observer;
  }

  /**
   * Recovers every log (yielding between partitions so health checks answer), then serves.
   * A shutdown that arrives meanwhile stops the recovery between two partitions.
   */
  start(): Promise<StartReport> {
    this.starting ??= this.recoverAll();
    return this.starting;
  }

  private async recoverAll(): Promise<StartReport> {
    const started = Date.now();
    this.logManager.beginLoading();
    let truncatedBytes = 0;
    let count = 0;
    for (const meta of this.topics.values()) {
      const list: Partition[] = [];
      for (let p = 0; p < meta.partitions; p++) {
        const { log, truncatedBytes: cut } = this.logManager.loadLog(meta.name, p, this.logConfigOf(meta));
        truncatedBytes += cut;
        list.push(this.newPartition(meta, p, log));
        count++;
        await yieldToEventLoop();
        if (this.stopping) throw new ServiceUnavailableError('Shut down while recovering logs.');
      }
      this.partitions.set(meta.name, list);
    }
    // Directories no topic owns: a topic deleted in metadata whose files a crash left behind.
    for (const { topic, partition } of this.logManager.listPartitionDirs()) {
      const meta = this.topics.get(topic);
      if (!meta || partition >= meta.partitions) await this.logManager.deleteLog(topic, partition);
    }
    const cleanShutdown = this.logManager.wasCleanShutdown;
    this.logManager.finishLoading();
    this.logManager.startBackgroundTasks();
    this.isReady = true;
    this.startReport = { cleanShutdown, partitions: count, truncatedBytes, durationMs: Date.now() - started };
    return this.startReport;
  }

  /** Flushes and closes every log and marks the shutdown clean. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    // Let an interrupted recovery reach its next yield point before files are closed.
    await this.starting?.catch(() => undefined);
    await this.adminQueue.catch(() => undefined);
    await this.logManager.shutdown();
    await this.store.close();
  }

  /** Runs a metadata change after the ones before it (see adminQueue). */
  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const run = this.adminQueue.then(change, change);
    this.adminQueue = run.catch(() => undefined);
    return run;
  }

  private newPartition(meta: TopicMetadata, p: number, log: PartitionLog): Partition {
    return new Partition(meta.name, p, log, meta.partitionStates[p] ?? singleReplicaState(this.nodeId));
  }

  private ensureReady(): void {
    if (!this.ready)
      throw new ServiceUnavailableError(
        this.stopping ? 'The broker is shutting down.' : 'The broker is still recovering its logs.',
      );
  }

  private logConfigOf(meta: TopicMetadata) {
    return buildLogConfig(meta.configs, this.dynamicConfigs.topicDefaults.values);
  }

  private topicOrThrow(name: string): TopicMetadata {
    const meta = this.topics.get(name);
    if (!meta) throw new UnknownTopicError(name);
    return meta;
  }

  private partitionOrThrow(topic: string, partition: number): Partition {
    const list = this.partitions.get(topic);
    if (!list) throw new UnknownTopicError(topic);
    const p = list[partition];
    if (!Number.isInteger(partition) || p === undefined) throw new UnknownPartitionError(topic, partition);
    return p;
  }

  /** Whether a topic exists: a map lookup, cheap enough for every loop of a stream. */
  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  /** Topic names, sorted; internal topics only when asked for, as Kafka's admin client does. */
  listTopics(opts: { includeInternal?: boolean } = {}): string[] {
    return [...this.topics.keys()].filter((name) => opts.includeInternal || !isInternalTopic(name)).sort();
  }

  /** Calls `listener` after a topic is created, deleted or grows partitions. Returns an unsubscribe. */
  onTopicChange(listener: (change: TopicChange) => void): () => void {
    this.topicListeners.add(listener);
    return () => this.topicListeners.delete(listener);
  }

  private emitTopicChange(change: TopicChange): void {
    for (const listener of [...this.topicListeners]) listener(change);
  }

  /** Creates an internal topic (such as `__consumer_offsets`) unless it exists. */
  async ensureInternalTopic(name: string, partitions: number, configs: Record<string, string>): Promise<void> {
    this.ensureReady();
    if (!isInternalTopic(name)) throw new Error(`${name} is not an internal topic`);
    if (!this.topics.has(name)) await this.createOrJoin(name, { partitions, configs }, true);
  }

  /** Appends to one partition of an internal topic on behalf of the broker itself (acks=all). */
  appendInternal(topic: string, partition: number, records: RecordInput[]): { baseOffset: number } {
    this.ensureReady();
    if (!isInternalTopic(topic)) throw new Error(`${topic} is not an internal topic`);
    const p = this.partitionOrThrow(topic, partition);
    const info = p.appendAsLeader(p.log.prepare(records, Date.now()), true);
    return { baseOffset: info.baseOffset };
  }

  describeTopic(name: string): TopicDescription {
    const meta = this.topicOrThrow(name);
    const list = this.partitions.get(name) ?? [];
    return {
      name,
      topicId: meta.topicId,
      replicationFactor: meta.replicationFactor,
      configOverrides: { ...meta.configs },
      partitions: list.map((p) => ({
        partition: p.partition,
        leader: p.leaderId,
        replicas: [...p.replicas],
        isr: [...p.isr],
      })),
    };
  }

  /** Every topic config with its effective value and source (override, broker level, default). */
  topicConfigs(name: string): ResolvedConfig[] {
    const { values, sources } = this.dynamicConfigs.topicDefaults;
    return resolveTopicConfigs(this.topicOrThrow(name).configs, values, sources);
  }

  /** Every setting of this broker with its effective value and levels (run-time, start-up, default). */
  brokerConfigs(): BrokerConfigEntry[] {
    return this.dynamicConfigs.describe();
  }

  /** The settings that have a cluster-wide run-time value (Kafka's default broker entity). */
  clusterBrokerConfigs(): BrokerConfigEntry[] {
    return this.dynamicConfigs.describeClusterWide();
  }

  /**
   * Sets or removes run-time broker configs on this broker or cluster-wide (see
   * dynamic-broker-config.ts): validated, persisted, then applied at once to every live log whose
   * topic has no override of its own (a new `log.retention.ms` reaches them all without a restart).
   */
  async alterBrokerConfigs(
    scope: BrokerConfigScope,
    changes: readonly ConfigChange[],
    validateOnly = false,
  ): Promise<void> {
    this.ensureReady();
    return this.serialized(async () => {
      if (!(await this.dynamicConfigs.alter(scope, changes, validateOnly))) return;
      for (const meta of this.topics.values()) {
        const config = this.logConfigOf(meta);
        for (const p of this.partitions.get(meta.name) ?? []) p.log.updateConfig(config);
      }
    });
  }

  /** Creates a topic; a second create of the same name, even while the first is in flight, fails with TopicExistsError. */
  async createTopic(name: string, opts: CreateTopicOptions = {}): Promise<TopicDescription> {
    this.ensureReady();
    this.validateCreate(name, false);
    if (opts.validateOnly) return this.planTopic(name, opts).description;
    if (this.creating.has(name)) throw new TopicExistsError(name);
    return this.createOrJoin(name, opts, false);
  }

  /**
   * Creates the topic, or waits for the creation already in flight for that name: concurrent
   * auto-creates (produce requests to a new topic) all see one topic.
   */
  private createOrJoin(name: string, opts: CreateTopicOptions, internal: boolean): Promise<TopicDescription> {
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
    if (this.topics.has(name)) throw new TopicExistsError(name);
  }

  private async createTopicNow(name: string, opts: CreateTopicOptions, internal: boolean): Promise<TopicDescription> {
    this.validateCreate(name, internal);
    const { meta } = this.planTopic(name, opts);
    // Metadata first: a crash after this line leaves a topic whose logs start-up creates.
    try {
      await this.store.createTopic(meta);
    } catch (err) {
      if (err instanceof TopicAlreadyStoredError) throw new TopicExistsError(name);
      throw err;
    }
    this.topics.set(name, meta);
    const config = this.logConfigOf(meta);
    const list: Partition[] = [];
    for (let p = 0; p < meta.partitions; p++) {
      list.push(this.newPartition(meta, p, this.logManager.loadLog(name, p, config).log));
    }
    this.partitions.set(name, list);
    this.emitTopicChange({ kind: 'created', topic: name });
    return this.describeTopic(name);
  }

  /** The metadata a create would store, validated; nothing is written. */
  private planTopic(name: string, opts: CreateTopicOptions): { meta: TopicMetadata; description: TopicDescription } {
    const partitions = opts.partitions ?? this.settings.numPartitions;
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
      throw new InvalidPartitionsError(
        `Number of partitions must be between 1 and ${MAX_PARTITIONS_PER_TOPIC}, got ${partitions}.`,
      );
    }
    const replicationFactor = opts.replicationFactor ?? this.settings.defaultReplicationFactor;
    if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > 1) {
      throw new InvalidReplicationFactorError(
        `Replication factor: ${replicationFactor} larger than available brokers: 1.`,
      );
    }
    const configs = validateTopicConfigs(opts.configs ?? {});
    const meta: TopicMetadata = {
      name,
      topicId: newKafkaId(),
      partitions,
      replicationFactor,
      configs,
      partitionStates: Array.from({ length: partitions }, () => singleReplicaState(this.nodeId)),
      version: 0,
    };
    const description = { name, topicId: meta.topicId, replicationFactor, configOverrides: configs, partitions: [] };
    return { meta, description };
  }

  async deleteTopic(name: string): Promise<void> {
    this.ensureReady();
    this.topicOrThrow(name);
    if (isInternalTopic(name))
      throw new InvalidTopicError(`Topic '${name}' is internal to the broker and cannot be deleted.`);
    return this.serialized(() => this.deleteTopicNow(name));
  }

  private async deleteTopicNow(name: string): Promise<void> {
    const meta = this.topicOrThrow(name);
    const list = this.partitions.get(name);
    // Gone for every new request at once; back only if the store refuses the delete.
    this.topics.delete(name);
    this.partitions.delete(name);
    try {
      await this.store.deleteTopic(name);
    } catch (err) {
      this.topics.set(name, meta);
      if (list) this.partitions.set(name, list);
      throw err;
    }
    this.sticky.forget(name);
    this.traffic.delete(name);
    for (let p = 0; p < meta.partitions; p++) await this.logManager.deleteLog(name, p);
    this.emitTopicChange({ kind: 'deleted', topic: name });
  }

  /** `produceColumns` for record objects (the v3 edge, tests): one result object per record. */
  async produce(topic: string, records: ProduceRecord[], opts: ProduceOptions): Promise<ProduceRecordResult[]> {
    const result = await this.produceColumns(topic, produceColumnsOf(records), opts);
    return records.map((_, i) => ({
      partition: result.partitions[i] as number,
      offset: result.offsets[i] as number,
      timestamp: result.timestamps[i] as number,
    }));
  }

  /**
   * Produces records to a topic: explicit partition wins, else murmur2 of the key, else the
   * sticky partition of this request. One batch and one append per partition. Every batch is
   * prepared (validated, encoded) before the first append, so a request that fails writes
   * nothing. The topic is auto-created when `auto.create.topics.enable` is on, otherwise an
   * unknown topic fails at once (UnknownTopicError during produce).
   */
  async produceColumns(topic: string, input: ProduceColumns, opts: ProduceOptions): Promise<ProduceColumnsResult> {
    this.ensureReady();
    if (isInternalTopic(topic))
      throw new InvalidTopicError(`Topic '${topic}' is internal to the broker; clients cannot write to it.`);
    // A topic to auto-create is created only once the whole request has passed every check against
    // the config it will have (all synchronous from here to the append, so no other request sees a gap).
    const list = this.topics.has(topic) ? (this.partitions.get(topic) as Partition[]) : null;
    let newTopicConfig: LogConfig | null = null;
    if (list === null) {
      if (!this.settings.autoCreateTopics) throw new UnknownTopicError(topic, 'produce');
      validateTopicName(topic);
      newTopicConfig = buildLogConfig({}, this.dynamicConfigs.topicDefaults.values);
    }
    const partitionCount = list === null ? this.settings.numPartitions : list.length;
    const now = Date.now();
    let producerId: number | undefined;
    if (opts.idempotencyKey !== undefined) {
      producerId = producerIdOfKey(opts.idempotencyKey);
      const earlier = list && this.replayIdempotent(topic, list, input, producerId, now);
      if (earlier) return earlier;
    }
    const { records, partitions: explicit } = input;
    const count = records.count;
    const { keys, timestamps } = records;
    let stickyPartition = -1;
    const assigned = new Int32Array(count);
    let spread = false;
    for (let i = 0; i < count; i++) {
      let p = explicit === null ? -1 : (explicit[i] as number);
      if (p >= 0) {
        if (p >= partitionCount) throw new UnknownPartitionError(topic, p);
      } else if (p !== -1) {
        throw new UnknownPartitionError(topic, p);
      } else if ((keys.lengths[i] as number) >= 0) {
        p = keys.views
          ? partitionForKey(keys.views[i] as Uint8Array, partitionCount)
          : partitionForKey(keys.bytes, partitionCount, keys.starts[i] as number, keys.lengths[i] as number);
      } else {
        if (stickyPartition < 0) stickyPartition = this.sticky.partitionFor(topic, partitionCount);
        p = stickyPartition;
      }
      assigned[i] = p;
      if (p !== assigned[0]) spread = true;
      // The request's own CreateTime, or the broker's clock when it gave none.
      if (Number.isNaN(timestamps[i] as number)) timestamps[i] = now;
    }
    // Most requests go to one partition: then the batch is the whole request, no row list.
    const rowsOf = new Map<number, number[] | undefined>();
    if (!spread) rowsOf.set(assigned[0] as number, undefined);
    else {
      for (let i = 0; i < count; i++) {
        const p = assigned[i] as number;
        let rows = rowsOf.get(p);
        if (!rows) {
          rows = [];
          rowsOf.set(p, rows);
        }
        rows.push(i);
      }
    }
    const prepared = new Map<number, PreparedBatch>();
    const requireMinIsr = opts.acks === -1;
    if (newTopicConfig !== null) {
      for (const [p, rows] of rowsOf)
        prepared.set(p, prepareBatch(topic, newTopicConfig, records, now, producerId, rows));
      // A new partition's ISR is this node alone (Partition's constructor).
      if (requireMinIsr && newTopicConfig.minInsyncReplicas > 1) {
        throw new NotEnoughReplicasError(topic, assigned[0] as number, 1, newTopicConfig.minInsyncReplicas);
      }
      // Valid as a whole: create the topic (or join a creation in flight, or find it created by an
      // explicit create meanwhile), then produce to it as to any existing topic. The batches above
      // were only the proof; this first request to a topic pays for preparing twice.
      await this.createOrJoin(topic, {}, false).catch((err: unknown) => {
        if (!(err instanceof TopicExistsError)) throw err;
      });
      return this.produceColumns(topic, input, opts);
    } else {
      const partitions = list as Partition[];
      for (const [p, rows] of rowsOf)
        prepared.set(p, (partitions[p] as Partition).log.prepare(records, now, producerId, rows));
    }
    const appendTo = list as Partition[];
    const bases = new Map<number, { base: number; appendTime: number }>();
    const traffic = this.trafficOf(topic);
    for (const [p, batch] of prepared) {
      const partition = appendTo[p] as Partition;
      const info = partition.appendAsLeader(batch, requireMinIsr);
      bases.set(p, { base: info.baseOffset, appendTime: info.logAppendTime });
      if (producerId !== undefined) {
        partition.builtIdempotencyCache?.remember(producerId, {
          baseOffset: info.baseOffset,
          recordCount: batch.recordCount,
          rememberedAtMs: now,
        });
      }
      traffic.recordsIn += batch.recordCount;
      traffic.bytesIn += info.sizeBytes;
    }
    // Single node: the ISR is {self}, so the high watermark already covers these appends and
    // acks=all is satisfied without waiting; timeoutMs bounds that wait once followers exist.
    const offsets = new Float64Array(count);
    const resultTimestamps = new Float64Array(count);
    // Record i of a one-partition request is at base + i; a spread one counts per partition.
    const nextInPartition = spread ? new Map<number, number>() : null;
    let at = bases.get(assigned[0] as number) as { base: number; appendTime: number };
    for (let i = 0; i < count; i++) {
      let k = i;
      if (nextInPartition !== null) {
        const p = assigned[i] as number;
        k = nextInPartition.get(p) ?? 0;
        nextInPartition.set(p, k + 1);
        at = bases.get(p) as { base: number; appendTime: number };
      }
      offsets[i] = at.base + k;
      resultTimestamps[i] = at.appendTime >= 0 ? at.appendTime : (timestamps[i] as number);
    }
    return { partitions: assigned, offsets, timestamps: resultTimestamps };
  }

  /**
   * The answer of the earlier request that carried this idempotency key, rebuilt from its stored
   * batches; null when no partition remembers the key (never sent, expired, or its data deleted by
   * retention). Throws IdempotencyKeyReusedError when the stored records differ from `records`.
   */
  private replayIdempotent(
    topic: string,
    list: Partition[],
    input: ProduceColumns,
    producerId: number,
    now: number,
  ): ProduceColumnsResult | null {
    const found = new Map<number, RememberedBatch>();
    for (const p of list) {
      const batch = p.idempotencyCache(this.settings.idempotency, now).get(producerId, now);
      if (batch) found.set(p.partition, batch);
    }
    if (found.size === 0) return null;
    const reused = (detail: string) => new IdempotencyKeyReusedError(topic, detail);
    // Explicit and keyed records land where they did the first time; the unkeyed ones all went to
    // that request's one sticky partition: the batch holding more records than the others explain.
    const { records, partitions: explicit } = input;
    const count = records.count;
    const assigned = new Int32Array(count);
    const perPartition = new Map<number, number>();
    let unkeyed = 0;
    for (let i = 0; i < count; i++) {
      const key = fieldAt(records.keys, i);
      const named = explicit === null ? -1 : (explicit[i] as number);
      const p = named >= 0 ? named : key !== null ? partitionForKey(key, list.length) : -1;
      assigned[i] = p;
      if (p < 0) unkeyed++;
      else perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    }
    if (unkeyed > 0) {
      let sticky = -1;
      for (const [p, batch] of found) if (batch.recordCount - (perPartition.get(p) ?? 0) === unkeyed) sticky = p;
      if (sticky < 0) throw reused('its records were spread over partitions differently');
      for (let i = 0; i < count; i++) if (assigned[i] === -1) assigned[i] = sticky;
      perPartition.set(sticky, (perPartition.get(sticky) ?? 0) + unkeyed);
    }
    if (perPartition.size !== found.size) throw reused('it wrote to other partitions');
    const stored = new Map<number, DecodedRecord[]>();
    for (const [p, batch] of found) {
      if (perPartition.get(p) !== batch.recordCount)
        throw reused(`partition ${p} holds ${batch.recordCount} of its records`);
      const decoded = this.readRememberedBatch(list[p] as Partition, batch, producerId);
      if (decoded === null) {
        // Retention removed the data: the key is as good as forgotten everywhere.
        for (const q of list) q.builtIdempotencyCache?.forget(producerId);
        return null;
      }
      stored.set(p, decoded);
    }
    const offsets = new Float64Array(count);
    const timestamps = new Float64Array(count);
    const nextInPartition = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const p = assigned[i] as number;
      const k = nextInPartition.get(p) ?? 0;
      nextInPartition.set(p, k + 1);
      const s = (stored.get(p) as DecodedRecord[])[k] as DecodedRecord;
      if (!sameRecord(records, i, s)) throw reused(`record ${i} differs`);
      offsets[i] = s.offset;
      timestamps[i] = s.timestamp;
    }
    return { partitions: assigned, offsets, timestamps };
  }

  /** The records of a remembered batch, or null when it is no longer stored (or no longer the same batch). */
  private readRememberedBatch(p: Partition, batch: RememberedBatch, producerId: number): DecodedRecord[] | null {
    if (batch.baseOffset < p.log.logStartOffset) return null;
    // maxBytes 1: the first whole batch only (a read always returns at least one).
    const { records } = p.log.read(batch.baseOffset, 1, { maxOffset: p.log.logEndOffset });
    let decoded: DecodedRecord[] | null = null;
    forEachBatch(records, (header, bytes) => {
      if (decoded === null && header.baseOffset === batch.baseOffset && header.producerId === producerId) {
        decoded = decodeRecordBatch(bytes);
      }
    });
    return decoded;
  }

  private trafficOf(topic: string): TopicTraffic {
    let t = this.traffic.get(topic);
    if (!t) {
      t = { recordsIn: 0, bytesIn: 0, recordsOut: 0, bytesOut: 0 };
      this.traffic.set(topic, t);
    }
    return t;
  }

  /** Per-topic totals since start-up (deleted topics are gone). */
  topicTraffic(): ReadonlyMap<string, Readonly<TopicTraffic>> {
    return this.traffic;
  }

  /** Edges that deliver records to a client (consumers, streams) report them here. */
  recordDelivered(topic: string, records: number, bytes: number): void {
    if (!this.topics.has(topic)) return;
    const t = this.trafficOf(topic);
    t.recordsOut += records;
    t.bytesOut += bytes;
  }

  /** Every partition this node hosts, for scrape-time gauges (in-memory state only). */
  *allPartitions(): Generator<Partition> {
    for (const list of this.partitions.values()) yield* list;
  }

  /**
   * Sets or removes topic config overrides (Kafka's IncrementalAlterConfigs): all are validated
   * first, then persisted atomically, then applied to the live logs (retention, segment size,
   * cleanup policy, max.message.bytes take effect at once).
   */
  async alterTopicConfigs(name: string, changes: readonly ConfigChange[], validateOnly = false): Promise<void> {
    this.ensureReady();
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
    const updated = await this.store.updateTopic({ ...meta, configs: next }, meta.version);
    this.topics.set(name, updated);
    const config = this.logConfigOf(updated);
    for (const p of this.partitions.get(name) ?? []) p.log.updateConfig(config);
  }

  /** Grows a topic to `count` partitions (Kafka's CreatePartitions); shrinking is refused. */
  async createPartitions(name: string, count: number, validateOnly = false): Promise<TopicDescription> {
    this.ensureReady();
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
    const partitionStates = [...meta.partitionStates];
    for (let p = meta.partitions; p < count; p++) partitionStates.push(singleReplicaState(this.nodeId));
    const updated = await this.store.updateTopic({ ...meta, partitions: count, partitionStates }, meta.version);
    this.topics.set(name, updated);
    const config = this.logConfigOf(updated);
    const list = this.partitions.get(name) as Partition[];
    for (let p = list.length; p < count; p++)
      list.push(this.newPartition(updated, p, this.logManager.loadLog(name, p, config).log));
    this.emitTopicChange({ kind: 'partitions', topic: name });
    return this.describeTopic(name);
  }

  listOffsets(topic: string, partition: number): PartitionOffsets {
    this.ensureReady();
    const p = this.partitionOrThrow(topic, partition);
    return { logStartOffset: p.log.logStartOffset, highWatermark: p.highWatermark, logEndOffset: p.log.logEndOffset };
  }

  /** The first offset with a timestamp >= `timestamp`, or null (Kafka answers -1). */
  offsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
  ): { offset: number; timestamp: number } | null {
    this.ensureReady();
    return this.partitionOrThrow(topic, partition).log.offsetForTimestamp(timestamp);
  }

  /** Stored batches from `offset` up to `maxBytes`, below the high watermark. */
  async fetch(topic: string, partition: number, offset: number, maxBytes: number): Promise<FetchResult> {
    this.ensureReady();
    const p = this.partitionOrThrow(topic, partition);
    const { records, highWatermark, logStartOffset } = p.log.read(offset, maxBytes);
    return { records, highWatermark, logStartOffset };
  }

  /** Many partitions at once, with byte limits, minBytes and a long-poll (see fetch.ts). */
  fetchPartitions(request: FetchRequest): Promise<FetchResponse> {
    this.ensureReady();
    return fetchPartitions(request, (t, p) => this.partitionOrThrow(t, p));
  }

  /** The same, without waiting: one bounded read per partition, now. */
  readPartitions(request: Omit<FetchRequest, 'minBytes' | 'maxWaitMs' | 'signal'>): FetchResponse {
    this.ensureReady();
    return readPartitions({ ...request, minBytes: 0, maxWaitMs: 0 }, (t, p) => this.partitionOrThrow(t, p));
  }

  /** Resolves when the high watermark passes `offset`, after `timeoutMs`, or on `signal`. */
  waitForData(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.ensureReady();
    return this.partitionOrThrow(topic, partition).waitForData(offset, timeoutMs, signal);
  }

  /** Runs one retention pass now (tests, admin). */
  runRetention(now = Date.now()): number {
    return this.logManager.runRetention(now);
  }
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** Same key, value, headers and (when the request set one) CreateTime. */
function sameRecord(records: RecordColumns, i: number, s: DecodedRecord): boolean {
  if (!sameBytes(fieldAt(records.keys, i), s.key) || !sameBytes(fieldAt(records.values, i), s.value)) return false;
  const timestamp = records.timestamps[i] as number;
  if (!Number.isNaN(timestamp) && timestamp !== s.timestamp) return false;
  const headers = records.headers?.[i] ?? [];
  if (headers.length !== s.headers.length) return false;
  return headers.every((h, j) => h.key === s.headers[j]?.key && sameBytes(h.value, s.headers[j]?.value ?? null));
}

/** Record objects in columns: their buffers are shared, not copied; a missing timestamp is NaN. */
export function produceColumnsOf(records: readonly ProduceRecord[]): ProduceColumns {
  const named = records.some((r) => r.partition !== undefined);
  return {
    records: columnsOf(records.map((r) => ({ ...r, timestamp: r.timestamp ?? Number.NaN }))),
    partitions: named ? Int32Array.from(records, (r) => partitionIndex(r.partition)) : null,
  };
}

/**
 * A record's explicit partition as the Int32Array column holds it: -1 for none, -2 for a number
 * that is no partition index (negative, fractional or huge), which produceColumns refuses.
 */
function partitionIndex(partition: number | undefined): number {
  if (partition === undefined) return -1;
  return Number.isInteger(partition) && partition >= 0 && partition <= 0x7fffffff ? partition : -2;
}
