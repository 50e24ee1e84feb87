/**
 * A walk over every record of one batch that builds nothing (Kafka's LogValidator does the same
 * on a client's batch before the leader appends it): each record's length varint, its fields
 * inside that length, offset deltas 0..n-1 in order (readers derive every offset from them), and
 * whether some record has no key (a compacted topic refuses those). decodeRecordBatch checks the
 * same, but allocates every key, value and header; on the produce path that was most of the cost.
 */
import { CorruptRecordError } from '../errors.js';
import { decompress } from './compression.js';
import { compressionOf, RECORD_BATCH_OVERHEAD, readBatchHeader } from './record-batch.js';

/**
 * Kafka's int32 and int64 varints are at most 5 and 10 bytes (varint.ts has the same); module
 * constants, since an imported binding is read through an accessor on every use under tsx.
 */
const MAX_VARINT_BYTES = 5;
const MAX_VARLONG_BYTES = 10;

export interface RecordsChecked {
  /** Some record's key is null. */
  keyless: boolean;
}

/** Reads zig-zag varints bounded by `end`; `pos` moves past each. */
class Cursor {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    public end: number,
  ) {}

  /** A varint of at most 5 bytes (Kafka's int32 varint): integer arithmetic for the first 4. */
  varint(): number {
    const { buf, end } = this;
    let z = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (this.pos >= end) throw new CorruptRecordError('record runs past the end of its batch');
      const b = buf[this.pos++] as number;
      z |= (b & 0x7f) << shift;
      if (b < 0x80) return (z >>> 1) ^ -(z & 1);
    }
    if (this.pos >= end) throw new CorruptRecordError('record runs past the end of its batch');
    const b = buf[this.pos++] as number;
    if (b >= 0x10) throw new CorruptRecordError(`varint longer than ${MAX_VARINT_BYTES} bytes`);
    const u = (z >>> 0) + b * 2 ** 28;
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Steps over a varlong whose value is not needed (a timestamp delta). */
  skipVarlong(): void {
    for (let i = 0; i < MAX_VARLONG_BYTES; i++) {
      if (this.pos >= this.end) throw new CorruptRecordError('record runs past the end of its batch');
      if ((this.buf[this.pos++] as number) < 0x80) return;
    }
    throw new CorruptRecordError(`varlong longer than ${MAX_VARLONG_BYTES} bytes`);
  }

  /** Skips a length-prefixed field (-1: null, allowed when `nullable`); returns whether it was null. */
  skipField(nullable: boolean): boolean {
    const length = this.varint();
    if (length < 0) {
      if (length === -1 && nullable) return true;
      throw new CorruptRecordError(`record field has length ${length}`);
    }
    if (this.pos + length > this.end) throw new CorruptRecordError('record field runs past the end of its record');
    this.pos += length;
    return false;
  }
}

/**
 * Checks every record of `batch` (one whole batch whose header was validated), decompressing it
 * first when it is compressed (at most `maxDecompressedBytes`). Throws CorruptRecordError.
 */
export function checkRecords(batch: Buffer, maxDecompressedBytes: number): RecordsChecked {
  const header = readBatchHeader(batch);
  const body = decompress(
    compressionOf(header.attributes),
    batch.subarray(RECORD_BATCH_OVERHEAD),
    maxDecompressedBytes,
  );
  // One cursor, bounded by the batch between records and by the record within one.
  const cursor = new Cursor(body, body.length);
  let keyless = false;
  for (let i = 0; i < header.recordsCount; i++) {
    cursor.end = body.length;
    const length = cursor.varint();
    const end = cursor.pos + length;
    if (length <= 0 || end > body.length) throw new CorruptRecordError('record length runs past the end of its batch');
    cursor.end = end;
    cursor.pos++; // attributes
    cursor.skipVarlong(); // timestamp delta
    const offsetDelta = cursor.varint();
    if (offsetDelta !== i) throw new CorruptRecordError(`record ${i} of the batch has offset delta ${offsetDelta}`);
    if (cursor.skipField(true)) keyless = true;
    cursor.skipField(true);
    const headerCount = cursor.varint();
    if (headerCount < 0) throw new CorruptRecordError('negative header count');
    for (let h = 0; h < headerCount; h++) {
      cursor.skipField(false);
      cursor.skipField(true);
    }
    if (cursor.pos !== end) throw new CorruptRecordError('record length disagrees with its fields');
  }
  if (cursor.pos !== body.length) throw new CorruptRecordError('bytes after the last record of the batch');
  return { keyless };
}
