import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { BINARY_V2, JSON_V2, openNode, readPartition, STRING_V2, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode({ limits: { maxRecordsPerRequest: 5 } });
  await node.broker.createTopic('orders', { partitions: 3 });
});
after(() => node.close());

function produce(path: string, contentType: string, body: unknown): request.Test {
  return request(node.app).post(path).set('content-type', contentType).send(JSON.stringify(body));
}

function endOffsets(topic: string): number[] {
  return [0, 1, 2].map((p) => node.broker.listOffsets(topic, p).highWatermark);
}

test('json format stores keys and values as their JSON text and answers Confluent offsets', async () => {
  const res = await produce('/topics/orders/partitions/0', JSON_V2, {
    records: [{ key: 'k', value: { item: 'book', quantity: 2 } }, { value: null }, { key: 7, value: [1, 'two'] }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.headers['content-type'], 'application/vnd.kafka.v2+json; charset=utf-8', 'the answer type');
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)), 'the answer length');
  assert.equal(res.body.key_schema_id, null);
  assert.equal(res.body.value_schema_id, null);
  assert.equal(res.body.offsets.length, 3);
  for (const [i, offset] of res.body.offsets.entries()) {
    assert.deepEqual(offset, { partition: 0, offset: res.body.offsets[0].offset + i, error_code: null, error: null });
  }

  const stored = (await readPartition(node.broker, 'orders', 0)).slice(-3);
  assert.equal(stored[0]?.key?.toString(), '"k"'); // quotes included, as Confluent's KafkaJsonSerializer
  assert.equal(stored[0]?.value?.toString(), '{"item":"book","quantity":2}');
  assert.equal(stored[1]?.key, null);
  assert.equal(stored[1]?.value, null);
  assert.equal(stored[2]?.key?.toString(), '7');
  assert.equal(stored[2]?.value?.toString(), '[1,"two"]');
});

