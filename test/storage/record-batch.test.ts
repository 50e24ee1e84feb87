import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { partitionForKey } from '../../src/broker/partitioner.js';
import { CorruptRecordError } from '../../src/errors.js';
import { CompressionCodec } from '../../src/storage/compression.js';
import {
  compressionOf,
  type DecodedRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  forEachBatch,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  timestampTypeOf,
  validateRecordBatch,
} from '../../src/storage/record-batch.js';
import { fieldColumnOf, type RecordColumns } from '../../src/storage/record-columns.js';

// kafkajs is CommonJS and keeps its protocol codecs under src/, which its package exports allow.
const require = createRequire(import.meta.url);
type KafkajsDecoder = { new (buf: Buffer): unknown };
interface KafkajsRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}
interface KafkajsBatch {
  firstOffset: string;
  partitionLeaderEpoch: number;
  lastOffsetDelta: number;
  timestampType: number;
  records: KafkajsRecord[];
}
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as KafkajsDecoder;
const kafkajsDecodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  d: unknown,
) => Promise<KafkajsBatch>;
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch: (opts: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (
  opts: Record<string, unknown>,
) => unknown;
const { Partitioners } = require('kafkajs') as {
  Partitioners: {
    DefaultPartitioner: () => (args: {
      topic: string;
      partitionMetadata: unknown[];
      message: { key: Buffer };
    }) => number;
  };
};
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), written out independently of @node-rs/crc32. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function referenceCrc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const T0 = 1_700_000_000_000;

function roundTrip(
  records: RecordInput[],
  opts: Parameters<typeof encodeRecordBatch>[1] = { baseOffset: 0 },
): DecodedRecord[] {
  const batch = encodeRecordBatch(records, opts);
  validateRecordBatch(batch);
  return decodeRecordBatch(batch);
}

function assertSameRecords(actual: DecodedRecord[], expected: RecordInput[], baseOffset = 0): void {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => {
    const a = actual[i] as DecodedRecord;
    assert.equal(a.offset, baseOffset + i);
    assert.equal(a.timestamp, e.timestamp);
    assert.deepEqual(a.key, e.key);
    assert.deepEqual(a.value, e.value);
    assert.deepEqual(a.headers, e.headers ?? []);
  });
}

