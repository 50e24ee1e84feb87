/**
 * The v2 produce scan against the spec's way (JSON.parse, the schema's validator compiled from
 * openapi.yaml, then the handler's own conversion): for every generated body, the scan declines
 * (null) or gives the same columns, field for field. Bodies are written with the noise real
 * clients add (whitespace, escapes, number spellings, repeated and unknown fields, integer-like
 * object keys), so both answers are exercised; the test checks that each is.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ProduceColumns } from '../../src/broker/broker.js';
import { loadApi } from '../../src/http/openapi.js';
import type { EmbeddedFormat } from '../../src/http/v2-embedded-format.js';
import { columnsOfBody } from '../../src/http/v2-produce.js';
import { scanProduceBody } from '../../src/http/v2-produce-scan.js';
import { fieldAt } from '../../src/storage/record-columns.js';

const MAX_RECORDS = 20;
const MEDIA_TYPES: Record<EmbeddedFormat, string> = {
  json: 'application/vnd.kafka.json.v2+json',
  binary: 'application/vnd.kafka.binary.v2+json',
  string: 'application/vnd.kafka.string.v2+json',
};

const produceToTopic = [...loadApi().paths.values()].flat().find((op) => op.operationId === 'produceToTopic');
if (!produceToTopic?.bodyValidators) throw new Error('openapi.yaml has no produceToTopic body');
const validators = produceToTopic.bodyValidators;

/** The spec's way: the columns the handler would produce, or 'refused' where it answers an error. */
function specWay(raw: Buffer, format: EmbeddedFormat): ProduceColumns | 'refused' {
  const mediaType = MEDIA_TYPES[format];
  try {
    const body = JSON.parse(raw.toString('utf8'));
    (validators.get(mediaType) as (b: unknown) => void)(body);
    return columnsOfBody({ mediaType, body } as never, { maxRecordsPerRequest: MAX_RECORDS });
  } catch {
    return 'refused';
  }
}

function assertSameColumns(scanned: ProduceColumns, expected: ProduceColumns, raw: Buffer): void {
  const where = `body ${raw.toString('utf8')}`;
  assert.equal(scanned.records.count, expected.records.count, `record count, ${where}`);
  for (let i = 0; i < expected.records.count; i++) {
    for (const field of ['keys', 'values'] as const) {
      const got = fieldAt(scanned.records[field], i);
      const want = fieldAt(expected.records[field], i);
      assert.deepEqual(
        got === null ? null : got.toString('hex'),
        want === null ? null : want.toString('hex'),
        `records[${i}] ${field}, ${where}`,
      );
    }
    assert.equal(
      scanned.partitions?.[i] ?? -1,
      expected.partitions?.[i] ?? -1,
      `records[${i}] partition (-1: none), ${where}`,
    );
    assert.ok(Number.isNaN(scanned.records.timestamps[i]), `records[${i}] takes the broker's clock, ${where}`);
  }
  assert.equal(scanned.records.headers, null, `no headers from a scan, ${where}`);
}

// ---- bodies written with noise ----

/** The writer's choices, from a small deterministic generator seeded by fast-check (so a failure replays). */
interface Choices {
  chance(p: number): boolean;
  below(n: number): number;
}

/** `noise` scales every chance: 0 writes the body as JSON.stringify would. */
function choicesOf(seed: number, noise: number): Choices {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  return { chance: (p) => next() < p * noise, below: (n) => Math.floor(next() * n) };
}

/** Whitespace JSON allows between tokens, now and then. */
const whitespace = (c: Choices, p: number) => (c.chance(p) ? ' \n\t\r'.charAt(c.below(4)) : '');

