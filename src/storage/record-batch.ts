import { crc32c } from '@node-rs/crc32';
import { CorruptRecordError } from '../errors.js';
import { type CompressionCodec, compress, decompress } from './compression.js';
import { readInt64BE, writeInt64BE } from './int64.js';
import type { DecodedRecord, RecordHeader, RecordInput } from './record.js';
import { columnsOf, type FieldColumn, isColumns, type RecordColumns } from './record-columns.js';
import { MAX_VARINT_BYTES, MAX_VARLONG_BYTES, sizeOfVarlong, writeVarlong } from './varint.js';
import { encodeRecordsInWasm } from './wasm/record-encoder.js';

/**
 * Kafka record batch, magic 2 (KIP-98), byte for byte:
 *
 *   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
 *   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
 *   producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32 | records...
 *
 * The CRC-32C covers attributes..end, so the broker can stamp baseOffset and the leader epoch
 * without recomputing it. All integers are big-endian.
 */
export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
/** Header size, also the smallest valid batch. */
export const RECORD_BATCH_OVERHEAD = 61;
/** baseOffset + batchLength: the part of a batch that batchLength does not count. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export type { DecodedRecord, RecordHeader, RecordInput } from './record.js';

export interface BatchEncodeOptions {
  baseOffset: number;
  partitionLeaderEpoch?: number;
  compression?: CompressionCodec;
  timestampType?: TimestampType;
  /** Broker clock for LogAppendTime batches: becomes maxTimestamp. */
  logAppendTime?: number;
  /**
   * Offset delta of each record, when not 0..n-1. Only compaction uses it: a cleaned batch
   * keeps every surviving record's original offset (offsets never change).
   */
  offsetDeltas?: ArrayLike<number>;
  /** lastOffsetDelta to keep when records were removed from the batch's tail. */
  lastOffsetDelta?: number;
  /**
   * A producer id to stamp (>= 0), with producerEpoch 0 and baseSequence 0; -1 (none) when absent.
   * The broker uses it to tie a batch to the request that wrote it (see broker/idempotency-cache.ts);
   * the batch stays non-transactional, so Kafka readers ignore it.
   */
  producerId?: number;
  /** Indexes into the input of the records this batch holds, in order (default: all of them). */
  rows?: ArrayLike<number>;
  /** Memory for the batch (default `Buffer.allocUnsafe`); the log takes it from batch-buffers.ts. */
  allocate?: (size: number) => Buffer;
}

export interface BatchHeader {
  baseOffset: number;
  /** Total size on disk including the 12-byte log overhead. */
  sizeBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  lastOffset: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Bytes of a length-prefixed field of `length` bytes (zig-zag varint length, then the bytes; null is length -1). */
function fieldSize(length: number): number {
  if (length < 0) return 1;
  return (length < 64 ? 1 : length < 8192 ? 2 : sizeOfVarlong(length)) + length;
}

function headersSize(headers: readonly RecordHeader[]): number {
  let size = sizeOfVarlong(headers.length);
  for (const h of headers) {
    const keyLength = utf8Length(h.key);
    size += sizeOfVarlong(keyLength) + keyLength + fieldSize(h.value === null ? -1 : h.value.length);
  }
  return size;
}

/**
 * Copies `n` bytes of `src` at `start` into `dst` at `pos`. Fields of produce requests are small
 * (keys of a few bytes, values of about a hundred), where the fixed cost of a native copy between
 * two buffers (Buffer.copy with a range: about 90 ns here) outweighs the bytes: four bytes at a
 * time through DataViews costs about 10 ns for a short key and 65 ns for 100 bytes. Integer reads
 * only: a float64 round trip could rewrite NaN bit patterns.
 *
 * The views cost something to make too (three of them, about 500 ns in all), which only a batch
 * of many records pays back: a small one passes null and copies short fields a byte at a time.
 */
function copyBytes(
  dst: Buffer,
  dstView: DataView | null,
  pos: number,
  src: Buffer,
  srcView: DataView | null,
  start: number,
  n: number,
) {
  if (n >= NATIVE_COPY_BYTES || (dstView === null && n >= SHORT_FIELD_BYTES)) {
    src.copy(dst, pos, start, start + n);
    return;
  }
  let j = 0;
  if (dstView !== null && srcView !== null)
    for (; j + 4 <= n; j += 4) dstView.setInt32(pos + j, srcView.getInt32(start + j, true), true);
  for (; j < n; j++) dst[pos + j] = src[start + j] as number;
}

/** Without views, fields shorter than this are copied a byte at a time. */
const SHORT_FIELD_BYTES = 16;
/** A batch of fewer records than this is encoded without DataViews, and without staging its values. */
const SMALL_BATCH_RECORDS = 16;

/** From this field length up, one native copy beats the DataView loop. */
const NATIVE_COPY_BYTES = 128;

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The produce path's inner loop, so it spells out the one-byte varint cases (lengths under 64,
 * small deltas) instead of calling the general writer. A field is copied straight from its
 * column's buffer by position: no view object per field.
 */
