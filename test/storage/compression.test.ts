import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compressSync as rawSnappy } from 'snappy';
import { CorruptRecordError } from '../../src/errors.js';
import { CODEC_NAMES, CompressionCodec, compress, decompress } from '../../src/storage/compression.js';

const CODECS = [CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd] as const;
const MIB = 1024 * 1024;
/** The bound the broker uses for a batch (client-batch.ts, fetched-records.ts). */
const MAX_BYTES = 64 * MIB;

/** Text-like bytes that compress well, and random bytes that do not. */
function sample(sizeBytes: number): Buffer {
  const text = Buffer.from(
    '{"order":1234,"item":"mug","note":"a fairly repetitive value"} '.repeat(sizeBytes / 60 + 1),
  );
  return text.subarray(0, sizeBytes);
}

function assertCorrupt(fn: () => unknown, codec: number, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CorruptRecordError, `a CorruptRecordError, got ${String(err)}`);
    assert.match(err.message, new RegExp(`^${CODEC_NAMES[codec]} batch does not decompress: `));
    assert.match(err.message, pattern);
    assert.equal(err.kafkaError?.name, 'CORRUPT_MESSAGE');
    return true;
  });
}

describe('batch codecs', () => {
  for (const codec of CODECS) {
    const name = CODEC_NAMES[codec];

    test(`${name}: any bytes round-trip, and text shrinks`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 100_000 }), (bytes) => {
          const data = Buffer.from(bytes);
          assert.deepEqual(decompress(codec, compress(codec, data), MAX_BYTES), data);
        }),
        { numRuns: 60 },
      );
      const text = sample(300_000);
      const packed = compress(codec, text);
      assert.ok(packed.length < text.length / 4, `${packed.length} bytes for ${text.length}`);
      assert.deepEqual(decompress(codec, packed, MAX_BYTES), text);
    });

    test(`${name}: truncated input is a clear CORRUPT_MESSAGE, at every cut`, () => {
      const packed = compress(codec, sample(100_000));
      for (const cut of [0, 1, 5, 17, Math.floor(packed.length / 2), packed.length - 5, packed.length - 1]) {
        assertCorrupt(() => decompress(codec, packed.subarray(0, cut), MAX_BYTES), codec, /./);
      }
    });

    test(`${name}: bytes of another codec or of none are refused`, () => {
      const other = codec === CompressionCodec.Zstd ? CompressionCodec.Lz4 : CompressionCodec.Zstd;
      for (const input of [Buffer.from('plain text, not compressed at all'), compress(other, sample(1000))]) {
        assertCorrupt(() => decompress(codec, input, MAX_BYTES), codec, /./);
      }
    });

    test(`${name}: a decompression bomb is refused by the bound, not decompressed into memory`, () => {
      const zeros = compress(codec, Buffer.alloc(32 * MIB));
      assert.ok(zeros.length < 2 * MIB, `32 MiB of zeros packs into ${zeros.length} bytes`);
      assertCorrupt(
        () => decompress(codec, zeros, 4 * MIB),
        codec,
        /more than 4194304 bytes \(the decompression bound\)/,
      );
      assert.equal(decompress(codec, zeros, 32 * MIB).length, 32 * MIB, 'exactly at the bound it decompresses');
    });
  }

  test('snappy is written in snappy-java framing (what the Java client writes), 32 KiB per block', () => {
    const data = sample(100_000);
    const packed = compress(CompressionCodec.Snappy, data);
    assert.equal(packed.subarray(0, 16).toString('hex'), '82534e41505059000000000100000001');
    let blocks = 0;
    for (let pos = 16; pos < packed.length; pos += 4 + packed.readInt32BE(pos)) blocks++;
    assert.equal(blocks, Math.ceil(data.length / (32 * 1024)));
  });

  test('snappy also reads one raw snappy block (what librdkafka writes)', () => {
    const data = sample(70_000);
    assert.deepEqual(decompress(CompressionCodec.Snappy, rawSnappy(data), MAX_BYTES), data);
    // The raw block's length preamble is the bound: a block claiming 1 GiB is refused before decoding.
    const lying = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]), rawSnappy(data).subarray(3)]);
    assertCorrupt(() => decompress(CompressionCodec.Snappy, lying, MAX_BYTES), CompressionCodec.Snappy, /bound/);
  });

  test('zstd: a frame that declares more content than the bound is refused from its header', () => {
    // Magic, descriptor (8-byte content size, single segment), content size 1 TiB, then one RLE block.
    const frame = Buffer.alloc(4 + 1 + 8 + 4);
    frame.writeUInt32LE(0xfd2fb528, 0);
    frame.writeUInt8(0xe0, 4);
    frame.writeBigUInt64LE(1n << 40n, 5);
    frame.writeUIntLE((1 << 0) | (1 << 1) | (100 << 3), 13, 3);
    assertCorrupt(() => decompress(CompressionCodec.Zstd, frame, MAX_BYTES), CompressionCodec.Zstd, /bound/);
  });

  test('codec ids Kafka does not define are refused', () => {
    assert.throws(() => decompress(5, Buffer.from('x'), MAX_BYTES), /compression codec 5 is not supported/);
  });
});
