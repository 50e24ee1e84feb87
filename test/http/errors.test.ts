import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { findSpecPath } from '../../src/http/openapi.js';
import { BINARY_V2, JSON_V2, openNode, STRING_V2, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode({ limits: { maxRequestBytes: 1024 } });
  await node.broker.createTopic('orders', { partitions: 1 });
});
after(() => node.close());

/** Every error is `{error_code, message}` JSON: never HTML, never a stack trace. */
function assertErrorBody(res: request.Response, status: number, errorCode: number): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message']);
  assert.equal(res.body.error_code, errorCode);
  assert.doesNotMatch(res.text, /<html|\n\s+at /i);
}

test('an unknown route answers 404 in Confluent/Jersey wording', async () => {
  const res = await request(node.app).get('/no/such/route');
  assertErrorBody(res, 404, 404);
  assert.equal(res.body.message, 'HTTP 404 Not Found');
});

test('a known path with the wrong method answers 405 with an Allow header', async () => {
  const res = await request(node.app).delete('/topics/orders');
  assertErrorBody(res, 405, 405);
  assert.equal(res.headers.allow, 'GET, POST, HEAD');

  const get = await request(node.app).put('/healthz');
  assertErrorBody(get, 405, 405);
  assert.equal(get.headers.allow, 'GET, HEAD');
});

test('malformed JSON answers 400', async () => {
  const res = await request(node.app).post('/topics/orders').set('content-type', JSON_V2).send('{"records": [');
  assertErrorBody(res, 400, 400);
  assert.match(res.body.message, /JSON/);
});

test('a body over maxRequestBytes answers 413', async () => {
  const body = JSON.stringify({ records: [{ value: 'x'.repeat(2048) }] });
  const res = await request(node.app).post('/topics/orders').set('content-type', JSON_V2).send(body);
  assertErrorBody(res, 413, 413);
  assert.match(res.body.message, /1024 bytes/);
});

/** The content types openapi.yaml's requestBody declares for an operation, as the 415 should list them. */
function declaredBodyTypes(path: string, method: 'post' | 'put'): string[] {
  const spec = parseYaml(fs.readFileSync(findSpecPath(), 'utf8'));
  let body = spec.paths[path][method].requestBody;
  if (body.$ref) body = spec.components.requestBodies[body.$ref.split('/').at(-1)];
  return Object.keys(body.content);
}

test('an unsupported content type answers 415 naming every type the route accepts', async () => {
  const res = await request(node.app).post('/topics/orders').set('content-type', 'text/plain').send('hello');
  assertErrorBody(res, 415, 415);
  const accepted = declaredBodyTypes('/topics/{topic}', 'post');
  assert.ok(accepted.length >= 3, `the v2 produce declares its embedded formats (${accepted})`);
  assert.equal(
    res.body.message,
    `HTTP 415 Unsupported Media Type: Content-Type text/plain is not accepted here; send one of ${accepted.join(', ')}.`,
  );

  const v3 = await request(node.app)
    .post('/v3/clusters/any/topics')
    .set('content-type', 'application/x-www-form-urlencoded')
    .send('topic_name=x');
  assertErrorBody(v3, 415, 415);
  assert.match(
    v3.body.message,
    /application\/x-www-form-urlencoded is not accepted here; send one of application\/json\./,
  );

  const none = await request(node.app).post('/topics/orders').send(Buffer.from('hello'));
  assertErrorBody(none, 415, 415);
  assert.match(
    none.body.message,
    /A request without Content-Type is not accepted here; send one of application\/vnd\.kafka/,
  );
});

test('a schema-registry content type answers 415 saying schemas are not supported yet', async () => {
  for (const format of ['avro', 'jsonschema', 'protobuf']) {
    const res = await request(node.app)
      .post('/topics/orders')
      .set('content-type', `application/vnd.kafka.${format}.v2+json`)
      .send(JSON.stringify({ value_schema: '"string"', records: [{ value: 'x' }] }));
    assertErrorBody(res, 415, 415);
    assert.match(res.body.message, new RegExp(`Schema formats \\(${format}\\) are not supported yet`));
  }
});

test('a malformed %-escape in the path answers 400, not 500', async () => {
  const res = await request(node.app).post('/topics/a%zz').set('content-type', JSON_V2).send('{"records":[{}]}');
  assertErrorBody(res, 400, 400);
});

/**
 * One kind of mistake answers one code, whichever check finds it (the openapi.yaml validator or a
 * handler) and whichever API it reaches: the table in docs/api.md.
 */
test('text its embedded format cannot decode answers 400/400 "Bad Request" in v2 and v3 alike, as Confluent\'s serializer does', async () => {
  const v3 = `/v3/clusters/${node.broker.clusterId}/topics/orders/records`;
  const cases: { name: string; path: string; contentType: string; body: unknown }[] = [
    {
      name: 'v2 binary, not base64',
      path: '/topics/orders',
      contentType: BINARY_V2,
      body: { records: [{ value: '#' }] },
    },
    {
      name: 'v2 binary header, not base64',
      path: '/topics/orders',
      contentType: BINARY_V2,
      body: { records: [{ value: null, headers: [{ key: 'h', value: '#' }] }] },
    },
    {
      name: 'v3 BINARY, not base64',
      path: v3,
      contentType: 'application/json',
      body: { value: { type: 'BINARY', data: '#' } },
    },
    {
      name: 'v3 STRING, not a string',
      path: v3,
      contentType: 'application/json',
      body: { value: { type: 'STRING', data: 1 } },
    },
  ];
  for (const c of cases) {
    const res = await request(node.app).post(c.path).set('content-type', c.contentType).send(JSON.stringify(c.body));
    // v3 answers in its delivery report, with the status line already 200.
    const body = c.path === v3 ? JSON.parse(res.text) : res.body;
    if (c.path !== v3) assertErrorBody(res, 400, 400);
    assert.equal(body.error_code, 400, `${c.name}: ${res.text}`);
    assert.match(body.message, /^Bad Request: /, c.name);
  }
});

test('a body that breaks the request schema answers 422/422, from the validator and the handlers alike', async () => {
  const cases: { name: string; path: string; contentType: string; body: unknown }[] = [
    { name: 'v2 produce, records missing', path: '/topics/orders', contentType: JSON_V2, body: {} },
    {
      name: 'v2 binary, a key not a string',
      path: '/topics/orders',
      contentType: BINARY_V2,
      body: { records: [{ key: 7 }] },
    },
    {
      name: 'v2 string, a value not a string',
      path: '/topics/orders',
      contentType: STRING_V2,
      body: { records: [{ value: {} }] },
    },
    {
      name: 'v2 produce, unknown field',
      path: '/topics/orders',
      contentType: JSON_V2,
      body: { records: [{ valu: 1 }] },
    },
    {
      name: 'v2 produce, partition not an integer',
      path: '/topics/orders',
      contentType: JSON_V2,
      body: { records: [{ value: 1, partition: 'x' }] },
    },
    {
      name: 'v2 produce to a partition, a record naming another',
      path: '/topics/orders/partitions/0',
      contentType: JSON_V2,
      body: { records: [{ value: 1, partition: 3 }] },
    },
  ];
  for (const c of cases) {
    const res = await request(node.app).post(c.path).set('content-type', c.contentType).send(JSON.stringify(c.body));
    assertErrorBody(res, 422, 422);
  }
});
