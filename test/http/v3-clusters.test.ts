import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
let cid: string;
before(async () => {
  node = await openNode();
  cid = node.broker.clusterId;
});
after(() => node.close());

function expectedCluster(base: string) {
  const root = `${base}/v3/clusters/${cid}`;
  return {
    kind: 'KafkaCluster',
    metadata: { self: root, resource_name: `crn:///kafka=${cid}` },
    cluster_id: cid,
    controller: { related: `${root}/brokers/0` },
    acls: { related: `${root}/acls` },
    brokers: { related: `${root}/brokers` },
    broker_configs: { related: `${root}/broker-configs` },
    consumer_groups: { related: `${root}/consumer-groups` },
    topics: { related: `${root}/topics` },
    partition_reassignments: { related: `${root}/topics/-/partitions/-/reassignment` },
  };
}

test('GET /v3/clusters lists the one cluster in Confluent’s shape', async () => {
  const res = await request(node.app).get('/v3/clusters').set('host', 'kafka.local:8082');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(res.body, {
    kind: 'KafkaClusterList',
    metadata: { self: 'http://kafka.local:8082/v3/clusters', next: null },
    data: [expectedCluster('http://kafka.local:8082')],
  });
});

test('GET /v3/clusters/{cluster_id} answers the cluster', async () => {
  const res = await request(node.app).get(`/v3/clusters/${cid}`).set('host', 'kafka.local:8082');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, expectedCluster('http://kafka.local:8082'));
});

test('the cluster id is the one the broker persisted', async () => {
  assert.match(cid, /^[A-Za-z0-9_-]{22}$/);
  const res = await request(node.app).get('/v3/clusters');
  assert.equal(res.body.data[0].cluster_id, cid);
});

test('an unknown cluster id answers 404/404 in Confluent’s wording, on every cluster route', async () => {
  for (const path of [
    '',
    '/topics',
    '/topics/x',
    '/topics/x/configs',
    '/topics/x/partitions/0',
    '/brokers',
    '/brokers/0',
  ]) {
    const res = await request(node.app).get(`/v3/clusters/lkc-nope${path}`);
    assert.equal(res.status, 404, path);
    assert.deepEqual(res.body, { error_code: 404, message: 'Cluster lkc-nope cannot be found.' }, path);
  }
});

test('an unknown v3 path answers 404/404 "HTTP 404 Not Found"', async () => {
  const res = await request(node.app).get(`/v3/clusters/${cid}/nothing-here`);
  assert.equal(res.status, 404);
  assert.deepEqual(res.body, { error_code: 404, message: 'HTTP 404 Not Found' });
});

test('links follow X-Forwarded-Proto, -Host and -Prefix from a proxy', async () => {
  const res = await request(node.app)
    .get(`/v3/clusters/${cid}`)
    .set('host', 'internal:8082')
    .set('x-forwarded-proto', 'https, http')
    .set('x-forwarded-host', 'kafka.example.com')
    .set('x-forwarded-prefix', '/rest/');
  assert.equal(res.status, 200);
  assert.equal(res.body.metadata.self, `https://kafka.example.com/rest/v3/clusters/${cid}`);
});

test('forwarded values that are not a plain scheme, host or path are ignored', async () => {
  const res = await request(node.app)
    .get(`/v3/clusters/${cid}`)
    .set('host', 'internal:8082')
    .set('x-forwarded-proto', 'javascript')
    .set('x-forwarded-host', 'evil.com/"><script>')
    .set('x-forwarded-prefix', '//evil.com');
  assert.equal(res.body.metadata.self, `http://internal:8082/v3/clusters/${cid}`);
});

test('an advertised URL wins over whatever the request says', async () => {
  const app = createApp({ node: node.samsa, advertisedUrl: 'https://public.example.com/kafka/' });
  const res = await request(app).get('/v3/clusters').set('host', 'internal:8082');
  assert.equal(res.body.metadata.self, 'https://public.example.com/kafka/v3/clusters');
  assert.equal(res.body.data[0].topics.related, `https://public.example.com/kafka/v3/clusters/${cid}/topics`);
});

test('cluster paths answer the same with a trailing slash', async () => {
  for (const path of ['/v3/clusters', `/v3/clusters/${cid}`]) {
    const plain = await request(node.app).get(path).set('host', 'h:1');
    const slashed = await request(node.app).get(`${path}/`).set('host', 'h:1');
    assert.equal(slashed.status, 200, path);
    assert.deepEqual(slashed.body, plain.body, path);
  }
});

test('a write method on the cluster answers 405 with Allow', async () => {
  const res = await request(node.app).delete(`/v3/clusters/${cid}`);
  assert.equal(res.status, 405);
  assert.equal(res.headers.allow, 'GET, HEAD');
  assert.equal(res.body.error_code, 405);
});

test('the acls link answers 400 / 40002: no ACLs yet, authorization is off (as Confluent without an authorizer)', async () => {
  const acl = {
    resource_type: 'TOPIC',
    resource_name: 'orders',
    pattern_type: 'LITERAL',
    principal: 'User:alice',
    host: '*',
    operation: 'READ',
    permission: 'ALLOW',
  };
  for (const res of [
    await request(node.app).get(`/v3/clusters/${cid}/acls`),
    await request(node.app).delete(`/v3/clusters/${cid}/acls`).query({ resource_type: 'TOPIC' }),
    await request(node.app).post(`/v3/clusters/${cid}/acls`).send(acl),
    await request(node.app)
      .post(`/v3/clusters/${cid}/acls:batch`)
      .send({ data: [acl] }),
  ]) {
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error_code, 40002);
    assert.match(res.body.message, /ACLs are not available/);
    assert.match(res.body.message, /authorization is off/);
  }
  assert.equal((await request(node.app).get('/v3/clusters/other/acls')).status, 404);
});
