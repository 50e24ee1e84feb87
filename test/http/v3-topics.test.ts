import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
let cid: string;
let base: string;
before(async () => {
  node = await openNode({ brokerConfigs: { 'num.partitions': '2' } });
  cid = node.broker.clusterId;
  base = `http://kafka.local/v3/clusters/${cid}`;
});
after(() => node.close());

const v3 = (suffix: string) => `/v3/clusters/${cid}${suffix}`;
const get = (suffix: string) => request(node.app).get(v3(suffix)).set('host', 'kafka.local');
const send = (method: 'post' | 'patch' | 'put', suffix: string, body: unknown) =>
  request(node.app)
    [method](v3(suffix))
    .set('host', 'kafka.local')
    .set('content-type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));

function expectedTopic(name: string, partitions: number, authorizedOperations: string[] = []) {
  const self = `${base}/topics/${name}`;
  return {
    kind: 'KafkaTopic',
    metadata: { self, resource_name: `crn:///kafka=${cid}/topic=${name}` },
    cluster_id: cid,
    topic_name: name,
    is_internal: false,
    replication_factor: 1,
    partitions_count: partitions,
    partitions: { related: `${self}/partitions` },
    configs: { related: `${self}/configs` },
    partition_reassignments: { related: `${self}/partitions/-/reassignment` },
    authorized_operations: authorizedOperations,
  };
}

test('POST topics creates a topic: 201, Location, Confluent’s TopicData', async () => {
  const res = await send('post', '/topics', {
    topic_name: 'orders',
    partitions_count: 3,
    replication_factor: 1,
    configs: [{ name: 'cleanup.policy', value: 'compact' }],
  });
  assert.equal(res.status, 201, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(res.headers.location, `${base}/topics/orders`);
  assert.deepEqual(res.body, expectedTopic('orders', 3));
  assert.equal(node.broker.describeTopic('orders').configOverrides['cleanup.policy'], 'compact');
});

test('a topic created with only a name takes the broker defaults', async () => {
  const res = await send('post', '/topics', { topic_name: 'defaults' });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.partitions_count, 2); // num.partitions=2 on this node
  assert.equal(res.body.replication_factor, 1);
});

test('validate_only answers 200 with what would be created and creates nothing', async () => {
  const res = await send('post', '/topics', { topic_name: 'dry-run', partitions_count: 5, validate_only: true });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.location, undefined);
  assert.deepEqual(res.body, expectedTopic('dry-run', 5));
  const defaults = await send('post', '/topics', { topic_name: 'dry-run', validate_only: true });
  assert.equal(defaults.body.partitions_count, 2);
  assert.equal((await get('/topics/dry-run')).status, 404);
});

test('creating a topic that exists answers 400/40002', async () => {
  const res = await send('post', '/topics', { topic_name: 'orders' });
  assert.equal(res.status, 400);
  assert.equal(res.body.error_code, 40002);
  assert.match(res.body.message, /already exists/);
});

test('an illegal topic name answers 422/42206, unicode included, and nothing reaches the disk', async () => {
  for (const name of ['café', '主题', 'a/b', '../x', '..', '.', '', 'x'.repeat(250), 'sp ace', 'emoji-🚀']) {
    const res = await send('post', '/topics', { topic_name: name });
    assert.equal(res.status, 422, `${JSON.stringify(name)}: ${res.text}`);
    assert.equal(res.body.error_code, 42206, name);
  }
  assert.deepEqual(
    fs.readdirSync(node.dataDir).filter((f) => f.includes('..') || f.includes('caf')),
    [],
  );
  assert.ok(!fs.existsSync(path.join(node.dataDir, '..', 'x-0')));
});

test('an unknown config or an invalid config value answers 400/40002 and creates nothing', async () => {
  for (const configs of [
    [{ name: 'no.such.config', value: '1' }],
    [{ name: 'retention.ms', value: 'soon' }],
    [{ name: 'cleanup.policy', value: 'shred' }],
    [
      { name: 'retention.ms', value: '1' },
      { name: 'retention.ms', value: '2' },
    ],
  ]) {
    const res = await send('post', '/topics', { topic_name: 'bad-config', configs });
    assert.equal(res.status, 400, JSON.stringify(configs));
    assert.equal(res.body.error_code, 40002);
  }
  assert.equal((await get('/topics/bad-config')).status, 404);
});

test('a replication factor above the broker count answers 400/40002', async () => {
  const res = await send('post', '/topics', { topic_name: 'replicated', replication_factor: 3 });
  assert.equal(res.status, 400);
  assert.equal(res.body.error_code, 40002);
});

test('bodies that break the schema answer 422 naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{}, /topic_name is required/],
    [{ topic_name: 'x', partitions_count: 0 }, /partitions_count/],
    [{ topic_name: 'x', partitions_count: '3' }, /partitions_count must be integer/],
    [{ topic_name: 'x', partitions_count: 10_001 }, /partitions_count/],
    [{ topic_name: 7 }, /topic_name must be string/],
    [{ topic_name: 'x', configs: [{ value: '1' }] }, /configs\[0\]\.name is required/],
    [{ topic_name: 'x', surprise: true }, /surprise is not allowed/],
    [[], /request body must be object/],
  ];
  for (const [body, message] of cases) {
    const res = await send('post', '/topics', body);
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.equal(res.body.error_code, 422);
    assert.match(res.body.message, message);
  }
});

