/**
 * A produce to a topic that does not exist yet auto-creates it, but only once the whole request has
 * passed: a refused produce leaves no topic behind, neither in the metadata nor in the data dir.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { BINARY_V2, JSON_V2, openNode, STRING_V2, type TestNode } from './node-fixture.js';

/** The broker-wide default for every new topic's max.message.bytes (Kafka's `message.max.bytes`). */
const MAX_MESSAGE_BYTES = 1000;
const big = 'x'.repeat(2 * MAX_MESSAGE_BYTES);
const b64 = (text: string) => Buffer.from(text).toString('base64');

let node: TestNode;
let cluster: string;
before(async () => {
  node = await openNode({
    brokerConfigs: { 'auto.create.topics.enable': 'true', 'message.max.bytes': String(MAX_MESSAGE_BYTES) },
  });
  cluster = `/v3/clusters/${node.broker.clusterId}`;
});
after(() => node.close());

let topicCount = 0;
function newTopic(): string {
  return `fresh-${topicCount++}`;
}

function post(path: string, contentType: string, body: string): request.Test {
  return request(node.app).post(path).set('content-type', contentType).send(body);
}

/** The topic is unknown to v2 and v3 and has no partition directory on disk. */
async function assertNoTopic(topic: string): Promise<void> {
  const v2 = await request(node.app).get(`/topics/${topic}`);
  assert.equal(v2.status, 404, `GET /topics/${topic}: ${v2.text}`);
  const v3 = await request(node.app).get(`${cluster}/topics/${topic}`);
  assert.equal(v3.status, 404, `GET v3 topic ${topic}: ${v3.text}`);
  const dirs = fs.readdirSync(node.dataDir).filter((name) => name.startsWith(`${topic}-`));
  assert.deepEqual(dirs, [], `no partition directory for ${topic}`);
}

const v2Cases: { name: string; contentType: string; body: (value: string) => unknown }[] = [
  // Plain strings: the scan fast path (v2-produce-scan.ts) reads these bodies.
  { name: 'binary', contentType: BINARY_V2, body: (v) => ({ records: [{ value: b64(v) }] }) },
  { name: 'json', contentType: JSON_V2, body: (v) => ({ records: [{ value: v }] }) },
  { name: 'string', contentType: STRING_V2, body: (v) => ({ records: [{ value: v }] }) },
  // An escape in a string: the scan declines, the parsed (spec) way answers.
  { name: 'json, parsed', contentType: JSON_V2, body: (v) => ({ records: [{ key: 'a\nb', value: v }] }) },
  { name: 'string, parsed', contentType: STRING_V2, body: (v) => ({ records: [{ key: 'a\nb', value: v }] }) },
];

for (const c of v2Cases) {
  for (const route of ['topic', 'partition'] as const) {
    test(`a v2 ${c.name} produce to the ${route} of a new topic refused for max.message.bytes creates nothing`, async () => {
      const topic = newTopic();
      const path = route === 'topic' ? `/topics/${topic}` : `/topics/${topic}/partitions/0`;
      const res = await post(path, c.contentType, JSON.stringify(c.body(big)));
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.error_code, 42207, res.text);
      await assertNoTopic(topic);

      // The same route with a record that fits does create the topic.
      const ok = await post(path, c.contentType, JSON.stringify(c.body('small')));
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await request(node.app).get(`/topics/${topic}`)).status, 200);
    });
  }
}

test('a v2 produce naming a partition the new topic would not have creates nothing', async () => {
  const topic = newTopic();
  const res = await post(`/topics/${topic}`, JSON_V2, JSON.stringify({ records: [{ value: 1, partition: 7 }] }));
  assert.equal(res.status, 404, res.text);
  await assertNoTopic(topic);
});

test('a refused v2 produce of several records, one of them too large, creates nothing', async () => {
  const topic = newTopic();
  const body = { records: [{ value: 'small' }, { value: big }, { value: 'small' }] };
  const res = await post(`/topics/${topic}`, STRING_V2, JSON.stringify(body));
  assert.equal(res.status, 422, res.text);
  await assertNoTopic(topic);
});

test('a v3 records produce to a new topic refused for max.message.bytes creates nothing', async () => {
  const topic = newTopic();
  const res = await post(
    `${cluster}/topics/${topic}/records`,
    'application/json',
    JSON.stringify({ value: { type: 'STRING', data: big } }),
  );
  assert.match(res.text, /"error_code":42207/, res.text);
  await assertNoTopic(topic);
});

test('a v3 streamed produce whose every record is refused creates nothing', async () => {
  const topic = newTopic();
  const one = JSON.stringify({ value: { type: 'BINARY', data: b64(big) } });
  const res = await post(`${cluster}/topics/${topic}/records`, 'application/json', `${one}\n${one}\n${one}`)
    .buffer(true)
    .parse((response, callback) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => callback(null, text));
    });
  const reports = (res.body as string).split('\r\n').filter((line) => line !== '');
  assert.equal(reports.length, 3, String(res.body));
  for (const report of reports) assert.equal(JSON.parse(report).error_code, 42207, report);
  await assertNoTopic(topic);
});

test('a v3 records:batch to a new topic whose every entry is refused creates nothing', async () => {
  const topic = newTopic();
  const entries = [
    { id: 'a', value: { type: 'STRING', data: big } },
    { id: 'b', value: { type: 'JSON', data: { text: big } } },
  ];
  const res = await post(`${cluster}/topics/${topic}/records:batch`, 'application/json', JSON.stringify({ entries }));
  assert.equal(res.status, 207, res.text);
  assert.deepEqual(res.body.successes, []);
  assert.deepEqual(
    res.body.failures.map((f: { id: string; error_code: number }) => [f.id, f.error_code]),
    [
      ['a', 42207],
      ['b', 42207],
    ],
  );
  await assertNoTopic(topic);
});

test('an acks=all produce to a new topic whose default min.insync.replicas cannot be met creates nothing', async () => {
  const strict = await openNode({ brokerConfigs: { 'auto.create.topics.enable': 'true', 'min.insync.replicas': '2' } });
  try {
    const res = await request(strict.app)
      .post('/topics/fresh?acks=all')
      .set('content-type', JSON_V2)
      .send(JSON.stringify({ records: [{ value: 1 }] }));
    assert.equal(res.status, 503, res.text);
    assert.equal((await request(strict.app).get('/topics/fresh')).status, 404);
    assert.deepEqual(
      fs.readdirSync(strict.dataDir).filter((name) => name.startsWith('fresh-')),
      [],
    );
    // acks=1 does not wait for the ISR, so it creates the topic and writes.
    const ok = await request(strict.app)
      .post('/topics/fresh?acks=1')
      .set('content-type', JSON_V2)
      .send(JSON.stringify({ records: [{ value: 1 }] }));
    assert.equal(ok.status, 200, ok.text);
  } finally {
    await strict.close();
  }
});
