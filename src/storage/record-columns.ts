/**
 * Records in columns: the form the produce path hands the log. A request's keys (and its values)
 * are slices of one buffer, found by start and length, so a 1000-record request costs a handful
 * of objects instead of several per record (a Buffer view per field, a record object per layer).
 * Those objects and their garbage were a large share of a produce request's CPU.
 */
import type { RecordHeader, RecordInput } from './record.js';

/** A field length that means null (Kafka writes it as varint -1). */
export const NULL_LENGTH = -1;

/**
 * One field of every record: field i is `bytes[starts[i], starts[i] + lengths[i])`, or null when
 * lengths[i] is -1. Records that arrive as objects (the v3 edge, compaction, the group coordinator)
 * keep their own buffers instead: then field i is `views[i]`, and `bytes` and `starts` are unused.
 */
export interface FieldColumn {
  readonly bytes: Buffer;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
  readonly views?: readonly (Uint8Array | null)[];
}

export interface RecordColumns {
  readonly count: number;
  readonly keys: FieldColumn;
  readonly values: FieldColumn;
  /** CreateTime of each record in ms. */
  readonly timestamps: Float64Array;
  /** Headers of each record (undefined: none); null when no record has any. */
  readonly headers: readonly (readonly RecordHeader[] | undefined)[] | null;
}

/** Field i as a Buffer (a view, not a copy), or null. */
export function fieldAt(column: FieldColumn, i: number): Buffer | null {
  const length = column.lengths[i] as number;
  if (length < 0) return null;
  if (column.views) {
    const view = column.views[i] as Uint8Array;
    return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  }
  const start = column.starts[i] as number;
  return column.bytes.subarray(start, start + length);
}

/** A column of `count` nulls. */
export function nullColumn(count: number): FieldColumn {
  return { bytes: EMPTY, starts: new Int32Array(count), lengths: new Int32Array(count).fill(NULL_LENGTH) };
}

/** A column holding copies of `fields`, all in one buffer. */
export function fieldColumnOf(fields: readonly (Uint8Array | null)[]): FieldColumn {
  const starts = new Int32Array(fields.length);
  const lengths = new Int32Array(fields.length);
  let total = 0;
  for (const f of fields) if (f !== null) total += f.length;
  const bytes = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as Uint8Array | null;
    starts[i] = pos;
    if (f === null) {
      lengths[i] = NULL_LENGTH;
      continue;
    }
    bytes.set(f, pos);
    lengths[i] = f.length;
    pos += f.length;
  }
  return { bytes, starts, lengths };
}

/** A column over fields that are buffers of their own, shared, not copied. */
export function viewColumnOf(fields: readonly (Uint8Array | null)[]): FieldColumn {
  const lengths = new Int32Array(fields.length);
  for (let i = 0; i < fields.length; i++) lengths[i] = fields[i]?.length ?? NULL_LENGTH;
  return { bytes: EMPTY, starts: NO_STARTS, lengths, views: fields };
}

/** Columns over record objects (the v3 edge, compaction, the group coordinator), sharing their buffers: no copy. */
export function columnsOf(records: readonly RecordInput[]): RecordColumns {
  const count = records.length;
  const keys: (Uint8Array | null)[] = new Array(count);
  const values: (Uint8Array | null)[] = new Array(count);
  const timestamps = new Float64Array(count);
  let headers: (readonly RecordHeader[] | undefined)[] | null = null;
  for (let i = 0; i < count; i++) {
    const r = records[i] as RecordInput;
    keys[i] = r.key;
    values[i] = r.value;
    timestamps[i] = r.timestamp;
    if (r.headers !== undefined && r.headers.length > 0) {
      headers ??= new Array(count).fill(undefined);
      headers[i] = r.headers;
    }
  }
  return { count, keys: viewColumnOf(keys), values: viewColumnOf(values), timestamps, headers };
}

/** Whether `input` is already in columns. */
export function isColumns(input: readonly RecordInput[] | RecordColumns): input is RecordColumns {
  return !Array.isArray(input);
}

const EMPTY = Buffer.alloc(0);
const NO_STARTS = new Int32Array(0);
