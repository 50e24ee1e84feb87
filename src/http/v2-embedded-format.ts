/**
 * Confluent's v2 embedded formats: how a key, value or header value written in a JSON request body
 * becomes the bytes stored in the log. Every record is converted before any is produced, so one bad
 * field fails the whole request and nothing is written.
 */
import type { ProduceColumns } from '../broker/broker.js';
import {
  type FieldColumn,
  NULL_LENGTH,
  nullColumn,
  type RecordHeader,
  viewColumnOf,
} from '../broker/produce-request.js';
import { BadRequestError, UnprocessableEntityError } from '../errors.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-syntax.js';
import { jsonValueProblem, storableJsonText } from './json-values.js';

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

/**
 * The request's records in columns (see storage/record-columns.ts): each field of every record is
 * converted into one buffer per column, so a 1000-record request makes a handful of objects, not
 * several per record. Any bad field fails the whole request before anything is written.
 */
export function toProduceColumns(format: EmbeddedFormat, records: readonly RequestRecord[]): ProduceColumns {
  const count = records.length;
  const timestamps = new Float64Array(count).fill(Number.NaN); // NaN: the broker's clock
  let partitions: Int32Array | null = null;
  let headers: (RecordHeader[] | undefined)[] | null = null;
  // Header values are text except in the binary format, where everything is base64.
  const encodeHeader = format === 'binary' ? decodeBase64 : encodeUtf8;
  for (let i = 0; i < count; i++) {
    const r = records[i] as RequestRecord;
    if (r.timestamp !== undefined) timestamps[i] = r.timestamp;
    if (r.partition !== undefined) {
      partitions ??= new Int32Array(count).fill(-1);
      partitions[i] = r.partition;
    }
    if (r.headers !== undefined && r.headers.length > 0) {
      headers ??= new Array(count).fill(undefined);
      headers[i] = r.headers.map((h, j) => ({
        key: h.key,
        value: encodeHeader(h.value, `records[${i}].headers[${j}].value`),
      }));
    }
  }
  const columnOf = format === 'json' ? jsonColumn : format === 'binary' ? base64Column : utf8Column;
  return {
    records: {
      count,
      keys: columnOf(
        records.map((r) => r.key),
        'key',
      ),
      values: columnOf(
        records.map((r) => r.value),
        'value',
      ),
      timestamps,
      headers,
    },
    partitions,
  };
}

function isAbsent(data: unknown): boolean {
  return data === undefined || data === null;
}

/**
 * Confluent's KafkaJsonSerializer writes the JSON text: the string "k" is stored with its quotes.
 * One JSON.stringify of the whole array and one Buffer.from, and each field is a slice of it:
 * per-value JSON.stringify and Buffer.from calls, whose fixed costs dominate for 100-byte values,
 * were the largest cost of a JSON produce after parsing. Non-ASCII text makes byte and character
 * positions differ, and then each value is stringified and encoded on its own.
 */
function jsonColumn(data: readonly unknown[], field: string): FieldColumn {
  if (data.every(isAbsent)) return nullColumn(data.length);
  const whole = storableJsonText(data, () => {
    for (let i = 0; i < data.length; i++) {
      const problem = jsonValueProblem(data[i], `records[${i}].${field}`);
      if (problem !== null) return problem;
    }
    return null;
  });
  const bytes = Buffer.from(whole, 'utf8');
  const spans = bytes.length === whole.length ? elementSpans(whole, data) : null;
  if (spans === null) {
    return viewColumnOf(data.map((d) => (isAbsent(d) ? null : Buffer.from(JSON.stringify(d), 'utf8'))));
  }
  return { bytes, starts: spans.starts, lengths: spans.lengths };
}

/**
 * Where each element of `data` lies in `whole`, its JSON.stringify (no whitespace); null lengths
 * for absent ones. Strings are the common case and cost nothing to place: a string's text is its
 * length plus two quotes unless it needed escaping, and escaping only lengthens, so when the texts
 * add up to the whole, none did. Otherwise (escapes, objects, numbers) the whole is scanned.
 */