/** kafkajs folds headers into an object, repeating keys into arrays; ours are a list. */
function headersAsKafkajsObject(headers: readonly { key: string; value: Buffer | null }[]): Record<string, unknown> {
  const out: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const { key, value } of headers) {
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

/** A varied batch: null key, tombstone, empty buffers, unicode, headers with a null value, out-of-order timestamps. */
function variedRecords(): RecordInput[] {
  return [
    { key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: T0 },
    { key: null, value: Buffer.from('no key'), timestamp: T0 + 5 },
    { key: Buffer.from('gone'), value: null, timestamp: T0 + 1 },
    { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: T0 - 20 },
    { key: Buffer.from('naïve ☃ 𝄞'), value: Buffer.from('日本語のテキスト 🎉', 'utf8'), timestamp: T0 + 1000 },
    {
      key: Buffer.from('h'),
      value: randomBytes(300),
      headers: [
        { key: 'trace-id', value: Buffer.from('abc') },
        { key: 'empty', value: Buffer.alloc(0) },
        { key: 'nothing', value: null },
        { key: 'ключ', value: Buffer.from('значение') },
      ],
      timestamp: T0 - 3,
    },
  ];
}

describe('record batch encoding', () => {
  test('round-trips keys, values, tombstones, headers, unicode and empty buffers', () => {
    const records = variedRecords();
    assertSameRecords(roundTrip(records, { baseOffset: 0 }), records);
  });

  test('round-trips a batch at a large base offset with the right absolute offsets', () => {
    const records = variedRecords();
    const base = 2 ** 40 + 17;
    const batch = encodeRecordBatch(records, { baseOffset: base });
    const header = readBatchHeader(batch);
    assert.equal(header.baseOffset, base);
    assert.equal(header.lastOffset, base + records.length - 1);
    assertSameRecords(decodeRecordBatch(batch), records, base);
  });

  test('stores the smallest timestamp as base and the largest as maxTimestamp', () => {
    const records = variedRecords();
    const header = readBatchHeader(encodeRecordBatch(records, { baseOffset: 0 }));
    assert.equal(header.baseTimestamp, T0 - 20);
    assert.equal(header.maxTimestamp, T0 + 1000);
    assert.equal(timestampTypeOf(header.attributes), 'CreateTime');
  });

  test('a LogAppendTime batch sets the attribute bit and every record reads the broker time', () => {
    const records = variedRecords();
    const batch = encodeRecordBatch(records, {
      baseOffset: 0,
      timestampType: 'LogAppendTime',
      logAppendTime: T0 + 99_999,
    });
    validateRecordBatch(batch);
    const header = readBatchHeader(batch);
    assert.equal(header.attributes & 0x08, 0x08);
    assert.equal(timestampTypeOf(header.attributes), 'LogAppendTime');
    assert.equal(header.maxTimestamp, T0 + 99_999);
    for (const r of decodeRecordBatch(batch)) assert.equal(r.timestamp, T0 + 99_999);
  });

  test('a gzip, snappy, lz4 or zstd batch round-trips and is smaller than the same records uncompressed', () => {
    const records: RecordInput[] = Array.from({ length: 200 }, (_, i) => ({
      key: Buffer.from(`key-${i % 7}`),
      value: Buffer.from(`a fairly repetitive value number ${i} `.repeat(5)),
      headers: i % 3 === 0 ? [{ key: 'h', value: null }] : [],
      timestamp: T0 + i,
    }));
    const plain = encodeRecordBatch(records, { baseOffset: 10 });
    for (const codec of [CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd]) {
      const packed = encodeRecordBatch(records, { baseOffset: 10, compression: codec });
      validateRecordBatch(packed);
      assert.equal(compressionOf(readBatchHeader(packed).attributes), codec);
      assert.ok(packed.length < plain.length / 3, `codec ${codec}: ${packed.length} bytes vs plain ${plain.length}`);
      assertSameRecords(decodeRecordBatch(packed), records, 10);
    }
  });

  test('records in columns encode to the same bytes as the same records as objects, whole or by rows', () => {
    // Byte columns take the produce path's copies (a DataView loop for small fields, staged
    // copyWithin for a whole batch of values averaging 48 bytes or more); objects take Uint8Array.set.
    const field = fc.option(
      fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 40, maxLength: 300 })),
      {
        nil: null,
      },
    );
    const record = fc.record({ key: field, value: field, delta: fc.integer({ min: 0, max: 5000 }) });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (rs, stride) => {
        const inputs: RecordInput[] = rs.map((r) => ({
          key: r.key && Buffer.from(r.key),
          value: r.value && Buffer.from(r.value),
          timestamp: 1_700_000_000_000 + r.delta,
        }));
        const columns: RecordColumns = {
          count: inputs.length,
          keys: fieldColumnOf(inputs.map((r) => r.key)),
          values: fieldColumnOf(inputs.map((r) => r.value)),
          timestamps: Float64Array.from(inputs, (r) => r.timestamp),
          headers: null,
        };
        const whole = encodeRecordBatch(columns, { baseOffset: 9 });
        assert.ok(whole.equals(encodeRecordBatch(inputs, { baseOffset: 9 })), 'the whole request as one batch');
        const rows = inputs.map((_, i) => i).filter((i) => i % stride === 0);
        const picked = encodeRecordBatch(columns, { baseOffset: 9, rows });
        const expected = encodeRecordBatch(
          rows.map((i) => inputs[i] as RecordInput),
          { baseOffset: 9 },
        );
        assert.ok(picked.equals(expected), `rows ${rows.join(',')} as one batch`);
        assert.equal(decodeRecordBatch(whole).length, inputs.length, 'and the batch decodes');
      }),
      { numRuns: 200 },
    );
  });

  test('refuses an empty batch', () => {
    assert.throws(() => encodeRecordBatch([], { baseOffset: 0 }), RangeError);
  });

  test('matches a batch assembled byte by byte from the KIP-98 layout', () => {
    const timestamp = 1_600_000_000_123;
    const actual = encodeRecordBatch([{ key: Buffer.from('k'), value: Buffer.from('v'), timestamp }], {
      baseOffset: 0,
    });

    // One record: length varint, attributes, timestampDelta varlong, offsetDelta varint,
    // key (zig-zag length 1 = 0x02, 'k'), value (0x02, 'v'), header count 0.
    const recordBody = Buffer.from([0x00, 0x00, 0x00, 0x02, 0x6b, 0x02, 0x76, 0x00]);
    const record = Buffer.concat([Buffer.from([recordBody.length * 2]), recordBody]); // zig-zag of 8 = 16

    const afterCrc = Buffer.alloc(2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
    let p = 0;
    p = afterCrc.writeInt16BE(0, p); // attributes: no compression, CreateTime
    p = afterCrc.writeInt32BE(0, p); // lastOffsetDelta
    p = afterCrc.writeBigInt64BE(BigInt(timestamp), p); // baseTimestamp
    p = afterCrc.writeBigInt64BE(BigInt(timestamp), p); // maxTimestamp
    p = afterCrc.writeBigInt64BE(-1n, p); // producerId: none
    p = afterCrc.writeInt16BE(-1, p); // producerEpoch
    p = afterCrc.writeInt32BE(-1, p); // baseSequence
    afterCrc.writeInt32BE(1, p); // recordsCount
    const crcCovered = Buffer.concat([afterCrc, record]);

    const head = Buffer.alloc(8 + 4 + 4 + 1 + 4);
    head.writeBigInt64BE(0n, 0); // baseOffset
    head.writeInt32BE(4 + 1 + 4 + crcCovered.length, 8); // batchLength: from partitionLeaderEpoch to the end
    head.writeInt32BE(-1, 12); // partitionLeaderEpoch: none yet
    head.writeInt8(2, 16); // magic
    head.writeUInt32BE(referenceCrc32c(crcCovered), 17);
    const expected = Buffer.concat([head, crcCovered]);

    assert.equal(expected.length, 70);
    assert.equal(actual.toString('hex'), expected.toString('hex'));
  });

  test('the reference CRC-32C agrees with the published check value', () => {
    assert.equal(referenceCrc32c(Buffer.from('123456789')), 0xe3069283);
  });
});

