/**
 * The offsets a partition answers Kafka's ListOffsets with: where its log starts and ends, its
 * high watermark, and the first offset at or after a timestamp.
 */
import type { Partition } from './partition.js';

export interface PartitionOffsets {
  logStartOffset: number;
  highWatermark: number;
  logEndOffset: number;
}

export function partitionOffsets(p: Partition): PartitionOffsets {
  return { logStartOffset: p.log.logStartOffset, highWatermark: p.highWatermark, logEndOffset: p.log.logEndOffset };
}

/**
 * The first offset below the high watermark whose record has a timestamp >= `timestamp`, with that
 * timestamp, or null when no committed record is that late (Kafka answers offset -1).
 */
export function offsetForTimestamp(p: Partition, timestamp: number): { offset: number; timestamp: number } | null {
  return p.log.offsetForTimestamp(timestamp);
}