function elementSpans(whole: string, data: readonly unknown[]): { starts: Int32Array; lengths: Int32Array } | null {
  const count = data.length;
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  let pos = 1; // after '['
  let placed = true;
  for (let i = 0; i < count; i++) {
    const d = data[i];
    const n = isAbsent(d) ? 4 : typeof d === 'string' ? d.length + 2 : -1;
    if (n < 0) {
      placed = false;
      break;
    }
    starts[i] = pos;
    lengths[i] = isAbsent(d) ? NULL_LENGTH : n;
    pos += n + 1;
  }
  if (placed && pos === whole.length) return { starts, lengths };
  pos = 1;
  for (let i = 0; i < count; i++) {
    const end = jsonTextEnd(whole, pos);
    starts[i] = pos;
    lengths[i] = isAbsent(data[i]) ? NULL_LENGTH : end - pos;
    pos = end + 1; // past the comma (or the closing ']')
  }
  return pos === whole.length ? { starts, lengths } : null;
}

/** Where the JSON value that starts at `pos` of JSON.stringify output ends (exclusive). */
function jsonTextEnd(text: string, pos: number): number {
  let depth = 0;
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
      if (depth === 0) return i + 1;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 0) return i; // the array's own ']' ends a number, true, false or null
      if (--depth === 0) return i + 1;
    } else if (c === COMMA && depth === 0) return i;
  }
  return text.length;
}

/** The string format: UTF-8 text, one Buffer.from for the whole column when it is all ASCII. */
function utf8Column(data: readonly unknown[], field: string): FieldColumn {
  if (data.every(isAbsent)) return nullColumn(data.length);
  const texts = data.map((d, i) => {
    if (isAbsent(d)) return '';
    if (typeof d !== 'string') throw new UnprocessableEntityError(`records[${i}].${field} must be a string or null.`);
    return d;
  });
  const joined = texts.join('');
  const bytes = Buffer.from(joined, 'utf8');
  if (bytes.length !== joined.length) {
    // Not all ASCII: encode each on its own (a lone surrogate at a seam would pair up in the join).
    return viewColumnOf(data.map((d, i) => (isAbsent(d) ? null : Buffer.from(texts[i] as string, 'utf8'))));
  }
  const starts = new Int32Array(data.length);
  const lengths = new Int32Array(data.length);
  let pos = 0;
  for (let i = 0; i < data.length; i++) {
    const n = (texts[i] as string).length;
    starts[i] = pos;
    lengths[i] = isAbsent(data[i]) ? NULL_LENGTH : n;
    pos += n;
  }
  return { bytes, starts, lengths };
}

/**
 * The binary format: every field's base64 decoded into one buffer. Node's decoder costs about
 * 350 ns per call here whatever the length, several times the decoding of a 100-byte value, so
 * fields are decoded in runs: their texts joined (a run kept well under V8's large-object size,
 * whose fresh pages cost more than the decoding) and decoded at once. Padding would end a joined
 * decode, so each text's padding is written as 'A's instead: its last group then decodes to zero
 * bytes past the field's end, which the column skips. The decoder skips characters outside the
 * alphabet; a run that decodes to fewer bytes than its texts promise holds one, and is decoded
 * field by field to name it.
 */
