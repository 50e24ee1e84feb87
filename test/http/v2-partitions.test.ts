import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode({ brokerConfigs: { 'auto.create.topics.enable': 'false' } });
  await node.broker.createTopic('events', { partitions: 2 });
});
after(() => node.close());

test('offsets of an empty partition are 0 and 0', async () => {
  const res = await request(node.app).get('/topics/events/partitions/1/offsets');
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.match(res.headers['content-type'] ?? '', /^application\/vnd\.kafka\.v2\+json/);
  assert.deepEqual(res.body, { beginning_offset: 0, end_offset: 0 });
});

test('end_offset moves to the high watermark after a produce', async () => {
  const produced = await request(node.app)
    .post('/topics/events/partitions/0')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 1 }, { value: 2 }, { value: 3 }] }));
  assert.equal(produced.status, 200, JSON.stringify(produced.body));

  const res = await request(node.app).get('/topics/events/partitions/0/offsets');
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { beginning_offset: 0, end_offset: 3 });
});

test('an unknown partition answers 404/40402', async () => {
  const res = await request(node.app).get('/topics/events/partitions/7/offsets');
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 40402);
});

test('an unknown topic answers 404/40403', async () => {
  const res = await request(node.app).get('/topics/nope/partitions/0/offsets');
  assert.equal(res.status, 404);
  assert.equal(res.body.error_code, 40403);
});

// Produce uses 40401 ('Topic not found'), as Confluent does for a topic missing from metadata.
test('producing to an unknown topic with auto-creation off answers 404/40401', async () => {
  const res = await request(node.app)
    .post('/topics/nope')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 1 }] }));
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(res.body.error_code, 40401);
});