function putField(
  buf: Buffer,
  bufView: DataView | null,
  pos: number,
  column: FieldColumn,
  view: DataView | null,
  i: number,
  stagedAt: number,
): number {
  const n = column.lengths[i] as number;
  if (n < 0) {
    buf[pos] = 1; // zig-zag -1: null
    return pos + 1;
  }
  if (n < 64) buf[pos++] = n << 1;
  else pos = writeVarlong(buf, pos, n);
  const views = column.views;
  if (views) buf.set(views[i] as Uint8Array, pos);
  else {
    const start = column.starts[i] as number;
    if (stagedAt >= 0 && n >= STAGED_COPY_MIN_BYTES) buf.copyWithin(pos, stagedAt + start, stagedAt + start + n);
    else copyBytes(buf, bufView, pos, column.bytes, view, start, n);
  }
  return pos + n;
}

/**
 * Values of at least this many bytes on average are staged: the whole value column is copied
 * once (one native copy) behind the records in the batch's own buffer, and each value then moves
 * into place with copyWithin, a native copy with no view to make, about half the cost of the
 * DataView loop for a 100-byte value. Smaller values are not worth the staging copy.
 */
const STAGED_COPY_MIN_BYTES = 48;

/** `valuesStagedAt`: where the value column's bytes were copied into `buf`, or -1 (see STAGED_COPY_MIN_BYTES). */
function writeRecords(
  buf: Buffer,
  pos: number,
  records: RecordColumns,
  rows: ArrayLike<number> | undefined,
  bodySizes: Int32Array,
  baseTimestamp: number,
  offsetDeltas: ArrayLike<number> | undefined,
  valuesStagedAt = -1,
): number {
  const { keys, values, timestamps, headers: headerColumn } = records;
  const n = bodySizes.length;
  const small = n < SMALL_BATCH_RECORDS;
  const bufView = small ? null : viewOf(buf);
  const keysView = small ? null : viewOf(keys.bytes);
  const valuesView = small ? null : viewOf(values.bytes);
  for (let k = 0; k < n; k++) {
    const i = rows ? (rows[k] as number) : k;
    const body = bodySizes[k] as number;
    if (body < 64) buf[pos++] = body << 1;
    else pos = writeVarlong(buf, pos, body);
    buf[pos++] = 0; // record attributes: unused
    const timestampDelta = (timestamps[i] as number) - baseTimestamp;
    if (timestampDelta >= 0 && timestampDelta < 64) buf[pos++] = timestampDelta << 1;
    else pos = writeVarlong(buf, pos, timestampDelta);
    const offsetDelta = offsetDeltas ? (offsetDeltas[k] as number) : k;
    if (offsetDelta >= 0 && offsetDelta < 64) buf[pos++] = offsetDelta << 1;
    else pos = writeVarlong(buf, pos, offsetDelta);
    pos = putField(buf, bufView, pos, keys, keysView, i, -1);
    pos = putField(buf, bufView, pos, values, valuesView, i, valuesStagedAt);
    const headers = headerColumn === null ? undefined : headerColumn[i];
    if (headers === undefined || headers.length === 0) {
      buf[pos++] = 0;
      continue;
    }
    pos = writeVarlong(buf, pos, headers.length);
    for (const h of headers) {
      pos = writeVarlong(buf, pos, utf8Length(h.key));
      pos += buf.write(h.key, pos, 'utf8');
      if (h.value === null) buf[pos++] = 1;
      else {
        pos = writeVarlong(buf, pos, h.value.length);
        buf.set(h.value, pos);
        pos += h.value.length;
      }
    }
  }
  return pos;
}

