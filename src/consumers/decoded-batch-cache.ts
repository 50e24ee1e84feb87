import type { DecodedRecord, FetchedBatch } from '../broker/fetched-records.js';

export interface DecodedBatchCacheLimits {
  /** Most batches kept. */
  maxBatches: number;
  /** Most stored batch bytes the kept batches stand for (decoded records take about as much). */
  maxBytes: number;
}

export const DEFAULT_DECODED_BATCH_CACHE_LIMITS: DecodedBatchCacheLimits = {
  maxBatches: 4096,
  maxBytes: 64 * 1024 * 1024,
};

/**
 * Decoded record batches shared by every reader of this node: a hundred streams tailing one
 * partition decode each new batch once, not a hundred times. The key holds the batch's CRC-32C,
 * so it names the bytes themselves: a batch rewritten by compaction, or a partition of a topic
 * deleted and created again, has other bytes and another key. Oldest entries leave first.
 */
export class DecodedBatchCache {
  private readonly entries = new Map<string, { records: DecodedRecord[]; sizeBytes: number }>();
  private sizeBytes = 0;

  constructor(private readonly limits: DecodedBatchCacheLimits = DEFAULT_DECODED_BATCH_CACHE_LIMITS) {}

  /** The records of `batch`, decoded once. Callers must not mutate them. */
  records(topic: string, partition: number, batch: FetchedBatch): readonly DecodedRecord[] {
    const key = `${topic}\u0000${partition}\u0000${batch.baseOffset}\u0000${batch.crc}\u0000${batch.sizeBytes}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit.records;
    const records = batch.decode();
    if (batch.sizeBytes > this.limits.maxBytes) return records;
    this.entries.set(key, { records, sizeBytes: batch.sizeBytes });
    this.sizeBytes += batch.sizeBytes;
    while (this.entries.size > this.limits.maxBatches || this.sizeBytes > this.limits.maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, { sizeBytes: number }];
      this.entries.delete(oldestKey);
      this.sizeBytes -= oldest.sizeBytes;
    }
    return records;
  }
}
