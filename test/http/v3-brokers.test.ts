import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
let cid: string;
let base: string;
before(async () => {
  node = await openNode({ brokerConfigs: { 'num.partitions': '3', 'log.retention.ms': '3600000' } });
  cid = node.broker.clusterId;
  base = `http://kafka.local:8082/v3/clusters/${cid}`;
});
after(() => node.close());

const get = (suffix: string) => request(node.app).get(`/v3/clusters/${cid}${suffix}`).set('host', 'kafka.local:8082');

const expectedBroker = () => ({
  kind: 'KafkaBroker',
  metadata: { self: `${base}/brokers/0`, resource_name: `crn:///kafka=${cid}/broker=0` },
  cluster_id: cid,
  broker_id: 0,
  host: 'kafka.local',
  port: 8082,
  rack: null,
  configs: { related: `${base}/brokers/0/configs` },
  partition_replicas: { related: `${base}/brokers/0/partition-replicas` },
});

test('GET brokers lists this node', async () => {
  const res = await get('/brokers');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, {
    kind: 'KafkaBrokerList',
    metadata: { self: `${base}/brokers`, next: null },
    data: [expectedBroker()],
  });
});

test('GET one broker; host and port are where clients reached it', async () => {
  const res = await get('/brokers/0');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, expectedBroker());
  const https = await request(node.app)
    .get(`/v3/clusters/${cid}/brokers/0`)
    .set('host', '[::1]')
    .set('x-forwarded-proto', 'https');
  assert.equal(https.body.host, '::1');
  assert.equal(https.body.port, 443);
});

test('an unknown broker answers 404/404 on every broker route', async () => {
  for (const suffix of ['', '/configs', '/configs/num.partitions']) {
    const res = await get(`/brokers/7${suffix}`);
    assert.equal(res.status, 404, suffix);
    assert.deepEqual(res.body, { error_code: 404, message: 'Broker 7 cannot be found.' }, suffix);
  }
  assert.equal((await get('/brokers/x')).status, 422);
});

test('GET broker configs lists every setting with its value and source, sorted', async () => {
  const res = await get('/brokers/0/configs');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.kind, 'KafkaBrokerConfigList');
  assert.deepEqual(res.body.metadata, { self: `${base}/brokers/0/configs`, next: null });
  const names: string[] = res.body.data.map((c: { name: string }) => c.name);
  assert.deepEqual(names, [...names].sort());
  for (const name of [
    'num.partitions',
    'auto.create.topics.enable',
    'log.retention.ms',
    'log.segment.bytes',
    'message.max.bytes',
  ]) {
    assert.ok(names.includes(name), name);
  }
  const given = res.body.data.find((c: { name: string }) => c.name === 'num.partitions');
  assert.deepEqual(given, {
    kind: 'KafkaBrokerConfig',
    metadata: {
      self: `${base}/brokers/0/configs/num.partitions`,
      resource_name: `crn:///kafka=${cid}/broker=0/config=num.partitions`,
    },
    cluster_id: cid,
    broker_id: 0,
    name: 'num.partitions',
    value: '3',
    is_default: false,
    is_read_only: true,
    is_sensitive: false,
    source: 'STATIC_BROKER_CONFIG',
    synonyms: [
      { name: 'num.partitions', value: '3', source: 'STATIC_BROKER_CONFIG' },
      { name: 'num.partitions', value: '1', source: 'DEFAULT_CONFIG' },
    ],
  });
});

test('GET one broker config: a default, a topic-config synonym, and an unknown name', async () => {
  const auto = await get('/brokers/0/configs/auto.create.topics.enable');
  assert.equal(auto.status, 200, auto.text);
  assert.equal(auto.body.value, 'true');
  assert.equal(auto.body.source, 'DEFAULT_CONFIG');
  assert.equal(auto.body.is_default, true);
  assert.deepEqual(auto.body.synonyms, [
    { name: 'auto.create.topics.enable', value: 'true', source: 'DEFAULT_CONFIG' },
  ]);

  const retention = await get('/brokers/0/configs/log.retention.ms');
  assert.equal(retention.body.value, '3600000');
  assert.equal(retention.body.source, 'STATIC_BROKER_CONFIG');

  const unknown = await get('/brokers/0/configs/log.retention.hours');
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, {
    error_code: 404,
    message: 'Config log.retention.hours cannot be found for broker 0.',
  });
});

