import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { clientBatchToAppend } from '../../src/broker/client-batch.js';
import { CorruptRecordError, RecordTooLargeError } from '../../src/errors.js';
import { CompressionCodec } from '../../src/storage/compression.js';
import { buildLogConfig } from '../../src/storage/log-config.js';
import {
  compressionOf,
  decodeRecordBatch,
  encodeRecordBatch,
  PRODUCER_ID_OFFSET,
  RECORDS_COUNT_OFFSET,
  readBatchHeader,
  timestampTypeOf,
  validateRecordBatch,
} from '../../src/storage/record-batch.js';

const NOW = 1_700_000_000_000;
const records = [0, 1, 2].map((i) => ({
  key: Buffer.from(`key-${i}`),
  value: Buffer.from(`a value that repeats itself ${i} `.repeat(20)),
  headers: [{ key: 'h', value: Buffer.from(String(i)) }],
  timestamp: NOW - 1000 + i,
}));

/** A client's batch in `codec`, with an idempotent producer's fields (producer id 42, epoch 3, base sequence 7). */
function clientBatch(codec: CompressionCodec): Buffer {
  const batch = encodeRecordBatch(records, { baseOffset: 0, compression: codec });
  batch.writeBigInt64BE(42n, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(3, PRODUCER_ID_OFFSET + 8);
  batch.writeInt32BE(7, PRODUCER_ID_OFFSET + 10);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

const config = (overrides: Record<string, string>) => buildLogConfig(overrides, {});

describe('a Kafka client batch on its way into a topic', () => {
  test('compression.type=producer keeps every codec as it came, bytes untouched', () => {
    for (const codec of [CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd]) {
      const batch = clientBatch(codec);
      const copy = Buffer.from(batch);
      const prepared = clientBatchToAppend('t', config({}), batch, NOW);
      assert.equal(prepared.batch, batch);
      assert.deepEqual(prepared.batch, copy);
    }
  });

  test('a topic naming a codec recompresses a batch in another codec once, keeping records and producer fields', () => {
    for (const [type, codec] of [
      ['zstd', CompressionCodec.Zstd],
      ['snappy', CompressionCodec.Snappy],
      ['uncompressed', CompressionCodec.None],
    ] as const) {
      const batch = clientBatch(CompressionCodec.Gzip);
      const prepared = clientBatchToAppend('t', config({ 'compression.type': type }), batch, NOW);
      validateRecordBatch(prepared.batch);
      assert.equal(compressionOf(readBatchHeader(prepared.batch).attributes), codec, type);
      assert.deepEqual(
        prepared.batch.subarray(PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET),
        batch.subarray(PRODUCER_ID_OFFSET, RECORDS_COUNT_OFFSET),
        'producer id, epoch and base sequence',
      );
      assert.deepEqual(decodeRecordBatch(prepared.batch), decodeRecordBatch(batch));
      assert.equal(prepared.recordCount, 3);
    }
    // Already in the topic's codec: stored as it came.
    const zstd = clientBatch(CompressionCodec.Zstd);
    assert.equal(clientBatchToAppend('t', config({ 'compression.type': 'zstd' }), zstd, NOW).batch, zstd);
  });

  test('a recompressed batch on a LogAppendTime topic carries the broker clock, with a CRC that holds', () => {
    const prepared = clientBatchToAppend(
      't',
      config({ 'compression.type': 'lz4', 'message.timestamp.type': 'LogAppendTime' }),
      clientBatch(CompressionCodec.Snappy),
      NOW,
    );
    validateRecordBatch(prepared.batch);
    const header = readBatchHeader(prepared.batch);
    assert.equal(compressionOf(header.attributes), CompressionCodec.Lz4);
    assert.equal(timestampTypeOf(header.attributes), 'LogAppendTime');
    assert.deepEqual(
      decodeRecordBatch(prepared.batch).map((r) => r.timestamp),
      [NOW, NOW, NOW],
    );
  });

  test('a batch that outgrows max.message.bytes once recompressed is refused', () => {
    const batch = clientBatch(CompressionCodec.Zstd);
    assert.ok(batch.length < 500, `${batch.length} bytes compressed`);
    assert.throws(
      () =>
        clientBatchToAppend(
          't',
          config({ 'compression.type': 'uncompressed', 'max.message.bytes': '1000' }),
          batch,
          NOW,
        ),
      RecordTooLargeError,
    );
  });

  test('a batch whose CRC holds but whose body is not in its codec is CORRUPT_MESSAGE', () => {
    for (const codec of [CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd]) {
      const batch = encodeRecordBatch(records, { baseOffset: 0 });
      batch.writeInt16BE(codec, 21);
      batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
      assert.throws(
        () => clientBatchToAppend('t', config({}), batch, NOW),
        (err: unknown) => err instanceof CorruptRecordError && /does not decompress/.test(err.message),
      );
    }
  });
});
