/**
 * The json embedded format's conversion, against JSON.stringify itself: whatever the shortcut,
 * the stored bytes must be the JSON text Confluent's serializer would write.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { toProduceRecords } from '../../src/http/v2-embedded-format.js';

const jsonish = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }), // lone surrogates included: JSON.stringify escapes them
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', 'é', 'x', '😀') }),
  fc.constant(null),
);

describe('json embedded format', () => {
  test('keys and values are stored as exactly the UTF-8 of JSON.stringify, null as null', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ key: jsonish, value: jsonish }), { minLength: 1, maxLength: 30 }), (records) => {
        const produced = toProduceRecords('json', records);
        assert.equal(produced.length, records.length, 'one produced record per request record');
        records.forEach((r, i) => {
          const p = produced[i];
          assert.ok(p !== undefined, `record ${i} was produced`);
          for (const field of ['key', 'value'] as const) {
            const expected = r[field] === null ? null : Buffer.from(JSON.stringify(r[field]), 'utf8');
            const got = p[field];
            assert.ok(
              expected === null ? got === null : got?.equals(expected) === true,
              `records[${i}].${field}: ${JSON.stringify(r[field])} stored as ${got === null ? 'null' : got.toString('hex')}`,
            );
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
