import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

const V2 = /^application\/vnd\.kafka\.v2\+json/;

let node: TestNode;
before(async () => {
  node = await openNode({ brokerConfigs: { 'log.retention.ms': '3600000' } });
  await node.broker.createTopic('orders', { partitions: 3, configs: { 'cleanup.policy': 'compact' } });
  await node.broker.createTopic('audit', { partitions: 1 });
});
after(() => node.close());

test('GET /topics lists every topic name, sorted, as v2 JSON', async () => {
  const res = await request(node.app).get('/topics');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', V2);
  assert.deepEqual(res.body, ['audit', 'orders']);
});

test('GET /topics/{topic} fills in every config with its effective value', async () => {
  const res = await request(node.app).get('/topics/orders');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', V2);
  assert.equal(res.body.name, 'orders');
  // The override, the broker-wide setting and the built-in default each show through.
  assert.equal(res.body.configs['cleanup.policy'], 'compact');
  assert.equal(res.body.configs['retention.ms'], '3600000');
  assert.equal(res.body.configs['segment.bytes'], String(1024 * 1024 * 1024));
  assert.ok(Object.keys(res.body.configs).length >= 15, 'every topic config, not only overrides');
  for (const value of Object.values(res.body.configs)) assert.equal(typeof value, 'string');
  assert.deepEqual(res.body.partitions, [0, 1, 2].map(singleReplicaPartition));
});

test('GET /topics/{topic}/partitions lists each partition with leader and replicas', async () => {
  const res = await request(node.app).get('/topics/orders/partitions');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', V2);
  assert.deepEqual(res.body, [0, 1, 2].map(singleReplicaPartition));
});

test('GET /topics/{topic}/partitions/{partition} answers one partition', async () => {
  const res = await request(node.app).get('/topics/orders/partitions/2');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, singleReplicaPartition(2));
});

test('GET /brokers lists this node', async () => {
  const res = await request(node.app).get('/brokers');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', V2);
  assert.deepEqual(res.body, { brokers: [0] });
});

test('an unknown topic answers 404/40403 on every topic route', async () => {
  for (const path of ['/topics/nope', '/topics/nope/partitions', '/topics/nope/partitions/0']) {
    const res = await request(node.app).get(path);
    assert.equal(res.status, 404, path);
    assert.equal(res.body.error_code, 40403, path);
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  }
});

test('an unknown partition answers 404/40402', async () => {
  const res = await request(node.app).get('/topics/orders/partitions/3');
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 40402);
});

test('a partition that is not a number, or negative, answers 422', async () => {
  for (const path of ['/topics/orders/partitions/x', '/topics/orders/partitions/-1']) {
    const res = await request(node.app).get(path);
    assert.equal(res.status, 422, path);
    assert.equal(res.body.error_code, 422);
  }
});

test('a topic name outside Kafka’s alphabet is refused before any lookup', async () => {
  for (const name of ['caf%C3%A9', '%E2%9C%93', '%2E%2E', 'a%2Fb']) {
    const res = await request(node.app).get(`/topics/${name}`);
    assert.equal(res.status, 422, name);
    assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'message']);
  }
});

test('paths answer the same with a trailing slash', async () => {
  for (const path of ['/topics', '/topics/orders', '/topics/orders/partitions', '/brokers']) {
    const plain = await request(node.app).get(path);
    const slashed = await request(node.app).get(`${path}/`);
    assert.equal(slashed.status, 200, path);
    assert.deepEqual(slashed.body, plain.body, path);
  }
});

test('a topic auto-created by produce shows up with its partitions', async () => {
  const produced = await request(node.app)
    .post('/topics/fresh')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 1 }] }));
  assert.equal(produced.status, 200, produced.text);
  const list = await request(node.app).get('/topics');
  assert.ok(list.body.includes('fresh'));
  const topic = await request(node.app).get('/topics/fresh');
  assert.equal(topic.body.partitions.length, 1);
});

test('a write method on a read-only path answers 405 with Allow', async () => {
  const res = await request(node.app).post('/brokers').set('content-type', 'application/json').send('{}');
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, 'GET, HEAD');
});

function singleReplicaPartition(partition: number) {
  return { partition, leader: 0, replicas: [{ broker: 0, leader: true, in_sync: true }] };
}