describe('record batch validation', () => {
  const batch = (): Buffer =>
    encodeRecordBatch(
      [
        { key: Buffer.from('a'), value: Buffer.from('first value'), timestamp: T0 },
        { key: Buffer.from('b'), value: Buffer.from('second value'), timestamp: T0 + 1 },
      ],
      { baseOffset: 5 },
    );

  test('accepts a well-formed batch', () => {
    validateRecordBatch(batch());
  });

  test('rejects a batch with one byte flipped in the records area', () => {
    const b = batch();
    for (const pos of [61, b.length - 1, Math.floor((61 + b.length) / 2)]) {
      const damaged = Buffer.from(b);
      damaged[pos] = (damaged[pos] as number) ^ 0x01;
      assert.throws(() => validateRecordBatch(damaged), CorruptRecordError, `flip at ${pos}`);
    }
  });

  test('rejects a batch with a damaged header field inside the CRC', () => {
    const damaged = batch();
    damaged.writeInt32BE(damaged.readInt32BE(57) + 1, 57); // recordsCount
    assert.throws(() => validateRecordBatch(damaged), /CRC/);
  });

  test('rejects a wrong magic byte', () => {
    const damaged = batch();
    damaged.writeInt8(1, 16);
    assert.throws(() => validateRecordBatch(damaged), /magic 1/);
  });

  test('rejects a buffer shorter than the batch header', () => {
    assert.throws(() => validateRecordBatch(batch().subarray(0, 60)), /smaller than the 61-byte header/);
    assert.throws(() => validateRecordBatch(Buffer.alloc(0)), CorruptRecordError);
  });

  test('rejects a declared length that disagrees with the buffer', () => {
    const b = batch();
    assert.throws(() => validateRecordBatch(b.subarray(0, b.length - 1)), /declares/);
    assert.throws(() => validateRecordBatch(Buffer.concat([b, Buffer.alloc(1)])), /declares/);
    const longer = Buffer.from(b);
    longer.writeInt32BE(longer.readInt32BE(8) + 4, 8);
    assert.throws(() => validateRecordBatch(longer), /declares/);
  });

  test('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid', () => {
    const b = batch();
    const crc = b.readUInt32BE(17);
    setBaseOffset(b, 123_456_789_012);
    setPartitionLeaderEpoch(b, 42);
    validateRecordBatch(b);
    assert.equal(b.readUInt32BE(17), crc);
    const header = readBatchHeader(b);
    assert.equal(header.baseOffset, 123_456_789_012);
    assert.equal(header.partitionLeaderEpoch, 42);
    assert.deepEqual(
      decodeRecordBatch(b).map((r) => r.offset),
      [123_456_789_012, 123_456_789_013],
    );
  });

  test('decoding a truncated record area throws CorruptRecordError, never garbage', () => {
    const b = batch();
    // Keep the header consistent with the shorter buffer so only the records are cut.
    const cut = Buffer.from(b.subarray(0, b.length - 5));
    cut.writeInt32BE(cut.length - 12, 8);
    assert.throws(() => decodeRecordBatch(cut), CorruptRecordError);
  });

  test('forEachBatch walks concatenated batches and ignores a partial trailing one', () => {
    const a = encodeRecordBatch([{ key: null, value: Buffer.from('x'), timestamp: T0 }], { baseOffset: 0 });
    const b = encodeRecordBatch([{ key: null, value: Buffer.from('yy'), timestamp: T0 }], { baseOffset: 1 });
    const seen: number[] = [];
    forEachBatch(Buffer.concat([a, b, b.subarray(0, 40)]), (h) => seen.push(h.baseOffset));
    assert.deepEqual(seen, [0, 1]);
  });
});

