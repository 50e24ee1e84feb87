/**
 * Idempotent produce (the `Idempotency-Key` request header): a retried request answers with the
 * offsets of the first one instead of writing the records twice.
 *
 * Design: the log itself carries the key. The broker stamps a 53-bit hash of the key into the
 * producerId field of every batch the request writes (producerEpoch 0, baseSequence 0, the batch
 * stays non-transactional, so Kafka readers ignore it). The key and the records therefore reach disk
 * in the same write: no crash can keep one without the other, and there is no sidecar file to keep in
 * step. Each partition holds a bounded table of recent hashes → batch, built lazily from the batch
 * headers (via the time index, so only the last `idempotency.ttl.ms` of the log is read) the first
 * time a key is asked about, and kept up to date on append. A retry is answered by decoding the stored
 * batches (not the hot path), which also lets the broker check that the retry carries the same records.
 *
 * Bounds: at most `maxKeys` per partition (oldest forgotten first) and `ttlMs` (measured from the
 * append, or after a restart from the batch's max timestamp, which is the append time unless the
 * client set CreateTime). A key forgotten by either bound simply produces again.
 */
import { createHash } from 'node:crypto';
import type { BatchHeader } from '../storage/record-batch.js';

/**
 * Hashes carry bit 52 so they sit far above the small ids a Kafka broker hands to idempotent
 * producers; 52 random bits below it make a collision among 10,000 keys a 1-in-10^8 event.
 */
const HASH_MARKER = 2 ** 52;

export interface IdempotencyLimits {
  /** Most keys remembered per partition (`idempotency.max.keys`). */
  maxKeys: number;
  /** How long a key is remembered (`idempotency.ttl.ms`). */
  ttlMs: number;
}

/** Where a key's batch sits in one partition. */
export interface RememberedBatch {
  baseOffset: number;
  recordCount: number;
  /** When it was appended (or its max timestamp, after a restart); the TTL runs from here. */
  rememberedAtMs: number;
}

/** The producerId stamped into every batch written by a request with this key. */
export function producerIdOfKey(key: string): number {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  return HASH_MARKER + (digest.readUInt32BE(0) & 0xfffff) * 2 ** 32 + digest.readUInt32BE(4);
}

function isKeyHash(producerId: number): boolean {
  return producerId >= HASH_MARKER && producerId < 2 * HASH_MARKER;
}

/** One partition's recent idempotency keys. Insertion order is append order, so the oldest is first. */
export class IdempotencyCache {
  private readonly batches = new Map<number, RememberedBatch>();

  constructor(private readonly limits: IdempotencyLimits) {}

  /** Rebuilds the table from stored batch headers (oldest first), keeping those within the TTL. */
  static fromHeaders(headers: Iterable<BatchHeader>, limits: IdempotencyLimits, now: number): IdempotencyCache {
    const cache = new IdempotencyCache(limits);
    for (const h of headers) {
      if (!isKeyHash(h.producerId)) continue;
      cache.remember(h.producerId, {
        baseOffset: h.baseOffset,
        recordCount: h.recordsCount,
        rememberedAtMs: h.maxTimestamp,
      });
    }
    cache.expire(now);
    return cache;
  }

  get size(): number {
    return this.batches.size;
  }

  get(producerId: number, now: number): RememberedBatch | undefined {
    this.expire(now);
    return this.batches.get(producerId);
  }

  remember(producerId: number, batch: RememberedBatch): void {
    this.batches.delete(producerId); // re-inserted at the end: newest
    this.batches.set(producerId, batch);
    if (this.batches.size > this.limits.maxKeys) {
      const oldest = this.batches.keys().next().value as number;
      this.batches.delete(oldest);
    }
  }

  forget(producerId: number): void {
    this.batches.delete(producerId);
  }

  /** Drops expired keys from the front; entries behind a live one are close enough in age to wait. */
  private expire(now: number): void {
    for (const [id, batch] of this.batches) {
      if (now - batch.rememberedAtMs <= this.limits.ttlMs) return;
      this.batches.delete(id);
    }
  }
}
