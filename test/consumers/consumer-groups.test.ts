import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import type { ConsumedRecord, ConsumerInstance } from '../../src/consumers/consumer-instance.js';
import { ConsumerManager, type ConsumerRequestConfig } from '../../src/consumers/consumer-manager.js';
import { GroupStateError } from '../../src/errors.js';
import { GroupCoordinator } from '../../src/groups/group-coordinator.js';

interface Fixture {
  dir: string;
  broker: Broker;
  coordinator: GroupCoordinator;
  consumers: ConsumerManager;
  close(opts?: { keepDir?: boolean }): Promise<void>;
}

async function open(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-groups-'))): Promise<Fixture> {
  const onError = (task: string, err: unknown) => {
    throw new Error(`${task}: ${String(err)}`);
  };
  const broker = await Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: {} });
  await broker.start();
  const coordinator = new GroupCoordinator(broker, { sessionCheckIntervalMs: 50, onError });
  await coordinator.start();
  const consumers = new ConsumerManager(broker, coordinator, {
    defaultInstanceTimeoutMs: 300_000,
    maxInstances: 100,
    maxResponseBytes: 64 * 1024 * 1024,
    housekeepingIntervalMs: 50,
    onError,
  });
  consumers.start();
  return {
    dir,
    broker,
    coordinator,
    consumers,
    async close(opts = {}) {
      await consumers.stop();
      await coordinator.stop();
      await broker.shutdown();
      if (!opts.keepDir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function produce(broker: Broker, topic: string, n: number, tag = 'r', partition?: number): Promise<void> {
  const records = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`${tag}-k${i}`),
    value: Buffer.from(`${tag}-${i}`),
    partition,
  }));
  await broker.produce(topic, records, { acks: -1, timeoutMs: 1000 });
}

const base: ConsumerRequestConfig = {
  'auto.offset.reset': 'earliest',
  'session.timeout.ms': 1000,
  'consumer.request.timeout.ms': 2000,
};

async function pollUntil(
  c: ConsumerInstance,
  count: number,
  seen: ConsumedRecord[],
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (seen.length < count) {
    if (Date.now() > deadline) throw new Error(`only ${seen.length} of ${count} records within ${timeoutMs} ms`);
    seen.push(...(await c.exclusive(() => c.poll({ timeoutMs: 200, maxBytes: 0 }))));
  }
}

/** Members `a` and `b` of group `g`, both subscribed to a new topic of `partitions` partitions. */
async function twoMembers(
  f: Fixture,
  topic: string,
  partitions: number,
): Promise<[ConsumerInstance, ConsumerInstance]> {
  await f.broker.createTopic(topic, { partitions });
  const a = f.consumers.create('g', { ...base, name: 'a' });
  const b = f.consumers.create('g', { ...base, name: 'b' });
  a.subscribe({ kind: 'topics', topics: [topic] });
  b.subscribe({ kind: 'topics', topics: [topic] });
  return [a, b];
}

const ids = (records: ConsumedRecord[]) => records.map((r) => `${r.topic}/${r.partition}/${r.offset}`);

