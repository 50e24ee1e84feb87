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

/** Copies up to this many bytes by hand rather than through the native calls. */
const SHORT_COPY_BYTES = 48;
const COMMA = 0x2c;
const QUOTE = 0x22;
const VALUE_FIELD = Buffer.from(',"value":', 'latin1');

/**
 * Bytes appended to one growing buffer: the answer is written in place, with no string per piece
 * to concatenate and flatten (ropes of short strings cost the garbage collector more than the
 * copying itself).
 */
class AnswerWriter {
  buf: Buffer;
  pos = 0;

  constructor(sizeBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, sizeBytes));
  }

  private ensure(more: number): void {
    if (this.pos + more <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + more));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** A string of one-byte characters (ASCII, or bytes as latin1), one byte each. */
  latin1(text: string): void {
    const n = text.length;
    this.ensure(n);
    // Short pieces (punctuation, numbers) by hand: Buffer#write's argument checks cost more.
    if (n <= SHORT_COPY_BYTES) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < n; i++) buf[pos++] = text.charCodeAt(i);
      this.pos = pos;
    } else this.pos += this.buf.write(text, this.pos, 'latin1');
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.ensure(n);
    if (n <= SHORT_COPY_BYTES) {
      const buf = this.buf;
      let pos = this.pos;
      for (let i = start; i < end; i++) buf[pos++] = src[i] as number;
      this.pos = pos;
    } else {
      this.buf.set(n === src.length ? src : src.subarray(start, end), this.pos);
      this.pos += n;
    }
  }

  /** JavaScript text as UTF-8. */
  utf8(text: string): void {
    this.ensure(text.length * 3);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/**
 * A v2 `GET records` answer written from the stored bytes, as the JSON array the object form
 * (`{topic, key, value, partition, offset, timestamp, headers}` per record) would stringify to:
 * binary fields are base64 of the bytes, string fields their UTF-8 text, json fields their stored
 * text as it is once a scan has found it valid (JSON.parse only decides what the scan cannot).
 * Stops at the first record it cannot render and says which.
 */
export function renderRecordsAnswer(
  runs: readonly ConsumedRun[],
  format: EmbeddedFormat,
): { bytes: Buffer; unrenderable: UnrenderableRecord | null } {
  let estimate = 2;
  for (const run of runs) estimate += run.count * (110 + run.topic.length) + Math.ceil(run.sizeBytes * 1.4);
  const out = new AnswerWriter(estimate);
  out.latin1('[');
  let written = 0;
  let unrenderable: UnrenderableRecord | null = null;
  for (let j = 0; j < runs.length && unrenderable === null; j++) {
    const run = runs[j] as ConsumedRun;
    const head = `{"topic":${JSON.stringify(run.topic)},"key":`;
    const headUtf8 = Buffer.from(head, 'utf8');
    const tail = `,"partition":${run.partition},"offset":`;
    forEachRecordOfRun(run, (r) => {
      const mark = out.pos;
      if (written > 0) out.byte(COMMA);
      out.bytes(headUtf8, 0, headUtf8.length);
      try {
        writeField(out, r, r.keyStart, r.keyLength, format);
      } catch (err) {
        out.pos = mark;
        unrenderable = unrenderableAt(err, 'key', run, r, format, written, j);
        return false;
      }
      out.bytes(VALUE_FIELD, 0, VALUE_FIELD.length);
      try {
        writeField(out, r, r.valueStart, r.valueLength, format);
      } catch (err) {
        out.pos = mark;
        unrenderable = unrenderableAt(err, 'value', run, r, format, written, j);
        return false;
      }
      out.latin1(`${tail}${r.offset},"timestamp":${r.timestamp},"headers":`);
      if (r.headerCount === 0) out.latin1('[]}');
      else {
        out.utf8(JSON.stringify(renderHeaders(r.headers(), format)));
        out.latin1('}');
      }
      written++;
      return true;
    });
  }
  out.latin1(']');
  return { bytes: out.result(), unrenderable };
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

/** The JSON of one key or value. */
function writeField(out: AnswerWriter, r: RecordCursor, start: number, length: number, format: EmbeddedFormat): void {
  const buf = r.buf;
  const end = start + length;
  if (length < 0) out.latin1('null');
  else if (format === 'binary') out.latin1(`"${buf.toString('base64', start, end)}"`);
  else if (format === 'string') {
    if (isPlainStringText(buf, start, end)) {
      out.byte(QUOTE);
      out.bytes(buf, start, end);
      out.byte(QUOTE);
    } else out.utf8(JSON.stringify(buf.toString('utf8', start, end)));
  } else if (isPassableJsonText(buf, start, end)) out.bytes(buf, start, end);
  // Not sure: the object path decides (and throws RecordFormatError for what is not JSON).
  else out.utf8(JSON.stringify(renderBytes(buf.subarray(start, end), 'json', false).value));
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