function base64Column(data: readonly unknown[], field: string): FieldColumn {
  if (data.every(isAbsent)) return nullColumn(data.length);
  const count = data.length;
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  const pieces: string[] = new Array(count);
  let capacity = 0;
  for (let i = 0; i < count; i++) {
    const d = data[i];
    starts[i] = capacity;
    if (isAbsent(d)) {
      lengths[i] = NULL_LENGTH;
      pieces[i] = '';
      continue;
    }
    const expected = typeof d === 'string' ? strictBase64Length(d) : -1;
    if (expected < 0) throw notBase64(i, field);
    const text = d as string;
    // Without the one or two padding characters strictBase64Length allowed; any other '=' ends the run's decode early.
    const end = unpaddedBase64Length(text.length, text.charCodeAt(text.length - 1), text.charCodeAt(text.length - 2));
    const padding = (4 - (end % 4)) % 4;
    pieces[i] = padding === 0 ? text.slice(0, end) : text.slice(0, end) + 'AAA'.slice(0, padding);
    lengths[i] = expected;
    capacity += ((end + padding) / 4) * 3;
  }
  const bytes = Buffer.allocUnsafe(capacity);
  let first = 0;
  let chars = 0;
  for (let i = 0; i < count; i++) {
    chars += (pieces[i] as string).length;
    if (chars < BASE64_RUN_CHARS && i < count - 1) continue;
    const run = pieces.slice(first, i + 1).join('');
    const at = starts[first] as number;
    if (bytes.write(run, at, 'base64') !== (run.length / 4) * 3) {
      for (let j = first; j <= i; j++) {
        if (!isAbsent(data[j]) && decodeStrictBase64(data[j] as string) === null) throw notBase64(j, field);
      }
      throw notBase64(first, field); // not reached: a short run holds a field that fails alone
    }
    first = i + 1;
    chars = 0;
  }
  return { bytes, starts, lengths };
}

/** Characters of base64 decoded in one call (32 KiB of text: a one-byte string far below V8's large objects). */
const BASE64_RUN_CHARS = 32 * 1024;

function notBase64(i: number, field: string): BadRequestError {
  return new BadRequestError(`Bad Request: records[${i}].${field} is not a valid base64 string.`);
}

function decodeBase64(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  const bytes = typeof data === 'string' ? decodeStrictBase64(data) : null;
  if (bytes === null) throw new BadRequestError(`Bad Request: ${field} is not a valid base64 string.`);
  return bytes;
}

/**
 * Base64 in the standard alphabet, padding optional (as Java's Base64.getDecoder() that Confluent
 * uses), or null when `text` is not that. Node's decoder silently skips characters outside the
 * alphabet, so a string with any is caught by decoding to fewer bytes than its length promises
 * (see strictBase64Length). Decode-then-check replaced a regex test that cost more than the
 * decoding itself on the produce path.
 */
export function decodeStrictBase64(text: string): Buffer | null {
  const expected = strictBase64Length(text);
  if (expected < 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === expected ? bytes : null;
}

/**
 * The bytes `text` decodes to if it is strict base64, or -1 when its length or padding already
 * says it is not. A decoder that then yields fewer bytes skipped characters outside the alphabet.
 * The URL-safe `-` and `_`, which Node would accept, are refused here.
 */
function strictBase64Length(text: string): number {
  const n = text.length;
  const end = unpaddedBase64Length(n, text.charCodeAt(n - 1), text.charCodeAt(n - 2));
  if (end < 0 || text.includes('-') || text.includes('_')) return -1;
  return Math.floor((end * 3) / 4);
}

/**
 * Characters of a base64 text of `length` before its padding, given its last two character codes,
 * or -1 when the length and padding already say it is not base64: padding is one or two `=` and
 * only on a multiple of four, and a lone last character carries only 6 bits. v2-produce-scan.ts
 * applies the same rule to the body's bytes.
 */
export function unpaddedBase64Length(length: number, last: number, beforeLast: number): number {
  let end = length;
  if (end > 0 && last === EQUALS) {
    if (end % 4 !== 0) return -1;
    end -= beforeLast === EQUALS ? 2 : 1;
  }
  return end % 4 === 1 ? -1 : end;
}

const EQUALS = 0x3d;

function encodeUtf8(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data !== 'string') throw new UnprocessableEntityError(`${field} must be a string or null.`);
  return Buffer.from(data, 'utf8');
}
