import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { BINARY_V2, JSON_V2, openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
let cid: string;
before(async () => {
  // A broker-wide setting, so synonyms show all three levels.
  node = await openNode({ brokerConfigs: { 'log.retention.ms': '3600000' } });
  cid = node.broker.clusterId;
  await node.broker.createTopic('orders', { partitions: 1, configs: { 'retention.ms': '60000' } });
  await node.broker.createTopic('plain', { partitions: 1 });
});
after(() => node.close());

const v3 = (suffix: string) => `/v3/clusters/${cid}${suffix}`;
const get = (suffix: string) => request(node.app).get(v3(suffix)).set('host', 'kafka.local');
const send = (method: 'post' | 'put', suffix: string, body: unknown) =>
  request(node.app)
    [method](v3(suffix))
    .set('content-type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
const del = (suffix: string) => request(node.app).delete(v3(suffix));

async function configValue(topic: string, name: string): Promise<{ value: string; source: string }> {
  const res = await get(`/topics/${topic}/configs/${name}`);
  assert.equal(res.status, 200, res.text);
  return { value: res.body.value, source: res.body.source };
}

test('GET configs lists every topic config with Confluent’s fields', async () => {
  const res = await get('/topics/plain/configs');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.kind, 'KafkaTopicConfigList');
  assert.deepEqual(res.body.metadata, {
    self: `http://kafka.local/v3/clusters/${cid}/topics/plain/configs`,
    next: null,
  });
  const names = res.body.data.map((c: { name: string }) => c.name);
  for (const name of ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes', 'max.message.bytes']) {
    assert.ok(names.includes(name), name);
  }
  const policy = res.body.data.find((c: { name: string }) => c.name === 'cleanup.policy');
  assert.deepEqual(policy, {
    kind: 'KafkaTopicConfig',
    metadata: {
      self: `http://kafka.local/v3/clusters/${cid}/topics/plain/configs/cleanup.policy`,
      resource_name: `crn:///kafka=${cid}/topic=plain/config=cleanup.policy`,
    },
    cluster_id: cid,
    topic_name: 'plain',
    name: 'cleanup.policy',
    value: 'delete',
    is_default: true,
    is_read_only: false,
    is_sensitive: false,
    source: 'DEFAULT_CONFIG',
    synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: 'DEFAULT_CONFIG' }],
  });
});

test('synonyms list the topic override, the broker setting and the default, most specific first', async () => {
  const res = await get('/topics/orders/configs/retention.ms');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.value, '60000');
  assert.equal(res.body.source, 'DYNAMIC_TOPIC_CONFIG');
  assert.equal(res.body.is_default, false);
  assert.deepEqual(res.body.synonyms, [
    { name: 'retention.ms', value: '60000', source: 'DYNAMIC_TOPIC_CONFIG' },
    { name: 'log.retention.ms', value: '3600000', source: 'STATIC_BROKER_CONFIG' },
    { name: 'log.retention.ms', value: '604800000', source: 'DEFAULT_CONFIG' },
  ]);

  // Without an override the broker setting is the value, and it is not "default".
  const plain = await get('/topics/plain/configs/retention.ms');
  assert.equal(plain.body.value, '3600000');
  assert.equal(plain.body.source, 'STATIC_BROKER_CONFIG');
  assert.equal(plain.body.is_default, false);
  assert.equal(plain.body.synonyms.length, 2);
});

test('GET an unknown config answers 404/404; an unknown topic 404/40403', async () => {
  const res = await get('/topics/orders/configs/retention.hours');
  assert.equal(res.status, 404);
  assert.deepEqual(res.body, { error_code: 404, message: 'Config retention.hours cannot be found for topic orders.' });
  const topic = await get('/topics/nope/configs');
  assert.equal(topic.status, 404);
  assert.equal(topic.body.error_code, 40403);
  const topicOne = await get('/topics/nope/configs/retention.ms');
  assert.equal(topicOne.body.error_code, 40403);
});

test('PUT sets an override: 204, then the config reads back as DYNAMIC_TOPIC_CONFIG', async () => {
  const res = await send('put', '/topics/plain/configs/cleanup.policy', { value: 'compact,delete' });
  assert.equal(res.status, 204, res.text);
  assert.equal(res.text, '');
  assert.deepEqual(await configValue('plain', 'cleanup.policy'), {
    value: 'compact,delete',
    source: 'DYNAMIC_TOPIC_CONFIG',
  });
});

test('PUT an invalid value answers 400/40002 and keeps the old value', async () => {
  for (const [name, value] of [
    ['retention.ms', 'soon'],
    ['retention.ms', '1.5'],
    ['segment.bytes', '1'],
    ['max.message.bytes', '99999999999'],
    ['cleanup.policy', 'shred'],
    ['min.cleanable.dirty.ratio', '2'],
  ]) {
    const res = await send('put', `/topics/orders/configs/${name}`, { value });
    assert.equal(res.status, 400, `${name}=${value}: ${res.text}`);
    assert.equal(res.body.error_code, 40002);
  }
  assert.equal((await configValue('orders', 'retention.ms')).value, '60000');
});