/**
 * Encodes records as one v2 batch. The result is what goes to disk and to readers, unchanged:
 * a produce request is encoded exactly once. `opts.rows` picks the records of `input` that form
 * this batch (one partition's share of a request), in order; all of them when absent.
 */
export function encodeRecordBatch(input: readonly RecordInput[] | RecordColumns, opts: BatchEncodeOptions): Buffer {
  const records = isColumns(input) ? input : columnsOf(input);
  const rows = opts.rows;
  const count = rows ? rows.length : records.count;
  if (count === 0) throw new RangeError('a record batch holds at least one record');
  const codec = opts.compression ?? 0;
  const offsetDeltas = opts.offsetDeltas;
  const allocate = opts.allocate ?? allocUnsafe;
  const { keys, values, timestamps, headers: headerColumn } = records;
  let baseTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  let integral = true;
  for (let k = 0; k < count; k++) {
    const t = timestamps[rows ? (rows[k] as number) : k] as number;
    if (t < baseTimestamp) baseTimestamp = t;
    if (t > maxTimestamp) maxTimestamp = t;
    if (!Number.isInteger(t)) integral = false;
  }
  // Kafka writes the first record's timestamp as the base; the minimum keeps every delta
  // non-negative too, and both are valid for readers, which add the delta to the base.
  if (
    codec === 0 &&
    integral &&
    count >= WASM_MIN_RECORDS &&
    offsetDeltas === undefined &&
    headerColumn === null &&
    keys.views === undefined &&
    values.views === undefined &&
    (rows === undefined || rows.length * WASM_MAX_ROWS_SHARE >= records.count)
  ) {
    const buf = encodeRecordsInWasm(records, rows, count, baseTimestamp, RECORD_BATCH_OVERHEAD, allocate);
    return finishBatch(buf, count, baseTimestamp, maxTimestamp, codec, opts);
  }
  const bodySizes = new Int32Array(count);
  let recordsSize = 0;
  for (let k = 0; k < count; k++) {
    const i = rows ? (rows[k] as number) : k;
    const delta = offsetDeltas ? (offsetDeltas[k] as number) : k;
    const timestampDelta = (timestamps[i] as number) - baseTimestamp;
    const headers = headerColumn === null ? undefined : headerColumn[i];
    const body =
      1 +
      (timestampDelta >= 0 && timestampDelta < 64 ? 1 : sizeOfVarlong(timestampDelta)) +
      (delta < 64 && delta >= 0 ? 1 : sizeOfVarlong(delta)) +
      fieldSize(keys.lengths[i] as number) +
      fieldSize(values.lengths[i] as number) +
      (headers === undefined || headers.length === 0 ? 1 : headersSize(headers));
    bodySizes[k] = body;
    recordsSize += (body < 64 ? 1 : sizeOfVarlong(body)) + body;
  }

  let buf: Buffer;
  if (codec === 0) {
    // Staged only when the batch is the whole request: a partition's share would stage every value.
    const stagedAt = RECORD_BATCH_OVERHEAD + recordsSize;
    const staged =
      count >= SMALL_BATCH_RECORDS &&
      rows === undefined &&
      values.views === undefined &&
      values.bytes.length >= count * STAGED_COPY_MIN_BYTES;
    const whole = allocate(stagedAt + (staged ? values.bytes.length : 0));
    if (staged) values.bytes.copy(whole, stagedAt);
    const end = writeRecords(
      whole,
      RECORD_BATCH_OVERHEAD,
      records,
      rows,
      bodySizes,
      baseTimestamp,
      offsetDeltas,
      staged ? stagedAt : -1,
    );
    buf = staged ? whole.subarray(0, end) : whole;
  } else {
    const raw = Buffer.allocUnsafe(recordsSize);
    writeRecords(raw, 0, records, rows, bodySizes, baseTimestamp, offsetDeltas);
    const packed = compress(codec, raw);
    buf = allocate(RECORD_BATCH_OVERHEAD + packed.length);
    packed.copy(buf, RECORD_BATCH_OVERHEAD);
  }

  return finishBatch(buf, count, baseTimestamp, maxTimestamp, codec, opts);
}

