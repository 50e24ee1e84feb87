/**
 * Replication on this node (Kafka's ReplicaManager): for every hosted partition, follow its leader
 * (the replica fetcher) or lead it (answer followers' fetches, move the high watermark, change the
 * ISR by compare-and-swap in the metadata store). The controller elects leaders; this node only
 * changes the ISR of partitions it leads, as Kafka's leaders do (AlterPartition).
 */
import { MetadataConflictError, type MetadataStore, type TopicMetadata } from '../cluster/metadata-store.js';
import { kafkaErrorNameOf, LeaderEpochError, NotLeaderOrFollowerError } from '../errors.js';
import type {
  EpochEndOffsetsAnswer,
  EpochEndOffsetsRequest,
  LeaderReadRequest,
  ReplicaFetchAnswer,
  ReplicaFetchAnswerPartition,
  ReplicaFetchRequest,
} from '../replication/internal-protocol.js';
import { MAX_INTERNAL_PARTITIONS } from '../replication/internal-protocol.js';
import type { PeerClient } from '../replication/peer-client.js';
import { ReplicaFetcher } from '../replication/replica-fetcher.js';
import type { ReplicationSettings } from './broker-config.js';
import { type FetchPartitionRequest, fetchPartitions } from './fetch.js';
import type { HostedPartitions, Partition } from './partition.js';

export interface ReplicaManagerOptions {
  localId: number;
  settings: ReplicationSettings;
  store: MetadataStore;
  peers: PeerClient;
  topics: Map<string, TopicMetadata>;
  partitions: ReadonlyMap<string, HostedPartitions>;
  onError: (task: string, err: unknown) => void;
}

/** Most bytes one replica fetch answer may carry in total, whatever the follower asks. */
const MAX_REPLICA_FETCH_ANSWER_BYTES = 64 * 1024 * 1024;
/** Most time a follower may ask the leader to hold its fetch. */
const MAX_REPLICA_FETCH_WAIT_MS = 30_000;

export class ReplicaManager {
  private readonly fetcher: ReplicaFetcher;
  /** Partitions whose ISR change is in flight: one at a time each, so two never race on one version. */
  private readonly isrChanging = new Set<Partition>();
  private shrinkTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** The leader epoch each partition was last led in here, to count leaderships taken. */
  private readonly ledEpochs = new WeakMap<Partition, number>();
  /** Counters for /metrics (see stats()). */
  private isrShrinks = 0;
  private isrExpands = 0;
  private leaderships = 0;

  constructor(private readonly opts: ReplicaManagerOptions) {
    this.fetcher = new ReplicaFetcher({
      peers: opts.peers,
      fetchWaitMaxMs: opts.settings.fetchWaitMaxMs,
      fetchMaxBytes: opts.settings.fetchMaxBytes,
      fetchBackoffMs: opts.settings.fetchBackoffMs,
      onError: opts.onError,
    });
  }

