import type { PartitionState } from '../cluster/metadata-store.js';
import { NotEnoughReplicasError, RequestTimedOutError } from '../errors.js';
import type { AppendInfo, PartitionLog, PreparedBatch } from '../storage/partition-log.js';
import { IdempotencyCache, type IdempotencyLimits } from './idempotency-cache.js';
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
}

/**
 * A partition as the broker sees it (Kafka's Partition): its local log plus leadership,
 * leader epoch, replicas, the in-sync replica set and the high watermark. In the embedded
 * single-node mode this node leads every partition and is its only replica, so the ISR is
 * {self} and the high watermark follows the log end offset right after each append. With
 * followers in the ISR the high watermark is the smallest log end offset among them, which the
 * replication layer reports through `updateFollowerEndOffset` as followers fetch.
 */
export class Partition {
  leaderId: number;
  leaderEpoch = 0;
  replicas: number[];
  isr: number[];
  /** Readers and acks=all producers, woken each time the high watermark moves. */
  private readonly highWatermarkWaiters = new WaitQueue();
  /** Log end offset of each follower as its last fetch showed it; a follower not yet heard from is absent. */
  private readonly followerEndOffsets = new Map<number, number>();
  /** Recent idempotency keys; null until first asked, then rebuilt from the log and kept current. */
  private idempotency: IdempotencyCache | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly log: PartitionLog,
    state: PartitionState,
  ) {
    this.leaderId = state.leader;
    this.leaderEpoch = state.leaderEpoch;
    this.replicas = [...state.replicas];
    this.isr = [...state.isr];
    // The log opened with its checkpointed high watermark (replication-offset-checkpoint); as the
    // leader of ISR {self} this node has every offset in sync, so the HW moves to the log end.
    this.maybeIncrementHighWatermark();
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /**
   * Leader append. acks=all first checks the ISR against `min.insync.replicas` so nothing
   * is written when the write could not be acknowledged (Kafka's rule).
   */
  appendAsLeader(prepared: PreparedBatch, requireMinIsr: boolean): AppendInfo {
    const minIsr = this.log.logConfig.minInsyncReplicas;
    if (requireMinIsr && this.isr.length < minIsr) {
      throw new NotEnoughReplicasError(this.topic, this.partition, this.isr.length, minIsr);
    }
    const info = this.log.appendPrepared(prepared, this.leaderEpoch);
    this.maybeIncrementHighWatermark();
    return info;
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

  /** What a follower's fetch showed of its log: its end offset (the replication layer calls this). */
  updateFollowerEndOffset(replicaId: number, logEndOffset: number): void {
    this.followerEndOffsets.set(replicaId, logEndOffset);
    this.maybeIncrementHighWatermark();
  }

  /**
   * HW = the smallest log end offset across the ISR; with ISR {self}, the local LEO. A follower in
   * the ISR not heard from yet holds the HW where it is: the HW never moves back (Kafka's rule).
   */
  private maybeIncrementHighWatermark(): void {
    let hw = this.log.logEndOffset;
    for (const id of this.isr) {
      if (id !== this.leaderId) hw = Math.min(hw, this.followerEndOffsets.get(id) ?? this.log.highWatermark);
    }
    if (hw <= this.log.highWatermark) return;
    this.log.highWatermark = hw;
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
      const leftMs = deadline - Date.now();
      if (leftMs <= 0) throw new RequestTimedOutError(this.topic, this.partition, timeoutMs);
      await this.highWatermarkWaiters.wait(leftMs);
    }
  }

  /** This partition's state, copied: nothing the caller does to it reaches the partition. */
  status(): PartitionStatus {
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
}
