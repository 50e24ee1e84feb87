/**
 * Timestamps in requests, by one rule: a timestamp is a time in milliseconds since the Unix epoch,
 * an integer from 0 to 8.64e15 (the last instant a JavaScript Date holds; Kafka's -1 and -2 are
 * offsets-lookup sentinels, never times). A request gives it as a JSON number, or as text:
 *
 * - `iso-8601` (v3 produce, Confluent's own form): only an ISO-8601 date and time with an explicit
 *   zone, `2024-05-01T12:00:00Z` or `2024-05-01T14:00:00.123+02:00`; milliseconds come as a number.
 * - `lenient` (v2 seek, v3 consumer-group offset resets, the SSE `timestamp=` query, where the value
 *   is often typed by hand or arrives as query text): a string of digits is milliseconds, and any
 *   other text is read as a date by `Date.parse` (ISO-8601 and the RFC 2822 forms it knows).
 *
 * Returns null when the value is not a timestamp; each route answers that with its own error.
 */
export type TimestampText = 'iso-8601' | 'lenient';

/** The largest time a Date holds: 100,000,000 days after the epoch. */
export const MAX_TIMESTAMP_MS = 8_640_000_000_000_000;

/** Date and time with an explicit zone: `2024-05-01T12:00:00Z`, `...00.123+02:00`. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const DIGITS = /^\d+$/;

export function parseTimestampMs(value: string | number, text: TimestampText): number | null {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (text === 'lenient') ms = DIGITS.test(value) ? Number(value) : Date.parse(value);
  else ms = ISO_8601.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_TIMESTAMP_MS ? ms : null;
}
