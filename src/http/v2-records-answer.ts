import { isUtf8 } from 'node:buffer';
import type { RecordCursor } from '../broker/fetched-records.js';
import { type ConsumedRun, type EmbeddedFormat, forEachRecordOfRun } from '../consumers/consumer-instance.js';
import { RecordFormatError } from '../errors.js';
import { isPassableJsonText } from './json-text-scan.js';
import { renderBytes, renderHeaders } from './record-rendering.js';

/** A record the answer could not render (a json consumer meeting bytes that are not JSON). */
export interface UnrenderableRecord {
  /** Records written before it. */
  written: number;
  /** Which run it is in, and the runs after it, whose positions go back too. */
  run: number;
  offset: number;
  error: RecordFormatError;
}

/**
 * A v2 `GET records` answer written from the stored bytes, as the JSON array the object form
 * (`{topic, key, value, partition, offset, timestamp, headers}` per record) would stringify to:
 * binary fields are base64 of the bytes, string fields their UTF-8 text, json fields their stored
 * text as it is once a scan has found it valid (JSON.parse only decides what the scan cannot).
 * The answer is built as a latin1 string, one character per byte, so stored bytes go out as they
 * are with one copy at the end. Stops at the first record it cannot render and says which.
 */
export function renderRecordsAnswer(
  runs: readonly ConsumedRun[],
  format: EmbeddedFormat,
): { bytes: Buffer; unrenderable: UnrenderableRecord | null } {
  let text = '[';
  let written = 0;
  let unrenderable: UnrenderableRecord | null = null;
  for (let j = 0; j < runs.length && unrenderable === null; j++) {
    const run = runs[j] as ConsumedRun;
    const topic = latin1OfText(JSON.stringify(run.topic));
    const tail = `,"partition":${run.partition},"offset":`;
    forEachRecordOfRun(run, (r) => {
      let key: string;
      let value: string;
      try {
        key = fieldText(r, r.keyStart, r.keyLength, format);
      } catch (err) {
        unrenderable = unrenderableAt(err, 'key', run, r, format, written, j);
        return false;
      }
      try {
        value = fieldText(r, r.valueStart, r.valueLength, format);
      } catch (err) {
        unrenderable = unrenderableAt(err, 'value', run, r, format, written, j);
        return false;
      }
      const headers = r.headerCount === 0 ? '[]' : latin1OfText(JSON.stringify(renderHeaders(r.headers(), format)));
      text += `${written === 0 ? '' : ','}{"topic":${topic},"key":${key},"value":${value}${tail}${r.offset},"timestamp":${r.timestamp},"headers":${headers}}`;
      written++;
      return true;
    });
  }
  return { bytes: Buffer.from(`${text}]`, 'latin1'), unrenderable };
}

function unrenderableAt(
  err: unknown,
  field: 'key' | 'value',
  run: ConsumedRun,
  r: RecordCursor,
  format: EmbeddedFormat,
  written: number,
  j: number,
): UnrenderableRecord {
  if (!(err instanceof RecordFormatError)) throw err;
  const { topic, partition } = run;
  const offset = r.offset;
  return {
    written,
    run: j,
    offset,
    error: new RecordFormatError(
      `Cannot deserialize the ${field} of the record at offset ${offset} in partition ${partition} of topic '${topic}' as ${format}: ${err.message}. ` +
        `The consumer stays at offset ${offset}; to skip this record, seek to offset ${offset + 1} ` +
        `(POST .../positions with {"offsets":[{"topic":${JSON.stringify(topic)},"partition":${partition},"offset":${offset + 1}}]}), ` +
        'or read it with a binary or string consumer.',
    ),
  };
}

/** The JSON of one key or value, as latin1 text of its UTF-8 bytes. */
function fieldText(r: RecordCursor, start: number, length: number, format: EmbeddedFormat): string {
  if (length < 0) return 'null';
  const buf = r.buf;
  const end = start + length;
  if (format === 'binary') return `"${buf.toString('base64', start, end)}"`;
  if (format === 'string') {
    if (isPlainStringText(buf, start, end)) return `"${buf.toString('latin1', start, end)}"`;
    return latin1OfText(JSON.stringify(buf.toString('utf8', start, end)));
  }
  if (isPassableJsonText(buf, start, end)) return buf.toString('latin1', start, end);
  // Not sure: the object path decides (and throws RecordFormatError for what is not JSON).
  return latin1OfText(JSON.stringify(renderBytes(buf.subarray(start, end), 'json', false).value));
}

/**
 * Whether the bytes, as UTF-8 text, are written by JSON.stringify unchanged between quotes: no
 * quote, backslash or control character, and well-formed UTF-8 (which holds no lone surrogate).
 */
function isPlainStringText(buf: Buffer, start: number, end: number): boolean {
  let high = false;
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return false;
    if (c >= 0x80) high = true;
  }
  return !high || isUtf8(buf.subarray(start, end));
}

/** Text as the latin1 string of its UTF-8 bytes (the answer's one-character-per-byte form). */
function latin1OfText(text: string): string {
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) >= 0x80) return Buffer.from(text, 'utf8').toString('latin1');
  return text;
}