describe('kafkajs interoperability', () => {
  test('kafkajs decodes our batches to the same offsets, keys, values, headers and timestamps', async () => {
    for (const compression of [CompressionCodec.None, CompressionCodec.Gzip]) {
      const records = variedRecords();
      const ours = encodeRecordBatch(records, { baseOffset: 1000, partitionLeaderEpoch: 7, compression });
      const decoded = await kafkajsDecodeBatch(new KafkajsDecoder(ours));
      assert.equal(decoded.firstOffset, '1000');
      assert.equal(decoded.partitionLeaderEpoch, 7);
      assert.equal(decoded.lastOffsetDelta, records.length - 1);
      assert.equal(decoded.records.length, records.length);
      records.forEach((r, i) => {
        const k = decoded.records[i] as KafkajsRecord;
        assert.equal(k.offset, String(1000 + i));
        assert.equal(k.timestamp, String(r.timestamp));
        assert.deepEqual(k.key, r.key);
        assert.deepEqual(k.value, r.value);
        assert.deepEqual(k.headers, headersAsKafkajsObject(r.headers ?? []));
      });
    }
  });

  test('kafkajs reads the broker time of our LogAppendTime batches', async () => {
    const ours = encodeRecordBatch(variedRecords(), {
      baseOffset: 0,
      timestampType: 'LogAppendTime',
      logAppendTime: T0 + 5,
    });
    const decoded = await kafkajsDecodeBatch(new KafkajsDecoder(ours));
    for (const r of decoded.records) assert.equal(r.timestamp, String(T0 + 5));
  });

  test('we validate and decode batches kafkajs encodes, including negative timestamp deltas', async () => {
    // kafkajs, like the Java producer, takes the first record's timestamp as the base, so a
    // later record with an earlier timestamp carries a negative delta.
    const inputs = [
      { key: Buffer.from('first'), value: Buffer.from('one'), timestamp: T0 + 500, headers: { a: Buffer.from('1') } },
      { key: null, value: Buffer.from('earlier than the base'), timestamp: T0 - 12_345, headers: {} },
      {
        key: Buffer.from('tomb'),
        value: null,
        timestamp: T0 + 500,
        headers: { x: [Buffer.from('p'), Buffer.from('q')] },
      },
      { key: Buffer.from('ünï'), value: Buffer.alloc(0), timestamp: T0 + 1, headers: { ключ: Buffer.from('знач') } },
    ];
    for (const compression of [0, 1]) {
      const firstTimestamp = T0 + 500;
      const encoded = await kafkajsRecordBatch({
        compression,
        firstOffset: 77,
        firstTimestamp,
        maxTimestamp: T0 + 500,
        lastOffsetDelta: inputs.length - 1,
        records: inputs.map((r, i) =>
          kafkajsRecord({
            offsetDelta: i,
            timestampDelta: r.timestamp - firstTimestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
          }),
        ),
      });
      const bytes = Buffer.from(encoded.buffer);
      validateRecordBatch(bytes);
      const header = readBatchHeader(bytes);
      assert.equal(header.baseOffset, 77);
      assert.equal(header.baseTimestamp, firstTimestamp);
      assert.equal(compressionOf(header.attributes), compression);
      const decoded = decodeRecordBatch(bytes);
      assert.equal(decoded.length, inputs.length);
      inputs.forEach((r, i) => {
        const d = decoded[i] as DecodedRecord;
        assert.equal(d.offset, 77 + i);
        assert.equal(d.timestamp, r.timestamp);
        assert.deepEqual(d.key, r.key);
        assert.deepEqual(d.value, r.value);
        assert.deepEqual(headersAsKafkajsObject(d.headers), r.headers);
      });
    }
  });
});