  /** Starts the ISR shrink check (every half `replica.lag.time.max.ms`, as Kafka's isr-expiration task). */
  start(): void {
    const everyMs = Math.max(100, Math.floor(this.opts.settings.lagTimeMaxMs / 2));
    this.shrinkTimer = setInterval(() => this.shrinkLaggingIsr(Date.now()), everyMs);
    this.shrinkTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.shrinkTimer) clearInterval(this.shrinkTimer);
    await this.fetcher.stop();
  }

  /** ISR changes this node stored as a leader, and leaderships it took in a new epoch, since start. */
  stats(): { isrShrinksTotal: number; isrExpandsTotal: number; leaderElectionsTotal: number } {
    return {
      isrShrinksTotal: this.isrShrinks,
      isrExpandsTotal: this.isrExpands,
      leaderElectionsTotal: this.leaderships,
    };
  }

  /** A hosted partition was opened or its state changed: follow its leader, or stop following. */
  onPartitionState(p: Partition): void {
    if (this.stopped) return;
    if (p.isLeader && this.ledEpochs.get(p) !== p.leaderEpoch) {
      // A leadership in a new epoch (epoch 0 is a new partition's first leader, not an election).
      if (p.leaderEpoch > 0) this.leaderships++;
      this.ledEpochs.set(p, p.leaderEpoch);
    }
    if (p.isLeader || p.leaderId < 0 || !p.replicas.includes(this.opts.localId)) {
      this.fetcher.unfollow(p.topic, p.partition);
      return;
    }
    this.fetcher.follow({
      topic: p.topic,
      partition: p.partition,
      leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      log: p.log,
      onProgress: (leaderHighWatermark) => {
        p.followerHighWatermark(leaderHighWatermark);
        p.wakeReaders();
      },
    });
  }

  onPartitionClosed(topic: string, partition: number): void {
    this.fetcher.unfollow(topic, partition);
  }

  private hosted(topic: string, partition: number): Partition | undefined {
    return this.opts.partitions.get(topic)?.[partition];
  }

  /** The partition as its leader in `epoch` sees it, or the reason this node cannot answer for it. */
  private leaderFor(topic: string, partition: number, epoch: number): Partition {
    const p = this.hosted(topic, partition);
    if (!p?.isLeader) throw new NotLeaderOrFollowerError(topic, partition, p?.leaderId ?? -1);
    if (epoch >= 0 && epoch !== p.leaderEpoch) throw new LeaderEpochError(topic, partition, epoch, p.leaderEpoch);
    return p;
  }

  /**
   * The leader side of a follower's fetch (Kafka's fetchMessages for a replica): each partition's
   * leader epoch is checked, the follower's fetch offset is its log end offset (which may move the
   * high watermark and bring it back into the ISR), then the stored batches past it are read up to
   * the log end, waiting up to `maxWaitMs` when there is nothing new.
   */
  async replicaFetch(
    request: ReplicaFetchRequest,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer[] }> {
    if (request.partitions.length > MAX_INTERNAL_PARTITIONS) throw new RangeError('too many partitions');
    const now = Date.now();
    const answers: ReplicaFetchAnswerPartition[] = [];
    const reads: FetchPartitionRequest[] = [];
    const readIndex: number[] = [];
    for (const want of request.partitions) {
      const out = emptyAnswer(want.topic, want.partition);
      answers.push(out);
      try {
        const p = this.leaderFor(want.topic, want.partition, want.leaderEpoch);
        const { log } = p;
        out.logStartOffset = log.logStartOffset;
        out.logEndOffset = log.logEndOffset;
        if (want.fetchOffset > log.logEndOffset || want.fetchOffset < log.logStartOffset) {
          out.error = 'OFFSET_OUT_OF_RANGE';
          out.highWatermark = log.highWatermark;
          continue;
        }
        const joining = p.updateFollowerEndOffset(request.replicaId, want.fetchOffset, now);
        if (joining.length > 0) this.changeIsr(p, [...p.isr, ...joining.filter((r) => !p.isr.includes(r))]);
        out.highWatermark = log.highWatermark;
        readIndex.push(answers.length - 1);
        reads.push({
          topic: want.topic,
          partition: want.partition,
          offset: want.fetchOffset,
          maxBytes: Math.max(1, Math.min(want.maxBytes, MAX_REPLICA_FETCH_ANSWER_BYTES)),
        });
      } catch (err) {
        out.error = kafkaErrorNameOf(err);
        out.message = (err as Error).message;
      }
    }
    const records = await this.readInto(answers, reads, readIndex, request, 'log_end', signal);
    return { answer: { partitions: answers }, records };
  }

  /**
   * The read half of a peer's fetch: reads `reads` (long-polling as `request` allows), fills in their
   * answers (`readIndex[i]` is the answer of `reads[i]`), and returns the records in the answers'
   * order (answers without records contribute no bytes). Offsets come from after the wait, so the
   * peer learns the newest high watermark.
   */
  private async readInto(
    answers: ReplicaFetchAnswerPartition[],
    reads: FetchPartitionRequest[],
    readIndex: number[],
    request: { maxBytes: number; minBytes: number; maxWaitMs: number },
    isolation: 'log_end' | 'high_watermark',
    signal?: AbortSignal,
  ): Promise<Buffer[]> {
    const records: Buffer[] = [];
    if (reads.length === 0) return records;
    const fetched = await fetchPartitions(
      {
        partitions: reads,
        maxBytes: Math.max(1, Math.min(request.maxBytes, MAX_REPLICA_FETCH_ANSWER_BYTES)),
        minBytes: request.minBytes,
        maxWaitMs: Math.max(0, Math.min(request.maxWaitMs, MAX_REPLICA_FETCH_WAIT_MS)),
        isolation,
        signal,
      },
      (topic, partition) => this.leaderFor(topic, partition, -1),
    );
    for (let i = 0; i < fetched.partitions.length; i++) {
      const got = fetched.partitions[i];
      const out = answers[readIndex[i] as number];
      if (!got || !out) continue;
      if (got.error) {
        out.error = kafkaErrorNameOf(got.error);
        out.message = got.error.message;
        continue;
      }
      out.highWatermark = got.highWatermark;
      out.logStartOffset = got.logStartOffset;
      // A client read sees the log as ending at the high watermark.
      out.logEndOffset = isolation === 'log_end' ? got.logEndOffset : got.highWatermark;
      out.sizeBytes = got.records.length;
      records.push(got.records);
    }
    return records;
  }

  /**
   * A client read for a node that holds no replica of these partitions (its REST consumers and
   * streams read through it): like a consumer's fetch, below the high watermark, waiting up to
   * `maxWaitMs` for `minBytes`, and without touching follower state. `fetchOffset` -1 answers the
   * partition's offsets only.
   */
  async leaderRead(
    request: LeaderReadRequest,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer[] }> {
    if (request.partitions.length > MAX_INTERNAL_PARTITIONS) throw new RangeError('too many partitions');
    const answers: ReplicaFetchAnswerPartition[] = [];
    const reads: FetchPartitionRequest[] = [];
    const readIndex: number[] = [];
    for (const want of request.partitions) {
      const out = emptyAnswer(want.topic, want.partition);
      answers.push(out);
      try {
        const { log } = this.leaderFor(want.topic, want.partition, -1);
        out.logStartOffset = log.logStartOffset;
        out.highWatermark = log.highWatermark;
        out.logEndOffset = log.highWatermark;
        if (want.fetchOffset === -1) continue;
        if (want.fetchOffset > log.logEndOffset || want.fetchOffset < log.logStartOffset) {
          out.error = 'OFFSET_OUT_OF_RANGE';
          continue;
        }
        readIndex.push(answers.length - 1);
        reads.push({
          topic: want.topic,
          partition: want.partition,
          offset: want.fetchOffset,
          maxBytes: Math.max(1, Math.min(want.maxBytes, MAX_REPLICA_FETCH_ANSWER_BYTES)),
        });
      } catch (err) {
        out.error = kafkaErrorNameOf(err);
        out.message = (err as Error).message;
      }
    }
    const records = await this.readInto(answers, reads, readIndex, request, 'high_watermark', signal);
    return { answer: { partitions: answers }, records };
  }

  /** Where each asked epoch ends in this leader's log (Kafka's OffsetsForLeaderEpoch, KIP-101/279). */
  epochEndOffsets(request: EpochEndOffsetsRequest): EpochEndOffsetsAnswer {
    if (request.partitions.length > MAX_INTERNAL_PARTITIONS) throw new RangeError('too many partitions');
    return {
      partitions: request.partitions.map((want) => {
        try {
          const p = this.leaderFor(want.topic, want.partition, want.currentLeaderEpoch);
          const { epoch, endOffset } = p.log.endOffsetForEpoch(want.epoch);
          return { topic: want.topic, partition: want.partition, error: null, epoch, endOffset };
        } catch (err) {
          return {
            topic: want.topic,
            partition: want.partition,
            error: kafkaErrorNameOf(err),
            epoch: -1,
            endOffset: -1,
          };
        }
      }),
    };
  }

  /** Followers not caught up for `replica.lag.time.max.ms` leave the ISR of partitions this node leads. */
  shrinkLaggingIsr(nowMs: number): void {
    for (const list of this.opts.partitions.values()) {
      for (const p of list) {
        if (!p?.isLeader) continue;
        const lagging = p.laggingInSync(nowMs);
        if (lagging.length > 0)
          this.changeIsr(
            p,
            p.isr.filter((r) => !lagging.includes(r)),
          );
      }
    }
  }

  /**
   * Stores a new ISR for a partition this node leads, by compare-and-swap on the state version it
   * holds (Kafka's AlterPartition). A lost swap means the controller changed the partition (a new
   * leader, a dead replica out); the partition then takes the stored state and the leader re-checks.
   */
  private changeIsr(p: Partition, isr: number[]): void {
    if (this.isrChanging.has(p) || this.stopped) return;
    const next = [...new Set(isr)];
    if (!next.includes(this.opts.localId)) next.unshift(this.opts.localId);
    if (next.length === p.isr.length && next.every((r) => p.isr.includes(r))) return;
    this.isrChanging.add(p);
    const expected = p.stateVersion;
    // A reassignment in progress stays as it is: only the ISR changes.
    const state = {
      replicas: [...p.replicas],
      leader: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      isr: next,
      addingReplicas: [...p.addingReplicas],
      removingReplicas: [...p.removingReplicas],
    };
    this.opts.store
      .updatePartitionState(p.topic, p.partition, state, expected)
      .then(
        (stored) => {
          if (next.length < p.isr.length) this.isrShrinks++;
          else this.isrExpands++;
          this.applyStored(p, stored);
        },
        async (err: unknown) => {
          if (!(err instanceof MetadataConflictError)) throw err;
          const topic = await this.opts.store.getTopic(p.topic);
          const stored = topic?.partitionStates[p.partition];
          if (stored) this.applyStored(p, stored);
        },
      )
      .catch((err: unknown) => this.opts.onError(`ISR change of ${p.topic}-${p.partition}`, err))
      .finally(() => this.isrChanging.delete(p));
  }

  private applyStored(p: Partition, stored: TopicMetadata['partitionStates'][number]): void {
    p.applyState(stored, Date.now());
    const meta = this.opts.topics.get(p.topic);
    if (meta && (meta.partitionStates[p.partition]?.version ?? -1) < stored.version) {
      const states = [...meta.partitionStates];
      states[p.partition] = stored;
      this.opts.topics.set(p.topic, { ...meta, partitionStates: states });
    }
    this.onPartitionState(p);
  }
}

/** A partition's answer before anything is known of it (offsets -1, no records, no error). */
function emptyAnswer(topic: string, partition: number): ReplicaFetchAnswerPartition {
  return { topic, partition, error: null, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, sizeBytes: 0 };
}
