/**
 * The v2 produce body read in one pass over its bytes, without JSON.parse: the common request
 * (`{"records":[{"key":…,"value":…,"partition":…},…]}`) becomes its columns directly: each json
 * or string field is a slice of the request body itself, found where it lies and never copied, and
 * binary fields are decoded from the body's bytes into one buffer. The per-byte loops (string ends,
 * base64) run in WebAssembly SIMD (wasm/scan-kernels.ts). Parsing the body into 1000 objects and
 * strings, validating them, then stringifying the values back to find their text cost about a
 * third of a batched produce's CPU.
 *
 * The scan answers only when it can answer exactly as the spec's way would (JSON.parse, the
 * schema's validation, then v2-embedded-format.ts's toProduceColumns): otherwise it returns null
 * and the request takes that way, which words every error. It declines:
 * - a body that is not valid UTF-8 (JSON.parse would see replacement characters), or holds any
 *   field but `records` at the top and `key`, `value`, `partition` in a record, or repeats one;
 * - an empty `records`, or more than the request limit (the spec's way answers those 422s);
 * - a string with an escape or a control character (its stored text would differ from its source);
 * - in a json value: whitespace, a number that is not a plain integer of at most 15 digits, `-0`,
 *   an object key that is all digits (JSON.stringify puts those first), a repeated key, or
 *   nesting deeper than MAX_DEPTH. Everything it keeps is text JSON.stringify would write the same;
 * - a partition that is not a plain integer in 0..2^31-1; a non-string key or value in the
 *   binary and string formats, or one that is not base64 in the binary format.
 * test/http/v2-produce-scan.test.ts holds the scan to that: for generated bodies, it declines or
 * gives what the spec's way gives, field for field.
 */