test('an empty body answers 422/42206, malformed JSON 400, a non-JSON content type 415', async () => {
  const empty = await request(node.app).post(v3('/topics')).set('content-type', 'application/json');
  assert.equal(empty.status, 422);
  assert.equal(empty.body.error_code, 42206);

  const malformed = await send('post', '/topics', '{"topic_name": "x"');
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.error_code, 400);

  for (const type of ['text/plain', JSON_V2, 'application/x-www-form-urlencoded']) {
    const res = await request(node.app).post(v3('/topics')).set('content-type', type).send('{"topic_name":"x"}');
    assert.equal(res.status, 415, type);
    assert.equal(res.body.error_code, 415);
  }
  const none = await request(node.app).post(v3('/topics')).send(Buffer.from('{"topic_name":"x"}'));
  assert.equal(none.status, 415);
});

test('GET topics lists every topic sorted by name', async () => {
  const res = await get('/topics');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.kind, 'KafkaTopicList');
  assert.deepEqual(res.body.metadata, { self: `${base}/topics`, next: null });
  const names = res.body.data.map((t: { topic_name: string }) => t.topic_name);
  assert.deepEqual(names, [...names].sort());
  assert.deepEqual(
    res.body.data.find((t: { topic_name: string }) => t.topic_name === 'orders'),
    expectedTopic('orders', 3),
  );
});

test('authorized_operations is filled only when asked for (camelCase on list, snake_case on get)', async () => {
  const all = ['READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS'];
  const list = await get('/topics?includeAuthorizedOperations=true');
  assert.deepEqual(list.body.data[0].authorized_operations, all);
  const one = await get('/topics/orders?include_authorized_operations=true');
  assert.deepEqual(one.body, expectedTopic('orders', 3, all));
  const bad = await get('/topics/orders?include_authorized_operations=maybe');
  assert.equal(bad.status, 422);
});

test('GET an unknown topic answers 404/40403', async () => {
  const res = await get('/topics/nope');
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 40403);
});

test('a topic name in the path outside Kafka’s alphabet answers 422 on every topic route', async () => {
  for (const name of ['caf%C3%A9', '%F0%9F%9A%80', '%2E%2E', 'a%2Fb']) {
    for (const suffix of ['', '/configs', '/partitions', '/partitions/0/offset']) {
      const res = await get(`/topics/${name}${suffix}`);
      assert.equal(res.status, 422, `${name}${suffix}`);
      assert.match(res.body.message, /topic_name/);
    }
    assert.equal((await request(node.app).delete(v3(`/topics/${name}`))).status, 422);
  }
});

test('PATCH grows the partition count, and the new partitions take records', async () => {
  const res = await send('patch', '/topics/orders', { partitions_count: 5 });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, expectedTopic('orders', 5));
  const produced = await request(node.app)
    .post('/topics/orders/partitions/4')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ key: 'k', value: 1 }] }));
  assert.equal(produced.status, 200, produced.text);
});

test('PATCH to the same or a smaller count answers 400/40002 and changes nothing', async () => {
  for (const count of [5, 2]) {
    const res = await send('patch', '/topics/orders', { partitions_count: count });
    assert.equal(res.status, 400, String(count));
    assert.equal(res.body.error_code, 40002);
  }
  assert.equal((await get('/topics/orders')).body.partitions_count, 5);
});

test('PATCH with a bad body answers 422, on an unknown topic 404/40403', async () => {
  for (const body of [{}, { partitions_count: -1 }, { partitions_count: 'many' }, { partitions_count: 3, x: 1 }]) {
    const res = await send('patch', '/topics/orders', body);
    assert.equal(res.status, 422, JSON.stringify(body));
  }
  const unknown = await send('patch', '/topics/nope', { partitions_count: 9 });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error_code, 40403);
});

test('DELETE answers 204 and removes the topic’s data from disk', async () => {
  const created = await send('post', '/topics', { topic_name: 'doomed', partitions_count: 2 });
  assert.equal(created.status, 201);
  await request(node.app)
    .post('/topics/doomed')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 'bye' }] }));
  const dirs = () => fs.readdirSync(node.dataDir).filter((f) => f.startsWith('doomed-'));
  assert.deepEqual(dirs().sort(), ['doomed-0', 'doomed-1']);

  const res = await request(node.app).delete(v3('/topics/doomed'));
  assert.equal(res.status, 204, res.text);
  assert.equal(res.text, '');
  assert.deepEqual(dirs(), []);
  assert.equal((await get('/topics/doomed')).status, 404);
  assert.ok(!(await get('/topics')).body.data.some((t: { topic_name: string }) => t.topic_name === 'doomed'));
});

test('DELETE of an unknown topic answers 404/40403', async () => {
  const res = await request(node.app).delete(v3('/topics/nope'));
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 40403);
});

test('a deleted topic can be created again, empty', async () => {
  assert.equal((await send('post', '/topics', { topic_name: 'phoenix' })).status, 201);
  await request(node.app)
    .post('/topics/phoenix/partitions/0')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 1 }] }));
  assert.equal((await request(node.app).delete(v3('/topics/phoenix/'))).status, 204);
  assert.equal((await send('post', '/topics/', { topic_name: 'phoenix' })).status, 201);
  const offsets = await get('/topics/phoenix/partitions/0/offset');
  assert.equal(offsets.body.latest_offset, 0);
});

test('topic routes answer the same with a trailing slash', async () => {
  for (const suffix of ['/topics', '/topics/orders']) {
    const plain = await get(suffix);
    const slashed = await get(`${suffix}/`);
    assert.equal(slashed.status, 200, suffix);
    assert.deepEqual(slashed.body, plain.body, suffix);
  }
  const patched = await send('patch', '/topics/orders/', { partitions_count: 6 });
  assert.equal(patched.status, 200, patched.text);
});

test('creating on an unknown cluster answers 404 and creates nothing', async () => {
  const res = await request(node.app)
    .post('/v3/clusters/other/topics')
    .set('content-type', 'application/json')
    .send(JSON.stringify({ topic_name: 'elsewhere' }));
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 404);
  assert.equal((await get('/topics/elsewhere')).status, 404);
});
