/**
 * Idempotent producers' state in one partition (Kafka's ProducerStateManager, KIP-98): for each
 * producer id, its epoch and the first/last sequence and offsets of its last five batches. The
 * leader checks every batch that carries a producer id against it before appending:
 *
 * - a batch whose sequences match one of the last five of the same epoch is a retry: it is answered
 *   with the offsets it got the first time and not written again;
 * - a batch of an older epoch is fenced (INVALID_PRODUCER_EPOCH: a newer InitProducerId took over);
 * - a new epoch starts at sequence 0; within an epoch the next batch continues the last sequence,
 *   else OUT_OF_ORDER_SEQUENCE_NUMBER (the client fails the batch instead of writing out of order);
 * - a producer this partition does not know (never seen, expired, or older than the rebuilt tail)
 *   is accepted at any sequence, as Kafka does since KIP-360.
 *
 * The state is rebuilt from the headers of the log's tail (see PartitionLog.tailBatchHeaders) the
 * first time the leader needs it, and kept by every append of the leader. Bounds: producers idle for
 * longer than `producer.id.expiration.ms` are forgotten (Kafka's rule), and at most
 * `maxProducers` are kept per partition, the least recently active forgotten first.
 *
 * The HTTP `Idempotency-Key` feature stamps its key hashes as producer ids at or above 2^52 (see
 * idempotency-cache.ts); real producer ids stay below, and the two never meet here.
 */
import { ProducerStateError } from '../errors.js';
import type { BatchHeader } from '../storage/record-batch.js';

/** Kafka's ProducerStateEntry.NumBatchesToRetain: the in-flight requests a producer may have (max 5). */
export const BATCHES_TO_RETAIN = 5;
/** Producer ids handed out by InitProducerId stay below this; Idempotency-Key hashes sit above it. */
export const MAX_PRODUCER_ID = 2 ** 52;
const CONTROL = 0x20;

export interface ProducerStateLimits {
  /** Kafka's `producer.id.expiration.ms`: a producer not heard from this long is forgotten. */
  expirationMs: number;
  /** Most producers remembered per partition. */
  maxProducers: number;
}

/** What a batch says about its producer, read from its header before it is appended. */
export interface ProducerBatch {
  producerId: number;
  producerEpoch: number;
  firstSequence: number;
  lastSequence: number;
}

/** Where one of a producer's recent batches went. */
export interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  baseOffset: number;
  lastOffset: number;
  /** The batch's max timestamp as stored (the append time on a LogAppendTime topic). */
  timestamp: number;
}

interface ProducerStateEntry {
  producerEpoch: number;
  /** Oldest first, at most BATCHES_TO_RETAIN. */
  batches: BatchMetadata[];
  /** When this producer last appended (or, rebuilt, its last batch's max timestamp): expiry runs from here. */
  lastActiveMs: number;
}

/** Kafka's DefaultRecordBatch.incrementSequence: sequences wrap from Int32.MAX_VALUE to 0. */
function incrementSequence(sequence: number, increment: number): number {
  return sequence > 0x7fffffff - increment ? increment - (0x7fffffff - sequence) - 1 : sequence + increment;
}

/**
 * The producer fields of a stored or client batch, or null when it has no producer id (a plain
 * batch) or carries an Idempotency-Key hash.
 */
export function producerBatchOf(
  header: Pick<BatchHeader, 'producerId' | 'producerEpoch' | 'baseSequence' | 'lastOffsetDelta'>,
): ProducerBatch | null {
  if (header.producerId < 0 || header.producerId >= MAX_PRODUCER_ID) return null;
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    firstSequence: header.baseSequence,
    lastSequence: incrementSequence(header.baseSequence, header.lastOffsetDelta),
  };
}

export class ProducerStateManager {
  /** Insertion order is activity order: the least recently active producer is first. */
  private readonly producers = new Map<number, ProducerStateEntry>();

  constructor(private readonly limits: ProducerStateLimits) {}

  /** Rebuilds the state from stored batch headers, oldest first; expired producers are dropped. */
  static fromHeaders(headers: Iterable<BatchHeader>, limits: ProducerStateLimits, now: number): ProducerStateManager {
    const state = new ProducerStateManager(limits);
    for (const h of headers) {
      if (h.attributes & CONTROL) continue;
      const batch = producerBatchOf(h);
      if (batch === null || batch.producerEpoch < 0) continue;
      state.record(
        batch,
        { baseOffset: h.baseOffset, lastOffset: h.lastOffset, timestamp: h.maxTimestamp },
        h.maxTimestamp,
      );
    }
    state.expire(now);
    return state;
  }

  get size(): number {
    return this.producers.size;
  }

  /**
   * Checks a batch before it is appended (Kafka's ProducerAppendInfo.checkProducerEpoch and
   * checkSequence, after its duplicate lookup): the earlier batch it repeats, or null when it may
   * be appended. Throws InvalidProducerEpochError or OutOfOrderSequenceError otherwise.
   */
  check(batch: ProducerBatch, now: number, where: string): BatchMetadata | null {
    this.expire(now);
    const entry = this.producers.get(batch.producerId);
    if (entry === undefined) return null;
    if (batch.producerEpoch < entry.producerEpoch) {
      throw new ProducerStateError(
        'INVALID_PRODUCER_EPOCH',
        `${where}: producer ${batch.producerId} has epoch ${batch.producerEpoch}, but epoch ${entry.producerEpoch} has written since (a newer producer with this id took over)`,
      );
    }
    if (batch.producerEpoch > entry.producerEpoch) {
      if (batch.firstSequence !== 0) {
        throw new ProducerStateError(
          'OUT_OF_ORDER_SEQUENCE_NUMBER',
          `${where}: producer ${batch.producerId} starts epoch ${batch.producerEpoch} at sequence ${batch.firstSequence}, expected 0`,
        );
      }
      return null;
    }
    for (const b of entry.batches) {
      if (b.firstSequence === batch.firstSequence && b.lastSequence === batch.lastSequence) return b;
    }
    const last = entry.batches[entry.batches.length - 1];
    if (last === undefined) return null;
    const expected = incrementSequence(last.lastSequence, 1);
    if (batch.firstSequence !== expected) {
      throw new ProducerStateError(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `${where}: producer ${batch.producerId} (epoch ${batch.producerEpoch}) sent sequence ${batch.firstSequence}, expected ${expected}`,
      );
    }
    return null;
  }

  /** Remembers an appended batch (the leader after its append; the rebuild for each stored one). */
  record(batch: ProducerBatch, at: Omit<BatchMetadata, 'firstSequence' | 'lastSequence'>, now: number): void {
    let entry = this.producers.get(batch.producerId);
    if (entry === undefined || batch.producerEpoch !== entry.producerEpoch) {
      entry = { producerEpoch: batch.producerEpoch, batches: [], lastActiveMs: now };
    }
    this.producers.delete(batch.producerId); // re-inserted at the end: the most recently active
    this.producers.set(batch.producerId, entry);
    entry.lastActiveMs = Math.max(entry.lastActiveMs, now);
    entry.batches.push({ firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, ...at });
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift();
    if (this.producers.size > this.limits.maxProducers) {
      this.producers.delete(this.producers.keys().next().value as number);
    }
  }

  /** Forgets producers idle past the expiration, from the least recently active on. */
  private expire(now: number): void {
    for (const [id, entry] of this.producers) {
      if (now - entry.lastActiveMs <= this.limits.expirationMs) return;
      this.producers.delete(id);
    }
  }
}
