import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { CorruptRecordError } from '../../src/errors.js';
import { CompressionCodec } from '../../src/storage/compression.js';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../src/storage/record-batch.js';
import { checkRecords } from '../../src/storage/record-walker.js';

const MAX_BYTES = 64 * 1024 * 1024;

const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  value: fc.option(
    fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    { nil: null },
  ),
  headers: fc.array(
    fc.record({
      key: fc.string({ maxLength: 20 }),
      value: fc.option(
        fc.uint8Array({ maxLength: 50 }).map((a) => Buffer.from(a)),
        { nil: null },
      ),
    }),
    { maxLength: 3 },
  ),
  timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
});

/** The batch with its records region changed by `edit`, CRC recomputed (so only the records are wrong). */
function withRecords(batch: Buffer, edit: (records: Buffer) => Buffer): Buffer {
  const out = Buffer.concat([batch.subarray(0, 61), edit(Buffer.from(batch.subarray(61)))]);
  out.writeInt32BE(out.length - 12, 8);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

describe('checkRecords walks a batch without building its records', () => {
  test('accepts every batch the encoder writes, plain or gzip, and tells whether a key is missing', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (records, gzip) => {
        const batch = encodeRecordBatch(records, {
          baseOffset: 0,
          ...(gzip ? { compression: CompressionCodec.Gzip } : {}),
        });
        assert.deepEqual(checkRecords(batch, MAX_BYTES), { keyless: records.some((r) => r.key === null) });
        // The same verdict as the full decode.
        assert.equal(decodeRecordBatch(batch).length, records.length);
      }),
    );
  });

  test('refuses records whose offset deltas are not 0..n-1, a truncated record, and bytes after the last one', () => {
    const records = [0, 1, 2].map((i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from('v'),
      headers: [],
      timestamp: 1,
    }));
    const good = encodeRecordBatch(records, { baseOffset: 0 });
    // Each record here is: length, attributes, timestamp delta, offset delta, ...: byte 3 is the offset delta.
    const badDelta = withRecords(good, (r) => {
      r.writeUInt8(2 * 5, 3);
      return r;
    });
    const truncated = withRecords(good, (r) => r.subarray(0, r.length - 2));
    const trailing = withRecords(good, (r) => Buffer.concat([r, Buffer.from([0])]));
    for (const [name, batch] of [
      ['offset delta', badDelta],
      ['truncated', truncated],
      ['trailing', trailing],
    ] as const) {
      assert.throws(() => checkRecords(batch, MAX_BYTES), CorruptRecordError, name);
    }
    assert.deepEqual(checkRecords(good, MAX_BYTES), { keyless: false });
  });
});
