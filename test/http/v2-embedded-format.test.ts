/**
 * The embedded formats' conversion into columns, against the one-value-at-a-time definition:
 * whatever the shortcut (one JSON.stringify per column, one Buffer.from per all-ASCII column,
 * base64 decoded in place), every field's bytes must be what Confluent's serializers would write.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BadRequestError } from '../../src/errors.js';
import { httpAnswerOf } from '../../src/http/error-codes.js';
import { type EmbeddedFormat, type RequestRecord, toProduceColumns } from '../../src/http/v2-embedded-format.js';
import { fieldAt } from '../../src/storage/record-columns.js';

const jsonish = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates included: JSON.stringify escapes them
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', 'é', 'x', '😀') }),
  fc.constant(null),
);

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // lone surrogates: each becomes U+FFFD on its own, never a pair across fields
  fc.constant(null),
);

/** Each record's key and value as `format` stores them, converted one value at a time. */
function checkFields(
  format: EmbeddedFormat,
  records: readonly RequestRecord[],
  expectedBytes: (field: unknown) => Buffer,
): void {
  const { records: columns } = toProduceColumns(format, records);
  assert.equal(columns.count, records.length, 'one column entry per request record');
  records.forEach((r, i) => {
    for (const field of ['key', 'value'] as const) {
      const data = r[field];
      const expected = data === null || data === undefined ? null : expectedBytes(data);
      const got = fieldAt(field === 'key' ? columns.keys : columns.values, i);
      assert.ok(
        expected === null ? got === null : got?.equals(expected) === true,
        `${format} records[${i}].${field}: ${JSON.stringify(data)} stored as ${got === null ? 'null' : got.toString('hex')}`,
      );
    }
  });
}

describe('embedded formats in columns', () => {
  test('json: keys and values are exactly the UTF-8 of JSON.stringify, null as null', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: jsonish, value: jsonish }), { minLength: 1, maxLength: 30 }), (records) => {
        checkFields('json', records, (d) => Buffer.from(JSON.stringify(d), 'utf8'));
        // ASCII text (escapes included) is sliced from one buffer per column, not copied value by value.
        const { values } = toProduceColumns('json', records).records;
        const text = JSON.stringify(records.map((r) => r.value));
        const ascii = Buffer.byteLength(text, 'utf8') === text.length;
        if (ascii && records.some((r) => r.value !== null)) {
          assert.equal(values.views, undefined, 'an ASCII value column is one buffer');
        }
      }),
      { numRuns: 300 },
    );
  });

  test('string: keys and values are the UTF-8 of each text on its own', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: text, value: text }), { minLength: 1, maxLength: 30 }), (records) =>
        checkFields('string', records, (d) => Buffer.from(d as string, 'utf8')),
      ),
      { numRuns: 300 },
    );
  });

  test('binary: base64 with or without padding decodes to the original bytes', () => {
    const field = fc.option(fc.uint8Array({ maxLength: 70 }), { nil: null });
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: field, value: field, unpadded: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (rows) => {
          const encode = (b: Uint8Array | null, unpadded: boolean) => {
            if (b === null) return null;
            const b64 = Buffer.from(b).toString('base64');
            return unpadded ? b64.replace(/=+$/, '') : b64;
          };
          const records = rows.map((r) => ({ key: encode(r.key, r.unpadded), value: encode(r.value, r.unpadded) }));
          const originals = new Map<unknown, Buffer>();
          rows.forEach((r, i) => {
            if (r.key) originals.set(records[i]?.key, Buffer.from(r.key));
            if (r.value) originals.set(records[i]?.value, Buffer.from(r.value));
          });
          checkFields('binary', records, (d) => originals.get(d) as Buffer);
        },
      ),
      { numRuns: 300 },
    );
  });

  test('binary: a request long enough to be decoded in several runs keeps every field whole', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null }), { minLength: 400, maxLength: 700 }),
        (fields) => {
          const texts = fields.map((b) => (b === null ? null : Buffer.from(b).toString('base64')));
          const { records } = toProduceColumns(
            'binary',
            texts.map((value) => ({ value })),
          );
          fields.forEach((b, i) => {
            const got = fieldAt(records.values, i);
            assert.ok(b === null ? got === null : got?.equals(b) === true, `records[${i}].value of ${b?.length} bytes`);
          });
        },
      ),
      { numRuns: 20 },
    );
  });

  test('binary: a field that is not strict base64 fails the request, naming the field', () => {
    const bads = [
      'abcde',
      'a',
      'ab=c',
      'YWJj-',
      'YW_j',
      'YW Jj',
      'YWJj\n',
      '!!!!',
      'YQ===',
      'Q===',
      'QQ=A',
      'YW=J',
      'YWé=',
      'QQ==QQ==',
    ];
    // Fields are decoded in runs of about 32 KiB of text: the bad one comes first, in a later run, or last.
    const good = Buffer.alloc(100, 7).toString('base64');
    for (const bad of bads) {
      for (const at of [0, 1, 300, 599]) {
        const records = Array.from({ length: 600 }, (_, i) => ({ key: 'a2V5', value: i === at ? bad : good }));
        assert.throws(
          () => toProduceColumns('binary', records),
          (err: unknown) =>
            err instanceof BadRequestError &&
            httpAnswerOf(err).errorCode === 400 &&
            err.message.includes(`records[${at}].value `),
          `${JSON.stringify(bad)} is refused as records[${at}].value`,
        );
      }
    }
  });

  test('partitions, timestamps and headers land in their columns; absent ones stay absent', () => {
    const { records, partitions } = toProduceColumns('string', [
      { value: 'a' },
      { value: 'b', partition: 2, timestamp: 1_700_000_000_000, headers: [{ key: 'h', value: 'v' }] },
    ]);
    assert.deepEqual([...(partitions ?? [])], [-1, 2], 'explicit partition of record 1 only');
    assert.ok(Number.isNaN(records.timestamps[0]), 'record 0 has no CreateTime: the broker stamps it');
    assert.equal(records.timestamps[1], 1_700_000_000_000, 'record 1 keeps its CreateTime');
    assert.equal(records.headers?.[0], undefined, 'record 0 has no headers');
    assert.deepEqual(records.headers?.[1], [{ key: 'h', value: Buffer.from('v') }], 'record 1 header as UTF-8');
    const plain = toProduceColumns('json', [{ value: 1 }]);
    assert.equal(plain.partitions, null, 'no partition column when no record names one');
    assert.equal(plain.records.headers, null, 'no header column when no record has headers');
  });
});
