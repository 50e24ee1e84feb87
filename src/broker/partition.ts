import type { PartitionState } from '../cluster/metadata-store.js';
import { NotEnoughReplicasError, NotLeaderOrFollowerError, RequestTimedOutError } from '../errors.js';
import { type ReplicaLag, ReplicaTracker } from '../replication/replica-tracker.js';
import type { AppendInfo, PartitionLog, PreparedBatch } from '../storage/partition-log.js';
import { IdempotencyCache, type IdempotencyLimits } from './idempotency-cache.js';
import { type ProducerBatch, type ProducerStateLimits, ProducerStateManager } from './producer-state-manager.js';
import { WaitQueue } from './wait-queue.js';

/** A partition's state as plain values, for describe calls and metrics (the facade's describePartitions). */
export interface PartitionStatus {
  topic: string;
  partition: number;
  /** Node id of the leader; -1 when the partition has none (offline). */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  sizeBytes: number;
  segmentCount: number;
  /**
   * On the leader, each follower's lag behind it now (never the leader itself); empty on a follower
   * and on a single node.
   */
  replicaLag: ReplicaLag[];
}

/**
 * Most bytes of the log's tail read to rebuild its idempotent producers' state: a producer retries
 * only its last five batches, which sit at the very end, so a bounded tail keeps the retries exact
 * while a long log opens as fast as a short one. A producer last seen before it is unknown, and
 * an unknown producer is accepted at any sequence (KIP-360).
 */
const PRODUCER_STATE_SCAN_MAX_BYTES = 32 * 1024 * 1024;

/** A leader append of an idempotent producer's batch that repeats one already stored: nothing was written. */
export interface LeaderAppendInfo extends AppendInfo {
  duplicate?: true;
}

/** What a partition needs from the node around it to act as leader or follower. */
export interface PartitionRole {
  /** This node's id. */
  localId: number;
  /** Kafka's `replica.lag.time.max.ms`: an in-sync follower not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /**
   * False while this node cannot be sure it still leads (cluster mode: its etcd lease may have
   * lapsed, e.g. after the process was paused): then it takes no writes, so a stale leader cannot
   * acknowledge what the new one never sees. Always true on a single node.
   */
  mayLead: () => boolean;
}

/**
 * A partition as the broker sees it (Kafka's Partition): its local log plus leadership,
 * leader epoch, replicas, the in-sync replica set and the high watermark. In the embedded
 * single-node mode this node leads every partition and is its only replica, so the ISR is
 * {self} and the high watermark follows the log end offset right after each append. As the
 * leader of a replicated partition it keeps a ReplicaTracker: the high watermark is the smallest
 * log end offset among the ISR, learnt from the followers' fetches. As a follower it takes the
 * leader's batches (the replica fetcher appends them to the log) and no client writes.
 */
