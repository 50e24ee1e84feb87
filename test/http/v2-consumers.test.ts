/**
 * The Confluent v2 consumer API over real HTTP: create, subscribe or assign, read records, commit,
 * read committed offsets, seek, delete; every error code a client can meet; and groups of several
 * instances that split partitions and hand them over without losing or repeating a record.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { BINARY_V2, JSON_V2, openNode, STRING_V2, type TestNode } from './node-fixture.js';

const V2 = 'application/vnd.kafka.v2+json';

interface WireRecord {
  topic: string;
  key: unknown;
  value: unknown;
  partition: number;
  offset: number;
  timestamp: number;
  headers: { key: string; value: string | null }[];
}

const path = (group: string, name: string) => `/consumers/${group}/instances/${name}`;

async function create(node: TestNode, group: string, body: Record<string, unknown>): Promise<string> {
  const res = await request(node.app).post(`/consumers/${group}`).set('content-type', V2).send(body);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return path(group, res.body.instance_id);
}

async function subscribe(node: TestNode, base: string, topics: string[]): Promise<void> {
  const res = await request(node.app).post(`${base}/subscription`).set('content-type', V2).send({ topics });
  assert.equal(res.status, 204, JSON.stringify(res.body));
}

async function produce(node: TestNode, topic: string, values: unknown[], partition?: number): Promise<void> {
  const url = partition === undefined ? `/topics/${topic}` : `/topics/${topic}/partitions/${partition}`;
  const res = await request(node.app)
    .post(url)
    .set('content-type', JSON_V2)
    .send({ records: values.map((value, i) => ({ key: `k${i}`, value })) });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function records(
  node: TestNode,
  base: string,
  opts: { accept?: string; timeout?: number; maxBytes?: number } = {},
): Promise<WireRecord[]> {
  const query: Record<string, number> = {};
  if (opts.timeout !== undefined) query.timeout = opts.timeout;
  if (opts.maxBytes !== undefined) query.max_bytes = opts.maxBytes;
  const req = request(node.app).get(`${base}/records`).query(query);
  if (opts.accept !== undefined) req.set('accept', opts.accept);
  const res = await req;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as WireRecord[];
}

/** Reads until `count` records arrived (or fails after `timeoutMs`). */
async function readN(node: TestNode, base: string, count: number, accept = JSON_V2, timeoutMs = 10_000) {
  const out: WireRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} records within ${timeoutMs} ms`);
    out.push(...(await records(node, base, { accept, timeout: 200 })));
  }
  return out;
}

const ids = (rs: WireRecord[]) => rs.map((r) => `${r.topic}/${r.partition}/${r.offset}`);

async function withNode(
  fn: (node: TestNode) => Promise<void>,
  opts: Parameters<typeof openNode>[0] = {},
): Promise<void> {
  const node = await openNode(opts);
  try {
    await fn(node);
  } finally {
    await node.close();
  }
}

describe('v2 consumer instances', () => {
  test('the whole Confluent flow: create, subscribe, produce, read, commit, committed offsets, delete', () =>
    withNode(async (node) => {
      const res = await request(node.app)
        .post('/consumers/billing')
        .set('content-type', V2)
        .send({ name: 'c1', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], `${V2}; charset=utf-8`);
      assert.equal(res.body.instance_id, 'c1');
      assert.match(res.body.base_uri, /^http:\/\/127\.0\.0\.1:\d+\/consumers\/billing\/instances\/c1$/);
      const base = path('billing', 'c1');

      await subscribe(node, base, ['orders']);
      const sub = await request(node.app).get(`${base}/subscription`);
      assert.deepEqual(sub.body, { topics: ['orders'] }); // Confluent's body: no topic_pattern beside it

      await produce(node, 'orders', [{ amount: 1 }, { amount: 2 }, 'three']);
      const got = await readN(node, base, 3);
      assert.deepEqual(
        got.map((r) => r.value),
        [{ amount: 1 }, { amount: 2 }, 'three'],
      );
      assert.deepEqual(
        got.map((r) => [r.topic, r.partition, r.offset, r.key]),
        [
          ['orders', 0, 0, 'k0'],
          ['orders', 0, 1, 'k1'],
          ['orders', 0, 2, 'k2'],
        ],
      );
      for (const r of got) {
        assert.ok(Math.abs(r.timestamp - Date.now()) < 60_000, 'timestamp is epoch milliseconds');
        assert.deepEqual(r.headers, []);
      }

      const assignments = await request(node.app).get(`${base}/assignments`);
      assert.deepEqual(assignments.body, { partitions: [{ topic: 'orders', partition: 0 }] });

      // Nothing committed yet (auto commit is off).
      const before = await request(node.app)
        .get(`${base}/offsets`)
        .set('content-type', V2)
        .send({ partitions: [{ topic: 'orders', partition: 0 }] });
      assert.deepEqual(before.body, { offsets: [] });

      const commit = await request(node.app).post(`${base}/offsets`);
      assert.equal(commit.status, 200);
      assert.deepEqual(commit.body, []);

      // Confluent sends the partitions in the body of a GET.
      const committed = await request(node.app)
        .get(`${base}/offsets`)
        .set('content-type', V2)
        .send({ partitions: [{ topic: 'orders', partition: 0 }] });
      assert.equal(committed.status, 200);
      assert.deepEqual(committed.body, { offsets: [{ topic: 'orders', partition: 0, offset: 3, metadata: '' }] });

      const del = await request(node.app).delete(base);
      assert.equal(del.status, 204);
      const after = await request(node.app).get(`${base}/records`);
      assert.equal(after.status, 404);
      assert.equal(after.body.error_code, 40403);
      assert.equal(node.samsa.consumers.size, 0);
      // Delete left the group at once.
      assert.equal(node.samsa.coordinator.describeGroup('billing').members.length, 0);
    }));

  test('an empty create body makes a binary consumer with a generated name; aliases are honoured', () =>
    withNode(async (node) => {
      const empty = await request(node.app).post('/consumers/g');
      assert.equal(empty.status, 200);
      assert.match(empty.body.instance_id, /^rest-consumer-[0-9a-f-]{36}$/);
      const instance = node.samsa.consumers.get('g', empty.body.instance_id);
      assert.equal(instance.config.format, 'binary');

      const res = await request(node.app)
        .post('/consumers/g')
        .set('content-type', V2)
        .send({ name: 'aliased', responseMinBytes: 1000, requestWaitMs: '2500', 'consumer.delay.ms': 5 });
      assert.equal(res.status, 200);
      const aliased = node.samsa.consumers.get('g', 'aliased');
      assert.equal(aliased.config.fetchMinBytes, 1000);
      assert.equal(aliased.config.requestTimeoutMs, 2500);
      assert.equal(aliased.config.delayMs, 5);
    }));

  test('binary and string formats render keys, values and headers; Accept */*, v2+json and none are served', () =>
    withNode(async (node) => {
      await node.broker.produce(
        'bytes',
        [
          {
            key: Buffer.from('key'),
            value: Buffer.from([0xff, 0x00, 0x41]),
            headers: [{ key: 'trace', value: Buffer.from('abc') }],
          },
          { key: null, value: null },
        ],
        { acks: -1, timeoutMs: 1000 },
      );
      const bin = await create(node, 'g', { name: 'bin', format: 'binary', 'auto.offset.reset': 'earliest' });
      await subscribe(node, bin, ['bytes']);
      const got = await readN(node, bin, 2, '*/*');
      assert.equal(got[0]?.key, Buffer.from('key').toString('base64'));
      assert.equal(got[0]?.value, Buffer.from([0xff, 0x00, 0x41]).toString('base64'));
      assert.deepEqual(got[0]?.headers, [{ key: 'trace', value: Buffer.from('abc').toString('base64') }]);
      assert.equal(got[1]?.key, null);
      assert.equal(got[1]?.value, null);

      const str = await create(node, 'g2', { name: 'str', format: 'string', 'auto.offset.reset': 'earliest' });
      await subscribe(node, str, ['bytes']);
      const strRes = await request(node.app).get(`${str}/records`).set('accept', V2);
      assert.equal(strRes.status, 200);
      assert.equal(strRes.headers['content-type'], `${STRING_V2}; charset=utf-8`);
      const strRecords = strRes.body.length > 0 ? strRes.body : await readN(node, str, 2, STRING_V2);
      assert.equal(strRecords[0].key, 'key');
      assert.deepEqual(strRecords[0].headers, [{ key: 'trace', value: 'abc' }]);

      // No Accept at all: the instance's format.
      await produce(node, 'bytes', ['x']);
      const none = await request(node.app).get(`${bin}/records`).unset('accept');
      assert.equal(none.status, 200);
      assert.equal(none.headers['content-type'], `${BINARY_V2}; charset=utf-8`);
    }));

  test('error codes: 40902 duplicate, 42204 bad config, 40601 wrong Accept, 40403 unknown instance', () =>
    withNode(async (node) => {
      await create(node, 'g', { name: 'c', format: 'binary' });
      const dup = await request(node.app).post('/consumers/g').set('content-type', V2).send({ name: 'c' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error_code, 40902);
      // The same name in another group is another instance.
      await create(node, 'other', { name: 'c' });

      for (const body of [
        { 'auto.offset.reset': 'smallest' },
        { format: 'avro' },
        { 'fetch.min.bytes': 'lots' },
        { 'consumer.instance.timeout.ms': 10 },
        { 'partition.assignment.strategy': 'fastest' },
        { name: 'bad name!' },
      ]) {
        const res = await request(node.app).post('/consumers/g').set('content-type', V2).send(body);
        assert.equal(res.status, 422, JSON.stringify(body));
        assert.equal(res.body.error_code, 42204, JSON.stringify(body));
      }
      const unknownField = await request(node.app).post('/consumers/g').set('content-type', V2).send({ colour: 1 });
      assert.equal(unknownField.status, 422);

      await subscribe(node, path('g', 'c'), ['t']);
      const wrongAccept = await request(node.app)
        .get(`${path('g', 'c')}/records`)
        .set('accept', JSON_V2);
      assert.equal(wrongAccept.status, 406);
      assert.equal(wrongAccept.body.error_code, 40601);
      const textAccept = await request(node.app)
        .get(`${path('g', 'c')}/records`)
        .set('accept', 'text/plain');
      assert.equal(textAccept.status, 406);

      for (const [method, suffix] of [
        ['get', '/records'],
        ['get', '/subscription'],
        ['get', '/assignments'],
        ['post', '/offsets'],
        ['delete', ''],
      ] as const) {
        const res = await request(node.app)[method](`${path('g', 'nobody')}${suffix}`);
        assert.equal(res.status, 404, `${method} ${suffix}`);
        assert.equal(res.body.error_code, 40403);
      }
      const badType = await request(node.app)
        .post(`${path('g', 'c')}/subscription`)
        .set('content-type', 'text/plain')
        .send('orders');
      assert.equal(badType.status, 415);
    }));

  test('40903: mixing subscribe and assign, reading with neither, seeking a partition not read', () =>
    withNode(
      async (node) => {
        await node.broker.createTopic('t', { partitions: 2 });
        const sub = await create(node, 'g', { name: 'sub' });
        const asg = await create(node, 'g', { name: 'asg' });

        const idle = await request(node.app).get(`${sub}/records`);
        assert.equal(idle.status, 409);
        assert.equal(idle.body.error_code, 40903);
        assert.match(idle.body.message, /not subscribed to any topics or assigned any partitions/);

        await subscribe(node, sub, ['t']);
        const assignAfterSubscribe = await request(node.app)
          .post(`${sub}/assignments`)
          .set('content-type', V2)
          .send({ partitions: [{ topic: 't', partition: 0 }] });
        assert.equal(assignAfterSubscribe.status, 409);
        assert.equal(assignAfterSubscribe.body.error_code, 40903);

        const assign = await request(node.app)
          .post(`${asg}/assignments`)
          .set('content-type', V2)
          .send({ partitions: [{ topic: 't', partition: 1 }] });
        assert.equal(assign.status, 204);
        const subscribeAfterAssign = await request(node.app)
          .post(`${asg}/subscription`)
          .set('content-type', V2)
          .send({ topics: ['t'] });
        assert.equal(subscribeAfterAssign.status, 409);
        assert.equal(subscribeAfterAssign.body.error_code, 40903);

        const seekOther = await request(node.app)
          .post(`${asg}/positions`)
          .set('content-type', V2)
          .send({ offsets: [{ topic: 't', partition: 0, offset: 0 }] });
        assert.equal(seekOther.status, 409);
        assert.equal(seekOther.body.error_code, 40903);

        const unknownTopic = await request(node.app)
          .post(`${asg}/assignments`)
          .set('content-type', V2)
          .send({ partitions: [{ topic: 'nope', partition: 0 }] });
        assert.equal(unknownTopic.status, 404);
        assert.equal(unknownTopic.body.error_code, 40403);

        // After unsubscribing, the subscription is empty (Confluent's body) and the instance may assign.
        assert.equal((await request(node.app).delete(`${sub}/subscription`)).status, 204);
        assert.deepEqual((await request(node.app).get(`${sub}/subscription`)).body, { topics: [] });
        const reassign = await request(node.app)
          .post(`${sub}/assignments`)
          .set('content-type', V2)
          .send({ partitions: [{ topic: 't', partition: 0 }] });
        assert.equal(reassign.status, 204);
      },
      { brokerConfigs: { 'auto.create.topics.enable': 'false' } },
    ));

  test('a manual assignment reads its partitions and commits explicit offsets as offset + 1', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 2 });
      await produce(node, 't', [1, 2, 3], 0);
      await produce(node, 't', [4, 5], 1);
      const c = await create(node, 'standalone', { name: 'c', format: 'json', 'auto.offset.reset': 'earliest' });
      const res = await request(node.app)
        .post(`${c}/assignments`)
        .set('content-type', V2)
        .send({ partitions: [{ topic: 't', partition: 1 }] });
      assert.equal(res.status, 204);
      const got = await readN(node, c, 2);
      assert.deepEqual(
        got.map((r) => r.value),
        [4, 5],
      );
      const commit = await request(node.app)
        .post(`${c}/offsets`)
        .set('content-type', V2)
        .send({ offsets: [{ topic: 't', partition: 1, offset: 0, metadata: 'first done' }] });
      assert.equal(commit.status, 200);
      assert.deepEqual(commit.body, []);
      // Without a body, GET offsets answers for the partitions the instance reads.
      const committed = await request(node.app).get(`${c}/offsets`);
      assert.deepEqual(committed.body, { offsets: [{ topic: 't', partition: 1, offset: 1, metadata: 'first done' }] });
    }));

  test('offsets beyond 2^53 - 1 and partitions beyond int32 answer 422, not 500, and commit nothing', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 1 });
      const c = await create(node, 'big', { name: 'c', format: 'json' });
      await request(node.app)
        .post(`${c}/assignments`)
        .set('content-type', V2)
        .send({ partitions: [{ topic: 't', partition: 0 }] })
        .expect(204);
      // Raw text: 1e300 and 2^53 + 1 are numbers JSON allows; the int64 field they would go to does not
      // hold the first, and a JavaScript number rounds the second.
      for (const [what, body] of [
        ['commit 1e300', '{"offsets":[{"topic":"t","partition":0,"offset":1e300}]}'],
        ['commit 2^53 + 1', '{"offsets":[{"topic":"t","partition":0,"offset":9007199254740993}]}'],
        ['commit partition 1e300', '{"offsets":[{"topic":"t","partition":1e300,"offset":1}]}'],
      ] as const) {
        const res = await request(node.app).post(`${c}/offsets`).set('content-type', V2).send(body);
        assert.equal(res.status, 422, `${what}: ${res.text}`);
        assert.equal(res.body.error_code, 422, what);
      }
      for (const [what, body] of [
        ['seek 2^53 + 1', '{"offsets":[{"topic":"t","partition":0,"offset":9007199254740993}]}'],
        ['seek to timestamp 1e300', '{"timestamps":[{"topic":"t","partition":0,"timestamp":1e300}]}'],
      ] as const) {
        const res = await request(node.app).post(`${c}/positions`).set('content-type', V2).send(body);
        assert.equal(res.status, 422, `${what}: ${res.text}`);
      }
      const committed = await request(node.app).get(`${c}/offsets`);
      assert.deepEqual(committed.body, { offsets: [] }, 'nothing committed');
      // The largest offset held exactly is still accepted.
      await request(node.app)
        .post(`${c}/offsets`)
        .set('content-type', V2)
        .send('{"offsets":[{"topic":"t","partition":0,"offset":9007199254740990}]}')
        .expect(200);
    }));

  test('two instances split the partitions over HTTP; when one is deleted the other resumes from its commits', () =>
    withNode(async (node) => {
      await node.broker.createTopic('orders', { partitions: 4 });
      const settings = {
        format: 'json',
        'auto.offset.reset': 'earliest',
        'auto.commit.enable': 'false',
        'consumer.request.timeout.ms': 500,
      };
      const a = await create(node, 'g', { ...settings, name: 'a' });
      const b = await create(node, 'g', { ...settings, name: 'b' });
      await subscribe(node, a, ['orders']);
      await subscribe(node, b, ['orders']);
      await produce(
        node,
        'orders',
        Array.from({ length: 40 }, (_, i) => i),
      );

      const seenA: WireRecord[] = [];
      const seenB: WireRecord[] = [];
      const deadline = Date.now() + 10_000;
      while (seenA.length + seenB.length < 40 && Date.now() < deadline) {
        const [ra, rb] = await Promise.all([records(node, a, { timeout: 200 }), records(node, b, { timeout: 200 })]);
        seenA.push(...ra);
        seenB.push(...rb);
      }
      const all = [...ids(seenA), ...ids(seenB)];
      assert.equal(all.length, 40);
      assert.equal(new Set(all).size, 40, 'no record delivered twice');
      const partsA = new Set(seenA.map((r) => r.partition));
      const partsB = new Set(seenB.map((r) => r.partition));
      assert.equal(partsA.size, 2);
      assert.equal(partsB.size, 2);
      assert.ok(
        [...partsA].every((p) => !partsB.has(p)),
        'no partition read by both',
      );

      // Both commit what they returned (auto commit is off); a leaves, and b takes a's partitions over
      // from a's commits (a rebalance restarts every partition at its committed offset, b's own too).
      assert.equal((await request(node.app).post(`${a}/offsets`)).status, 200);
      assert.equal((await request(node.app).post(`${b}/offsets`)).status, 200);
      assert.equal((await request(node.app).delete(a)).status, 204);
      await produce(
        node,
        'orders',
        Array.from({ length: 20 }, (_, i) => 100 + i),
      );
      const more: WireRecord[] = [];
      const deadline2 = Date.now() + 10_000;
      while (more.length < 20 && Date.now() < deadline2) more.push(...(await records(node, b, { timeout: 200 })));
      assert.equal(more.length, 20, 'every new record, none of the old ones again');
      assert.ok(more.every((r) => (r.value as number) >= 100));
      assert.equal(new Set([...all, ...ids(more)]).size, 60);
      const assignments = await request(node.app).get(`${b}/assignments`);
      assert.equal(assignments.body.partitions.length, 4);
    }));

  test('max_bytes bounds an answer, but one record is always returned', () =>
    withNode(async (node) => {
      const value = 'x'.repeat(98); // 100 bytes as JSON text, quotes included
      await produce(
        node,
        't',
        Array.from({ length: 10 }, () => value),
        0,
      );
      const c = await create(node, 'g', { name: 'c', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(node, c, ['t']);
      await readN(node, c, 0);
      // Keys are `k0`..`k9` as JSON (4 bytes each): 104 bytes per record.
      let got = await records(node, c, { maxBytes: 250, timeout: 2000 });
      while (got.length === 0) got = await records(node, c, { maxBytes: 250, timeout: 2000 });
      assert.equal(got.length, 2);
      const one = await records(node, c, { maxBytes: 1, timeout: 2000 });
      assert.equal(one.length, 1);
      assert.equal(one[0]?.offset, 2);
      const rest = await records(node, c, { timeout: 2000 });
      assert.deepEqual(
        rest.map((r) => r.offset),
        [3, 4, 5, 6, 7, 8, 9],
      );
    }));

  test('a records request answers as soon as a record is produced, not after its timeout', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 1 });
      const c = await create(node, 'g', {
        name: 'c',
        format: 'json',
        'auto.offset.reset': 'latest',
        'consumer.request.timeout.ms': 30_000,
      });
      await subscribe(node, c, ['t']);
      // Settle the group: this read waits for the assignment and finds nothing.
      await records(node, c, { timeout: 300 });
      const started = Date.now();
      const pending = records(node, c, { timeout: 10_000 });
      setTimeout(() => void produce(node, 't', ['now']), 200);
      const got = await pending;
      const elapsedMs = Date.now() - started;
      assert.deepEqual(
        got.map((r) => r.value),
        ['now'],
      );
      assert.ok(elapsedMs < 3000, `answered after ${elapsedMs} ms`);
    }));

  test('auto.commit.enable defaults to true, as in Confluent: DELETE commits the position and the next member resumes there', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 1 });
      await produce(node, 't', [1, 2, 3]);
      // No auto.commit.enable, and an interval long enough that only the close can commit.
      const c = await create(node, 'g', {
        name: 'c',
        format: 'json',
        'auto.offset.reset': 'earliest',
        'auto.commit.interval.ms': 86_400_000,
      });
      await subscribe(node, c, ['t']);
      assert.deepEqual(
        (await readN(node, c, 3)).map((r) => r.offset),
        [0, 1, 2],
      );
      assert.equal((await request(node.app).delete(c)).status, 204);

      await produce(node, 't', [4]);
      const next = await create(node, 'g', { name: 'next', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(node, next, ['t']);
      assert.deepEqual(
        (await readN(node, next, 1)).map((r) => [r.offset, r.value]),
        [[3, 4]],
      );
    }));

  test('auto.commit.enable=false: DELETE commits nothing and the next member starts from auto.offset.reset', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 1 });
      await produce(node, 't', [1, 2]);
      const c = await create(node, 'g', {
        name: 'c',
        format: 'json',
        'auto.offset.reset': 'earliest',
        'auto.commit.enable': 'false',
      });
      await subscribe(node, c, ['t']);
      assert.equal((await readN(node, c, 2)).length, 2);
      assert.equal((await request(node.app).delete(c)).status, 204);
      const next = await create(node, 'g', { name: 'next', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(node, next, ['t']);
      assert.deepEqual(
        (await readN(node, next, 2)).map((r) => r.offset),
        [0, 1],
      );
    }));

  test('a server shutdown commits the positions of auto-committing instances; after a restart the group resumes there', async () => {
    const first = await openNode();
    let restarted: TestNode | null = null;
    try {
      await first.broker.createTopic('t', { partitions: 2 });
      await produce(first, 't', ['a', 'b'], 0);
      await produce(first, 't', ['c'], 1);
      const c = await create(first, 'g', {
        name: 'c',
        format: 'json',
        'auto.offset.reset': 'earliest',
        'auto.commit.interval.ms': 86_400_000,
      });
      await subscribe(first, c, ['t']);
      assert.equal((await readN(first, c, 3)).length, 3);
      await first.samsa.shutdown();

      restarted = await openNode({ dataDir: first.dataDir });
      await produce(restarted, 't', ['d'], 0);
      const next = await create(restarted, 'g', { name: 'next', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(restarted, next, ['t']);
      assert.deepEqual(ids(await readN(restarted, next, 1)), ['t/0/2']);
      assert.deepEqual(await records(restarted, next, { timeout: 300 }), []);
    } finally {
      if (restarted) await restarted.close();
      else await first.close();
    }
  });

  test('a json consumer meeting a value that is not JSON: records before it are returned, then 40801 naming it; a seek past it goes on', () =>
    withNode(async (node) => {
      await node.broker.produce(
        't',
        [
          { key: null, value: Buffer.from('1') },
          { key: null, value: Buffer.from('not json') },
          { key: null, value: Buffer.from('3') },
        ],
        { acks: -1, timeoutMs: 1000 },
      );
      const c = await create(node, 'g', { name: 'c', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(node, c, ['t']);
      // One poll gathers all three: the record before the bad one still goes out.
      const got = await readN(node, c, 1);
      assert.deepEqual(
        got.map((r) => [r.offset, r.value]),
        [[0, 1]],
      );
      const bad = await request(node.app).get(`${c}/records`).set('accept', JSON_V2);
      assert.equal(bad.status, 408);
      assert.equal(bad.body.error_code, 40801);
      assert.match(bad.body.message, /the value of the record at offset 1 in partition 0 of topic 't'/);
      assert.match(bad.body.message, /not valid JSON/);
      assert.match(bad.body.message, /seek to offset 2/);
      // The record is not skipped: a seek past it is the client's decision.
      const again = await request(node.app).get(`${c}/records`).set('accept', JSON_V2);
      assert.equal(again.status, 408);
      assert.equal(again.body.message, bad.body.message);
      const seek = await request(node.app)
        .post(`${c}/positions`)
        .set('content-type', V2)
        .send({ offsets: [{ topic: 't', partition: 0, offset: 2 }] });
      assert.equal(seek.status, 204);
      assert.deepEqual(
        (await readN(node, c, 1)).map((r) => [r.offset, r.value]),
        [[2, 3]],
      );
      // And on: a record produced after the seek arrives too.
      await node.broker.produce('t', [{ key: null, value: Buffer.from('4') }], { acks: -1, timeoutMs: 1000 });
      assert.deepEqual(
        (await readN(node, c, 1)).map((r) => [r.offset, r.value]),
        [[3, 4]],
      );
    }));

  test('a json consumer meeting a key that is not JSON names the key, its partition and offset', () =>
    withNode(async (node) => {
      await node.broker.createTopic('t', { partitions: 2 });
      await node.broker.produce('t', [{ key: Buffer.from('plain key'), value: Buffer.from('{}'), partition: 1 }], {
        acks: -1,
        timeoutMs: 1000,
      });
      const c = await create(node, 'g', { name: 'c', format: 'json', 'auto.offset.reset': 'earliest' });
      await subscribe(node, c, ['t']);
      let bad = await request(node.app).get(`${c}/records`).query({ timeout: 200 }).set('accept', JSON_V2);
      for (let i = 0; i < 20 && bad.status === 200; i++) {
        bad = await request(node.app).get(`${c}/records`).query({ timeout: 200 }).set('accept', JSON_V2);
      }
      assert.equal(bad.status, 408, bad.text);
      assert.match(bad.body.message, /the key of the record at offset 0 in partition 1 of topic 't'/);
      assert.match(bad.body.message, /"offset":1/);
    }));

  test('seek to an offset, the beginning, the end and a timestamp (ISO-8601 and epoch ms)', () =>
    withNode(async (node) => {
      const t0 = Date.now() - 10_000;
      await node.broker.produce(
        't',
        Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(String(i)), timestamp: t0 + i * 1000 })),
        { acks: -1, timeoutMs: 1000 },
      );
      const c = await create(node, 'g', { name: 'c', format: 'json', 'auto.offset.reset': 'latest' });
      await subscribe(node, c, ['t']);
      assert.deepEqual(await readN(node, c, 0), []);
      await records(node, c, { timeout: 300 }); // joins the group
      const tp = { topic: 't', partition: 0 };
      const seek = (suffix: string, body: object) =>
        request(node.app).post(`${c}/positions${suffix}`).set('content-type', V2).send(body);
      const firstOffset = async () => (await readN(node, c, 1))[0]?.offset;

      assert.equal((await seek('', { offsets: [{ ...tp, offset: 7 }] })).status, 204);
      assert.equal(await firstOffset(), 7);
      assert.equal((await seek('/beginning', { partitions: [tp] })).status, 204);
      assert.equal(await firstOffset(), 0);
      assert.equal(
        (await seek('', { timestamps: [{ ...tp, timestamp: new Date(t0 + 4500).toISOString() }] })).status,
        204,
      );
      assert.equal(await firstOffset(), 5);
      assert.equal((await seek('', { timestamps: [{ ...tp, timestamp: t0 + 2000 }] })).status, 204);
      assert.equal(await firstOffset(), 2);
      assert.equal((await seek('/end', { partitions: [tp] })).status, 204);
      assert.deepEqual(await records(node, c, { timeout: 100 }), []);
      // After the last record's timestamp: the end.
      assert.equal((await seek('', { timestamps: [{ ...tp, timestamp: t0 + 60_000 }] })).status, 204);
      assert.deepEqual(await records(node, c, { timeout: 100 }), []);
      const bad = await seek('', { timestamps: [{ ...tp, timestamp: 'yesterday' }] });
      assert.equal(bad.status, 422);
    }));

  test('an instance expires after consumer.instance.timeout.ms without calls, and leaves its group', () =>
    withNode(
      async (node) => {
        const c = await create(node, 'g', { name: 'c', 'consumer.instance.timeout.ms': 1000 });
        const kept = await create(node, 'g', { name: 'kept', 'consumer.instance.timeout.ms': 1000 });
        await subscribe(node, c, ['t']);
        const deadline = Date.now() + 1600;
        // Calls keep `kept` alive past its timeout.
        while (Date.now() < deadline) {
          assert.equal((await request(node.app).get(`${kept}/subscription`)).status, 200);
          await new Promise((r) => setTimeout(r, 200));
        }
        const res = await request(node.app).get(`${c}/subscription`);
        assert.equal(res.status, 404);
        assert.equal(res.body.error_code, 40403);
        assert.equal((await request(node.app).get(`${kept}/subscription`)).status, 200);
        assert.equal(node.samsa.coordinator.describeGroup('g').members.length, 0);
      },
      { consumers: { housekeepingIntervalMs: 50 } },
    ));

  test('a pattern subscription lists the topics it matches and reads a matching topic created later', () =>
    withNode(async (node) => {
      await node.broker.createTopic('orders-eu', { partitions: 1 });
      await node.broker.createTopic('payments', { partitions: 1 });
      const c = await create(node, 'g', { name: 'c', format: 'json', 'auto.offset.reset': 'earliest' });
      const res = await request(node.app)
        .post(`${c}/subscription`)
        .set('content-type', V2)
        .send({ topic_pattern: 'orders-.*' });
      assert.equal(res.status, 204);
      const sub = await request(node.app).get(`${c}/subscription`);
      assert.deepEqual(sub.body, { topics: ['orders-eu'], topic_pattern: 'orders-.*' });
      await records(node, c, { timeout: 300 });
      await node.broker.createTopic('orders-us', { partitions: 1 });
      await produce(node, 'orders-us', ['hello']);
      const got = await readN(node, c, 1);
      assert.equal(got[0]?.topic, 'orders-us');

      const neither = await request(node.app).post(`${c}/subscription`).set('content-type', V2).send({});
      assert.equal(neither.status, 204);
      const badPattern = await request(node.app)
        .post(`${c}/subscription`)
        .set('content-type', V2)
        .send({ topic_pattern: '(' });
      assert.equal(badPattern.status, 422);
      // Nested quantifiers backtrack exponentially on the event loop: refused before any matching.
      const nested = await request(node.app)
        .post(`${c}/subscription`)
        .set('content-type', V2)
        .send({ topic_pattern: '(a+)+$' });
      assert.equal(nested.status, 422);
      assert.match(nested.body.message, /repeats a group/);
    }));
});
