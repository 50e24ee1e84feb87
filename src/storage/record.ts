/**
 * A record as the engine's callers see it, apart from how batches encode it: the record batch
 * codec (record-batch.ts) and the column form of a produce request (record-columns.ts) both
 * speak these types, so neither has to import the other for them.
 */
export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record to encode. `timestamp` is CreateTime in ms. */
export interface RecordInput {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  timestamp: number;
}

/** A decoded record with its absolute offset. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}
