/**
 * Fetched batches for a reader of an older message format (Kafka's down-conversion, for Fetch
 * v0–3): the edge passes what Broker.fetchPartitions read and gets message format v0 or v1 back
 * (storage/legacy-record.ts has the format and the rules).
 */
import { downConvert, MAGIC_V0, MAGIC_V1 } from '../storage/legacy-record.js';

/** Most bytes one compressed batch may expand to while it is converted. */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export type LegacyMessageFormat = typeof MAGIC_V0 | typeof MAGIC_V1;
export { MAGIC_V0, MAGIC_V1 };

/**
 * The records at or after `fromOffset` of stored batches as uncompressed messages of `magic`, in
 * whole messages up to `maxBytes` (the first always, when `minOneMessage`: KIP-74).
 */
export function downConvertFetched(
  batches: Buffer,
  magic: LegacyMessageFormat,
  fromOffset: number,
  maxBytes: number,
  minOneMessage: boolean,
): { records: Buffer; messages: number } {
  return downConvert(batches, magic, fromOffset, maxBytes, minOneMessage, MAX_DECOMPRESSED_BYTES);
}
