/**
 * Kafka's message formats v0 and v1 (LegacyRecord, AbstractLegacyRecordBatch), which clients before
 * Kafka 0.11 still write and read. The log stores record batches v2 only: a message set is converted
 * once on the way in (`decodeMessageSet`, then encoded as one batch), and stored batches are
 * converted down for a reader that cannot read v2 (`downConvert`), as Kafka 3.x does. One message,
 * byte for byte (big-endian):
 *
 *   offset int64 | messageSize int32 | crc uint32 | magic int8 | attributes int8 |
 *   [timestamp int64, magic 1 only] | key bytes (int32 length, -1 null) | value bytes (same)
 *
 * The CRC is CRC-32 (IEEE, not the C of batch v2) over magic..end. Attributes: codec in the low three
 * bits; bit 3 (magic 1) LogAppendTime. A compressed message (a "wrapper") holds in its value the
 * compressed message set of its inner messages, which carry no codec themselves.
 */
import { crc32 } from '@node-rs/crc32';
import { CorruptRecordError } from '../errors.js';
import { decompress } from './compression.js';
import { readInt64BE, writeInt64BE } from './int64.js';
import { decodeRecordBatch, forEachBatch, timestampTypeOf } from './record-batch.js';

export const MAGIC_V0 = 0;
export const MAGIC_V1 = 1;
/** Kafka's RecordBatch.NO_TIMESTAMP: what a v0 message converts to (it has no timestamp). */
export const NO_TIMESTAMP = -1;

/** offset + messageSize: the part of a message that messageSize does not count. */
const LOG_OVERHEAD = 12;
const CRC_AT = LOG_OVERHEAD;
const MAGIC_AT = CRC_AT + 4;
const ATTRIBUTES_AT = MAGIC_AT + 1;
/** crc, magic, attributes, key length, value length: the smallest message v0 (size field excluded). */
const MIN_MESSAGE_V0 = 4 + 1 + 1 + 4 + 4;
/** The same with the timestamp of v1. */
const MIN_MESSAGE_V1 = MIN_MESSAGE_V0 + 8;
const CODEC_MASK = 0x07;
const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
/** A v2 batch attribute: a transaction marker, never a record a reader sees. */
const CONTROL_BATCH = 0x20;

/** One message of a set, as the log's v2 batch takes it. */
export interface LegacyRecord {
  key: Buffer | null;
  value: Buffer | null;
  /** CreateTime of a v1 message, or the wrapper's LogAppendTime; NO_TIMESTAMP for v0. */
  timestamp: number;
}

export interface MessageSet {
  magic: typeof MAGIC_V0 | typeof MAGIC_V1;
  /** The codec of the (first) compressed wrapper, 0 when none. */
  codec: number;
  records: LegacyRecord[];
}

/** The magic of the first message or batch in `buf` (the same byte in every format), or -1 when too short. */
export function magicOf(buf: Buffer): number {
  return buf.length > MAGIC_AT ? buf.readInt8(MAGIC_AT) : -1;
}

/**
 * Every message of a produced message set, compressed wrappers opened (their codec through
 * compression.ts, so any codec it knows works), each CRC-32 checked. All messages must share one
 * magic, 0 or 1; a partial or malformed message, a nested wrapper or a CRC mismatch throws
 * CorruptRecordError. `maxDecompressedBytes` bounds what all wrappers together may expand to.
 */
export function decodeMessageSet(buf: Buffer, maxDecompressedBytes: number): MessageSet {
  const first = magicOf(buf);
  if (first !== MAGIC_V0 && first !== MAGIC_V1)
    throw new CorruptRecordError(`message set starts with magic ${first}, not 0 or 1`);
  const set: MessageSet = { magic: first, codec: 0, records: [] };
  let budget = maxDecompressedBytes;
  walkMessages(buf, set.magic, (message) => {
    if (message.codec === 0) {
      set.records.push(message.record);
      return;
    }
    if (message.record.value === null) throw new CorruptRecordError('a compressed message has a null value');
    if (set.codec === 0) set.codec = message.codec;
    const inner = decompress(message.codec, message.record.value, budget);
    budget -= inner.length;
    walkMessages(inner, set.magic, (m) => {
      if (m.codec !== 0) throw new CorruptRecordError('a compressed message holds another compressed message');
      // KIP-32: a LogAppendTime wrapper's timestamp is every inner message's.
      if (message.logAppendTime) m.record.timestamp = message.record.timestamp;
      set.records.push(m.record);
    });
  });
  if (set.records.length === 0) throw new CorruptRecordError('the message set holds no message');
  return set;
}

interface ParsedMessage {
  codec: number;
  logAppendTime: boolean;
  record: LegacyRecord;
}