/** JSON text of `value`, with whitespace, escapes and number spellings JSON.stringify would not write. */
function noisyJson(value: unknown, c: Choices): string {
  const ws = () => whitespace(c, 0.05);
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (Number.isInteger(value) && c.chance(0.1)) return c.chance(0.5) ? `${value}.0` : `${value}e0`;
    if (Object.is(value, 0) && c.chance(0.05)) return '-0';
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return noisyString(value, c);
  if (Array.isArray(value)) return `[${ws()}${value.map((v) => noisyJson(v, c)).join(`${ws()},${ws()}`)}${ws()}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 0 && c.chance(0.05)) entries.push(entries[0] as [string, unknown]); // a repeated key
  return `{${ws()}${entries.map(([k, v]) => `${noisyString(k, c)}${ws()}:${ws()}${noisyJson(v, c)}`).join(`${ws()},`)}${ws()}}`;
}

function noisyString(text: string, c: Choices): string {
  const plain = JSON.stringify(text);
  if (!c.chance(0.1)) return plain;
  // Escape one character the long way (\uXXXX), or write '/' as '\/'.
  const inner = plain.slice(1, -1);
  const at = c.below(inner.length);
  const code = inner.charCodeAt(at);
  if (Number.isNaN(code) || inner.charAt(at) === '\\') return `"${inner}\\/"`;
  return `"${inner.slice(0, at)}\\u${code.toString(16).padStart(4, '0')}${inner.slice(at + 1)}"`;
}

const jsonField = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  fc.constantFrom(0, -1, 123456789012345, 1234567890123456, 1.5, { '1': 2, b: 1 }, { b: 1, '01': 2 }, [], {}),
  fc.string({ unit: fc.constantFrom('"', '\\', '\u0000', '\u001f', '\u007f', '\u2028', 'é', 'x', '😀', '/') }),
  fc.constant(null),
);
const textField = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\t', 'é', 'x', '😀') }),
  fc.constant(null),
  fc.constant(17),
);
const base64Field = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')) },
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64').replace(/=+$/, '')),
  fc.constantFrom('ab-_', '!!!!', 'abc=d', 'a', '===='),
  fc.constant(null),
);
const partitionField = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 5 }) },
  fc.constantFrom(2147483647, 2147483648, -1, 1.5, '1', null, 12345678901),
);

const fieldOf = (format: EmbeddedFormat) =>
  format === 'json' ? jsonField : format === 'binary' ? base64Field : textField;

const recordArb = (field: fc.Arbitrary<unknown>) =>
  fc.record(
    {
      key: field,
      value: field,
      partition: partitionField,
      timestamp: fc.constant(1700000000000),
      extra: fc.constant('x'),
    },
    { requiredKeys: [] },
  );

interface Case {
  format: EmbeddedFormat;
  records: Record<string, unknown>[];
  seed: number;
  noise: number;
  extraTop: boolean;
}

const caseArb: fc.Arbitrary<Case> = fc.constantFrom<EmbeddedFormat>('json', 'binary', 'string').chain((format) =>
  fc.record({
    format: fc.constant(format),
    records: fc.oneof(
      { weight: 9, arbitrary: fc.array(recordArb(fieldOf(format)), { minLength: 1, maxLength: 4 }) },
      fc.array(recordArb(fieldOf(format)), { maxLength: MAX_RECORDS + 2 }),
    ),
    seed: fc.integer(),
    noise: fc.constantFrom(0, 0, 1),
    extraTop: fc.boolean(),
  }),
);

/** The body text: records with their fields in the generated order, written noisily. */
function bodyOf({ records, seed, noise, extraTop }: Case): Buffer {
  const c = choicesOf(seed, noise);
  const ws = () => whitespace(c, 0.2);
  const recordTexts = records.map((r) => {
    // Most records keep to the fields the scan reads; some carry others, known to the schema or not.
    const fields = Object.entries(r).filter(([k]) => (k === 'timestamp' || k === 'extra' ? c.chance(0.05) : true));
    if (fields.length > 0 && c.chance(0.03)) fields.push(fields[0] as [string, unknown]);
    return `{${ws()}${fields.map(([k, v]) => `"${k}"${ws()}:${ws()}${noisyJson(v, c)}`).join(`${ws()},${ws()}`)}${ws()}}`;
  });
  const top = extraTop && c.chance(0.3) ? `,"key_schema":${c.chance(0.5) ? 'null' : '"x"'}` : '';
  return Buffer.from(`${ws()}{${ws()}"records"${ws()}:${ws()}[${recordTexts.join(',')}]${top}${ws()}}${ws()}`);
}

describe('v2 produce scan', () => {
  test('declines or agrees with the spec way for generated bodies', () => {
    const seen = { scanned: 0, declined: 0, refused: 0 };
    fc.assert(
      fc.property(caseArb, (c) => {
        const raw = bodyOf(c);
        const scanned = scanProduceBody(raw, c.format, MAX_RECORDS);
        const expected = specWay(raw, c.format);
        if (expected === 'refused') {
          seen.refused++;
          assert.equal(scanned, null, `the spec way refuses, so the scan must decline: ${raw.toString('utf8')}`);
          return;
        }
        if (scanned === null) {
          seen.declined++;
          return;
        }
        seen.scanned++;
        assertSameColumns(scanned, expected, raw);
      }),
      { numRuns: 3000 },
    );
    // Each answer must have been exercised, or the property above says little.
    assert.ok(seen.scanned > 400, `scanned ${seen.scanned} of 3000`);
    assert.ok(seen.declined > 200, `declined ${seen.declined} of 3000 valid bodies`);
    assert.ok(seen.refused > 300, `refused ${seen.refused} of 3000`);
  });

  const declines: [string, EmbeddedFormat, string][] = [
    ['-0 (JSON.stringify writes 0)', 'json', '{"records":[{"value":-0}]}'],
    ['an exponent', 'json', '{"records":[{"value":1e2}]}'],
    ['a fraction', 'json', '{"records":[{"value":1.0}]}'],
    ['a 16-digit integer', 'json', '{"records":[{"value":1234567890123456}]}'],
    ['an integer-like object key', 'json', '{"records":[{"value":{"b":1,"1":2}}]}'],
    ['a repeated object key', 'json', '{"records":[{"value":{"a":1,"a":2}}]}'],
    ['whitespace inside a value', 'json', '{"records":[{"value":{"a": 1}}]}'],
    ['an escaped character', 'json', '{"records":[{"value":"caf\\u00e9"}]}'],
    ['a raw tab in a string', 'string', '{"records":[{"value":"a\tb"}]}'],
    ['a repeated record field', 'json', '{"records":[{"value":1,"value":2}]}'],
    ['headers', 'string', '{"records":[{"value":"a","headers":[]}]}'],
    ['a schema field', 'json', '{"records":[{"value":1}],"value_schema_id":null}'],
    ['empty records', 'json', '{"records":[]}'],
    ['a partition past 2^31-1', 'json', '{"records":[{"value":1,"partition":2147483648}]}'],
    ['a partition written 1.0', 'json', '{"records":[{"value":1,"partition":1.0}]}'],
    ['a number in the string format', 'string', '{"records":[{"value":1}]}'],
    ['bad base64', 'binary', '{"records":[{"value":"ab-_"}]}'],
    ['trailing bytes', 'json', '{"records":[{"value":1}]}x'],
    ['a byte-order mark', 'json', '\ufeff{"records":[{"value":1}]}'],
    ['an unterminated string', 'json', '{"records":[{"value":"abc'],
    ['a string cut by a raw tab', 'json', '{"records":[{"value":"a\t}]}'],
    ['a string cut by a backslash', 'string', '{"records":[{"value":"a\\}]}'],
    [`nesting deeper than 64`, 'json', `{"records":[{"value":${'['.repeat(65)}${']'.repeat(65)}}]}`],
    [`more records than the limit`, 'json', `{"records":[${'{},'.repeat(MAX_RECORDS)}{}]}`],
  ];
  for (const [what, format, text] of declines) {
    test(`declines ${what}`, () => {
      assert.equal(scanProduceBody(Buffer.from(text), format, MAX_RECORDS), null, text);
    });
  }

  test('a body of several MiB scans whole, and the scan after it too', () => {
    const big = Buffer.alloc(2 * 1024 * 1024 + 7).fill(0xa5);
    const raw = Buffer.from(
      JSON.stringify({ records: [{ value: big.toString('base64') }, { key: 'AQ==', value: 'AQID' }] }),
    );
    const columns = scanProduceBody(raw, 'binary', MAX_RECORDS);
    assert.ok(columns !== null, 'the scan keeps this body');
    assert.ok(fieldAt(columns.records.values, 0)?.equals(big), 'the 2 MiB value decodes whole');
    assert.equal(fieldAt(columns.records.values, 1)?.toString('hex'), '010203');
    assert.equal(fieldAt(columns.records.keys, 1)?.toString('hex'), '01');
    const small = scanProduceBody(Buffer.from('{"records":[{"value":"AAEC"}]}'), 'binary', MAX_RECORDS);
    assert.equal(small && fieldAt(small.records.values, 0)?.toString('hex'), '000102');
  });

  test('declines a body that is not UTF-8', () => {
    const raw = Buffer.concat([Buffer.from('{"records":[{"value":"a'), Buffer.from([0xff]), Buffer.from('"}]}')]);
    assert.equal(scanProduceBody(raw, 'string', MAX_RECORDS), null);
  });

  test('keeps nesting of exactly 64, and stores each field as a slice of the body', () => {
    const nested = `${'['.repeat(64)}${']'.repeat(64)}`;
    const raw = Buffer.from(`{"records":[{"key":"k","value":${nested},"partition":3}, {"value":"é😀"}]}`);
    const columns = scanProduceBody(raw, 'json', MAX_RECORDS);
    assert.ok(columns !== null, 'the scan keeps this body');
    assert.equal(fieldAt(columns.records.keys, 0)?.toString(), '"k"', 'json text keeps its quotes');
    assert.equal(fieldAt(columns.records.values, 0)?.toString(), nested);
    assert.equal(fieldAt(columns.records.values, 1)?.toString(), '"é😀"');
    assert.equal(fieldAt(columns.records.keys, 1), null, 'an absent key is null');
    assert.deepEqual([...(columns.partitions ?? [])], [3, -1], 'partitions, -1 where none is named');
    assert.equal(columns.records.values.bytes, raw, 'no copy: the column is the body');
  });
});
