/**
 * Confluent's v2 embedded formats: how a key, value or header value written in a JSON request body
 * becomes the bytes stored in the log. Every record is converted before any is produced, so one bad
 * field fails the whole request and nothing is written.
 */
import type { ProduceRecord } from '../broker/broker.js';
import { UnprocessableEntityError } from '../errors.js';

export type EmbeddedFormat = 'json' | 'binary' | 'string';

/** The fields the three record schemas (JsonProduceRecord, BinaryProduceRecord, StringProduceRecord) share. */
export interface RequestRecord {
  key?: unknown;
  value?: unknown;
  partition?: number;
  headers?: { key: string; value: string | null }[];
  timestamp?: number;
}

export function formatOfMediaType(mediaType: string): EmbeddedFormat {
  if (mediaType === 'application/vnd.kafka.binary.v2+json') return 'binary';
  if (mediaType === 'application/vnd.kafka.string.v2+json') return 'string';
  // application/vnd.kafka.json.v2+json and plain application/json (the legacy docs' alias).
  return 'json';
}

export function toProduceRecords(format: EmbeddedFormat, records: readonly RequestRecord[]): ProduceRecord[] {
  // Header values are text except in the binary format, where everything is base64.
  const encodeHeader = format === 'binary' ? decodeBase64 : encodeUtf8;
  let keys: (Buffer | null)[];
  let values: (Buffer | null)[];
  if (format === 'json') {
    keys = jsonTexts(records.map((r) => r.key));
    values = jsonTexts(records.map((r) => r.value));
  } else {
    const encodeData = format === 'binary' ? decodeBase64 : encodeUtf8;
    keys = records.map((r, i) => encodeData(r.key, `records[${i}].key`));
    values = records.map((r, i) => encodeData(r.value, `records[${i}].value`));
  }
  return records.map((record, i) => {
    const produced: ProduceRecord = { key: keys[i] ?? null, value: values[i] ?? null };
    if (record.partition !== undefined) produced.partition = record.partition;
    if (record.timestamp !== undefined) produced.timestamp = record.timestamp;
    if (record.headers !== undefined) {
      produced.headers = record.headers.map((h, j) => ({
        key: h.key,
        value: encodeHeader(h.value, `records[${i}].headers[${j}].value`),
      }));
    }
    return produced;
  });
}

/** Characters a value takes inside `JSON.stringify` of its array, assuming no string needs escaping. */
function unescapedLength(data: unknown): number {
  if (data === undefined || data === null) return 4; // null
  if (typeof data === 'string') return data.length + 2;
  return JSON.stringify(data).length;
}

/**
 * Confluent's KafkaJsonSerializer writes the JSON text: the string "k" is stored with its quotes.
 * One JSON.stringify of the whole array, one Buffer.from, and each record's bytes are a view of
 * it: per-value JSON.stringify and Buffer.from calls, whose fixed costs dominate for 100-byte
 * values, were the largest cost of a JSON produce after parsing. Escaping only ever lengthens a
 * string's text, so when the array's text is exactly as long as the unescaped texts would make
 * it, every view is right; otherwise (escapes, or non-ASCII making bytes differ from characters)
 * each value is stringified and encoded on its own.
 */
function jsonTexts(data: readonly unknown[]): (Buffer | null)[] {
  const whole = JSON.stringify(data);
  const lengths = data.map(unescapedLength);
  let expected = 1 + data.length; // brackets and commas
  for (const n of lengths) expected += n;
  const all = expected === whole.length ? Buffer.from(whole, 'utf8') : null;
  if (all === null || all.length !== whole.length) {
    return data.map((d) => (d === undefined || d === null ? null : Buffer.from(JSON.stringify(d), 'utf8')));
  }
  let pos = 1;
  return data.map((d, i) => {
    const n = lengths[i] as number;
    const bytes = d === undefined || d === null ? null : all.subarray(pos, pos + n);
    pos += n + 1;
    return bytes;
  });
}

function decodeBase64(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  const bytes = typeof data === 'string' ? decodeStrictBase64(data) : null;
  if (bytes === null) throw new UnprocessableEntityError(`${field} is not a valid base64 string.`, 42206);
  return bytes;
}

/**
 * Base64 in the standard alphabet, padding optional (as Java's Base64.getDecoder() that Confluent
 * uses), or null when `text` is not that. Node's decoder silently skips characters outside the
 * alphabet, so a string with any is caught by decoding to fewer bytes than its length promises; the
 * URL-safe `-` and `_`, which Node would accept, are refused explicitly. Decode-then-check replaced a
 * regex test that cost more than the decoding itself on the produce path.
 */
export function decodeStrictBase64(text: string): Buffer | null {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) {
    if (end % 4 !== 0) return null;
    end--;
    if (text.charCodeAt(end - 1) === EQUALS) end--;
  }
  if (end % 4 === 1) return null; // a lone trailing character carries only 6 bits
  if (text.includes('-') || text.includes('_')) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === Math.floor((end * 3) / 4) ? bytes : null;
}

const EQUALS = 0x3d;

function encodeUtf8(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data !== 'string') throw new UnprocessableEntityError(`${field} must be a string or null.`, 42206);
  return Buffer.from(data, 'utf8');
}