describe('consumer groups', () => {
  test('two members split the partitions and together see every record exactly once', async () => {
    const f = await open();
    try {
      const [a, b] = await twoMembers(f, 'orders', 4);
      await produce(f.broker, 'orders', 200);
      const seenA: ConsumedRecord[] = [];
      const seenB: ConsumedRecord[] = [];
      const deadline = Date.now() + 10_000;
      while (seenA.length + seenB.length < 200 && Date.now() < deadline) {
        const [ra, rb] = await Promise.all([
          a.poll({ timeoutMs: 200, maxBytes: 0 }),
          b.poll({ timeoutMs: 200, maxBytes: 0 }),
        ]);
        seenA.push(...ra);
        seenB.push(...rb);
      }
      const all = [...ids(seenA), ...ids(seenB)];
      assert.equal(all.length, 200);
      assert.equal(new Set(all).size, 200, 'no record delivered twice');
      const partsA = new Set(seenA.map((r) => r.partition));
      const partsB = new Set(seenB.map((r) => r.partition));
      assert.equal([...partsA].filter((p) => partsB.has(p)).length, 0, 'no partition read by both members');
      assert.deepEqual([...a.assignments(), ...b.assignments()].map((tp) => tp.partition).sort(), [0, 1, 2, 3]);
      assert.equal(f.coordinator.describeGroup('g').state, 'Stable');
    } finally {
      await f.close();
    }
  });

  test('when a member leaves, the other takes over from its committed offsets: nothing skipped, nothing repeated', async () => {
    const f = await open();
    try {
      const [a, b] = await twoMembers(f, 't', 2);
      await produce(f.broker, 't', 50, 'x', 0);
      await produce(f.broker, 't', 50, 'y', 1);
      const seen: ConsumedRecord[] = [];
      // Both take part; each reads some of its partition.
      for (let i = 0; i < 3; i++) {
        const [ra, rb] = await Promise.all([
          a.poll({ timeoutMs: 200, maxBytes: 60 }),
          b.poll({ timeoutMs: 200, maxBytes: 60 }),
        ]);
        seen.push(...ra, ...rb);
      }
      assert.ok(seen.length > 0 && seen.length < 100);
      f.consumers.delete('g', 'b'); // commits b's returned positions (auto-commit) and leaves
      await pollUntil(a, 100 - seen.length, seen);
      assert.equal(seen.length, 100);
      assert.equal(new Set(ids(seen)).size, 100);
      assert.deepEqual(
        a.assignments().map((tp) => tp.partition),
        [0, 1],
      );
    } finally {
      await f.close();
    }
  });

  test('a member that stops calling is expired after its session timeout and the group rebalances', async () => {
    const f = await open();
    try {
      const [a, b] = await twoMembers(f, 't', 2);
      await Promise.all([a.poll({ timeoutMs: 300, maxBytes: 0 }), b.poll({ timeoutMs: 300, maxBytes: 0 })]);
      assert.equal(f.coordinator.describeGroup('g').members.length, 2);
      const generation = f.coordinator.describeGroup('g').generation;
      // a keeps polling, b goes silent for longer than session.timeout.ms (1 s).
      const deadline = Date.now() + 5000;
      while (f.coordinator.describeGroup('g').members.length > 1 && Date.now() < deadline)
        await a.poll({ timeoutMs: 200, maxBytes: 0 });
      const desc = f.coordinator.describeGroup('g');
      assert.equal(desc.members.length, 1);
      assert.ok(desc.generation > generation);
      await a.poll({ timeoutMs: 200, maxBytes: 0 });
      assert.deepEqual(
        a.assignments().map((tp) => tp.partition),
        [0, 1],
      );
    } finally {
      await f.close();
    }
  });

  test('a pattern subscription picks up a newly created matching topic; partition growth is assigned too', async () => {
    const f = await open();
    try {
      await f.broker.createTopic('metrics.cpu', { partitions: 1 });
      await f.broker.createTopic('other', { partitions: 1 });
      const a = f.consumers.create('g', { ...base, name: 'a' });
      a.subscribe({ kind: 'pattern', pattern: /^metrics\..*/ });
      await a.poll({ timeoutMs: 200, maxBytes: 0 });
      assert.deepEqual(a.assignments(), [{ topic: 'metrics.cpu', partition: 0 }]);

      await produce(f.broker, 'metrics.mem', 3); // auto-created: matches the pattern
      const seen: ConsumedRecord[] = [];
      await pollUntil(a, 3, seen);
      assert.deepEqual(new Set(seen.map((r) => r.topic)), new Set(['metrics.mem']));

      await f.broker.createPartitions('metrics.cpu', 3);
      await produce(f.broker, 'metrics.cpu', 5, 'z', 2);
      await pollUntil(a, 8, seen);
      assert.ok(a.assignments().some((tp) => tp.topic === 'metrics.cpu' && tp.partition === 2));
    } finally {
      await f.close();
    }
  });

  test('committed offsets survive a restart of the whole node and a new member resumes from them', async () => {
    const f = await open();
    const dir = f.dir;
    await f.broker.createTopic('t', { partitions: 1 });
    await produce(f.broker, 't', 10);
    const a = f.consumers.create('g', { ...base, name: 'a', 'auto.commit.enable': 'false' });
    a.subscribe({ kind: 'topics', topics: ['t'] });
    const first = await a.poll({ timeoutMs: 1000, maxBytes: 0 });
    assert.equal(first.length, 10);
    a.commit([{ topic: 't', partition: 0, offset: 3 }]); // processed up to offset 3: commits 4
    assert.equal(f.coordinator.committedOffset('g', 't', 0)?.offset, 4);
    await f.close({ keepDir: true });

    const g = await open(dir);
    try {
      assert.equal(g.coordinator.committedOffset('g', 't', 0)?.offset, 4);
      assert.ok(g.coordinator.listGroups().includes('g'));
      const b = g.consumers.create('g', { ...base, name: 'b' });
      b.subscribe({ kind: 'topics', topics: ['t'] });
      const rest = await b.poll({ timeoutMs: 1000, maxBytes: 0 });
      assert.deepEqual(
        rest.map((r) => r.offset),
        [4, 5, 6, 7, 8, 9],
      );
    } finally {
      await g.close();
    }
  });

  test('an empty-body commit commits exactly what was returned, never more', async () => {
    const f = await open();
    try {
      await f.broker.createTopic('t', { partitions: 1 });
      await produce(f.broker, 't', 20);
      const a = f.consumers.create('g', { ...base, name: 'a', 'auto.commit.enable': 'false' });
      a.subscribe({ kind: 'topics', topics: ['t'] });
      const got = await a.poll({ timeoutMs: 1000, maxBytes: 30 }); // ~5 records of 6 + 4 bytes
      assert.ok(got.length > 0 && got.length < 20);
      const bytes = got.reduce((n, r) => n + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
      assert.ok(bytes <= 30, 'the response respects max_bytes');
      a.commit();
      assert.equal(f.coordinator.committedOffset('g', 't', 0)?.offset, (got.at(-1)?.offset as number) + 1);
      const next = await a.poll({ timeoutMs: 1000, maxBytes: 0 });
      assert.equal(
        next[0]?.offset,
        (got.at(-1)?.offset as number) + 1,
        'the next response starts right after the last one',
      );
    } finally {
      await f.close();
    }
  });

  test('one record larger than max_bytes is still returned, so a consumer can never stall', async () => {
    const f = await open();
    try {
      await f.broker.produce(
        'big',
        [
          { key: null, value: Buffer.alloc(5000, 1) },
          { key: null, value: Buffer.alloc(10, 2) },
        ],
        { acks: -1, timeoutMs: 1000 },
      );
      const a = f.consumers.create('g', { ...base, name: 'a' });
      a.assign([{ topic: 'big', partition: 0 }]);
      const first = await a.poll({ timeoutMs: 1000, maxBytes: 100 });
      assert.equal(first.length, 1);
      assert.equal(first[0]?.value?.length, 5000);
      const second = await a.poll({ timeoutMs: 1000, maxBytes: 100 });
      assert.equal(second[0]?.offset, 1);
    } finally {
      await f.close();
    }
  });

  test('a records request returns as soon as a record arrives instead of waiting out its timeout', async () => {
    const f = await open();
    try {
      await f.broker.createTopic('t', { partitions: 1 });
      const a = f.consumers.create('g', { ...base, name: 'a', 'consumer.request.timeout.ms': 30_000 });
      a.subscribe({ kind: 'topics', topics: ['t'] });
      await a.poll({ timeoutMs: 300, maxBytes: 0 });
      const started = Date.now();
      const pending = a.poll({ timeoutMs: 30_000, maxBytes: 0 });
      setTimeout(() => void produce(f.broker, 't', 1), 100);
      const got = await pending;
      assert.equal(got.length, 1);
      assert.ok(Date.now() - started < 10_000, 'woken by the append, not by the 30 s timeout');
    } finally {
      await f.close();
    }
  });

  test('consumer.delay.ms holds back young records without skipping them', async () => {
    const f = await open();
    try {
      await f.broker.createTopic('t', { partitions: 1 });
      const a = f.consumers.create('g', { ...base, name: 'a', 'consumer.delay.ms': 500 });
      a.assign([{ topic: 't', partition: 0 }]);
      const old = Date.now() - 10_000;
      await f.broker.produce('t', [{ key: null, value: Buffer.from('old'), timestamp: old }], {
        acks: -1,
        timeoutMs: 1000,
      });
      await f.broker.produce('t', [{ key: null, value: Buffer.from('young') }], { acks: -1, timeoutMs: 1000 });
      const first = await a.poll({ timeoutMs: 100, maxBytes: 0 });
      assert.deepEqual(
        first.map((r) => r.value?.toString()),
        ['old'],
      );
      const second = await a.poll({ timeoutMs: 2000, maxBytes: 0 });
      assert.deepEqual(
        second.map((r) => r.value?.toString()),
        ['young'],
      );
    } finally {
      await f.close();
    }
  });

  test('standalone consumers use manual assignment; mixing subscribe and assign is refused', async () => {
    const f = await open();
    try {
      await f.broker.createTopic('t', { partitions: 2 });
      await produce(f.broker, 't', 4, 'p1', 1);
      const a = f.consumers.create('solo', { ...base, name: 'a' });
      a.assign([{ topic: 't', partition: 1 }]);
      assert.throws(() => a.subscribe({ kind: 'topics', topics: ['t'] }), GroupStateError);
      const got = await a.poll({ timeoutMs: 1000, maxBytes: 0 });
      assert.deepEqual(
        got.map((r) => r.partition),
        [1, 1, 1, 1],
      );
      a.commit();
      assert.equal(f.coordinator.committedOffset('solo', 't', 1)?.offset, 4);
      const b = f.consumers.create('g2', { ...base, name: 'b' });
      b.subscribe({ kind: 'topics', topics: ['t'] });
      assert.throws(() => b.assign([{ topic: 't', partition: 0 }]), GroupStateError);
    } finally {
      await f.close();
    }
  });

  test('seek to beginning, end, offset and timestamp move the next read', async () => {
    const f = await open();
    try {
      const t0 = Date.now() - 100_000;
      await f.broker.produce(
        't',
        Array.from({ length: 10 }, (_, i) => ({
          key: null,
          value: Buffer.from(`v${i}`),
          timestamp: t0 + i * 1000,
          partition: 0,
        })),
        { acks: -1, timeoutMs: 1000 },
      );
      const a = f.consumers.create('g', { ...base, name: 'a', 'auto.offset.reset': 'latest' });
      const tp = { topic: 't', partition: 0 };
      a.assign([tp]);
      assert.deepEqual(await a.poll({ timeoutMs: 50, maxBytes: 0 }), []);
      await a.seekToBeginning([tp]);
      assert.equal((await a.poll({ timeoutMs: 500, maxBytes: 0 })).length, 10);
      await a.seek(tp, 7);
      assert.deepEqual(
        (await a.poll({ timeoutMs: 500, maxBytes: 0 })).map((r) => r.offset),
        [7, 8, 9],
      );
      await a.seekToTimestamp(tp, t0 + 4500);
      assert.equal((await a.poll({ timeoutMs: 500, maxBytes: 0 }))[0]?.offset, 5);
      await a.seekToEnd([tp]);
      assert.deepEqual(await a.poll({ timeoutMs: 50, maxBytes: 0 }), []);
    } finally {
      await f.close();
    }
  });
});