describe('murmur2 partitioning', () => {
  test('matches the Java client on its published vectors', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2. (The vectors in kafkajs's own
    // murmur2.spec.js history belong to its pre-2.0 non-Java hash, now LegacyPartitioner.)
    const javaVectors: [Buffer, number][] = [
      [Buffer.from('21'), -973932308],
      [Buffer.from('foobar'), -790332482],
      [Buffer.from('a-little-bit-long-string'), -985981536],
      [Buffer.from('a-little-bit-longer-string'), -1486304829],
      [Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'), -58897971],
      [Buffer.from([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [key, hash] of javaVectors) {
      assert.equal(kafkajsMurmur2(key), hash, `kafkajs on ${key.toString('hex')}`);
      for (const partitions of [1, 3, 7, 12, 50]) {
        assert.equal(
          partitionForKey(key, partitions),
          (hash & 0x7fffffff) % partitions,
          `key ${key.toString('hex')}, ${partitions} partitions`,
        );
      }
    }
  });

  test('chooses the partition kafkajs DefaultPartitioner chooses for random keys', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    for (let i = 0; i < 400; i++) {
      const key = randomBytes(i % 64);
      const partitions = (i % 50) + 1;
      const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionId: p, leader: 0 }));
      const expected = partitioner({ topic: 'orders', partitionMetadata, message: { key } });
      assert.equal(partitionForKey(key, partitions), expected, `key ${key.toString('hex')}, ${partitions} partitions`);
      // The produce path hashes a key where it lies in its request's key buffer.
      const around = Buffer.concat([randomBytes(i % 7), key, randomBytes(3)]);
      assert.equal(
        partitionForKey(around, partitions, i % 7, key.length),
        expected,
        `key ${key.toString('hex')} at ${i % 7} in a larger buffer, ${partitions} partitions`,
      );
    }
  });
});
