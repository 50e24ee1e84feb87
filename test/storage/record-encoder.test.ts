/**
 * The WebAssembly record loop (src/storage/wasm/record-encoder.wat) against the JavaScript one it
 * stands in for: record-batch.ts takes the WebAssembly loop for batches of 16 or more records in
 * columns, and the JavaScript one for the same records as objects, so the two encodings of one
 * input must be the same bytes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../src/storage/record-batch.js';
import { type FieldColumn, NULL_LENGTH, type RecordColumns } from '../../src/storage/record-columns.js';

/** Keys and values as slices of one shared buffer, with gaps between them, as the v2 produce scan hands them over. */
function sharedColumns(inputs: RecordInput[]): RecordColumns {
  const parts: Buffer[] = [];
  let at = 0;
  const place = (field: Buffer | null): [number, number] => {
    parts.push(Buffer.from('},{"x":'));
    at += 7;
    if (field === null) return [at, NULL_LENGTH];
    parts.push(field);
    const start = at;
    at += field.length;
    return [start, field.length];
  };
  const keySpans = inputs.map((r) => place(r.key));
  const valueSpans = inputs.map((r) => place(r.value));
  const bytes = Buffer.concat(parts);
  const column = (spans: [number, number][]): FieldColumn => ({
    bytes,
    starts: Int32Array.from(spans, ([s]) => s),
    lengths: Int32Array.from(spans, ([, n]) => n),
  });
  return {
    count: inputs.length,
    keys: column(keySpans),
    values: column(valueSpans),
    timestamps: Float64Array.from(inputs, (r) => r.timestamp),
    headers: null,
  };
}

describe('record encoder (WebAssembly)', () => {
  test('encodes batches of 16 and more exactly as the JavaScript loop, whole or by rows', () => {
    const field = fc.option(
      fc.oneof(
        { weight: 6, arbitrary: fc.uint8Array({ maxLength: 130 }) },
        fc.uint8Array({ minLength: 16_380, maxLength: 16_400 }), // a length varint of 2 and 3 bytes
      ),
      { nil: null },
    );
    const record = fc.record({
      key: field,
      value: field,
      // Timestamp deltas from one byte to a varlong of six.
      delta: fc.oneof(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 2 ** 40 })),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 16, maxLength: 80 }), fc.integer({ min: 1, max: 4 }), (rs, stride) => {
        const inputs: RecordInput[] = rs.map((r) => ({
          key: r.key && Buffer.from(r.key),
          value: r.value && Buffer.from(r.value),
          timestamp: 1_000_000_000 + r.delta,
        }));
        const columns = sharedColumns(inputs);
        const whole = encodeRecordBatch(columns, { baseOffset: 5 });
        assert.ok(whole.equals(encodeRecordBatch(inputs, { baseOffset: 5 })), 'the whole request as one batch');
        const rows = inputs.map((_, i) => i).filter((i) => i % stride === 0);
        if (rows.length >= 16) {
          const picked = encodeRecordBatch(columns, { baseOffset: 5, rows });
          const expected = encodeRecordBatch(
            rows.map((i) => inputs[i] as RecordInput),
            { baseOffset: 5 },
          );
          assert.ok(picked.equals(expected), `rows ${rows.join(',')} as one batch`);
        }
        const decoded = decodeRecordBatch(whole);
        assert.equal(decoded.length, inputs.length, 'the batch decodes');
        assert.equal(decoded.at(-1)?.offset, 5 + inputs.length - 1, 'to dense offsets');
      }),
      { numRuns: 150 },
    );
  });

  test('a batch whose columns are larger than the kept memory encodes, and the next one too', () => {
    const value = Buffer.alloc(600_000, 7);
    const inputs: RecordInput[] = Array.from({ length: 16 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value,
      timestamp: 1_700_000_000_000 + i,
    }));
    const big = encodeRecordBatch(sharedColumns(inputs), { baseOffset: 0 });
    assert.ok(big.equals(encodeRecordBatch(inputs, { baseOffset: 0 })), '9.6 MB of values, same bytes');
    const small = inputs.map((r) => ({ ...r, value: Buffer.from('v') }));
    assert.ok(
      encodeRecordBatch(sharedColumns(small), { baseOffset: 0 }).equals(encodeRecordBatch(small, { baseOffset: 0 })),
      'after the memory is given back',
    );
  });
});
