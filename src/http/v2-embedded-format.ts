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
  const encodeData = DATA_ENCODERS[format];
  // Header values are text except in the binary format, where everything is base64.
  const encodeHeader = format === 'binary' ? decodeBase64 : encodeUtf8;
  return records.map((record, i) => {
    const produced: ProduceRecord = {
      key: encodeData(record.key, `records[${i}].key`),
      value: encodeData(record.value, `records[${i}].value`),
    };
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

type Encoder = (data: unknown, field: string) => Buffer | null;

const DATA_ENCODERS: Record<EmbeddedFormat, Encoder> = {
  // Confluent's KafkaJsonSerializer writes the JSON text: the string "k" is stored with its quotes.
  json: (data) => (data === undefined || data === null ? null : Buffer.from(JSON.stringify(data), 'utf8')),
  binary: decodeBase64,
  string: encodeUtf8,
};

// Standard alphabet. Padding is optional, as in Java's Base64.getDecoder() that Confluent uses.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  // Node's decoder silently skips bad characters; check first so garbage is refused, not half-stored.
  if (typeof data !== 'string' || !isBase64(data)) {
    throw new UnprocessableEntityError(`${field} is not a valid base64 string.`, 42206);
  }
  return Buffer.from(data, 'base64');
}

function isBase64(text: string): boolean {
  if (!BASE64.test(text)) return false;
  if (text.endsWith('=')) return text.length % 4 === 0;
  return text.length % 4 !== 1; // a lone trailing character carries only 6 bits
}

function encodeUtf8(data: unknown, field: string): Buffer | null {
  if (data === undefined || data === null) return null;
  if (typeof data !== 'string') throw new UnprocessableEntityError(`${field} must be a string or null.`, 42206);
  return Buffer.from(data, 'utf8');
}
