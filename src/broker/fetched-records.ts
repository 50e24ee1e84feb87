import { CorruptRecordError } from '../errors.js';
import { decompress } from '../storage/compression.js';
import {
  type BatchHeader,
  compressionOf,
  type DecodedRecord,
  decodeRecordBatch,
  forEachBatch,
  RECORD_BATCH_OVERHEAD,
  type RecordHeader,
  timestampTypeOf,
} from '../storage/record-batch.js';

export type { DecodedRecord, RecordHeader };

/** Most bytes one compressed batch may expand to while it is walked (as decodeRecordBatch bounds it). */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * One stored batch of a fetch answer, as the edges see it: its identity (offsets, CRC-32C, size) and
 * its records, walked without building an object per record, or decoded into objects when a reader
 * wants to keep them (see the consumers' decoded batch cache).
 */
export interface FetchedBatch {
  readonly baseOffset: number;
  /** The offset of the batch's last record; the next batch starts after it. */
  readonly lastOffset: number;
  readonly crc: number;
  readonly sizeBytes: number;
  /** Every record as an object; `bytes` is the whole batch, exactly as stored. */
  decode(): DecodedRecord[];
  /**
   * Calls `visit` for each record at or after `fromOffset`, in order, with one cursor that moves
   * on (copy what you keep); `visit` returns false to stop. Returns false when stopped.
   */
  forEachRecord(fromOffset: number, visit: (record: RecordCursor) => boolean | undefined): boolean;
}

/**
 * A record inside a batch's bytes, by position: key and value are `buf[start, start + length)`, a
 * length of -1 meaning null. Nothing is copied or decoded until asked (`key()`, `value()`,
 * `headers()`), so a reader that writes the bytes straight out allocates nothing per record.
 */
export class RecordCursor {
  offset = 0;
  timestamp = 0;
  /** The batch's records section (decompressed when the batch is compressed). */
  buf: Buffer = Buffer.alloc(0);
  keyStart = 0;
  keyLength = -1;
  valueStart = 0;
  valueLength = -1;
  headerCount = 0;
  /** Where the first header starts in `buf`. */
  headersStart = 0;

  key(): Buffer | null {
    return this.keyLength < 0 ? null : this.buf.subarray(this.keyStart, this.keyStart + this.keyLength);
  }

  value(): Buffer | null {
    return this.valueLength < 0 ? null : this.buf.subarray(this.valueStart, this.valueStart + this.valueLength);
  }

  /** Key plus value bytes: what consumers count against their byte limits. */
  get sizeBytes(): number {
    return Math.max(this.keyLength, 0) + Math.max(this.valueLength, 0);
  }

  /** The headers, decoded now (most records have none: then no allocation beyond the array). */
  headers(): RecordHeader[] {
    const out: RecordHeader[] = [];
    if (this.headerCount === 0) return out;
    let pos = this.headersStart;
    const buf = this.buf;
    for (let h = 0; h < this.headerCount; h++) {
      const kl = readVarint(buf, pos);
      pos = varintEnd;
      if (kl < 0 || pos + kl > buf.length) throw new CorruptRecordError('header key runs past the end of its batch');
      const key = buf.toString('utf8', pos, pos + kl);
      pos += kl;
      const vl = readVarint(buf, pos);
      pos = varintEnd;
      if (pos + vl > buf.length) throw new CorruptRecordError('header value runs past the end of its batch');
      out.push({ key, value: vl < 0 ? null : buf.subarray(pos, pos + vl) });
      if (vl > 0) pos += vl;
    }
    return out;
  }
}

/** Where the last readVarint stopped: a module variable rather than an object per varint. */
let varintEnd = 0;

/** A zig-zag varint (or varlong: offsets and timestamp deltas fit in a double's 53 bits) at `pos`. */
function readVarint(buf: Buffer, pos: number): number {
  let b = buf[pos++];
  if (b === undefined) throw new CorruptRecordError('record runs past the end of its batch');
  if (b < 0x80) {
    varintEnd = pos;
    return b & 1 ? -((b + 1) / 2) : b / 2;
  }
  let z = b & 0x7f;
  let scale = 128;
  for (let i = 1; i < 10; i++) {
    b = buf[pos++];
    if (b === undefined) throw new CorruptRecordError('record runs past the end of its batch');
    z += (b & 0x7f) * scale;
    if (b < 0x80) {
      varintEnd = pos;
      return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    }
    scale *= 128;
  }
  throw new CorruptRecordError('varint longer than 10 bytes');
}

class StoredBatch implements FetchedBatch {
  readonly baseOffset: number;
  readonly lastOffset: number;
  readonly crc: number;
  readonly sizeBytes: number;

  constructor(
    private readonly header: BatchHeader,
    private readonly bytes: Buffer,
    private readonly cursor: RecordCursor,
  ) {
    this.baseOffset = header.baseOffset;
    this.lastOffset = header.lastOffset;
    this.crc = header.crc;
    this.sizeBytes = header.sizeBytes;
  }

  decode(): DecodedRecord[] {
    return decodeRecordBatch(this.bytes);
  }

  forEachRecord(fromOffset: number, visit: (record: RecordCursor) => boolean | undefined): boolean {
    const { header, cursor } = this;
    if (header.lastOffset < fromOffset) return true;
    const codec = compressionOf(header.attributes);
    const body =
      codec === 0
        ? this.bytes.subarray(RECORD_BATCH_OVERHEAD)
        : decompress(codec, this.bytes.subarray(RECORD_BATCH_OVERHEAD), MAX_DECOMPRESSED_BYTES);
    const logAppendTime = timestampTypeOf(header.attributes) === 'LogAppendTime';
    const { baseOffset, baseTimestamp, maxTimestamp } = header;
    cursor.buf = body;
    let pos = 0;
    for (let i = 0; i < header.recordsCount; i++) {
      const length = readVarint(body, pos);
      pos = varintEnd;
      const end = pos + length;
      if (length < 0 || end > body.length) throw new CorruptRecordError('record length runs past the end of its batch');
      pos++; // attributes
      const timestampDelta = readVarint(body, pos);
      const offsetDelta = readVarint(body, varintEnd);
      const offset = baseOffset + offsetDelta;
      if (offset < fromOffset) {
        pos = end;
        continue;
      }
      const keyLength = readVarint(body, varintEnd);
      cursor.keyStart = varintEnd;
      cursor.keyLength = keyLength;
      pos = varintEnd + Math.max(keyLength, 0);
      const valueLength = readVarint(body, pos);
      cursor.valueStart = varintEnd;
      cursor.valueLength = valueLength;
      pos = varintEnd + Math.max(valueLength, 0);
      const headerCount = readVarint(body, pos);
      if (headerCount < 0) throw new CorruptRecordError('negative header count');
      if (pos > end) throw new CorruptRecordError('record length disagrees with its fields');
      cursor.headerCount = headerCount;
      cursor.headersStart = varintEnd;
      cursor.offset = offset;
      cursor.timestamp = logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta;
      pos = end;
      if (visit(cursor) === false) return false;
    }
    return true;
  }
}

/**
 * Walks the batches of a fetch answer (`FetchedPartition.records`) in order; `visit` returns false
 * to stop. A trailing partial batch is ignored, as Kafka clients do.
 */
export function forEachFetchedBatch(records: Buffer, visit: (batch: FetchedBatch) => boolean | undefined): void {
  const cursor = new RecordCursor();
  let stopped = false;
  forEachBatch(records, (header, bytes) => {
    if (!stopped && visit(new StoredBatch(header, bytes, cursor)) === false) stopped = true;
  });
}
