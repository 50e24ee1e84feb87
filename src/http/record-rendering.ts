import type { RecordHeader } from '../broker/fetched-records.js';
import type { EmbeddedFormat } from '../consumers/consumer-instance.js';
import { RecordFormatError } from '../errors.js';
import { DEEP_JSON_MIN_CHARS, MAX_JSON_DEPTH, nestedTooDeep } from './json-values.js';

export interface RenderedBytes {
  value: unknown;
  /** The format actually used: `string` when a json value is not JSON and `lenient` allowed it. */
  format: EmbeddedFormat;
}

/**
 * Renders stored bytes for a JSON body: base64 for binary, UTF-8 text for string, the parsed
 * JSON value for json. A json value that is not JSON fails with 40801 (Confluent), its message
 * saying why (the caller names the record), or, when
 * `lenient`, falls back to its text and says so (SSE streams never stall on one record).
 */
export function renderBytes(bytes: Buffer | null, format: EmbeddedFormat, lenient: boolean): RenderedBytes {
  if (bytes === null) return { value: null, format };
  if (format === 'binary') return { value: bytes.toString('base64'), format };
  const text = bytes.toString('utf8');
  if (format === 'string') return { value: text, format };
  // JSON text starts with one of these (after whitespace); checking first spares the thrown
  // exception, which costs ~30x a successful parse, on streams of plain-text values.
  if (lenient && !/^\s*[[{"\-0-9tfn]/.test(text)) return { value: text, format: 'string' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (lenient) return { value: text, format: 'string' };
    throw new RecordFormatError('it is not valid JSON');
  }
  // Bytes stored through another format can be JSON nested too deep for the answer's JSON.stringify.
  if (text.length >= DEEP_JSON_MIN_CHARS && nestedTooDeep(value)) {
    if (lenient) return { value: text, format: 'string' };
    throw new RecordFormatError(`it is JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
  }
  return { value, format };
}

/** Header values: base64 in binary format, UTF-8 text otherwise (header values are rarely JSON). */
export function renderHeaders(
  headers: readonly RecordHeader[],
  format: EmbeddedFormat,
): { key: string; value: string | null }[] {
  return headers.map((h) => ({
    key: h.key,
    value: h.value === null ? null : format === 'binary' ? h.value.toString('base64') : h.value.toString('utf8'),
  }));
}
