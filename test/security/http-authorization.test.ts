/**
 * Authorization over HTTP with `--authorizer acl`, as `User:ANONYMOUS` (what every request is
 * until authentication sets a principal): routes answer 403 / 40301 naming the operation and the
 * resource until an ACL allows them; listings show only what may be described; the v3 `/acls`
 * routes round-trip in Confluent's shapes; ACLs survive a restart. One test sets principals with
 * the shared `setPrincipal` contract, as authentication will, to show consumer instances belong
 * to the principal that created them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import express from 'express';
import request from 'supertest';
import { setPrincipal } from '../../src/http/exchange-locals.js';
import { AclAuthorizer } from '../../src/security/acl-authorizer.js';
import { userPrincipal } from '../../src/security/principal.js';
import { JSON_V2, openNode, type TestNode } from '../http/node-fixture.js';

let node: TestNode;
let cid: string;
const v3 = (suffix: string) => `/v3/clusters/${cid}${suffix}`;

before(async () => {
  node = await openNode({ authorizer: 'acl', brokerConfigs: { 'auto.create.topics.enable': 'false' } });
  cid = node.broker.clusterId;
  for (const t of ['orders', 'secret', 'team-a.events', 'team-b.events']) await node.broker.createTopic(t);
});
after(async () => {
  await node.samsa.shutdown();
  fs.rmSync(node.dataDir, { recursive: true, force: true });
});

function acls(n: TestNode = node): AclAuthorizer {
  const a = n.samsa.authorizer;
  assert.ok(a instanceof AclAuthorizer);
  return a;
}

const anonymous = (fields: Record<string, string>): Record<string, string> => ({
  resource_type: 'TOPIC',
  pattern_type: 'LITERAL',
  principal: 'User:ANONYMOUS',
  host: '*',
  permission: 'ALLOW',
  ...fields,
});

function produce(topic: string) {
  return request(node.app)
    .post(`/topics/${topic}`)
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: { n: 1 } }] }));
}

function expectDenied(res: request.Response, operation: string, type: string, name: string) {
  assert.equal(res.status, 403, res.text);
  assert.equal(res.body.error_code, 40301);
  assert.equal(res.body.message, `User:ANONYMOUS is not authorized to ${operation} ${type} '${name}'`);
}

test('without ACLs everything but the probes and pages is denied, with 403 / 40301 naming what', async () => {
  expectDenied(await produce('orders'), 'WRITE', 'TOPIC', 'orders');
  expectDenied(await request(node.app).get('/topics/orders'), 'DESCRIBE', 'TOPIC', 'orders');
  expectDenied(await request(node.app).get('/topics/orders/stream'), 'READ', 'TOPIC', 'orders');
  expectDenied(await request(node.app).get(v3('/acls')), 'DESCRIBE', 'CLUSTER', 'kafka-cluster');
  expectDenied(await request(node.app).get('/metrics'), 'DESCRIBE', 'CLUSTER', 'kafka-cluster');
  expectDenied(
    await request(node.app).post('/consumers/g1').set('content-type', 'application/vnd.kafka.v2+json').send('{}'),
    'READ',
    'GROUP',
    'g1',
  );
  assert.equal((await request(node.app).get('/healthz')).status, 200);
  assert.equal((await request(node.app).get('/openapi.yaml')).status, 200);
  assert.deepEqual((await request(node.app).get('/topics')).body, []);
  assert.deepEqual((await request(node.app).get(v3('/topics'))).body.data, []);
});

test('v3 /acls: create, list with filters, batch, and delete answering the deleted ones', async () => {
  // Bootstrapping as ANONYMOUS: the authorizer's own API grants CLUSTER ALTER and DESCRIBE
  // (a deployment does this with super.users or allow.everyone.if.no.acl.found).
  const clusterAcl = (operation: string) => ({
    resourceType: 'CLUSTER',
    resourceName: 'kafka-cluster',
    patternType: 'LITERAL',
    principal: 'User:ANONYMOUS',
    host: '*',
    operation,
    permission: 'ALLOW',
  });
  await acls().create([clusterAcl('ALTER'), clusterAcl('DESCRIBE')]);

  const created = await request(node.app)
    .post(v3('/acls'))
    .send(anonymous({ resource_name: 'orders', operation: 'WRITE' }));
  assert.equal(created.status, 201, created.text);
  const batch = await request(node.app)
    .post(v3('/acls:batch'))
    .send({
      data: [
        anonymous({ resource_name: 'team-a.', pattern_type: 'PREFIXED', operation: 'READ' }),
        anonymous({ resource_type: 'GROUP', resource_name: 'g1', operation: 'READ' }),
        anonymous({ resource_name: 'scratch', operation: 'ALL', principal: 'User:*', permission: 'DENY' }),
      ],
    });
  assert.equal(batch.status, 201, batch.text);

  const all = await request(node.app).get(v3('/acls'));
  assert.equal(all.status, 200, all.text);
  assert.equal(all.body.kind, 'KafkaAclList');
  assert.equal(all.body.data.length, 6);
  const topics = await request(node.app).get(v3('/acls')).query({ resource_type: 'TOPIC', permission: 'ALLOW' });
  assert.deepEqual(
    topics.body.data
      .map((a: { resource_name: string; operation: string }) => `${a.resource_name}:${a.operation}`)
      .sort(),
    ['orders:WRITE', 'team-a.:READ'],
  );
  const orders = topics.body.data.find((a: { resource_name: string }) => a.resource_name === 'orders');
  assert.deepEqual(orders, {
    kind: 'KafkaAcl',
    metadata: { self: orders.metadata.self },
    cluster_id: cid,
    resource_type: 'TOPIC',
    resource_name: 'orders',
    pattern_type: 'LITERAL',
    principal: 'User:ANONYMOUS',
    host: '*',
    operation: 'WRITE',
    permission: 'ALLOW',
  });
  // `self` selects exactly this ACL.
  const self = new URL(orders.metadata.self);
  const again = await request(node.app).get(`${self.pathname}${self.search}`);
  assert.equal(again.body.data.length, 1);
  const match = await request(node.app)
    .get(v3('/acls'))
    .query({ resource_type: 'TOPIC', resource_name: 'team-a.events', pattern_type: 'MATCH' });
  assert.deepEqual(
    match.body.data.map((a: { resource_name: string }) => a.resource_name),
    ['team-a.'],
  );

  // Bad input: a clear 400 / 40002 naming the field, or the schema's 422.
  const bad = await request(node.app)
    .post(v3('/acls'))
    .send(anonymous({ resource_name: 'x', operation: 'READ', host: 'not-an-ip' }));
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.body.error_code, 40002);
  assert.match(bad.body.message, /host/);
  assert.equal((await request(node.app).post(v3('/acls')).send({ resource_type: 'TOPIC' })).status, 422);
  assert.equal((await request(node.app).delete(v3('/acls'))).status, 422, 'resource_type is required to delete');

  const deleted = await request(node.app)
    .delete(v3('/acls'))
    .query({ resource_type: 'TOPIC', resource_name: 'scratch' });
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(
    deleted.body.data.map((a: { permission: string }) => a.permission),
    ['DENY'],
  );
  assert.equal((await request(node.app).get(v3('/acls'))).body.data.length, 5);
});

test('a topic ACL allows exactly its operation: WRITE lets produce through (and implies DESCRIBE), not reads', async () => {
  assert.equal((await produce('orders')).status, 200);
  expectDenied(await produce('secret'), 'WRITE', 'TOPIC', 'secret');
  assert.equal((await request(node.app).get('/topics/orders')).status, 200);
  expectDenied(await request(node.app).get('/topics/orders/stream'), 'READ', 'TOPIC', 'orders');
  const v3produce = await request(node.app)
    .post(v3('/topics/secret/records'))
    .send({ value: { type: 'JSON', data: 1 } });
  expectDenied(v3produce, 'WRITE', 'TOPIC', 'secret');
});

test('a PREFIXED grant covers every topic whose name starts with the prefix, and nothing else', async () => {
  assert.equal((await request(node.app).get('/topics/team-a.events')).status, 200);
  expectDenied(await request(node.app).get('/topics/team-b.events'), 'DESCRIBE', 'TOPIC', 'team-b.events');
  const records = await request(node.app).get('/topics/team-a.events/partitions/0/offsets');
  assert.equal(records.status, 200, records.text);
});

test('listings show only what the principal may describe', async () => {
  assert.deepEqual((await request(node.app).get('/topics')).body, ['orders', 'team-a.events']);
  const v3list = await request(node.app).get(v3('/topics'));
  assert.deepEqual(
    v3list.body.data.map((t: { topic_name: string }) => t.topic_name),
    ['orders', 'team-a.events'],
  );
});

test('consumer instances: GROUP READ to create one, TOPIC READ to subscribe, and they belong to their creator', async () => {
  const V2 = 'application/vnd.kafka.v2+json';
  const created = await request(node.app)
    .post('/consumers/g1')
    .set('content-type', V2)
    .send({ name: 'c1', format: 'json' });
  assert.equal(created.status, 200, created.text);
  const subscribe = (topics: string[], app: express.Express = node.app) =>
    request(app).post('/consumers/g1/instances/c1/subscription').set('content-type', V2).send({ topics });
  expectDenied(await subscribe(['orders']), 'READ', 'TOPIC', 'orders');
  assert.equal((await subscribe(['team-a.events'])).status, 204);

  // Another principal (as authentication will set one) gets 403 even with READ on the group and topic.
  await acls().create([
    {
      resourceType: 'GROUP',
      resourceName: 'g1',
      patternType: 'LITERAL',
      principal: 'User:*',
      host: '*',
      operation: 'READ',
      permission: 'ALLOW',
    },
    {
      resourceType: 'TOPIC',
      resourceName: 'team-a.',
      patternType: 'PREFIXED',
      principal: 'User:*',
      host: '*',
      operation: 'READ',
      permission: 'ALLOW',
    },
  ]);
  const asBob = express();
  asBob.use((_req, res, next) => {
    setPrincipal(res, userPrincipal('bob'));
    next();
  });
  asBob.use(node.app);
  const stolen = await request(asBob)
    .get('/consumers/g1/instances/c1/records')
    .set('accept', 'application/vnd.kafka.json.v2+json');
  assert.equal(stolen.status, 403, stolen.text);
  assert.equal(stolen.body.error_code, 40301);
  assert.match(stolen.body.message, /^User:bob is not authorized to READ GROUP 'g1': consumer instance 'c1' belongs/);
  assert.equal((await subscribe(['team-a.events'], asBob)).status, 403);
  const mine = await request(node.app)
    .get('/consumers/g1/instances/c1/records')
    .query({ timeout: 0 })
    .set('accept', 'application/vnd.kafka.json.v2+json');
  assert.equal(mine.status, 200, mine.text);
  assert.equal((await request(node.app).delete('/consumers/g1/instances/c1')).status, 204);
});

test('creating a topic takes CLUSTER CREATE or CREATE on that topic name', async () => {
  const create = (name: string) => request(node.app).post(v3('/topics')).send({ topic_name: name });
  expectDenied(await create('new-1'), 'CREATE', 'TOPIC', 'new-1');
  await request(node.app)
    .post(v3('/acls'))
    .send(anonymous({ resource_name: 'new-1', operation: 'CREATE' }))
    .expect(201);
  assert.equal((await create('new-1')).status, 201);
  expectDenied(await create('new-2'), 'CREATE', 'TOPIC', 'new-2');
  await request(node.app)
    .post(v3('/acls'))
    .send(anonymous({ resource_type: 'CLUSTER', resource_name: 'kafka-cluster', operation: 'CREATE' }))
    .expect(201);
  assert.equal((await create('new-2')).status, 201);
});

test('ACLs are stored in the data dir and enforced again after a restart', async () => {
  // Without `metadata`: its links carry the Host of each request (supertest's port changes).
  const listed = async () =>
    (await request(node.app).get(v3('/acls'))).body.data.map(({ metadata: _, ...acl }: Record<string, unknown>) => acl);
  const before = await listed();
  await node.samsa.shutdown();
  node = await openNode({ authorizer: 'acl', dataDir: node.dataDir });
  assert.equal(before.length, 9);
  assert.deepEqual(await listed(), before);
  assert.equal((await produce('orders')).status, 200);
  expectDenied(await produce('secret'), 'WRITE', 'TOPIC', 'secret');
});
