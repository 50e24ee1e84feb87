/**
 * A record batch as a Kafka client encoded it (the native listener's Produce), made appendable
 * without re-encoding it: Kafka's LogValidator checks for a client batch, on the bytes as they came.
 * Like Kafka's leader, it walks every record once (lengths, offset deltas, keys of a compacted
 * topic): a batch whose CRC holds but whose records do not parse would otherwise be stored and then
 * fail every HTTP and SSE reader of the partition.
 * The batch is stored as it is; the log stamps base offset and leader epoch at the append (outside
 * the CRC), and only a LogAppendTime topic rewrites the header (timestamp type, max timestamp), which
 * is inside the CRC, so the CRC is computed again then.
 * A topic whose `compression.type` names a codec stores its batches in that codec: a client batch in
 * another codec is compressed again once, on the way in, as Kafka's LogValidator does
 * (`producer`, the default, keeps every batch in the codec it came in).
 */
import { crc32c } from '@node-rs/crc32';
import { CorruptRecordError, InvalidRecordError, ProducerStateError, RecordTooLargeError } from '../errors.js';
import { KAFKA_ERRORS } from '../kafka-errors.js';
import { CODEC_NAMES, type CompressionCodec, isKnownCodec } from '../storage/compression.js';
import { writeInt64BE } from '../storage/int64.js';
import { decodeMessageSet, MAGIC_V0, MAGIC_V1, magicOf } from '../storage/legacy-record.js';
import type { LogConfig } from '../storage/log-config.js';
import { type PreparedBatch, prepareBatch, preparedFromEncoded } from '../storage/partition-log.js';
import {
  ATTRIBUTES_OFFSET,
  CRC_OFFSET,
  compressionOf,
  type DecodedRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  readBatchHeader,
} from '../storage/record-batch.js';
import { checkRecords } from '../storage/record-walker.js';
import { MAX_PRODUCER_ID, type ProducerBatch, producerBatchOf } from './producer-state-manager.js';

const TIMESTAMP_TYPE_LOG_APPEND = 0x08;
const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;
/** Most bytes a compressed client batch may expand to while its records are checked. */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/**
 * Checks one client batch (exactly one magic-2 batch, its length, CRC-32C and record count, as
 * preparedFromEncoded does; no control or transactional batch; a codec this broker reads) and
 * returns it ready to append, in the topic's codec. Throws a SamsaError carrying the Kafka error for
 * the partition. `legacyFormats` (Produce v0–2) also takes a message set of format v0 or v1, converted once to a
 * v2 batch here (messageSetToAppend); later Produce versions carry batches v2 only (Kafka's rule).
 */
export function clientBatchToAppend(
  topic: string,
  config: LogConfig,
  batch: Buffer,
  now: number,
  legacyFormats = false,
): PreparedBatch {
  if (batch.length > MAGIC_OFFSET) {
    const magic = batch.readInt8(MAGIC_OFFSET);
    if (legacyFormats && (magic === MAGIC_V0 || magic === MAGIC_V1))
      return messageSetToAppend(topic, config, batch, now);
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
  if (!isKnownCodec(codec)) {
    throw new InvalidRecordError(
      `compression codec ${CODEC_NAMES[codec] ?? codec} is not one of Kafka's (none, gzip, snappy, lz4, zstd)`,
      KAFKA_ERRORS.UNSUPPORTED_COMPRESSION_TYPE,
    );
  }
  if (config.compression !== null && config.compression !== codec) {
    // The topic names another codec: decoded once (which checks every record) and compressed again.
    const records = decodeRecordBatch(batch, MAX_DECOMPRESSED_BYTES);
    const { baseOffset } = readBatchHeader(batch);
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as (typeof records)[number];
      // A client numbers its records 0..n-1 (Kafka's "inner offsets"); readers derive offsets from that.
      if (record.offset - baseOffset !== i)
        throw new CorruptRecordError(`record ${i} of the batch has offset delta ${record.offset - baseOffset}`);
      if (config.cleanupPolicyCompact && record.key === null)
        throw new InvalidRecordError('a compacted topic cannot accept a record without a key');
    }
    const stored = recompressed(batch, records, config.compression);
    if (stored.length > config.maxMessageBytes) throw new RecordTooLargeError(stored.length, config.maxMessageBytes);
    if (config.logAppendTime) stampLogAppendTime(stored, now);
    return { batch: stored, recordCount: prepared.recordCount, now };
  }
  // Stored as it came: every record walked (offset deltas 0..n-1, fields within bounds), none built.
  const { keyless } = checkRecords(batch, MAX_DECOMPRESSED_BYTES);
  if (config.cleanupPolicyCompact && keyless)
    throw new InvalidRecordError('a compacted topic cannot accept a record without a key');
  if (config.logAppendTime) stampLogAppendTime(batch, now);
  return prepared;
}

