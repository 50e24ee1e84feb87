/**
 * JSON values a request may store (src/http/json-values.ts) and stored bytes a consumer may get
 * back as JSON (src/http/record-rendering.ts): nesting up to 1000 levels, no number beyond a double.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidPayloadError, SamsaError } from '../../src/errors.js';
import { httpAnswerOf } from '../../src/http/error-codes.js';
import { jsonValueProblem, MAX_JSON_DEPTH, storableJsonText } from '../../src/http/json-values.js';
import { renderBytes } from '../../src/http/record-rendering.js';

/** `levels` arrays, one inside the other, around `inner`. */
function nested(levels: number, inner: unknown = 1): unknown {
  let v: unknown = inner;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

test('values nested up to 1000 levels are stored; 1001 are refused, at the level that breaks it', () => {
  assert.equal(MAX_JSON_DEPTH, 1000);
  assert.equal(jsonValueProblem(nested(1000), 'v'), null, '1000 levels');
  assert.equal(
    jsonValueProblem({ a: [0, nested(1000)] }, 'v'),
    `v.a[1]${'[0]'.repeat(998)} is nested more than 1000 levels deep.`,
    '1002 levels in all: the path leads to the 1001st',
  );
  // Deep enough that JSON.stringify itself overflows the stack: still a 422, not the RangeError.
  const deep = nested(200_000);
  assert.throws(
    () => storableJsonText(deep, () => jsonValueProblem(deep, 'records[0].value')),
    (err: unknown) =>
      err instanceof InvalidPayloadError &&
      httpAnswerOf(err).errorCode === 42206 &&
      /^records\[0\]\.value\[0\]/.test(err.message),
  );
  assert.equal(
    storableJsonText(nested(999), () => jsonValueProblem(nested(999), 'v')),
    `${'['.repeat(999)}1${']'.repeat(999)}`,
  );
});

test('a number beyond a double is refused where it stands; nulls of their own are kept', () => {
  const value = JSON.parse('{"ok":[null,1e300],"n":{"x":[1,2,-1e400]}}');
  assert.equal(jsonValueProblem(value, 'v'), 'v.n.x[2] holds a number too large to store exactly as JSON.');
  assert.throws(() => storableJsonText(value, () => jsonValueProblem(value, 'v')), /v\.n\.x\[2\]/);
  const fine = JSON.parse('{"ok":[null,1e300]}');
  assert.equal(
    storableJsonText(fine, () => jsonValueProblem(fine, 'v')),
    '{"ok":[null,1e+300]}',
  );
});

test('stored bytes nested too deep for JSON are refused in the json format, or given as text when lenient', () => {
  const deep = Buffer.from(`${'['.repeat(1500)}${']'.repeat(1500)}`);
  assert.throws(
    () => renderBytes(deep, 'json', false),
    (err: unknown) => err instanceof SamsaError && httpAnswerOf(err).errorCode === 40801,
  );
  assert.deepEqual(renderBytes(deep, 'json', true), { value: deep.toString(), format: 'string' });
  const fine = Buffer.from(`${'['.repeat(1000)}${']'.repeat(1000)}`);
  assert.equal(renderBytes(fine, 'json', false).format, 'json', '1000 levels render');
});
