import type { PartitionState } from '../cluster/metadata-store.js';
import { NotEnoughReplicasError } from '../errors.js';
import type { AppendInfo, PartitionLog, PreparedBatch } from '../storage/partition-log.js';
import { IdempotencyCache, type IdempotencyLimits } from './idempotency-cache.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A partition as the broker sees it (Kafka's Partition): its local log plus leadership,
 * leader epoch, replicas, the in-sync replica set and the high watermark. In the embedded
 * single-node mode this node leads every partition and is its only replica, so the ISR is
 * {self} and the high watermark follows the log end offset right after each append; the
 * replication layer will move followers' fetch positions into the same computation.
 */
export class Partition {
  leaderId: number;
  leaderEpoch = 0;
  replicas: number[];
  isr: number[];
  private readonly readers = new WaitQueue();
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

  /** HW = the smallest log end offset across the ISR; with ISR {self}, the local LEO. */
  private maybeIncrementHighWatermark(): void {
    const hw = this.log.logEndOffset;
    if (hw <= this.log.highWatermark) return;
    this.log.highWatermark = hw;
    this.readers.wakeAll();
  }

  /**
   * Resolves when the high watermark passes `offset` or after `timeoutMs`, whichever is
   * first: readers wait on appends instead of polling. `signal` ends the wait early and frees
   * the waiter (a reader that stopped waiting must not leave its timer behind).
   */
  waitForData(offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.highWatermark > offset || timeoutMs <= 0) return Promise.resolve();
    return this.readers.wait(timeoutMs, signal);
  }
}