test('plain application/json is the json format', async () => {
  const res = await produce('/topics/orders/partitions/1', 'application/json; charset=utf-8', {
    records: [{ value: 'plain' }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const stored = await readPartition(node.broker, 'orders', 1);
  assert.equal(stored.at(-1)?.value?.toString(), '"plain"');
});

test('binary format decodes base64 keys, values and header values', async () => {
  const res = await produce('/topics/orders/partitions/2', BINARY_V2, {
    records: [
      {
        key: Buffer.from('key').toString('base64'),
        value: Buffer.from([0, 1, 2, 255]).toString('base64'),
        headers: [{ key: 'h', value: Buffer.from('hv').toString('base64') }],
        timestamp: 1_700_000_000_000,
      },
    ],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.offsets[0].partition, 2);
  const stored = (await readPartition(node.broker, 'orders', 2)).at(-1);
  assert.equal(stored?.key?.toString(), 'key');
  assert.deepEqual(stored?.value, Buffer.from([0, 1, 2, 255]));
  assert.equal(stored?.headers[0]?.key, 'h');
  assert.equal(stored?.headers[0]?.value?.toString(), 'hv');
  assert.equal(stored?.timestamp, 1_700_000_000_000);
});

test('string format stores UTF-8 text as is', async () => {
  const res = await produce('/topics/orders/partitions/1', STRING_V2, {
    records: [{ key: 'clé', value: 'héllo wörld', headers: [{ key: 'trace', value: 'abc' }] }],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /^application\/vnd\.kafka\.v2\+json/);
  const stored = (await readPartition(node.broker, 'orders', 1)).at(-1);
  assert.equal(stored?.key?.toString('utf8'), 'clé');
  assert.equal(stored?.value?.toString('utf8'), 'héllo wörld');
  assert.equal(stored?.headers[0]?.value?.toString(), 'abc');
});

test('a record partition on the topic path is honoured; the partition path pins every record', async () => {
  const toTopic = await produce('/topics/orders', JSON_V2, { records: [{ value: 1, partition: 2 }] });
  assert.equal(toTopic.status, 200, JSON.stringify(toTopic.body));
  assert.equal(toTopic.body.offsets[0].partition, 2);

  const toPartition = await produce('/topics/orders/partitions/1', JSON_V2, { records: [{ value: 1 }, { value: 2 }] });
  assert.equal(toPartition.status, 200);
  assert.deepEqual(
    toPartition.body.offsets.map((o: { partition: number }) => o.partition),
    [1, 1],
  );
});

test('a record naming another partition than the path answers 422 and writes nothing', async () => {
  const before = endOffsets('orders');
  const res = await produce('/topics/orders/partitions/1', JSON_V2, {
    records: [{ value: 1 }, { value: 2, partition: 0 }],
  });
  assert.equal(res.status, 422);
  assert.match(res.body.message, /records\[1\]\.partition/);
  assert.deepEqual(endOffsets('orders'), before);
});

test('acks=1 and acks=all answer with the assigned offsets', async () => {
  for (const acks of ['1', 'all', '-1']) {
    const next = endOffsets('orders')[0];
    const res = await produce(`/topics/orders/partitions/0?acks=${acks}&timeout_ms=1000`, JSON_V2, {
      records: [{ value: acks }],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.offsets, [{ partition: 0, offset: next, error_code: null, error: null }]);
  }
});

test('acks=0 answers each record partition with offset -1, as Kafka producers report it, and stores the records', async () => {
  const before = endOffsets('orders');
  const res = await produce('/topics/orders?acks=0', JSON_V2, {
    records: [
      { value: 'zero', partition: 2 },
      { value: 'one', partition: 1 },
    ],
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(res.body.offsets, [
    { partition: 2, offset: -1, error_code: null, error: null },
    { partition: 1, offset: -1, error_code: null, error: null },
  ]);
  assert.deepEqual(endOffsets('orders'), [before[0], (before[1] as number) + 1, (before[2] as number) + 1]);
  // Checks before the answer still answer: a partition the topic lacks is refused, nothing written.
  const refused = await produce('/topics/orders?acks=0', JSON_V2, { records: [{ value: 'x', partition: 9 }] });
  assert.equal(refused.status, 404);
  assert.equal(refused.body.error_code, 40402);
});

test('bad base64 answers 400/400 "Bad Request" (Confluent\'s serializer answer, as v3 gives) and nothing is written', async () => {
  const before = endOffsets('orders');
  const res = await produce('/topics/orders/partitions/0', BINARY_V2, {
    records: [{ value: Buffer.from('fine').toString('base64') }, { value: 'not base64!' }],
  });
  assert.equal(res.status, 400);
  assert.equal(res.body.error_code, 400);
  assert.match(res.body.message, /^Bad Request: records\[1\]\.value is not a valid base64 string/);
  assert.deepEqual(endOffsets('orders'), before);
});

test('a json value nested over 1000 levels or holding a number beyond a double answers 422/42206 naming it', async () => {
  const before = endOffsets('orders');
  // Raw text: JSON.parse reads 1e400 as Infinity, which JSON.stringify would store as null; and
  // JSON.stringify overflowed the stack (a 500) on a value nested some thousands deep.
  const cases: [string, RegExp][] = [
    ['{"records":[{"value":1},{"value":{"a":[2,1e400]}}]}', /^records\[1\]\.value\.a\[1\] holds a number too large/],
    [`{"records":[{"key":${'9'.repeat(400)},"value":1}]}`, /^records\[0\]\.key holds a number too large/],
    [
      `{"records":[{"value":${'['.repeat(5000)}${']'.repeat(5000)}}]}`,
      /^records\[0\]\.value(\[0\]){1000} is nested more than 1000 levels deep/,
    ],
  ];
  for (const [body, message] of cases) {
    const res = await request(node.app).post('/topics/orders/partitions/0').set('content-type', JSON_V2).send(body);
    assert.equal(res.status, 422, res.text.slice(0, 200));
    assert.equal(res.body.error_code, 42206, res.text.slice(0, 200));
    assert.match(res.body.message, message, 'the field is named');
  }
  assert.deepEqual(endOffsets('orders'), before, 'nothing written');
  // A null of its own inside a value is still a value, and 1000 levels are stored.
  const ok = await request(node.app)
    .post('/topics/orders/partitions/0')
    .set('content-type', JSON_V2)
    .send(`{"records":[{"value":{"a":null,"b":1e300}},{"value":${'['.repeat(1000)}${']'.repeat(1000)}}]}`);
  assert.equal(ok.status, 200, ok.text);
  const stored = (await readPartition(node.broker, 'orders', 0)).slice(-2);
  assert.equal(stored[0]?.value?.toString(), '{"a":null,"b":1e+300}');
  assert.equal(stored[1]?.value?.length, 2000, 'the 1000-level value');
});

test('schema fields answer 422/42206', async () => {
  for (const field of ['key_schema', 'value_schema', 'key_schema_id', 'value_schema_id']) {
    const res = await produce('/topics/orders', JSON_V2, {
      [field]: field.endsWith('_id') ? 1 : '"string"',
      records: [{ value: 1 }],
    });
    assert.equal(res.status, 422, field);
    assert.equal(res.body.error_code, 42206);
    assert.match(res.body.message, new RegExp(field));
  }
});

test('validation errors answer 422 naming the field', async () => {
  const cases: [string, unknown, RegExp][] = [
    ['/topics/orders', { records: [] }, /records/],
    ['/topics/orders', {}, /records is required/],
    ['/topics/orders', { records: [{ vlaue: 1 }] }, /records\[0\]\.vlaue is not allowed/],
    ['/topics/orders', { records: [{ value: 1, partition: -1 }] }, /records\[0\]\.partition/],
    ['/topics/orders', { records: [{ value: 1, headers: [{ key: 'h' }] }] }, /records\[0\]\.headers\[0\]\.value/],
    ['/topics/orders?acks=2', { records: [{ value: 1 }] }, /acks/],
    ['/topics/orders?timeout_ms=300001', { records: [{ value: 1 }] }, /timeout_ms/],
    ['/topics/orders?timeout_ms=soon', { records: [{ value: 1 }] }, /timeout_ms/],
    ['/topics/orders/partitions/x', { records: [{ value: 1 }] }, /partition/],
    ['/topics/..', { records: [{ value: 1 }] }, /topic/],
  ];
  for (const [path, body, message] of cases) {
    const res = await produce(path, JSON_V2, body);
    assert.equal(res.status, 422, `${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
    const code: number = res.body.error_code;
    assert.ok(code === 422 || (code >= 42200 && code < 42300), `error_code ${code}`);
    assert.match(res.body.message, message);
  }
});

test('binary records must be strings', async () => {
  const res = await produce('/topics/orders', BINARY_V2, { records: [{ value: 12 }] });
  assert.equal(res.status, 422);
  assert.match(res.body.message, /records\[0\]\.value/);
});

test('more than maxRecordsPerRequest records answers 422/42208 and writes nothing', async () => {
  const before = endOffsets('orders');
  const res = await produce('/topics/orders/partitions/0', JSON_V2, {
    records: Array.from({ length: 6 }, (_, i) => ({ value: i })),
  });
  assert.equal(res.status, 422);
  assert.equal(res.body.error_code, 42208);
  assert.deepEqual(endOffsets('orders'), before);
});

test('producing to a partition the topic does not have answers 404/40402', async () => {
  const res = await produce('/topics/orders/partitions/9', JSON_V2, { records: [{ value: 1 }] });
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(res.body.error_code, 40402);
});