test('PUT with a bad body answers 422, a non-JSON content type 415, an unknown name 404', async () => {
  for (const body of [{}, { value: 5 }, { value: null }, { value: '1', extra: true }, '"60000"']) {
    const res = await send('put', '/topics/orders/configs/retention.ms', body);
    assert.equal(res.status, 422, JSON.stringify(body));
  }
  const typed = await request(node.app)
    .put(v3('/topics/orders/configs/retention.ms'))
    .set('content-type', 'text/plain')
    .send('60000');
  assert.equal(typed.status, 415);
  const unknown = await send('put', '/topics/orders/configs/retention.hours', { value: '1' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error_code, 404);
  const unknownTopic = await send('put', '/topics/nope/configs/retention.ms', { value: '1' });
  assert.equal(unknownTopic.body.error_code, 40403);
});

test('DELETE resets a config to the broker setting or default: 204', async () => {
  await send('put', '/topics/plain/configs/retention.ms', { value: '1000' });
  const res = await del('/topics/plain/configs/retention.ms');
  assert.equal(res.status, 204, res.text);
  assert.deepEqual(await configValue('plain', 'retention.ms'), { value: '3600000', source: 'STATIC_BROKER_CONFIG' });
  // Resetting a config without an override is fine, and unknown names are 404.
  assert.equal((await del('/topics/plain/configs/segment.ms')).status, 204);
  assert.equal((await del('/topics/plain/configs/no.such')).status, 404);
});

test('configs:alter applies SET and DELETE together: 204', async () => {
  await send('put', '/topics/plain/configs/cleanup.policy', { value: 'compact' });
  const res = await send('post', '/topics/plain/configs:alter', {
    data: [
      { name: 'cleanup.policy', operation: 'DELETE' },
      { name: 'retention.bytes', value: '1048576' },
      { name: 'segment.ms', value: '600000', operation: 'SET' },
    ],
  });
  assert.equal(res.status, 204, res.text);
  assert.deepEqual(await configValue('plain', 'cleanup.policy'), { value: 'delete', source: 'DEFAULT_CONFIG' });
  assert.equal((await configValue('plain', 'retention.bytes')).value, '1048576');
  assert.equal((await configValue('plain', 'segment.ms')).value, '600000');
});

test('configs:alter is all or nothing: one bad entry answers 400/40002 and changes none', async () => {
  for (const data of [
    [
      { name: 'retention.bytes', value: '1' },
      { name: 'retention.ms', value: 'never' },
    ],
    [
      { name: 'retention.bytes', value: '1' },
      { name: 'no.such.config', value: '1' },
    ],
    [{ name: 'retention.bytes' }],
    [
      { name: 'retention.bytes', value: '1' },
      { name: 'retention.bytes', operation: 'DELETE' },
    ],
  ]) {
    const res = await send('post', '/topics/plain/configs:alter', { data });
    assert.equal(res.status, 400, JSON.stringify(data));
    assert.equal(res.body.error_code, 40002);
  }
  assert.equal((await configValue('plain', 'retention.bytes')).value, '1048576');
});

test('configs:alter with validate_only checks and changes nothing', async () => {
  const ok = await send('post', '/topics/plain/configs:alter', {
    data: [{ name: 'retention.bytes', value: '2048' }],
    validate_only: true,
  });
  assert.equal(ok.status, 204);
  assert.equal((await configValue('plain', 'retention.bytes')).value, '1048576');
  const bad = await send('post', '/topics/plain/configs:alter', {
    data: [{ name: 'retention.bytes', value: 'x' }],
    validate_only: true,
  });
  assert.equal(bad.status, 400);
});

test('configs:alter with a bad body answers 422 naming the field', async () => {
  const cases: [unknown, RegExp][] = [
    [{}, /data is required/],
    [{ data: [] }, /data/],
    [{ data: [{ name: 'retention.ms', operation: 'APPEND' }] }, /data\[0\]\.operation must be one of: SET, DELETE/],
    [{ data: [{ value: '1' }] }, /data\[0\]\.name is required/],
    [{ data: [{ name: 'retention.ms', value: 1 }] }, /data\[0\]\.value/],
    [{ data: 'retention.ms=1' }, /data must be array/],
  ];
  for (const [body, message] of cases) {
    const res = await send('post', '/topics/plain/configs:alter', body);
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.match(res.body.message, message);
  }
  const malformed = await send('post', '/topics/plain/configs:alter', '{"data": [');
  assert.equal(malformed.status, 400);
  const unknownTopic = await send('post', '/topics/nope/configs:alter', {
    data: [{ name: 'retention.ms', value: '1' }],
  });
  assert.equal(unknownTopic.body.error_code, 40403);
});

test('config routes answer the same with a trailing slash', async () => {
  const plain = await get('/topics/orders/configs/retention.ms');
  const slashed = await get('/topics/orders/configs/retention.ms/');
  assert.deepEqual(slashed.body, plain.body);
  assert.equal((await send('put', '/topics/plain/configs/flush.ms/', { value: '1000' })).status, 204);
  assert.equal(
    (await send('post', '/topics/plain/configs:alter/', { data: [{ name: 'flush.ms', operation: 'DELETE' }] })).status,
    204,
  );
});

// ---- changes take effect on the live logs ----

test('segment.bytes and retention.bytes set over HTTP make retention delete old segments', async () => {
  assert.equal((await send('post', '/topics', { topic_name: 'small', partitions_count: 1 })).status, 201);
  const alter = await send('post', '/topics/small/configs:alter', {
    data: [
      { name: 'segment.bytes', value: '1024' },
      { name: 'retention.bytes', value: '1024' },
    ],
  });
  assert.equal(alter.status, 204, alter.text);
  for (let i = 0; i < 40; i++) {
    const res = await request(node.app)
      .post('/topics/small/partitions/0')
      .set('content-type', JSON_V2)
      .send(JSON.stringify({ records: [{ value: 'x'.repeat(200) }] }));
    assert.equal(res.status, 200, res.text);
  }
  const before = await get('/topics/small/partitions/0/offset');
  assert.equal(before.body.earliest_offset, 0);
  assert.equal(before.body.latest_offset, 40);

  const deleted = node.broker.runRetention();
  assert.ok(deleted > 0, `retention deleted ${deleted} segments`);
  const after = await get('/topics/small/partitions/0/offset');
  assert.ok(after.body.earliest_offset > 0, JSON.stringify(after.body));
  assert.equal(after.body.latest_offset, 40);
});

test('retention.ms set over HTTP makes retention delete segments older than it', async () => {
  await send('post', '/topics', { topic_name: 'aging', partitions_count: 1 });
  await send('put', '/topics/aging/configs/segment.bytes', { value: '512' });
  for (let i = 0; i < 10; i++) {
    await request(node.app)
      .post('/topics/aging/partitions/0')
      .set('content-type', JSON_V2)
      .send(JSON.stringify({ records: [{ value: 'y'.repeat(200) }] }));
  }
  // Nothing is older than the default 7 days, so nothing goes.
  node.broker.runRetention(Date.now() + 60_000);
  assert.equal((await get('/topics/aging/partitions/0/offset')).body.earliest_offset, 0);
  assert.equal((await send('put', '/topics/aging/configs/retention.ms', { value: '1000' })).status, 204);
  assert.ok(node.broker.runRetention(Date.now() + 60_000) > 0);
  assert.ok((await get('/topics/aging/partitions/0/offset')).body.earliest_offset > 0);
});

test('max.message.bytes lowered over HTTP refuses a larger record at once, and raising it again accepts it', async () => {
  await send('post', '/topics', { topic_name: 'tight', partitions_count: 1 });
  const value = Buffer.alloc(2048, 7).toString('base64');
  const produce = () =>
    request(node.app)
      .post('/topics/tight')
      .set('content-type', BINARY_V2)
      .send(JSON.stringify({ records: [{ value }] }));
  assert.equal((await produce()).status, 200);

  assert.equal((await send('put', '/topics/tight/configs/max.message.bytes', { value: '1024' })).status, 204);
  const refused = await produce();
  assert.ok(refused.status >= 400 && refused.status < 500, `${refused.status} ${refused.text}`);
  assert.match(refused.body.message, /max\.message\.bytes/);

  assert.equal((await del('/topics/tight/configs/max.message.bytes')).status, 204);
  assert.equal((await produce()).status, 200);
});

test('GET topics/-/configs lists every topic config of every topic, internal ones too, each as its own GET shows it', async () => {
  const res = await get('/topics/-/configs');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.kind, 'KafkaTopicConfigList');
  assert.equal(res.body.metadata.self, `http://kafka.local/v3/clusters/${cid}/topics/-/configs`);
  const topics = [...new Set(res.body.data.map((c: { topic_name: string }) => c.topic_name))];
  // Earlier tests in this file create more topics; all of them, sorted, internal first.
  assert.deepEqual(topics, ['__consumer_offsets', ...node.broker.listTopics()]);
  assert.ok(topics.includes('orders') && topics.includes('plain'));
  const ordersConfigs = res.body.data.filter((c: { topic_name: string }) => c.topic_name === 'orders');
  assert.deepEqual(ordersConfigs, (await get('/topics/orders/configs')).body.data);
  // A POST is not a wildcard write: the route only reads.
  assert.equal((await send('post', '/topics/-/configs', {})).status, 405);
});