function walkMessages(buf: Buffer, magic: number, fn: (message: ParsedMessage) => void): void {
  let pos = 0;
  while (pos < buf.length) {
    if (pos + LOG_OVERHEAD > buf.length) throw new CorruptRecordError('the message set ends inside a message header');
    const size = buf.readInt32BE(pos + 8);
    const end = pos + LOG_OVERHEAD + size;
    if (size < MIN_MESSAGE_V0 || end > buf.length)
      throw new CorruptRecordError(`message at byte ${pos} declares ${size} bytes, which do not fit`);
    const own = buf.readInt8(pos + MAGIC_AT);
    if (own !== magic) throw new CorruptRecordError(`message of magic ${own} in a set of magic ${magic}`);
    if (magic === MAGIC_V1 && size < MIN_MESSAGE_V1)
      throw new CorruptRecordError(`message at byte ${pos} of ${size} bytes is shorter than a message v1`);
    const stored = buf.readUInt32BE(pos + CRC_AT);
    const computed = crc32(buf.subarray(pos + MAGIC_AT, end));
    if (stored !== computed)
      throw new CorruptRecordError(`message CRC mismatch: stored ${stored}, computed ${computed}`);
    const attributes = buf.readInt8(pos + ATTRIBUTES_AT);
    let at = pos + ATTRIBUTES_AT + 1;
    let timestamp = NO_TIMESTAMP;
    if (magic === MAGIC_V1) {
      timestamp = readInt64BE(buf, at);
      at += 8;
    }
    const key = readBytes(buf, at, end);
    at += 4 + (key?.length ?? 0);
    const value = readBytes(buf, at, end);
    at += 4 + (value?.length ?? 0);
    if (at !== end) throw new CorruptRecordError('message size disagrees with its key and value');
    fn({
      codec: attributes & CODEC_MASK,
      logAppendTime: magic === MAGIC_V1 && (attributes & TIMESTAMP_TYPE_LOG_APPEND) !== 0,
      record: { key, value, timestamp },
    });
    pos = end;
  }
}

function readBytes(buf: Buffer, at: number, end: number): Buffer | null {
  if (at + 4 > end) throw new CorruptRecordError('message ends inside a length');
  const length = buf.readInt32BE(at);
  if (length === -1) return null;
  if (length < 0 || at + 4 + length > end)
    throw new CorruptRecordError(`message field of ${length} bytes does not fit`);
  return buf.subarray(at + 4, at + 4 + length);
}

/** Bytes of one uncompressed message of `magic`, its 12-byte log overhead included. */
function messageSize(magic: number, key: Buffer | null, value: Buffer | null): number {
  return (
    LOG_OVERHEAD + (magic === MAGIC_V1 ? MIN_MESSAGE_V1 : MIN_MESSAGE_V0) + (key?.length ?? 0) + (value?.length ?? 0)
  );
}

function writeMessage(
  out: Buffer,
  pos: number,
  magic: number,
  offset: number,
  timestamp: number,
  logAppendTime: boolean,
  key: Buffer | null,
  value: Buffer | null,
): number {
  const size = messageSize(magic, key, value);
  writeInt64BE(out, offset, pos);
  out.writeInt32BE(size - LOG_OVERHEAD, pos + 8);
  out.writeInt8(magic, pos + MAGIC_AT);
  out.writeInt8(magic === MAGIC_V1 && logAppendTime ? TIMESTAMP_TYPE_LOG_APPEND : 0, pos + ATTRIBUTES_AT);
  let at = pos + ATTRIBUTES_AT + 1;
  if (magic === MAGIC_V1) {
    writeInt64BE(out, timestamp, at);
    at += 8;
  }
  for (const field of [key, value]) {
    out.writeInt32BE(field === null ? -1 : field.length, at);
    at += 4;
    if (field !== null) at += field.copy(out, at);
  }
  out.writeUInt32BE(crc32(out.subarray(pos + MAGIC_AT, pos + size)), pos + CRC_AT);
  return pos + size;
}

/** Encodes records as an uncompressed message set of `magic` with offsets `baseOffset`, +1, ... (tests, tools). */
export function encodeMessageSet(
  magic: typeof MAGIC_V0 | typeof MAGIC_V1,
  baseOffset: number,
  records: readonly LegacyRecord[],
  opts: { logAppendTime?: boolean } = {},
): Buffer {
  let size = 0;
  for (const r of records) size += messageSize(magic, r.key, r.value);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  records.forEach((r, i) => {
    pos = writeMessage(out, pos, magic, baseOffset + i, r.timestamp, opts.logAppendTime ?? false, r.key, r.value);
  });
  return out;
}

/**
 * Kafka's down-conversion (RecordsUtil.downConvert) of stored v2 batches for a reader of message
 * format v0 or v1: every record at or after `fromOffset`, in order, as one uncompressed message
 * with its own offset (control batches skipped; headers dropped, v0/v1 have none; v0 drops the
 * timestamp, v1 keeps it and the batch's timestamp type). Whole messages up to `maxBytes`, except
 * that the first one always comes when `minOneMessage` (KIP-74), so a reader never stalls on a
 * record larger than it asked for. `maxDecompressedBytes` bounds each compressed batch.
 */
export function downConvert(
  batches: Buffer,
  magic: typeof MAGIC_V0 | typeof MAGIC_V1,
  fromOffset: number,
  maxBytes: number,
  minOneMessage: boolean,
  maxDecompressedBytes: number,
): { records: Buffer; messages: number } {
  const parts: Array<{
    offset: number;
    timestamp: number;
    logAppendTime: boolean;
    key: Buffer | null;
    value: Buffer | null;
  }> = [];
  let size = 0;
  let full = false;
  forEachBatch(batches, (header, batch) => {
    if (full || header.lastOffset < fromOffset || (header.attributes & CONTROL_BATCH) !== 0) return;
    const logAppendTime = timestampTypeOf(header.attributes) === 'LogAppendTime';
    for (const r of decodeRecordBatch(batch, maxDecompressedBytes)) {
      if (r.offset < fromOffset) continue;
      const bytes = messageSize(magic, r.key, r.value);
      if (size + bytes > maxBytes && !(minOneMessage && parts.length === 0)) {
        full = true;
        return;
      }
      parts.push({ offset: r.offset, timestamp: r.timestamp, logAppendTime, key: r.key, value: r.value });
      size += bytes;
    }
  });
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const p of parts) pos = writeMessage(out, pos, magic, p.offset, p.timestamp, p.logAppendTime, p.key, p.value);
  return { records: out, messages: parts.length };
}