export class Partition {
  leaderId: number;
  leaderEpoch = 0;
  replicas: number[];
  isr: number[];
  /** A reassignment in progress (KIP-455): the replicas being added and removed; empty when nothing moves. */
  addingReplicas: number[] = [];
  removingReplicas: number[] = [];
  /** The metadata store's version of this partition's state, for compare-and-swap ISR changes. */
  stateVersion: number;
  /** Readers and acks=all producers, woken each time the high watermark moves. */
  private readonly highWatermarkWaiters = new WaitQueue();
  /** Replica fetches (they read to the log end), woken by every leader append. */
  private readonly appendWaiters = new WaitQueue();
  /** The followers as this leader sees them; null while this node follows. */
  private tracker: ReplicaTracker | null = null;
  /** Recent idempotency keys; null until first asked, then rebuilt from the log and kept current. */
  private idempotency: IdempotencyCache | null = null;
  /**
   * Idempotent Kafka producers (epoch, recent sequences), built from the log when this node leads
   * and a producer's batch first arrives, then kept by every append; dropped when this node stops
   * leading or the log is truncated (a follower's log holds what its leader wrote, so a new leader
   * rebuilds the same state from it).
   */
  private producers: ProducerStateManager | null = null;
  /** The log's truncation count when `producers` was built: any truncation since makes it stale. */
  private producersBuiltAtTruncation = -1;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    state: PartitionState,
    private readonly role: PartitionRole,
  ) {
    this.leaderId = -2;
    this.replicas = [];
    this.isr = [];
    this.stateVersion = -1;
    this.applyState(state, Date.now());
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  get isLeader(): boolean {
    return this.leaderId === this.role.localId;
  }

  /**
   * Takes the partition state the metadata store holds (at start, and after every change a watch
   * or a compare-and-swap shows); an older version than the one held is ignored. Taking the
   * leadership in a new epoch starts that epoch at the log end and a fresh follower tracker; losing
   * it wakes the writers waiting for this node to commit.
   */
  applyState(state: PartitionState, nowMs: number): void {
    if (state.version < this.stateVersion) return;
    const wasLeader = this.isLeader;
    const leaderChanged = state.leader !== this.leaderId || state.leaderEpoch !== this.leaderEpoch;
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    this.addingReplicas = [...(state.addingReplicas ?? [])];
    this.removingReplicas = [...(state.removingReplicas ?? [])];
    this.stateVersion = state.version;
    if (!this.isLeader) {
      this.tracker = null;
      this.producers = null;
      // Writers waiting for this node to commit wake and find it no longer leads.
      if (wasLeader) this.highWatermarkWaiters.wakeAll();
      return;
    }
    if (!wasLeader || leaderChanged || this.tracker === null) {
      // Kafka's makeLeader: the new epoch starts at the log end offset, and every follower's
      // lag clock starts now.
      if (state.leaderEpoch > this.log.leaderEpochCache.latestEpoch)
        this.log.leaderEpochCache.assign(state.leaderEpoch, this.log.logEndOffset);
      this.tracker = new ReplicaTracker({
        leaderId: this.role.localId,
        replicas: state.replicas,
        isr: state.isr,
        replicaLagTimeMaxMs: this.role.replicaLagTimeMaxMs,
        nowMs,
      });
    } else {
      this.tracker.setIsr(state.isr);
      this.tracker.setReplicas(state.replicas, nowMs);
    }
    this.maybeIncrementHighWatermark();
  }

  private checkLeader(): void {
    if (!this.isLeader) throw new NotLeaderOrFollowerError(this.topic, this.partition, this.leaderId);
    if (!this.role.mayLead())
      throw new NotLeaderOrFollowerError(this.topic, this.partition, -1, 'its cluster lease is not confirmed');
  }

  /**
   * Leader append. acks=all first checks the ISR against `min.insync.replicas` so nothing
   * is written when the write could not be acknowledged (Kafka's rule).
   */
  appendAsLeader(
    prepared: PreparedBatch,
    requireMinIsr: boolean,
    idempotent?: { producer: ProducerBatch; limits: ProducerStateLimits },
  ): LeaderAppendInfo {
    this.checkLeader();
    const minIsr = this.log.logConfig.minInsyncReplicas;
    if (requireMinIsr && this.isr.length < minIsr) {
      throw new NotEnoughReplicasError(this.topic, this.partition, this.isr.length, minIsr);
    }
    let producers: ProducerStateManager | null = null;
    if (idempotent) {
      // Kafka's duplicate check: a retry of one of the producer's last five batches gets its first answer.
      producers = this.producerState(idempotent.limits, prepared.now);
      const earlier = producers.check(idempotent.producer, prepared.now, `${this.topic}-${this.partition}`);
      if (earlier !== null) {
        return {
          baseOffset: earlier.baseOffset,
          lastOffset: earlier.lastOffset,
          logAppendTime: this.log.logConfig.logAppendTime ? earlier.timestamp : -1,
          maxTimestamp: earlier.timestamp,
          sizeBytes: 0,
          duplicate: true,
        };
      }
    }
    const info = this.log.appendPrepared(prepared, this.leaderEpoch);
    if (producers !== null && idempotent) {
      const { baseOffset, lastOffset, maxTimestamp } = info;
      producers.record(idempotent.producer, { baseOffset, lastOffset, timestamp: maxTimestamp }, prepared.now);
    }
    this.maybeIncrementHighWatermark();
    this.appendWaiters.wakeAllSoon();
    return info;
  }

  /** This partition's idempotent producers, rebuilt from the log's tail when not built or truncated since. */
  producerState(limits: ProducerStateLimits, now: number): ProducerStateManager {
    if (this.producers === null || this.producersBuiltAtTruncation !== this.log.truncations) {
      const headers = this.log.tailBatchHeaders(PRODUCER_STATE_SCAN_MAX_BYTES, now - limits.expirationMs);
      this.producers = ProducerStateManager.fromHeaders(headers, limits, now);
      this.producersBuiltAtTruncation = this.log.truncations;
    }
    return this.producers;
  }

  /** This partition's recent idempotency keys, read from the log's batch headers on first use. */
  idempotencyCache(limits: IdempotencyLimits, now: number): IdempotencyCache {
    this.idempotency ??= IdempotencyCache.fromHeaders(this.log.batchHeadersSince(now - limits.ttlMs), limits, now);
    return this.idempotency;
  }

  /** The table if it was built; appends before that are found by the build itself. */
  get builtIdempotencyCache(): IdempotencyCache | null {
    return this.idempotency;
  }

  /**
   * A follower fetched from `fetchOffset`, so it holds everything below it (the leader side of
   * replication): the high watermark may move. Returns the followers that may now join the ISR.
   */
  updateFollowerEndOffset(replicaId: number, fetchOffset: number, nowMs = Date.now()): number[] {
    const tracker = this.tracker;
    if (tracker === null) return [];
    tracker.onFollowerFetch(replicaId, fetchOffset, this.log.logEndOffset, nowMs);
    this.maybeIncrementHighWatermark();
    const epochStart = this.log.leaderEpochCache.latestEntry()?.startOffset ?? 0;
    return tracker.caughtUpOutOfSync(this.log.highWatermark, epochStart);
  }

  /** In-sync followers that have not caught up for `replica.lag.time.max.ms` (the ISR shrinks by them). */
  laggingInSync(nowMs: number): number[] {
    return this.tracker?.laggingInSync(nowMs) ?? [];
  }

  /** A follower's log end offset as this leader last heard it, or -1 (lag metrics). */
  followerLogEndOffset(replicaId: number): number {
    return this.tracker?.followerLogEndOffset(replicaId) ?? -1;
  }

  /**
   * HW = the smallest log end offset across the ISR; with ISR {self}, the local LEO. A follower in
   * the ISR not heard from yet holds the HW where it is: the HW never moves back (Kafka's rule).
   */
  private maybeIncrementHighWatermark(): void {
    if (this.tracker === null) return;
    const hw = this.tracker.highWatermark(this.log.logEndOffset);
    if (hw <= this.log.highWatermark) return;
    this.log.highWatermark = hw;
    this.highWatermarkWaiters.wakeAll();
  }

  /** A follower's high watermark, from the leader's fetch answer (never past its own log end). */
  followerHighWatermark(leaderHighWatermark: number): void {
    const before = this.log.highWatermark;
    if (this.log.updateHighWatermark(leaderHighWatermark) > before) this.highWatermarkWaiters.wakeAll();
  }

  /** Wakes readers after the replica fetcher appended (they re-check the high watermark). */
  wakeReaders(): void {
    this.highWatermarkWaiters.wakeAll();
  }

  /**
   * Where acks=all waits (Kafka's DelayedProduce): resolves once the high watermark is past
   * `offset`, i.e. every ISR member has it; rejects with RequestTimedOutError after `timeoutMs`.
   * With ISR {self} the append itself moved the HW, so this resolves at once.
   */
  async waitForHighWatermarkPast(offset: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.highWatermark <= offset) {
      // Leadership moved while waiting: the new leader may never have these records.
      if (!this.isLeader) throw new NotLeaderOrFollowerError(this.topic, this.partition, this.leaderId);
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) throw new RequestTimedOutError(this.topic, this.partition, timeoutMs);
      await this.highWatermarkWaiters.wait(leftMs);
    }
  }

  /** This partition's state now, copied: nothing the caller does to it reaches the partition. */
  status(nowMs = Date.now()): PartitionStatus {
    const { log } = this;
    return {
      topic: this.topic,
      partition: this.partition,
      leader: this.leaderId,
      leaderEpoch: this.leaderEpoch,
      replicas: [...this.replicas],
      isr: [...this.isr],
      logStartOffset: log.logStartOffset,
      logEndOffset: log.logEndOffset,
      highWatermark: log.highWatermark,
      sizeBytes: log.sizeBytes,
      segmentCount: log.segmentCount,
      replicaLag: this.tracker?.replicaLag(log.logEndOffset, nowMs) ?? [],
    };
  }

  /**
   * Resolves when the high watermark passes `offset` or after `timeoutMs`, whichever is
   * first: readers wait on appends instead of polling. `signal` ends the wait early and frees
   * the waiter (a reader that stopped waiting must not leave its timer behind).
   */
  waitForData(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.highWatermark > offset || timeoutMs <= 0) return Promise.resolve();
    return this.highWatermarkWaiters.wait(timeoutMs, signal);
  }

  /** Like waitForData, for a replica's fetch: resolves when the log end passes `offset`. */
  waitForAppend(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.log.logEndOffset > offset || timeoutMs <= 0) return Promise.resolve();
    return this.appendWaiters.wait(timeoutMs, signal);
  }
}

/**
 * A topic's partitions on this node, index = partition id: undefined where this node holds no
 * replica (cluster mode), so a read or write there is another node's to serve.
 */
export type HostedPartitions = (Partition | undefined)[];
