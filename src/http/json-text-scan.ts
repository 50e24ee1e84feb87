import { isUtf8 } from 'node:buffer';

/**
 * Deepest nesting the scan follows; deeper text is left to JSON.parse and the depth check of
 * record-rendering.ts (MAX_JSON_DEPTH), which decide it exactly as for any other value.
 */
const MAX_SCAN_DEPTH = 512;
const OBJECT = 1;
const ARRAY = 2;
const stack = new Uint8Array(MAX_SCAN_DEPTH + 1);

/** Where the last scan of a string or number ended; -1 when what it scanned was not JSON. */
let scanEnd = 0;

function skipWhitespace(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const c = buf[pos] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    pos++;
  }
  return pos;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66));
}

/** A string starting at the quote `pos`; sets scanEnd past it. Returns whether it held a byte >= 0x80. */
function scanString(buf: Uint8Array, pos: number, end: number): boolean {
  let high = false;
  pos++;
  while (pos < end) {
    const c = buf[pos] as number;
    if (c === 0x22) {
      scanEnd = pos + 1;
      return high;
    }
    if (c === 0x5c) {
      const e = buf[pos + 1];
      if (e === 0x75) {
        if (!isHex(buf[pos + 2]) || !isHex(buf[pos + 3]) || !isHex(buf[pos + 4]) || !isHex(buf[pos + 5])) break;
        pos += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74)
        break;
      pos += 2;
      continue;
    }
    if (c < 0x20) break;
    if (c >= 0x80) high = true;
    pos++;
  }
  scanEnd = -1;
  return high;
}

function digitsEnd(buf: Uint8Array, pos: number, end: number): number {
  while (pos < end) {
    const c = buf[pos] as number;
    if (c < 0x30 || c > 0x39) break;
    pos++;
  }
  return pos;
}

/** A number at `pos` (JSON's grammar); sets scanEnd past it, or -1. */
function scanNumber(buf: Uint8Array, pos: number, end: number): void {
  const start = pos;
  if (buf[pos] === 0x2d) pos++;
  if (buf[pos] === 0x30) pos++;
  else {
    const after = digitsEnd(buf, pos, end);
    if (after === pos) {
      scanEnd = -1;
      return;
    }
    pos = after;
  }
  if (buf[pos] === 0x2e) {
    const after = digitsEnd(buf, pos + 1, end);
    if (after === pos + 1) {
      scanEnd = -1;
      return;
    }
    pos = after;
  }
  let exponent = false;
  if (buf[pos] === 0x65 || buf[pos] === 0x45) {
    exponent = true;
    pos++;
    if (buf[pos] === 0x2b || buf[pos] === 0x2d) pos++;
    const after = digitsEnd(buf, pos, end);
    if (after === pos) {
      scanEnd = -1;
      return;
    }
    pos = after;
  }
  // 1e400 parses to Infinity, which JSON.stringify writes as null: such text is not passed through.
  if (
    (exponent || pos - start > 300) &&
    !Number.isFinite(Number(Buffer.from(buf.buffer, buf.byteOffset + start, pos - start).toString('latin1')))
  ) {
    scanEnd = -1;
    return;
  }
  scanEnd = pos;
}

function literalAt(buf: Uint8Array, pos: number, end: number, word: string): boolean {
  if (pos + word.length > end) return false;
  for (let i = 0; i < word.length; i++) if (buf[pos + i] !== word.charCodeAt(i)) return false;
  return true;
}

/**
 * Whether `buf[start, end)` is certainly one JSON text (RFC 8259, UTF-8, whitespace allowed around
 * it) that JSON.parse accepts and that JSON.stringify of its value can write again: the same
 * answer as parsing it, without building the value. False means "not sure": JSON.parse decides
 * (text that is not JSON, nested deeper than the scan follows, or numbers too large for a double).
 */
export function isPassableJsonText(buf: Uint8Array, start: number, end: number): boolean {
  let pos = skipWhitespace(buf, start, end);
  let depth = 0;
  let high = false;
  for (;;) {
    // A value at pos.
    const c = buf[pos];
    if (c === 0x7b || c === 0x5b) {
      if (depth === MAX_SCAN_DEPTH) return false;
      pos = skipWhitespace(buf, pos + 1, end);
      if (buf[pos] === (c === 0x7b ? 0x7d : 0x5d)) pos++;
      else {
        stack[++depth] = c === 0x7b ? OBJECT : ARRAY;
        if (c === 0x7b) {
          if (buf[pos] !== 0x22) return false;
          if (scanString(buf, pos, end)) high = true;
          if (scanEnd < 0) return false;
          pos = skipWhitespace(buf, scanEnd, end);
          if (buf[pos] !== 0x3a) return false;
          pos = skipWhitespace(buf, pos + 1, end);
        }
        continue;
      }
    } else if (c === 0x22) {
      if (scanString(buf, pos, end)) high = true;
      if (scanEnd < 0) return false;
      pos = scanEnd;
    } else if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
      scanNumber(buf, pos, end);
      if (scanEnd < 0) return false;
      pos = scanEnd;
    } else if (c === 0x74 && literalAt(buf, pos, end, 'true')) pos += 4;
    else if (c === 0x66 && literalAt(buf, pos, end, 'false')) pos += 5;
    else if (c === 0x6e && literalAt(buf, pos, end, 'null')) pos += 4;
    else return false;
    // After a value: close containers, or go on to the next element.
    for (;;) {
      pos = skipWhitespace(buf, pos, end);
      if (depth === 0) return pos === end && (!high || isUtf8(buf.subarray(start, end)));
      const n = buf[pos];
      if (n === 0x2c) {
        pos = skipWhitespace(buf, pos + 1, end);
        if (stack[depth] === OBJECT) {
          if (buf[pos] !== 0x22) return false;
          if (scanString(buf, pos, end)) high = true;
          if (scanEnd < 0) return false;
          pos = skipWhitespace(buf, scanEnd, end);
          if (buf[pos] !== 0x3a) return false;
          pos = skipWhitespace(buf, pos + 1, end);
        }
        break;
      }
      if ((n === 0x7d && stack[depth] === OBJECT) || (n === 0x5d && stack[depth] === ARRAY)) {
        depth--;
        pos++;
        continue;
      }
      return false;
    }
  }
}