import { isUtf8 } from 'node:buffer';
import type { ProduceColumns } from '../broker/broker.js';
import { type FieldColumn, NULL_LENGTH, nullColumn } from '../broker/produce-request.js';
import { CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, MINUS, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-syntax.js';
import { type EmbeddedFormat, unpaddedBase64Length } from './v2-embedded-format.js';
import { ScanKernels } from './wasm/scan-kernels.js';

/** Deepest nesting of objects and arrays kept in a json value; deeper goes the spec's way. */
const MAX_DEPTH = 64;
/** Most digits of an integer kept as it is: any 15-digit integer is below 2^53, so it prints back the same. */
const MAX_INTEGER_DIGITS = 15;
/** Most keys in one object of a json value (the repeated-key check compares every pair). */
const MAX_OBJECT_KEYS = 64;
/** Kernel memory kept between requests; a larger body's is given back once it is scanned. */
const KEPT_KERNEL_BYTES = 4 * 1024 * 1024;

/** The request's columns, or null when the body is not in the shape this scan keeps (see above). */
export function scanProduceBody(raw: Buffer, format: EmbeddedFormat, maxRecords: number): ProduceColumns | null {
  if (raw.length === 0 || !isUtf8(raw)) return null;
  // Base64 decodes to at most three quarters of its text.
  KERNELS.load(raw, format === 'binary' ? Math.ceil((raw.length * 3) / 4) : 0);
  try {
    return scanLoaded(raw, format, maxRecords);
  } finally {
    KERNELS.release(KEPT_KERNEL_BYTES); // the columns hold copies, or slices of `raw`: nothing points into it
  }
}

function scanLoaded(raw: Buffer, format: EmbeddedFormat, maxRecords: number): ProduceColumns | null {
  const scanner = new BodyScanner(raw, format === 'json', maxRecords);
  try {
    scanner.scanBody();
  } catch (err) {
    if (err === DECLINED) return null;
    throw err;
  }
  const count = scanner.count;
  const keys = format === 'binary' ? base64Column(KEYS, count, raw) : textColumn(KEYS, count, raw);
  const values = format === 'binary' ? base64Column(VALUES, count, raw) : textColumn(VALUES, count, raw);
  // A field that is not base64: the spec's way words (and counts) the error.
  if (keys === null || values === null) return null;
  return {
    records: {
      count,
      keys,
      values,
      timestamps: new Float64Array(count).fill(Number.NaN), // NaN: the broker's clock
      headers: null,
    },
    partitions: scanner.partitionsNamed ? PARTITIONS.values.slice(0, count) : null,
  };
}

/** Thrown inside the scan, caught at its top: the body goes the spec's way. */
const DECLINED = new Error('declined');

/**
 * Where each record's field lies in the body. Scratch, reused by every scan (scans are
 * synchronous, one at a time) and grown to the most records a request has held: the columns a
 * scan answers with are copies of its first `count` entries.
 */
class Spans {
  starts = new Int32Array(64);
  lengths = new Int32Array(64);
  /** Whether any record of this scan has the field. */
  present = false;

  grow(): void {
    this.starts = grown(this.starts);
    this.lengths = grown(this.lengths);
  }
}

/** Each record's partition, -1 where it names none; scratch like Spans. */
class PartitionScratch {
  values = new Int32Array(64);

  grow(): void {
    this.values = grown(this.values);
  }
}

function grown(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const larger = new Int32Array(array.length * 2);
  larger.set(array);
  return larger;
}

const KERNELS = new ScanKernels();
const KEYS = new Spans();
const VALUES = new Spans();
const PARTITIONS = new PartitionScratch();

/** json and string fields are the body's own bytes: a column over the body, no copy. */
function textColumn(spans: Spans, count: number, raw: Buffer): FieldColumn {
  if (!spans.present) return nullColumn(count);
  return { bytes: raw, starts: spans.starts.slice(0, count), lengths: spans.lengths.slice(0, count) };
}

/**
 * Binary fields decoded from base64 into one buffer, or null when one is not base64 as
 * v2-embedded-format.ts defines it (its padding rule, unpaddedBase64Length, and nothing outside
 * the standard alphabet).
 */
function base64Column(spans: Spans, count: number, raw: Buffer): FieldColumn | null {
  if (!spans.present) return nullColumn(count);
  const starts = new Int32Array(count);
  const lengths = new Int32Array(count);
  let out = 0;
  for (let i = 0; i < count; i++) {
    starts[i] = out;
    let length = spans.lengths[i] as number;
    if (length === NULL_LENGTH) {
      lengths[i] = NULL_LENGTH;
      continue;
    }
    const start = spans.starts[i] as number;
    const end = start + length;
    length = unpaddedBase64Length(length, raw[end - 1] as number, raw[end - 2] as number);
    if (length < 0 || !KERNELS.decodeBase64(start, length, out)) return null;
    const bytes = (length * 3) >> 2;
    lengths[i] = bytes;
    out += bytes;
  }
  return { bytes: KERNELS.output(out), starts, lengths };
}

const KEY = 1;
const VALUE = 2;
const PARTITION = 4;

class BodyScanner {
  pos = 0;
  count = 0;
  partitionsNamed = false;

  constructor(
    private readonly b: Buffer,
    /** json format: a field is any JSON text, stored with its quotes; else a string, stored without. */
    private readonly json: boolean,
    private readonly maxRecords: number,
  ) {}

  scanBody(): void {
    KEYS.present = false;
    VALUES.present = false;
    this.skipWhitespace();
    this.expect(OPEN_BRACE);
    this.skipWhitespace();
    this.expectWord(RECORDS);
    this.skipWhitespace();
    this.expect(COLON);
    this.skipWhitespace();
    this.expect(OPEN_BRACKET);
    this.skipWhitespace();
    for (;;) {
      this.scanRecord();
      this.skipWhitespace();
      const c = this.b[this.pos++];
      if (c === CLOSE_BRACKET) break;
      if (c !== COMMA) throw DECLINED;
      this.skipWhitespace();
    }
    this.skipWhitespace();
    this.expect(CLOSE_BRACE);
    this.skipWhitespace();
    if (this.pos !== this.b.length) throw DECLINED;
  }

  private scanRecord(): void {
    if (this.count === this.maxRecords) throw DECLINED;
    const i = this.count++;
    if (i === KEYS.starts.length) {
      KEYS.grow();
      VALUES.grow();
      PARTITIONS.grow();
    }
    KEYS.lengths[i] = NULL_LENGTH;
    VALUES.lengths[i] = NULL_LENGTH;
    PARTITIONS.values[i] = -1;
    this.expect(OPEN_BRACE);
    this.skipWhitespace();
    if (this.b[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    let seen = 0;
    for (;;) {
      this.expect(QUOTE);
      const field = this.fieldName();
      if ((seen & field) !== 0) throw DECLINED;
      seen |= field;
      this.skipWhitespace();
      this.expect(COLON);
      this.skipWhitespace();
      if (field === PARTITION) this.scanPartition(i);
      else this.scanField(field === KEY ? KEYS : VALUES, i);
      this.skipWhitespace();
      const c = this.b[this.pos++];
      if (c === CLOSE_BRACE) return;
      if (c !== COMMA) throw DECLINED;
      this.skipWhitespace();
    }
  }

  /** `key"`, `value"` or `partition"` after the opening quote; anything else declines. */
  private fieldName(): number {
    const b = this.b;
    const p = this.pos;
    if (b[p] === 0x6b && b[p + 1] === 0x65 && b[p + 2] === 0x79 && b[p + 3] === QUOTE) {
      this.pos = p + 4;
      return KEY;
    }
    if (this.matches(VALUE_NAME, p)) {
      this.pos = p + VALUE_NAME.length;
      return VALUE;
    }
    if (this.matches(PARTITION_NAME, p)) {
      this.pos = p + PARTITION_NAME.length;
      return PARTITION;
    }
    throw DECLINED;
  }

  private scanField(spans: Spans, i: number): void {
    const b = this.b;
    const start = this.pos;
    const c = b[start];
    if (c === N) {
      this.expectWord(NULL);
      return; // the length stays NULL_LENGTH
    }
    spans.present = true;
    if (c === QUOTE) {
      const end = this.stringEnd(start + 1);
      this.pos = end + 1;
      // json stores the text with its quotes (Confluent's serializer writes JSON); the others, the string's bytes.
      spans.starts[i] = this.json ? start : start + 1;
      spans.lengths[i] = this.json ? end + 1 - start : end - start - 1;
      return;
    }
    if (!this.json) throw DECLINED; // binary and string fields are strings or null
    this.scanCompactValue(0);
    spans.starts[i] = start;
    spans.lengths[i] = this.pos - start;
  }

  private scanPartition(i: number): void {
    const start = this.pos;
    const digits = this.scanInteger();
    if (this.b[start] === MINUS || digits > 10) throw DECLINED;
    let partition = 0;
    for (let p = start; p < this.pos; p++) partition = partition * 10 + ((this.b[p] as number) - DIGIT_0);
    if (partition > 0x7fffffff) throw DECLINED;
    PARTITIONS.values[i] = partition;
    this.partitionsNamed = true;
  }

  /** A json value with no whitespace in it, whose text JSON.stringify would write the same. */
  private scanCompactValue(depth: number): void {
    const b = this.b;
    const c = b[this.pos];
    if (c === QUOTE) this.pos = this.stringEnd(this.pos + 1) + 1;
    else if (c === OPEN_BRACE) this.scanObject(depth + 1);
    else if (c === OPEN_BRACKET) this.scanArray(depth + 1);
    else if (c === MINUS || (c !== undefined && c >= DIGIT_0 && c <= DIGIT_9)) this.scanInteger();
    else if (c === T) this.expectWord(TRUE);
    else if (c === F) this.expectWord(FALSE);
    else if (c === N) this.expectWord(NULL);
    else throw DECLINED;
  }

  private scanObject(depth: number): void {
    if (depth > MAX_DEPTH) throw DECLINED;
    const b = this.b;
    this.pos++; // '{'
    if (b[this.pos] === CLOSE_BRACE) {
      this.pos++;
      return;
    }
    const keyStarts: number[] = [];
    const keyEnds: number[] = [];
    for (;;) {
      this.expect(QUOTE);
      const start = this.pos;
      const end = this.stringEnd(start);
      if (isIndexLike(b, start, end) || keyStarts.length === MAX_OBJECT_KEYS) throw DECLINED;
      for (let k = 0; k < keyStarts.length; k++) {
        if (sameBytes(b, keyStarts[k] as number, keyEnds[k] as number, start, end)) throw DECLINED;
      }
      keyStarts.push(start);
      keyEnds.push(end);
      this.pos = end + 1;
      this.expect(COLON);
      this.scanCompactValue(depth);
      const c = b[this.pos++];
      if (c === CLOSE_BRACE) return;
      if (c !== COMMA) throw DECLINED;
    }
  }

  private scanArray(depth: number): void {
    if (depth > MAX_DEPTH) throw DECLINED;
    const b = this.b;
    this.pos++; // '['
    if (b[this.pos] === CLOSE_BRACKET) {
      this.pos++;
      return;
    }
    for (;;) {
      this.scanCompactValue(depth);
      const c = b[this.pos++];
      if (c === CLOSE_BRACKET) return;
      if (c !== COMMA) throw DECLINED;
    }
  }

  /** A plain integer (no fraction, no exponent, not -0) of at most MAX_INTEGER_DIGITS digits; returns its digit count. */
  private scanInteger(): number {
    const b = this.b;
    let p = this.pos;
    const negative = b[p] === MINUS;
    if (negative) p++;
    const first = p;
    if (b[p] === DIGIT_0) {
      if (negative) throw DECLINED; // -0 prints back as 0
      p++;
    } else {
      for (let d = b[p]; d !== undefined && d >= DIGIT_0 && d <= DIGIT_9; d = b[++p]);
    }
    const digits = p - first;
    const next = b[p];
    if (digits === 0 || digits > MAX_INTEGER_DIGITS || next === DOT || next === E_LOWER || next === E_UPPER) {
      throw DECLINED;
    }
    this.pos = p;
    return digits;
  }

  /**
   * Index of the quote that closes the string whose text starts at `p`. An escape or a control
   * character declines: JSON.stringify would write the string back differently, or JSON.parse
   * would refuse it.
   */
  private stringEnd(p: number): number {
    const end = KERNELS.stringEnd(p, this.b.length);
    if (this.b[end] !== QUOTE) throw DECLINED; // a backslash, a control character, or the body's end
    return end;
  }

  private skipWhitespace(): void {
    const b = this.b;
    let p = this.pos;
    for (let c = b[p]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = b[++p]);
    this.pos = p;
  }

  private expect(c: number): void {
    if (this.b[this.pos] !== c) throw DECLINED;
    this.pos++;
  }

  private expectWord(word: Uint8Array): void {
    if (!this.matches(word, this.pos)) throw DECLINED;
    this.pos += word.length;
  }

  private matches(word: Uint8Array, p: number): boolean {
    const b = this.b;
    for (let k = 0; k < word.length; k++) if (b[p + k] !== word[k]) return false;
    return true;
  }
}

/**
 * Whether an object key is all digits: V8 orders integer-like keys before the others, so
 * JSON.stringify would not write such an object back in its source order. Declining every
 * all-digit key is stricter than V8's rule, and simpler.
 */
function isIndexLike(b: Buffer, start: number, end: number): boolean {
  if (start === end) return false;
  for (let p = start; p < end; p++) {
    const c = b[p] as number;
    if (c < DIGIT_0 || c > DIGIT_9) return false;
  }
  return true;
}

function sameBytes(b: Buffer, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let k = 0; k < e1 - s1; k++) if (b[s1 + k] !== b[s2 + k]) return false;
  return true;
}

const ascii = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
const RECORDS = ascii('"records"');
const VALUE_NAME = ascii('value"');
const PARTITION_NAME = ascii('partition"');
const NULL = ascii('null');
const TRUE = ascii('true');
const FALSE = ascii('false');
const N = 0x6e;
const T = 0x74;
const F = 0x66;
const DOT = 0x2e;
const E_LOWER = 0x65;
const E_UPPER = 0x45;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