const allocUnsafe = (size: number) => Buffer.allocUnsafe(size);

/** A batch of at least this many records is encoded in WebAssembly; below it, copying the columns in costs more than it saves. */
const WASM_MIN_RECORDS = 16;
/** A batch of a few of a request's rows is not worth copying every row's columns in: at least one in four. */
const WASM_MAX_ROWS_SHARE = 4;

/** Writes the 61-byte header of the batch `buf`, its records already in place, and its CRC. */
function finishBatch(
  buf: Buffer,
  count: number,
  baseTimestamp: number,
  maxTimestamp: number,
  codec: number,
  opts: BatchEncodeOptions,
): Buffer {
  const offsetDeltas = opts.offsetDeltas;
  const logAppend = opts.timestampType === 'LogAppendTime';
  const lastOffsetDelta = opts.lastOffsetDelta ?? (offsetDeltas ? (offsetDeltas[count - 1] as number) : count - 1);
  writeInt64BE(buf, opts.baseOffset, BASE_OFFSET_OFFSET);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(MAGIC_V2, MAGIC_OFFSET);
  buf.writeInt16BE(codec | (logAppend ? TIMESTAMP_TYPE_MASK : 0), ATTRIBUTES_OFFSET);
  buf.writeInt32BE(lastOffsetDelta, LAST_OFFSET_DELTA_OFFSET);
  writeInt64BE(buf, baseTimestamp, BASE_TIMESTAMP_OFFSET);
  writeInt64BE(buf, logAppend ? (opts.logAppendTime ?? maxTimestamp) : maxTimestamp, MAX_TIMESTAMP_OFFSET);
  const producerId = opts.producerId ?? -1;
  writeInt64BE(buf, producerId, PRODUCER_ID_OFFSET);
  buf.writeInt16BE(producerId >= 0 ? 0 : -1, PRODUCER_EPOCH_OFFSET);
  buf.writeInt32BE(producerId >= 0 ? 0 : -1, BASE_SEQUENCE_OFFSET);
  buf.writeInt32BE(count, RECORDS_COUNT_OFFSET);
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}

/** Parses the 61-byte header at `pos`. Does not validate; see `validateRecordBatch`. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  const baseOffset = readInt64BE(buf, pos + BASE_OFFSET_OFFSET);
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET);
  return {
    baseOffset,
    sizeBytes: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta,
    lastOffset: baseOffset + lastOffsetDelta,
    baseTimestamp: readInt64BE(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64BE(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64BE(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  };
}

/**
 * Kafka's `ensureValid`: size at least the header, magic 2, CRC-32C over attributes..end.
 * `batch` must be exactly one batch. Throws CorruptRecordError.
 */
