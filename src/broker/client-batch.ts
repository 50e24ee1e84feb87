/**
 * A record batch as a Kafka client encoded it (the native listener's Produce), made appendable
 * without re-encoding it: Kafka's LogValidator checks for a client batch, on the bytes as they came.
 * Like Kafka's leader, it walks every record once (lengths, offset deltas, keys of a compacted
 * topic): a batch whose CRC holds but whose records do not parse would otherwise be stored and then
 * fail every HTTP and SSE reader of the partition.
 * The batch is stored as it is; the log stamps base offset and leader epoch at the append (outside
 * the CRC), and only a LogAppendTime topic rewrites the header (timestamp type, max timestamp), which
 * is inside the CRC, so the CRC is computed again then.
 */
import { crc32c } from '@node-rs/crc32';
import { InvalidRecordError } from '../errors.js';
import { KAFKA_ERRORS } from '../kafka-errors.js';
import { CODEC_NAMES, CompressionCodec } from '../storage/compression.js';
import { writeInt64BE } from '../storage/int64.js';
import type { LogConfig } from '../storage/log-config.js';
import { type PreparedBatch, preparedFromEncoded } from '../storage/partition-log.js';
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  compressionOf,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
} from '../storage/record-batch.js';
import { checkRecords } from '../storage/record-walker.js';

const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
/** Codecs the HTTP and SSE consumers can decode: a batch they could not read is refused here. */
const READABLE_CODECS: ReadonlySet<number> = new Set([CompressionCodec.None, CompressionCodec.Gzip]);
/** Most bytes a compressed client batch may expand to while its records are checked. */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * Checks one client batch (exactly one magic-2 batch, its length, CRC-32C and record count, as
 * preparedFromEncoded does; no control or transactional batch; a codec this broker reads) and
 * returns it ready to append. Throws a SamsaError carrying the Kafka error for the partition.
 */
export function clientBatchToAppend(config: LogConfig, batch: Buffer, now: number): PreparedBatch {
  if (batch.length > MAGIC_OFFSET) {
    const magic = batch.readInt8(MAGIC_OFFSET);
    if (magic === 0 || magic === 1) {
      throw new InvalidRecordError(
        `message format v${magic} is not accepted yet; use a client that writes record batches (magic 2, Kafka 0.11+)`,
        KAFKA_ERRORS.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      );
    }
  }
  const prepared = preparedFromEncoded(config, batch, now);
  const attributes = batch.readInt16BE(ATTRIBUTES_OFFSET);
  if (attributes & CONTROL) throw new InvalidRecordError('clients may not write control batches');
  if (attributes & TRANSACTIONAL) {
    throw new InvalidRecordError(
      'transactions are not supported: the batch is transactional',
      KAFKA_ERRORS.UNSUPPORTED_FOR_MESSAGE_FORMAT,
    );
  }
  const codec = compressionOf(attributes);
  if (!READABLE_CODECS.has(codec)) {
    throw new InvalidRecordError(
      `compression codec ${CODEC_NAMES[codec] ?? codec} is not supported yet (use none or gzip)`,
      KAFKA_ERRORS.UNSUPPORTED_COMPRESSION_TYPE,
    );
  }
  // A client numbers its records 0..n-1 (Kafka's "inner offsets"); readers derive offsets from that.
  const { keyless } = checkRecords(batch, MAX_DECOMPRESSED_BYTES);
  if (config.cleanupPolicyCompact && keyless)
    throw new InvalidRecordError('a compacted topic cannot accept a record without a key');
  if (config.logAppendTime) {
    batch.writeInt16BE(attributes | TIMESTAMP_TYPE_LOG_APPEND, ATTRIBUTES_OFFSET);
    writeInt64BE(batch, now, MAX_TIMESTAMP_OFFSET);
    batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  }
  return prepared;
}