test('a start-up setting is read-only: PUT, DELETE and alter answer 400 / 40002 naming it, and change nothing', async () => {
  const message =
    'Config num.partitions is read-only: it is a start-up setting (a flag or SAMSA_* variable) and changes only with a restart.';
  const put = await request(node.app)
    .put(`/v3/clusters/${cid}/brokers/0/configs/num.partitions`)
    .set('content-type', 'application/json')
    .send('{"value":"5"}');
  assert.equal(put.status, 400, put.text);
  assert.deepEqual(put.body, { error_code: 40002, message });
  const del = await request(node.app).delete(`/v3/clusters/${cid}/brokers/0/configs/num.partitions`);
  assert.deepEqual([del.status, del.body], [400, { error_code: 40002, message }]);
  const alter = await request(node.app)
    .post(`/v3/clusters/${cid}/brokers/0/configs:alter`)
    .send({
      data: [
        { name: 'log.retention.ms', value: '1000' },
        { name: 'num.partitions', value: '5' },
      ],
    });
  assert.deepEqual([alter.status, alter.body], [400, { error_code: 40002, message }]);
  assert.equal((await get('/brokers/0/configs/num.partitions')).body.value, '3');
  // The batch is all or nothing: its valid entry was not applied either.
  assert.equal((await get('/brokers/0/configs/log.retention.ms')).body.value, '3600000');
  assert.equal((await get('/brokers/0/configs/num.partitions')).body.is_read_only, true);
  assert.equal((await get('/brokers/0/configs/log.retention.ms')).body.is_read_only, false);
});

test('GET brokers/-/configs lists the configs of every broker (the one node)', async () => {
  const all = await get('/brokers/-/configs');
  assert.equal(all.status, 200, all.text);
  assert.equal(all.body.kind, 'KafkaBrokerConfigList');
  assert.equal(all.body.metadata.self, `${base}/brokers/-/configs`);
  assert.deepEqual(all.body.data, (await get('/brokers/0/configs')).body.data);
});

test('GET brokers/{id}/partition-replicas lists every replica the broker hosts, by topic and partition', async () => {
  await node.broker.createTopic('zeta', { partitions: 2 });
  await node.broker.createTopic('alpha', { partitions: 1 });
  const res = await get('/brokers/0/partition-replicas');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.kind, 'KafkaReplicaList');
  assert.equal(res.body.metadata.self, `${base}/brokers/0/partition-replicas`);
  const replicas = res.body.data.map((r: { topic_name: string; partition_id: number }) => [
    r.topic_name,
    r.partition_id,
  ]);
  // The internal offsets topic lives on the broker too, as in Kafka; it sorts first.
  assert.deepEqual(replicas[0], ['__consumer_offsets', 0]);
  assert.deepEqual(
    replicas.filter(([t]: [string]) => !t.startsWith('__')),
    [
      ['alpha', 0],
      ['zeta', 0],
      ['zeta', 1],
    ],
  );
  const alpha = res.body.data.find((r: { topic_name: string }) => r.topic_name === 'alpha');
  assert.deepEqual(alpha, (await get('/topics/alpha/partitions/0/replicas/0')).body);
  const unknown = await get('/brokers/7/partition-replicas');
  assert.deepEqual([unknown.status, unknown.body], [404, { error_code: 404, message: 'Broker 7 cannot be found.' }]);
});

test('broker routes answer the same with a trailing slash', async () => {
  for (const suffix of ['/brokers', '/brokers/0', '/brokers/0/configs', '/brokers/0/configs/num.partitions']) {
    const plain = await get(suffix);
    const slashed = await get(`${suffix}/`);
    assert.equal(slashed.status, 200, suffix);
    assert.deepEqual(slashed.body, plain.body, suffix);
  }
});
