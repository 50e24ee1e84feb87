/**
 * A produce request as the broker takes it, and its answer. The v2 edge builds the column form
 * (storage/record-columns.ts: no object per record) straight from the request bytes, so this file
 * also hands the edge the column builders; the edge reaches the log's formats only through here.
 */
import type { RecordHeader } from '../storage/record-batch.js';
import { columnsOf, type RecordColumns } from '../storage/record-columns.js';

export type { FieldColumn, RecordColumns } from '../storage/record-columns.js';
export { NULL_LENGTH, nullColumn, viewColumnOf } from '../storage/record-columns.js';
export type { RecordHeader };

/** Kafka's acks: 0 (no acknowledgement), 1 (leader has it), -1 = all (the ISR has it). */
export type Acks = 0 | 1 | -1;

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
  /** How long acks=all waits for the in-sync replicas before failing with RequestTimedOutError. */
  timeoutMs: number;
  /**
   * A client's key for this request: a retry with the same key (and topic) answers with the first
   * request's results instead of writing again (see idempotency-cache.ts).
   */
  idempotencyKey?: string;
}

/** Where a record went. With acks=0, offset and timestamp are -1: the answer does not wait to learn them. */
export interface ProduceRecordResult {
  partition: number;
  offset: number;
  timestamp: number;
}

/**
 * A produce request in columns, as the v2 edge builds it: no object per record. A NaN timestamp is
 * one the request did not give; the broker stamps its clock.
 */
export interface ProduceColumns {
  records: RecordColumns;
  /** Explicit partition of each record, -1 where the record names none; null when none names one. */
  partitions: Int32Array | null;
}

/** Where each record of a ProduceColumns request went, in request order. */
export interface ProduceColumnsResult {
  partitions: Int32Array;
  /** -1 for every record with acks=0 (Kafka's producer reports offset -1 when it asks for no acknowledgement). */
  offsets: Float64Array;
  /** LogAppendTime when the topic uses it, else the record's CreateTime; -1 with acks=0. */
  timestamps: Float64Array;
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
