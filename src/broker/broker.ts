import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LocalMetadataStore, type MetadataStore, type TopicMetadata } from '../cluster/metadata-store.js';
import type { ClusterNode } from '../cluster/node-registry.js';
import {
  IdempotencyKeyReusedError,
  InvalidTopicError,
  kafkaErrorNameOf,
  LeaderEpochError,
  NotLeaderOrFollowerError,
  RemoteBrokerError,
  SamsaError,
  ServiceUnavailableError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../errors.js';
import { KAFKA_ERRORS, type KafkaErrorName } from '../kafka-errors.js';
import type {
  EpochEndOffsetsAnswer,
  EpochEndOffsetsRequest,
  ForwardedProduceAnswer,
  ForwardedProduceHeader,
  LeaderReadRequest,
  OffsetForTimestampAnswer,
  OffsetForTimestampRequest,
  ReplicaFetchAnswer,
  ReplicaFetchRequest,
} from '../replication/internal-protocol.js';
import { PeerClient, PeerUnavailableError } from '../replication/peer-client.js';
import type { PeerTlsSource } from '../replication/peer-connector.js';
import { LogDirSpace } from '../storage/log-dir-space.js';
import { LogManager } from '../storage/log-manager.js';
import { type PreparedBatch, preparedFromEncoded } from '../storage/partition-log.js';
import type { RecordInput } from '../storage/record-batch.js';
import { type BrokerConfigEntry, type BrokerSettings, parseBrokerConfigs } from './broker-config.js';
import { clientBatchToAppend, producerOfClientBatch } from './client-batch.js';
import { type BrokerConfigScope, DynamicBrokerConfig } from './dynamic-broker-config.js';
import {
  type FetchRequest,
  type FetchResponse,
  fetchPartitions,
  type ReadablePartition,
  readPartitions,
} from './fetch.js';
import { replayPartition } from './idempotent-replay.js';
import { offsetForTimestamp, type PartitionOffsets, partitionOffsets } from './list-offsets.js';
import type { HostedPartitions, LeaderAppendInfo, Partition, PartitionStatus } from './partition.js';
import { StickyPartitioner } from './partitioner.js';
import { type ForwardProduce, ProducePath } from './produce.js';
import {
  type Acks,
  type ProduceColumns,
  type ProduceColumnsResult,
  type ProduceOptions,
  type ProduceRecord,
  type ProduceRecordResult,
  produceColumnsOf,
} from './produce-request.js';
import { type ProducerIdAndEpoch, ProducerIdManager } from './producer-id-manager.js';
import { RemotePartitionLoadingError, RemoteReads } from './remote-reads.js';
import { ReplicaManager } from './replica-manager.js';
import {
  type ConfigChange,
  type CreateTopicOptions,
  type PartitionDescription,
  type ResolvedConfig,
  TopicAdmin,
  type TopicChange,
  type TopicDescription,
} from './topic-admin.js';
import { CONSUMER_OFFSETS_TOPIC, isInternalTopic } from './topic-name.js';
import { tpKey } from './topic-partition.js';
import { type TopicTraffic, TopicTrafficTotals } from './topic-traffic.js';

// The facade's vocabulary, re-exported so every edge imports the broker from one place.
export type { PartitionOffsets } from './list-offsets.js';
export type { PartitionStatus } from './partition.js';
export type {
  Acks,
  ProduceColumns,
  ProduceColumnsResult,
  ProduceOptions,
  ProduceRecord,
  ProduceRecordResult,
} from './produce-request.js';
export { produceColumnsOf } from './produce-request.js';
export type { ProducerIdAndEpoch } from './producer-id-manager.js';
export type {
  ConfigChange,
  CreateTopicOptions,
  PartitionDescription,
  TopicChange,
  TopicDescription,
} from './topic-admin.js';
export { MAX_PARTITIONS_PER_TOPIC } from './topic-admin.js';
export { splitTpKey } from './topic-partition.js';
export type { TopicTraffic } from './topic-traffic.js';

export type { ClusterNode, RecordInput };

/** Internal topics are hidden from listings and closed to client writes (see topic-name.ts). */
export { CONSUMER_OFFSETS_TOPIC, isInternalTopic };

/** Where background-task failures go when no handler is given: one JSON line on stderr. */
export function reportBackgroundError(task: string, err: unknown): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'error', task, message: String((err as Error)?.message ?? err) })}\n`,
  );
}

export interface BrokerOptions {
  dataDir: string;
  nodeId: number;
  /** Broker-wide settings, Kafka broker names: `log.retention.ms`, `num.partitions`, ... */
  brokerConfigs: Record<string, string>;
  /** Where background-task failures are reported (default: one JSON line on stderr). */
  onError?: (task: string, err: unknown) => void;
  /** Where topics and partition states are kept; default: the local file in `dataDir`. */
  metadataStore?: MetadataStore;
  /** Cluster mode: the other nodes, this node's lease, the secret of node-to-node calls. Absent on a single node. */
  cluster?: BrokerClusterOptions;
}

/** What the broker needs of cluster membership (cluster mode; see samsa-node.ts, which keeps it current). */
export interface BrokerClusterOptions {
  /** The live nodes now, as the node registry last saw them: placement and where peers are reached. */
  liveNodes(): ClusterNode[];
  /** Whether this node's registration is confirmed recently enough to take writes as a leader (see PartitionRole). */
  mayLead(): boolean;
  /** The cluster's controller as last seen, -1 while none is known. */
  controllerId(): number;
  /** Sent on every node-to-node call and required on every one received. */
  clusterSecret: string;
  /** Peers at https:// URLs: the CA they are verified against and the certificate shown to them. */
  peerTls?: PeerTlsSource;
}

/** Most bytes a peer's answer may have (a replica fetch answer is bounded by replica.fetch.max.bytes per partition). */
const MAX_PEER_ANSWER_BYTES = 256 * 1024 * 1024;
/** How long a REST call waits for a remote partition's first answer from its leader (remote-reads.ts). */
const REMOTE_LOAD_TIMEOUT_MS = 5_000;

/** This node started or stopped leading a partition it hosts. */
export interface LeadershipChange {
  topic: string;
  partition: number;
  leading: boolean;
}

export interface FetchResult {
  /** Stored record batches, exactly as on disk (Kafka v2 format). */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
}

export interface ReadOptions {
  /** Only from the partition's leader; a follower (or a node without a replica) throws NotLeaderOrFollowerError. */
  leaderOnly?: boolean;
}

export interface StartReport {
  cleanShutdown: boolean;
  partitions: number;
  truncatedBytes: number;
  durationMs: number;
}

/**
 * The one facade every edge calls (HTTP today, a native Kafka listener later): topics,
 * partitions, produce with acks, fetch and offsets. It owns the broker's state (the topics this
 * node knows and their Partition objects, where leadership, leader epochs, the ISR and the high
 * watermark live) and delegates by concept: produce.ts appends, topic-admin.ts changes topics,
 * list-offsets.ts answers offsets. In the embedded single-node mode this node leads everything.
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
  private readonly dynamicConfigs: DynamicBrokerConfig;
  private readonly logManager: LogManager;
  private readonly partitions = new Map<string, HostedPartitions>();
  private readonly sticky = new StickyPartitioner();
  private readonly traffic = new TopicTrafficTotals();
  private readonly admin: TopicAdmin;
  private readonly producePath: ProducePath;
  private readonly producerIds: ProducerIdManager;
  private isReady = false;
  private stopping = false;
  private starting: Promise<StartReport> | null = null;
  private startReport: StartReport | undefined;
  private logFlushObserver: (durationMs: number) => void = () => {};
  private logDirSpace: LogDirSpace | undefined;
  /** Cluster mode: node-to-node calls and replication; null on a single node. */
  private readonly peers: PeerClient | null = null;
  private readonly replicas: ReplicaManager | null = null;
  /** Client reads of partitions this node holds no replica of (cluster mode). */
  private readonly remoteReads: RemoteReads | null = null;
  private readonly cluster: BrokerClusterOptions | null;
  /** Hosted partitions this node leads, by `tpKey`, to tell listeners when that changes. */
  private readonly led = new Set<string>();
  private readonly leadershipListeners = new Set<(change: LeadershipChange) => void>();
  /** Produces forwarded to a leader and not answered yet; cut when the store names another leader. */
  private readonly forwardsInFlight = new Set<{
    topic: string;
    partition: number;
    leaderId: number;
    abort: AbortController;
  }>();

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
    this.producerIds = new ProducerIdManager(store);
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
    const { cluster } = opts;
    this.cluster = cluster ?? null;
    if (cluster) {
      this.peers = new PeerClient({
        localId: this.nodeId,
        addressOf: (id) => cluster.liveNodes().find((n) => n.nodeId === id)?.advertisedUrl,
        clusterSecret: cluster.clusterSecret,
        maxAnswerBytes: MAX_PEER_ANSWER_BYTES,
        ...(cluster.peerTls ? { peerTls: cluster.peerTls } : {}),
      });
      this.replicas = new ReplicaManager({
        localId: this.nodeId,
        settings: settings.replication,
        store,
        peers: this.peers,
        topics: this.topics,
        partitions: this.partitions,
        onError,
      });
      this.remoteReads = new RemoteReads({
        peers: this.peers,
        leaderOf: (topic, partition) => this.leaderOf(topic, partition),
        onError,
      });
    }
    this.admin = new TopicAdmin({
      nodeId: this.nodeId,
      settings,
      store,
      dynamicConfigs,
      logManager: this.logManager,
      topics: this.topics,
      partitions: this.partitions,
      onTopicDeleted: (name) => {
        // Its remote partitions go when the read loop next finds the topic gone.
        this.sticky.forget(name);
        this.traffic.forget(name);
      },
      role: {
        localId: this.nodeId,
        replicaLagTimeMaxMs: settings.replication.lagTimeMaxMs,
        mayLead: cluster ? () => cluster.mayLead() : () => true,
      },
      cluster: cluster ? { liveNodes: () => cluster.liveNodes() } : null,
      onPartitionState: (partition) => {
        this.remoteReads?.forget(partition.topic, partition.partition);
        this.replicas?.onPartitionState(partition);
        this.noteLeadership(partition.topic, partition.partition, partition.isLeader);
      },
      onPartitionClosed: (topic, partition) => {
        this.replicas?.onPartitionClosed(topic, partition);
        this.noteLeadership(topic, partition, false);
      },
    });
    this.producePath = new ProducePath({
      settings,
      dynamicConfigs,
      topics: this.topics,
      partitions: this.partitions,
      sticky: this.sticky,
      traffic: this.traffic,
      admin: this.admin,
      ensureReady: () => this.ensureReady(),
      onError,
      forward: this.peers ? (...args) => this.forwardProduce(...args) : null,
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
      const list: HostedPartitions = [];
      for (let p = 0; p < meta.partitions; p++) {
        // Cluster mode: only the partitions with a replica here have a log here.
        if (!this.admin.hosts(meta, p)) {
          list.push(undefined);
          continue;
        }
        const { log, truncatedBytes: cut } = this.logManager.loadLog(meta.name, p, this.admin.logConfigOf(meta));
        truncatedBytes += cut;
        list.push(this.admin.newPartition(meta, p, log));
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
    this.replicas?.start();
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
    await this.admin.idle();
    // acks=0 produces already answered and waiting for their topic's creation append first.
    await this.producePath.idle();
    // Replica fetches stop before the logs they append to close.
    await this.replicas?.stop();
    await this.remoteReads?.stop();
    await this.peers?.close();
    await this.logManager.shutdown();
    await this.store.close();
  }

  private ensureReady(): void {
    if (!this.ready)
      throw new ServiceUnavailableError(
        this.stopping ? 'The broker is shutting down.' : 'The broker is still recovering its logs.',
      );
  }

  private partitionOrThrow(topic: string, partition: number): Partition {
    const list = this.partitions.get(topic);
    if (!list) throw new UnknownTopicError(topic);
    const p = list[partition];
    if (p === undefined) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= list.length)
        throw new UnknownPartitionError(topic, partition);
      // Cluster mode: a partition with no replica on this node.
      const leader = this.storedLeader(topic, partition);
      throw new NotLeaderOrFollowerError(topic, partition, leader, 'this node holds no replica of it');
    }
    return p;
  }

  /**
   * The partition when this node leads it: what a Kafka client's fetch and offset lookups ask for
   * (Kafka serves consumers from the leader unless it redirected them, KIP-392), so a client that
   * came to a follower is told NOT_LEADER_OR_FOLLOWER and refreshes its metadata.
   */
  private leaderPartitionOrThrow(topic: string, partition: number): Partition {
    const p = this.partitionOrThrow(topic, partition);
    if (!p.isLeader) throw new NotLeaderOrFollowerError(topic, partition, p.leaderId);
    return p;
  }

  private lookup(opts: ReadOptions): (topic: string, partition: number) => Partition {
    return opts.leaderOnly ? (t, p) => this.leaderPartitionOrThrow(t, p) : (t, p) => this.partitionOrThrow(t, p);
  }

  /** Whether this node holds a replica of the partition (always, for an existing one, on a single node). */
  hostsPartition(topic: string, partition: number): boolean {
    return this.partitions.get(topic)?.[partition] !== undefined;
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
    return this.admin.onTopicChange(listener);
  }

  // ---- topic administration (topic-admin.ts) ----

  /** Creates an internal topic (such as `__consumer_offsets`) unless it exists. */
  async ensureInternalTopic(name: string, partitions: number, configs: Record<string, string>): Promise<void> {
    this.ensureReady();
    return this.admin.ensureInternalTopic(name, partitions, configs);
  }

  describeTopic(name: string): TopicDescription {
    return this.admin.describeTopic(name);
  }

  /** Every topic config with its effective value and source (override, broker level, default). */
  topicConfigs(name: string): ResolvedConfig[] {
    return this.admin.topicConfigs(name);
  }

  /** The configs a topic with these overrides would have (CreateTopics' answer to validate_only). */
  previewTopicConfigs(overrides: Record<string, string>): ResolvedConfig[] {
    return this.admin.previewTopicConfigs(overrides);
  }

  /** Every setting of this broker with its effective value and levels (run-time, start-up, default). */
  brokerConfigs(): BrokerConfigEntry[] {
    return this.dynamicConfigs.describe();
  }

  /** The settings that have a cluster-wide run-time value (Kafka's default broker entity). */
  clusterBrokerConfigs(): BrokerConfigEntry[] {
    return this.dynamicConfigs.describeClusterWide();
  }

  /** Sets or removes run-time broker configs on this broker or cluster-wide, applied to the live logs at once. */
  async alterBrokerConfigs(
    scope: BrokerConfigScope,
    changes: readonly ConfigChange[],
    validateOnly = false,
  ): Promise<void> {
    this.ensureReady();
    return this.admin.alterBrokerConfigs(scope, changes, validateOnly);
  }

  /** Creates a topic; a second create of the same name, even while the first is in flight, fails with TopicExistsError. */
  async createTopic(name: string, opts: CreateTopicOptions = {}): Promise<TopicDescription> {
    this.ensureReady();
    return this.admin.createTopic(name, opts);
  }

  async deleteTopic(name: string): Promise<void> {
    this.ensureReady();
    return this.admin.deleteTopic(name);
  }

  /** Sets or removes topic config overrides (Kafka's IncrementalAlterConfigs); see TopicAdmin. */
  async alterTopicConfigs(name: string, changes: readonly ConfigChange[], validateOnly = false): Promise<void> {
    this.ensureReady();
    return this.admin.alterTopicConfigs(name, changes, validateOnly);
  }

  /** Grows a topic to `count` partitions (Kafka's CreatePartitions); shrinking is refused. */
  async createPartitions(name: string, count: number, validateOnly = false): Promise<TopicDescription> {
    this.ensureReady();
    return this.admin.createPartitions(name, count, validateOnly);
  }

  /**
   * Starts moving a partition's replicas to `replicas`, in preference order (Kafka's
   * AlterPartitionReassignments, KIP-455): answers the partition as stored, the move in progress.
   */
  async alterPartitionReassignment(
    topic: string,
    partition: number,
    replicas: readonly number[],
  ): Promise<PartitionDescription> {
    this.ensureReady();
    return this.admin.alterPartitionReassignment(topic, partition, replicas);
  }

  /** Cancels a partition's reassignment in progress: its replicas go back to the ones before the move. */
  async cancelPartitionReassignment(topic: string, partition: number): Promise<PartitionDescription> {
    this.ensureReady();
    return this.admin.alterPartitionReassignment(topic, partition, null);
  }

  // ---- produce (produce.ts) ----

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
   * Produces records to a topic, one batch per partition, acknowledged as `opts.acks` asks (see
   * ProducePath.produceColumns for partitioning, auto-creation, acks=0 and the acks=all timeout).
   */
  produceColumns(topic: string, input: ProduceColumns, opts: ProduceOptions): Promise<ProduceColumnsResult> {
    return this.producePath.produceColumns(topic, input, opts);
  }

  /**
   * The Kafka listener's produce: appends one record batch as a Kafka client encoded it to a
   * partition this node leads, stored as it came (client-batch.ts has the checks), and answers as
   * `acks` asks: 0 and 1 after the leader's append, -1 once the high watermark is past the batch
   * (RequestTimedOutError after `timeoutMs`). Topics are not auto-created here (Kafka creates them
   * on Metadata). `legacyFormats` (Produce v0–2) also takes message sets v0/v1, converted to one v2 batch.
   */
  async appendClientBatch(
    topic: string,
    partition: number,
    batch: Buffer,
    opts: { acks: Acks; timeoutMs: number; legacyFormats?: boolean },
  ): Promise<{ baseOffset: number; logAppendTime: number; logStartOffset: number }> {
    this.ensureReady();
    if (isInternalTopic(topic))
      throw new InvalidTopicError(`Topic '${topic}' is internal to the broker; clients cannot write to it.`);
    const meta = this.topics.get(topic);
    if (!meta) throw new UnknownTopicError(topic, 'produce');
    const p = this.partitionOrThrow(topic, partition);
    // The log's own config, kept current by every config change: not rebuilt for each batch.
    const prepared = clientBatchToAppend(topic, p.log.logConfig, batch, Date.now(), opts.legacyFormats);
    const producer = producerOfClientBatch(prepared.batch);
    const idempotent = producer === null ? undefined : { producer, limits: this.settings.producerState };
    // A retry of a stored batch (idempotent producers) gets its offsets again, once they are committed.
    const info = this.appendCounted(topic, p, prepared, opts.acks === -1, idempotent);
    if (opts.acks === -1) await p.waitForHighWatermarkPast(info.lastOffset, opts.timeoutMs);
    return { baseOffset: info.baseOffset, logAppendTime: info.logAppendTime, logStartOffset: p.log.logStartOffset };
  }

  /**
   * Kafka's InitProducerId for an idempotent producer (not transactional): a producer id unique in
   * the cluster at epoch 0, or, for a producer that names its id and epoch (v3+), the next epoch
   * of that id (see ProducerIdManager).
   */
  initProducerId(current: ProducerIdAndEpoch | null): Promise<ProducerIdAndEpoch> {
    this.ensureReady();
    return this.producerIds.initProducerId(current);
  }

  /**
   * Appends to one partition of an internal topic on behalf of the broker itself, as its leader
   * (refused below min.insync.replicas); `waitForReplication` then waits for the followers.
   */
  appendInternal(topic: string, partition: number, records: RecordInput[]): { baseOffset: number; lastOffset: number } {
    this.ensureReady();
    if (!isInternalTopic(topic)) throw new Error(`${topic} is not an internal topic`);
    return this.producePath.appendInternal(this.partitionOrThrow(topic, partition), records);
  }

  /**
   * Resolves once `offset` is below the partition's high watermark (acks=all's condition; at once
   * on a single node); RequestTimedOutError after `timeoutMs`, NotLeaderOrFollowerError when the
   * leadership moves meanwhile.
   */
  async waitForReplication(topic: string, partition: number, offset: number, timeoutMs: number): Promise<void> {
    await this.partitionOrThrow(topic, partition).waitForHighWatermarkPast(offset, timeoutMs);
  }

  /** A whole batch appended here as its leader (a forwarded one, a Kafka client's), counted as traffic in. */
  private appendCounted(
    topic: string,
    p: Partition,
    prepared: PreparedBatch,
    requireMinIsr: boolean,
    idempotent?: Parameters<Partition['appendAsLeader']>[2],
  ): LeaderAppendInfo {
    const info = p.appendAsLeader(prepared, requireMinIsr, idempotent);
    if (info.duplicate) return info;
    const traffic = this.traffic.of(topic);
    traffic.recordsIn += prepared.recordCount;
    traffic.bytesIn += info.sizeBytes;
    return info;
  }

  /**
   * Calls `listener` when this node starts or stops leading a hosted partition (opened, state
   * changed, closed); on a single node every partition is led from the moment it opens.
   */
  onLeadershipChange(listener: (change: LeadershipChange) => void): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  private noteLeadership(topic: string, partition: number, leading: boolean): void {
    const key = tpKey(topic, partition);
    if (leading === this.led.has(key)) return;
    if (leading) this.led.add(key);
    else this.led.delete(key);
    for (const listener of [...this.leadershipListeners]) listener({ topic, partition, leading });
  }

  /** The partition's leader as this node last read the store, -1 when offline or unknown. */
  private storedLeader(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitionStates[partition]?.leader ?? -1;
  }

  /** Whether this node leads the partition now (cluster mode: as the stored state says). */
  leads(topic: string, partition: number): boolean {
    return this.led.has(tpKey(topic, partition));
  }

  /** The partition's leader as stored (-1: offline), whether or not this node hosts a replica. */
  leaderOf(topic: string, partition: number): number {
    const meta = this.topics.get(topic);
    if (!meta) throw new UnknownTopicError(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= meta.partitions)
      throw new UnknownPartitionError(topic, partition);
    return meta.partitionStates[partition]?.leader ?? this.nodeId;
  }

  /** The partition's leader epoch as stored (Kafka's Metadata v7+ reports it), whether or not this node hosts it. */
  leaderEpochOf(topic: string, partition: number): number {
    const meta = this.topics.get(topic);
    if (!meta) throw new UnknownTopicError(topic);
    const local = this.partitions.get(topic)?.[partition];
    return local?.leaderEpoch ?? meta.partitionStates[partition]?.leaderEpoch ?? 0;
  }

  /** Whether `auto.create.topics.enable` is on: Kafka's Metadata creates a topic a client names then. */
  get autoCreateTopics(): boolean {
    return this.settings.autoCreateTopics;
  }

  /** Per-topic totals since start-up (deleted topics are gone). */
  topicTraffic(): ReadonlyMap<string, Readonly<TopicTraffic>> {
    return this.traffic.all;
  }

  /** Edges that deliver records to a client (consumers, streams) report them here. */
  recordDelivered(topic: string, records: number, bytes: number): void {
    if (!this.topics.has(topic)) return;
    const t = this.traffic.of(topic);
    t.recordsOut += records;
    t.bytesOut += bytes;
  }

  /**
   * Every partition this node hosts as plain values (in-memory state only, no disk access): what
   * metrics read at scrape time. Copies, so a reader cannot change a partition.
   */
  describePartitions(): PartitionStatus[] {
    const out: PartitionStatus[] = [];
    for (const p of this.allPartitions()) out.push(p.status());
    return out;
  }

  private *allPartitions(): Generator<Partition> {
    for (const list of this.partitions.values()) for (const p of list) if (p) yield p;
  }

  // ---- offsets (list-offsets.ts) ----

  /** The offsets of a partition this node hosts (Kafka clients: its leader, with `leaderOnly`). */
  listOffsets(topic: string, partition: number, opts: ReadOptions = {}): PartitionOffsets {
    this.ensureReady();
    return partitionOffsets(this.lookup(opts)(topic, partition));
  }

  /**
   * Kafka's DeleteRecords (KIP-107) on a partition this node leads: its log start offset moves to
   * `offset`, -1 meaning the high watermark; past the high watermark is OFFSET_OUT_OF_RANGE. The
   * new start is checkpointed at once; followers take it from the leader's fetch answers. Returns
   * the low watermark (the leader's log start offset).
   */
  deleteRecords(topic: string, partition: number, offset: number): number {
    this.ensureReady();
    const p = this.leaderPartitionOrThrow(topic, partition);
    const lowWatermark = p.log.advanceLogStartOffset(offset === -1 ? p.log.highWatermark : offset);
    this.logManager.checkpointLogStartOffsets();
    return lowWatermark;
  }

  /**
   * A REST or SSE client's view of a partition's offsets, on any node: this node's replica, else
   * what its leader last answered (remote-reads.ts), which throws RemotePartitionLoadingError until
   * the leader first answered. Unknown topics and partitions throw as `listOffsets` does.
   */
  readableOffsets(topic: string, partition: number): PartitionOffsets {
    this.ensureReady();
    if (this.readsRemotely(topic, partition)) return (this.remoteReads as RemoteReads).offsets(topic, partition);
    return partitionOffsets(this.partitionOrThrow(topic, partition));
  }

  /** `readableOffsets`, waiting up to `timeoutMs` for a remote partition's first answer. */
  async loadReadableOffsets(
    topic: string,
    partition: number,
    timeoutMs = REMOTE_LOAD_TIMEOUT_MS,
  ): Promise<PartitionOffsets> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return this.readableOffsets(topic, partition);
      } catch (err) {
        const leftMs = deadline - Date.now();
        if (!(err instanceof RemotePartitionLoadingError) || leftMs <= 0) throw err;
        await this.waitForData(topic, partition, -1, leftMs);
      }
    }
  }

  /**
   * Whether a client's reads of the partition go to its leader: cluster mode, and no replica here.
   * Throws UnknownTopicError / UnknownPartitionError for a partition that does not exist.
   */
  private readsRemotely(topic: string, partition: number): boolean {
    if (this.remoteReads === null || this.hostsPartition(topic, partition)) return false;
    this.leaderOf(topic, partition);
    return true;
  }

  /** The first offset with a timestamp >= `timestamp`, or null (Kafka answers -1), of a hosted partition. */
  offsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
    opts: ReadOptions = {},
  ): { offset: number; timestamp: number } | null {
    this.ensureReady();
    return offsetForTimestamp(this.lookup(opts)(topic, partition), timestamp);
  }

  /** `offsetForTimestamp` on any node: a partition with no replica here asks its leader. */
  async findOffsetForTimestamp(
    topic: string,
    partition: number,
    timestamp: number,
  ): Promise<{ offset: number; timestamp: number } | null> {
    this.ensureReady();
    if (!this.readsRemotely(topic, partition)) return this.offsetForTimestamp(topic, partition, timestamp);
    const leader = this.leaderOf(topic, partition);
    let answer: OffsetForTimestampAnswer;
    try {
      answer = await (this.peers as PeerClient).offsetForTimestamp(
        leader,
        { topic, partition, timestamp },
        REMOTE_LOAD_TIMEOUT_MS,
      );
    } catch (err) {
      throw new NotLeaderOrFollowerError(
        topic,
        partition,
        leader,
        `its leader did not answer (${(err as Error).message})`,
      );
    }
    if (answer.error !== null) throw remoteError(leader, answer.error, answer.message);
    return answer.found;
  }

  /** The leader side of `findOffsetForTimestamp` (the internal route). */
  leaderOffsetForTimestamp(request: OffsetForTimestampRequest): OffsetForTimestampAnswer {
    try {
      const p = this.partitionOrThrow(request.topic, request.partition);
      if (!p.isLeader) throw new NotLeaderOrFollowerError(request.topic, request.partition, p.leaderId);
      return { error: null, found: offsetForTimestamp(p, request.timestamp) };
    } catch (err) {
      return { error: kafkaErrorNameOf(err), message: (err as Error).message, found: null };
    }
  }

  /** The first committed record with the largest timestamp, or null (ListOffsets MAX_TIMESTAMP, KIP-734). */
  offsetOfMaxTimestamp(topic: string, partition: number): { offset: number; timestamp: number } | null {
    this.ensureReady();
    return this.partitionOrThrow(topic, partition).log.offsetOfMaxTimestamp();
  }

  /**
   * Where leader epoch `epoch` ends in this leader's log, with the epoch found (the largest at or
   * below it), for Kafka's OffsetForLeaderEpoch: a consumer after a leader change (KIP-320) or a
   * follower checks for a divergent tail. NotLeaderOrFollowerError off the leader; `currentLeaderEpoch`
   * (>= 0) other than the partition's is FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.
   */
  endOffsetForLeaderEpoch(
    topic: string,
    partition: number,
    currentLeaderEpoch: number,
    epoch: number,
  ): { epoch: number; endOffset: number } {
    this.ensureReady();
    const p = this.partitionOrThrow(topic, partition);
    if (!p.isLeader) throw new NotLeaderOrFollowerError(topic, partition, p.leaderId);
    if (currentLeaderEpoch >= 0 && currentLeaderEpoch !== p.leaderEpoch)
      throw new LeaderEpochError(topic, partition, currentLeaderEpoch, p.leaderEpoch);
    return p.log.endOffsetForEpoch(epoch);
  }

  /** The topic's id (16 bytes, base64url as Kafka prints a Uuid), or null when there is no such topic. */
  topicIdOf(name: string): string | null {
    return this.topics.get(name)?.topicId ?? null;
  }

  /**
   * The topic of each id (base64url), or null where none has it (Kafka's Fetch v13+ and Metadata v12
   * name topics by id): one pass over the topics, whatever the number of ids.
   */
  topicNamesOf(topicIds: readonly string[]): Array<string | null> {
    if (topicIds.length === 0) return [];
    const byId = new Map<string, string>();
    for (const [name, meta] of this.topics) byId.set(meta.topicId, name);
    return topicIds.map((id) => byId.get(id) ?? null);
  }

  /** Stored batches from `offset` up to `maxBytes`, below the high watermark. */
  async fetch(topic: string, partition: number, offset: number, maxBytes: number): Promise<FetchResult> {
    this.ensureReady();
    const p = this.partitionOrThrow(topic, partition);
    const { records, highWatermark, logStartOffset } = p.log.read(offset, maxBytes);
    return { records, highWatermark, logStartOffset };
  }

  /**
   * A follower's log end offset as its fetch showed it (the leader side of replication): the high
   * watermark moves to the smallest over the ISR, which wakes acks=all producers and readers.
   */
  updateFollowerEndOffset(topic: string, partition: number, replicaId: number, logEndOffset: number): void {
    this.ensureReady();
    this.partitionOrThrow(topic, partition).updateFollowerEndOffset(replicaId, logEndOffset);
  }

  /** Many partitions at once, with byte limits, minBytes and a long-poll (see fetch.ts). */
  fetchPartitions(request: FetchRequest, opts: ReadOptions = {}): Promise<FetchResponse> {
    this.ensureReady();
    return fetchPartitions(request, this.lookup(opts));
  }

  /**
   * The same, without waiting: one bounded read per partition, now. On any node: a partition with
   * no replica here is read from its remote window (which the read loop fills from the leader).
   */
  readPartitions(request: Omit<FetchRequest, 'minBytes' | 'maxWaitMs' | 'signal'>): FetchResponse {
    this.ensureReady();
    return readPartitions({ ...request, minBytes: 0, maxWaitMs: 0 }, (t, p) =>
      this.readsRemotely(t, p) ? this.remoteView(t, p) : this.partitionOrThrow(t, p),
    );
  }

  private remoteView(topic: string, partition: number): ReadablePartition {
    const remote = this.remoteReads as RemoteReads;
    const offsets = remote.offsets(topic, partition);
    return {
      highWatermark: offsets.highWatermark,
      log: {
        logStartOffset: offsets.logStartOffset,
        logEndOffset: offsets.highWatermark,
        read: (offset, maxBytes, opts) => remote.read(topic, partition, offset, maxBytes, opts.minOneBatch),
      },
    };
  }

  /**
   * Resolves when the high watermark passes `offset`, after `timeoutMs`, or on `signal`; for a
   * partition with no replica here, when its window has records at `offset` (or, offset -1, when
   * its leader first answered).
   */
  waitForData(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    this.ensureReady();
    if (this.readsRemotely(topic, partition))
      return (this.remoteReads as RemoteReads).waitForData(topic, partition, offset, timeoutMs, signal);
    return this.partitionOrThrow(topic, partition).waitForData(offset, timeoutMs, signal);
  }

  /** The leader side of a remote read (the internal route): see ReplicaManager.leaderRead. */
  leaderRead(
    request: LeaderReadRequest,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer[] }> {
    this.ensureReady();
    return this.replicaManager().leaderRead(request, signal);
  }

  // ---- cluster mode: node-to-node calls (src/http/internal-routes.ts) and metadata changes ----

  /**
   * The cluster's live nodes, sorted by id (cluster mode: as the node registry last saw them, this
   * node always included); on a single node, this node alone, without an advertised URL.
   */
  clusterNodes(): ClusterNode[] {
    const live = this.cluster?.liveNodes() ?? [];
    if (live.some((n) => n.nodeId === this.nodeId)) return live;
    return [...live, { nodeId: this.nodeId, advertisedUrl: '' }].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** The cluster's controller as last seen (-1 while none is known); on a single node, this node. */
  get controllerId(): number {
    return this.cluster?.controllerId() ?? this.nodeId;
  }

  /** Whether this broker is one node of a cluster (etcd-coordinated) rather than the embedded single node. */
  get clustered(): boolean {
    return this.replicas !== null;
  }

  private replicaManager(): ReplicaManager {
    if (this.replicas === null) throw new ServiceUnavailableError('This node is not part of a cluster.');
    return this.replicas;
  }

  /** The leader side of a follower's fetch: stored batches to the log end, long-polling (see ReplicaManager). */
  replicaFetch(
    request: ReplicaFetchRequest,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer[] }> {
    this.ensureReady();
    return this.replicaManager().replicaFetch(request, signal);
  }

  /** Where the asked leader epochs end in this leader's logs (followers truncate by it). */
  epochEndOffsets(request: EpochEndOffsetsRequest): EpochEndOffsetsAnswer {
    this.ensureReady();
    return this.replicaManager().epochEndOffsets(request);
  }

  /** Replication counters since start (all 0 on a single node): ISR shrinks and expands stored here, leaderships taken. */
  replicationStats(): { isrShrinksTotal: number; isrExpandsTotal: number; leaderElectionsTotal: number } {
    return this.replicas?.stats() ?? { isrShrinksTotal: 0, isrExpandsTotal: 0, leaderElectionsTotal: 0 };
  }

  /**
   * The leader side of a forwarded produce: another node encoded the batch (against the same topic
   * config) and sends it here, the partition's leader, which appends it as its own and answers as
   * `acks` asks. Errors come back as Kafka error names for the sender to raise.
   */
  async produceForwarded(header: ForwardedProduceHeader, batch: Buffer): Promise<ForwardedProduceAnswer> {
    try {
      this.ensureReady();
      const meta = this.topics.get(header.topic);
      if (!meta) throw new UnknownTopicError(header.topic);
      const partition = this.partitionOrThrow(header.topic, header.partition);
      const now = Date.now();
      const prepared = preparedFromEncoded(this.admin.logConfigOf(meta), batch, now);
      const { producerId } = header;
      const limits = this.settings.idempotency;
      const earlier = producerId === undefined ? null : replayPartition(partition, producerId, prepared, limits, now);
      let info: { baseOffset: number; lastOffset: number; logAppendTime: number };
      if (earlier) {
        // A retry of a write this leader took: the same offsets, nothing appended.
        info = { ...earlier, lastOffset: earlier.baseOffset + prepared.recordCount - 1, logAppendTime: -1 };
      } else {
        info = this.appendCounted(header.topic, partition, prepared, header.acks === -1);
        if (producerId !== undefined) {
          partition.builtIdempotencyCache?.remember(producerId, {
            baseOffset: info.baseOffset,
            recordCount: prepared.recordCount,
            rememberedAtMs: now,
          });
        }
      }
      if (header.acks === -1) await partition.waitForHighWatermarkPast(info.lastOffset, header.timeoutMs);
      return { error: null, baseOffset: info.baseOffset, logAppendTime: info.logAppendTime };
    } catch (err) {
      if (!(err instanceof SamsaError) || err.kafkaError === null) throw err;
      return {
        error: err.kafkaError.name,
        message: err.message,
        ...(err instanceof IdempotencyKeyReusedError ? { idempotencyKeyReused: true as const } : {}),
        baseOffset: -1,
        logAppendTime: -1,
      };
    }
  }

  /** The sending side of a forwarded produce (ProducePath's `forward`). */
  private forwardProduce: ForwardProduce = async (
    topic,
    partition,
    leaderId,
    batch: PreparedBatch,
    opts,
    producerId,
  ) => {
    const peers = this.peers as PeerClient;
    let answer: ForwardedProduceAnswer;
    const inFlight = { topic, partition, leaderId, abort: new AbortController() };
    this.forwardsInFlight.add(inFlight);
    try {
      answer = await peers.produce(
        leaderId,
        {
          topic,
          partition,
          acks: opts.acks,
          timeoutMs: opts.timeoutMs,
          ...(producerId === undefined ? {} : { producerId }),
        },
        batch.batch,
        inFlight.abort.signal,
      );
    } catch (err) {
      if (inFlight.abort.signal.aborted) {
        // Whether the old leader appended it is unknown (a retry may duplicate it), as when a Kafka
        // producer's leader changes under a request: the client is told to retry, not to wait.
        throw new NotLeaderOrFollowerError(topic, partition, this.storedLeader(topic, partition), 'its leader changed');
      }
      if (err instanceof PeerUnavailableError)
        throw new NotLeaderOrFollowerError(topic, partition, leaderId, `its leader did not answer (${err.message})`);
      throw err;
    } finally {
      this.forwardsInFlight.delete(inFlight);
    }
    if (answer.idempotencyKeyReused) throw new IdempotencyKeyReusedError(topic, `node ${leaderId}: ${answer.message}`);
    if (answer.error !== null) throw remoteError(leaderId, answer.error, answer.message);
    return { baseOffset: answer.baseOffset, logAppendTime: answer.logAppendTime };
  };

  /**
   * Re-reads topics and partition states from the metadata store and applies what other nodes
   * changed (cluster mode: the store's watch and a periodic pass call this): new topics open their
   * hosted partitions, leader and ISR changes start following or leading, deleted topics go.
   */
  refreshMetadata(): Promise<void> {
    if (this.stopping || !this.isReady) return Promise.resolve();
    return this.admin.refreshFromStore().then(() => this.cutStaleForwards());
  }

  /** A forwarded produce waiting on a node that no longer leads (say a paused one) is answered now. */
  private cutStaleForwards(): void {
    for (const f of this.forwardsInFlight) {
      if (this.storedLeader(f.topic, f.partition) !== f.leaderId) f.abort.abort();
    }
  }

  /** Runs one retention pass now (tests, admin). */
  runRetention(now = Date.now()): number {
    return this.logManager.runRetention(now);
  }
}

/** The error another node answered with, as a domain error carrying its Kafka error. */
function remoteError(nodeId: number, name: string, message: string | undefined): RemoteBrokerError {
  const known = KAFKA_ERRORS[name as KafkaErrorName] ?? KAFKA_ERRORS.UNKNOWN_SERVER_ERROR;
  return new RemoteBrokerError(`Node ${nodeId}: ${message ?? name}`, known);
}