export function validateRecordBatch(batch: Buffer): void {
  if (batch.length < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(
      `record batch of ${batch.length} bytes is smaller than the ${RECORD_BATCH_OVERHEAD}-byte header`,
    );
  }
  const declared = batch.readInt32BE(BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (declared !== batch.length) {
    throw new CorruptRecordError(`record batch declares ${declared} bytes but has ${batch.length}`);
  }
  const magic = batch.readInt8(MAGIC_OFFSET);
  if (magic !== MAGIC_V2) throw new CorruptRecordError(`record batch has magic ${magic}, only magic 2 is supported`);
  const stored = batch.readUInt32BE(CRC_OFFSET);
  const computed = crc32c(batch.subarray(ATTRIBUTES_OFFSET));
  if (stored !== computed) {
    throw new CorruptRecordError(`record batch CRC mismatch: stored ${stored}, computed ${computed}`);
  }
  const lastOffsetDelta = batch.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
  if (lastOffsetDelta < 0) throw new CorruptRecordError(`record batch has negative lastOffsetDelta ${lastOffsetDelta}`);
}

export function compressionOf(attributes: number): number {
  return attributes & COMPRESSION_MASK;
}
export function timestampTypeOf(attributes: number): TimestampType {
  return attributes & TIMESTAMP_TYPE_MASK ? 'LogAppendTime' : 'CreateTime';
}

/** Stamps the offset the log assigns; outside the CRC, so the batch stays valid. */
export function setBaseOffset(batch: Buffer, baseOffset: number, pos = 0): void {
  writeInt64BE(batch, baseOffset, pos + BASE_OFFSET_OFFSET);
}

/** Stamps the leader's epoch (KIP-101); also outside the CRC. */
export function setPartitionLeaderEpoch(batch: Buffer, epoch: number, pos = 0): void {
  batch.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/** A cursor over varint-encoded record fields. */
class FieldReader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
  ) {}

  varint(maxBytes: number = MAX_VARINT_BYTES): number {
    let z = 0;
    let scale = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.buf.length) throw new CorruptRecordError('record runs past the end of its batch');
      const b = this.buf[this.pos++] as number;
      z += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      scale *= 128;
    }
    throw new CorruptRecordError(`varint longer than ${maxBytes} bytes`);
  }

  bytes(length: number): Buffer | null {
    if (length < 0) return null;
    const end = this.pos + length;
    if (end > this.buf.length) throw new CorruptRecordError('record field runs past the end of its batch');
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }
}

/**
 * Decodes every record of one batch (decompressing if needed). Not on the produce or fetch
 * path; used by timestamp lookup, compaction, tests and edges that render records.
 * `maxDecompressedBytes` bounds what a compressed batch may expand to.
 */
export function decodeRecordBatch(batch: Buffer, maxDecompressedBytes = 64 * 1024 * 1024): DecodedRecord[] {
  const header = readBatchHeader(batch);
  const codec = compressionOf(header.attributes);
  const logAppendTime = timestampTypeOf(header.attributes) === 'LogAppendTime';
  const body = decompress(codec, batch.subarray(RECORD_BATCH_OVERHEAD), maxDecompressedBytes);
  const reader = new FieldReader(body, 0);
  const out: DecodedRecord[] = [];
  for (let i = 0; i < header.recordsCount; i++) {
    const length = reader.varint();
    const end = reader.pos + length;
    if (length < 0 || end > body.length) throw new CorruptRecordError('record length runs past the end of its batch');
    reader.pos++; // attributes
    const timestampDelta = reader.varint(MAX_VARLONG_BYTES);
    const offsetDelta = reader.varint();
    const key = reader.bytes(reader.varint());
    const value = reader.bytes(reader.varint());
    const headerCount = reader.varint();
    if (headerCount < 0) throw new CorruptRecordError('negative header count');
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const hk = reader.bytes(reader.varint());
      if (hk === null) throw new CorruptRecordError('null header key');
      headers.push({ key: hk.toString('utf8'), value: reader.bytes(reader.varint()) });
    }
    if (reader.pos !== end) throw new CorruptRecordError('record length disagrees with its fields');
    out.push({
      offset: header.baseOffset + offsetDelta,
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      key,
      value,
      headers,
    });
  }
  return out;
}

/**
 * Walks concatenated batches (a fetch response or a segment slice) and calls `fn` for each
 * whole one. A trailing partial batch is ignored, as Kafka clients do.
 */
export function forEachBatch(buf: Buffer, fn: (header: BatchHeader, batch: Buffer) => void): void {
  let pos = 0;
  while (pos + RECORD_BATCH_OVERHEAD <= buf.length) {
    const header = readBatchHeader(buf, pos);
    if (header.sizeBytes < RECORD_BATCH_OVERHEAD || pos + header.sizeBytes > buf.length) return;
    fn(header, buf.subarray(pos, pos + header.sizeBytes));
    pos += header.sizeBytes;
  }
}
