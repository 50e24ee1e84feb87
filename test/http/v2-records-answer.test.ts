import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ConsumedRun, EmbeddedFormat } from '../../src/consumers/consumer-instance.js';
import { RecordFormatError } from '../../src/errors.js';
import { renderBytes, renderHeaders } from '../../src/http/record-rendering.js';
import { renderRecordsAnswer } from '../../src/http/v2-records-answer.js';
import { CompressionCodec } from '../../src/storage/compression.js';
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../src/storage/record-batch.js';

/** The answer as it was rendered before the byte path: one object per record, then JSON.stringify. */
function objectAnswer(topic: string, partition: number, batch: Buffer, format: EmbeddedFormat): string {
  return JSON.stringify(
    decodeRecordBatch(batch).map((r) => ({
      topic,
      key: format === 'binary' ? (r.key?.toString('base64') ?? null) : renderBytes(r.key, format, false).value,
      value: format === 'binary' ? (r.value?.toString('base64') ?? null) : renderBytes(r.value, format, false).value,
      partition,
      offset: r.offset,
      timestamp: r.timestamp,
      headers: r.headers.length === 0 ? [] : renderHeaders(r.headers, format),
    })),
  );
}

function runOf(topic: string, partition: number, batch: Buffer, count: number, baseOffset: number): ConsumedRun {
  return {
    topic,
    partition,
    records: batch,
    fromOffset: baseOffset,
    nextOffset: baseOffset + count,
    count,
    sizeBytes: 0,
  };
}

const bytes = fc.oneof(
  fc.constant(null),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => Buffer.from(s, 'utf8')),
  fc.string({ maxLength: 30 }).map((s) => Buffer.from(s, 'utf8')),
);
const jsonBytes = fc.oneof(
  fc.constant(null),
  fc.jsonValue({ maxDepth: 4 }).map((j) => Buffer.from(JSON.stringify(j), 'utf8')),
  // Stored with its whitespace, as a client's own JSON text would be.
  fc.jsonValue({ maxDepth: 4 }).map((j) => Buffer.from(JSON.stringify(j, null, 2), 'utf8')),
  fc
    .constantFrom('1e400', '-0', '1.50', '"\\u00e9\\ud800"', ' [ ] ', '{"a":1,"a":2}', '12345678901234567890')
    .map((s) => Buffer.from(s)),
);
const headers = fc.array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 10 }), value: bytes }), {
  maxLength: 3,
});
const topicName = fc.stringMatching(/^[a-zA-Z0-9._-]{1,20}$/);

function recordsArb(field: fc.Arbitrary<Buffer | null>): fc.Arbitrary<RecordInput[]> {
  return fc.array(fc.record({ key: field, value: field, headers, timestamp: fc.integer({ min: 0, max: 2 ** 42 }) }), {
    minLength: 1,
    maxLength: 8,
  });
}

describe('a v2 records answer written from stored bytes', () => {
  for (const format of ['binary', 'string', 'json'] as const) {
    test(`equals the object-rendered answer in the ${format} format`, () => {
      fc.assert(
        fc.property(
          topicName,
          fc.nat(50),
          fc.nat(1000),
          fc.boolean(),
          recordsArb(format === 'json' ? jsonBytes : bytes),
          (topic, partition, baseOffset, compressed, records) => {
            const batch = encodeRecordBatch(records, {
              baseOffset,
              compression: compressed ? CompressionCodec.Gzip : CompressionCodec.None,
            });
            const { bytes: answer, unrenderable } = renderRecordsAnswer(
              [runOf(topic, partition, batch, records.length, baseOffset)],
              format,
            );
            assert.equal(unrenderable, null);
            const text = answer.toString('utf8');
            // Stored JSON text goes out as it is (whitespace, -0, 1.50): equal once both are parsed.
            assert.equal(JSON.stringify(JSON.parse(text)), objectAnswer(topic, partition, batch, format));
            if (format !== 'json') assert.equal(text, objectAnswer(topic, partition, batch, format));
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  test('in the json format, stops at a value that is not JSON and names it, keeping the records before', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('{"a":', 'plain text', '[1,]', '{"a" 1}', '\ufeff{}', 'nul', '01', '"\u0001"', '[1] 2'),
        (bad) => {
          const records: RecordInput[] = [
            { key: null, value: Buffer.from('{"ok":true}'), timestamp: 1 },
            { key: null, value: Buffer.from(bad), timestamp: 2 },
            { key: null, value: Buffer.from('3'), timestamp: 3 },
          ];
          const batch = encodeRecordBatch(records, { baseOffset: 40 });
          const { bytes: answer, unrenderable } = renderRecordsAnswer([runOf('t', 1, batch, 3, 40)], 'json');
          assert.deepEqual(JSON.parse(answer.toString('utf8')), [
            { topic: 't', key: null, value: { ok: true }, partition: 1, offset: 40, timestamp: 1, headers: [] },
          ]);
          assert.ok(unrenderable);
          assert.equal(unrenderable.offset, 41);
          assert.equal(unrenderable.written, 1);
          assert.ok(unrenderable.error instanceof RecordFormatError);
          assert.match(unrenderable.error.message, /the value of the record at offset 41 in partition 1 of topic 't'/);
        },
      ),
    );
  });

  test('in the json format, refuses a value nested more than 1000 levels, and passes 1000', () => {
    const deep = (n: number) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);
    const render = (value: Buffer) =>
      renderRecordsAnswer(
        [runOf('t', 0, encodeRecordBatch([{ key: null, value, timestamp: 1 }], { baseOffset: 0 }), 1, 0)],
        'json',
      );
    assert.match(String(render(deep(1001)).unrenderable?.error.message), /nested more than 1000 levels/);
    const ok = render(deep(1000));
    assert.equal(ok.unrenderable, null);
  });
});