/**
 * The records of `batch` as one batch in `codec`, with the same offsets, timestamps and producer
 * fields (producer id, epoch, base sequence: what idempotence keys on).
 */
function recompressed(batch: Buffer, records: DecodedRecord[], codec: CompressionCodec): Buffer {
  const header = readBatchHeader(batch);
  const out = encodeRecordBatch(records, { baseOffset: header.baseOffset, compression: codec });
  batch.copy(out, PRODUCER_ID_OFFSET, PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET);
  out.writeUInt32BE(crc32c(out.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return out;
}

/** Kafka's LogAppendTime: the broker clock becomes the batch's timestamp (inside the CRC). */
function stampLogAppendTime(batch: Buffer, now: number): void {
  batch.writeInt16BE(batch.readInt16BE(ATTRIBUTES_OFFSET) | TIMESTAMP_TYPE_LOG_APPEND, ATTRIBUTES_OFFSET);
  writeInt64BE(batch, now, MAX_TIMESTAMP_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

/**
 * A message set of format v0 or v1 (clients before Kafka 0.11) as one v2 batch, the way Kafka's
 * LogValidator converts it: every message's CRC-32 checked, compressed wrappers opened, one record
 * per message with its key, value and timestamp (a v0 message has none: NO_TIMESTAMP, -1, unless the
 * topic stamps LogAppendTime), encoded with the topic's compression and checked against its config
 * like any produced batch. The offsets the client wrote are ignored; the log assigns them.
 */
export function messageSetToAppend(topic: string, config: LogConfig, messageSet: Buffer, now: number): PreparedBatch {
  const magic = magicOf(messageSet);
  if (magic !== MAGIC_V0 && magic !== MAGIC_V1) throw new CorruptRecordError(`message set of magic ${magic}`);
  // Wrappers open through compression.ts: a codec it does not know fails there, as CORRUPT_MESSAGE.
  const set = decodeMessageSet(messageSet, MAX_DECOMPRESSED_BYTES);
  const records = set.records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp }));
  return prepareBatch(topic, config, records, now);
}

/**
 * The producer of a checked client batch (its id, epoch and sequences), or null for a batch of a
 * producer that is not idempotent (producer id -1). Kafka's LogValidator refuses a producer id
 * without a sequence; an id at or above 2^52 was never given out (InitProducerId stays below it)
 * and would read as an HTTP Idempotency-Key hash, so it is refused too.
 */
export function producerOfClientBatch(batch: Buffer): ProducerBatch | null {
  const header = readBatchHeader(batch);
  if (header.producerId < 0) return null;
  if (header.producerId >= MAX_PRODUCER_ID) {
    throw new ProducerStateError(
      'UNKNOWN_PRODUCER_ID',
      `producer id ${header.producerId} was not given out by this cluster (use InitProducerId)`,
    );
  }
  if (header.baseSequence < 0 || header.producerEpoch < 0) {
    throw new InvalidRecordError(
      `invalid sequence number ${header.baseSequence} or epoch ${header.producerEpoch} in a batch of producer ${header.producerId}`,
    );
  }
  return producerBatchOf(header);
}
