import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import request from 'supertest';
import { Broker, type BrokerOptions } from '../../src/broker/broker.js';
import { forEachFetchedBatch } from '../../src/broker/fetched-records.js';
import { LocalMetadataStore } from '../../src/cluster/metadata-store.js';
import { RequestTimedOutError, UnknownPartitionError } from '../../src/errors.js';
import { JSON_V2, openNode } from '../http/node-fixture.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-acks-'));
}

async function started(dataDir: string, extra: Partial<BrokerOptions> = {}): Promise<Broker> {
  const broker = await Broker.open({ dataDir, nodeId: 0, brokerConfigs: {}, ...extra });
  await broker.start();
  return broker;
}

const v = (s: string) => Buffer.from(s);

/** Every stored value of a partition, committed or not (read up to the log end offset). */
function storedValues(broker: Broker, topic: string, partition: number): string[] {
  const [fetched] = broker.readPartitions({
    partitions: [{ topic, partition, offset: 0, maxBytes: 1 << 20 }],
    maxBytes: 1 << 20,
    isolation: 'log_end',
  }).partitions;
  const out: string[] = [];
  forEachFetchedBatch(fetched?.records ?? Buffer.alloc(0), (batch) => {
    batch.forEachRecord(0, (r) => {
      out.push(r.value()?.toString() ?? '<null>');
      return true;
    });
    return true;
  });
  return out;
}

/**
 * A data dir whose topic `replicated` has one partition led by node 0 with node 1 in its ISR, and
 * node 1 never fetches: the high watermark cannot pass what node 0 alone has.
 */
async function dirWithSilentFollower(): Promise<string> {
  const dir = tempDir();
  const broker = await started(dir);
  await broker.createTopic('replicated', { partitions: 1 });
  await broker.shutdown();
  const store = await LocalMetadataStore.open(dir, 0);
  await store.updatePartitionState('replicated', 0, { replicas: [0, 1], leader: 0, leaderEpoch: 1, isr: [0, 1] }, 0);
  await store.close();
  return dir;
}

describe('produce acknowledgements', () => {
  test('acks=0 answers each record partition with offset -1, and the records are stored', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      await broker.createTopic('fire', { partitions: 2 });
      const answer = await broker.produce(
        'fire',
        [
          { partition: 1, key: null, value: v('a') },
          { partition: 0, key: null, value: v('b') },
        ],
        { acks: 0, timeoutMs: 1000 },
      );
      assert.deepEqual(answer, [
        { partition: 1, offset: -1, timestamp: -1 },
        { partition: 0, offset: -1, timestamp: -1 },
      ]);
      assert.deepEqual(storedValues(broker, 'fire', 1), ['a']);
      assert.deepEqual(storedValues(broker, 'fire', 0), ['b']);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('acks=0: a failure after the answer goes to onError, never to the caller nor as an unhandled rejection', async () => {
    const dir = tempDir();
    const errors: [string, unknown][] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const broker = await started(dir, {
      brokerConfigs: { 'auto.create.topics.enable': 'true', 'num.partitions': '3' },
      onError: (task, err) => errors.push([task, err]),
    });
    try {
      // An explicit create of one partition is in flight; the produce, checked against the three
      // partitions an auto-created topic would have, names partition 2 and is answered at once.
      const created = broker.createTopic('late', { partitions: 1 });
      const answer = await broker.produce('late', [{ partition: 2, key: null, value: v('x') }], {
        acks: 0,
        timeoutMs: 1000,
      });
      assert.deepEqual(answer, [{ partition: 2, offset: -1, timestamp: -1 }]);
      await created;
      await broker.shutdown(); // waits for the answered produce to finish
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(errors.length, 1, String(errors.map(([, e]) => e)));
      assert.equal(errors[0]?.[0], 'produce acks=0');
      assert.ok(errors[0]?.[1] instanceof UnknownPartitionError);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('acks=0 to a topic being auto-created is appended before shutdown closes the logs', async () => {
    const dir = tempDir();
    let broker = await started(dir, { brokerConfigs: { 'auto.create.topics.enable': 'true' } });
    try {
      await broker.produce('fresh', [{ key: null, value: v('kept') }], { acks: 0, timeoutMs: 1000 });
      await broker.shutdown();
      broker = await started(dir);
      assert.deepEqual(storedValues(broker, 'fresh', 0), ['kept']);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('acks=all fails with RequestTimedOutError when an in-sync follower does not get the records within timeoutMs', async () => {
    const dir = await dirWithSilentFollower();
    const broker = await started(dir);
    try {
      await assert.rejects(
        broker.produce('replicated', [{ key: null, value: v('waits') }], { acks: -1, timeoutMs: 50 }),
        (err: unknown) => err instanceof RequestTimedOutError && err.kafkaError?.name === 'REQUEST_TIMED_OUT',
      );
      // Written on the leader, not committed: readers do not see it yet.
      assert.deepEqual(storedValues(broker, 'replicated', 0), ['waits']);
      assert.equal(broker.listOffsets('replicated', 0).highWatermark, 0);
      // acks=1 does not wait for the follower.
      const [one] = await broker.produce('replicated', [{ key: null, value: v('leader') }], { acks: 1, timeoutMs: 50 });
      assert.equal(one?.offset, 1);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('acks=all answers once the follower reports a log end offset past the records', async () => {
    const dir = await dirWithSilentFollower();
    const broker = await started(dir);
    try {
      const answer = broker.produce('replicated', [{ key: null, value: v('a') }], { acks: -1, timeoutMs: 60_000 });
      broker.updateFollowerEndOffset('replicated', 0, 1, 0); // a fetch that does not have it yet
      assert.equal(broker.listOffsets('replicated', 0).highWatermark, 0);
      broker.updateFollowerEndOffset('replicated', 0, 1, 1);
      const [record] = await answer;
      assert.equal(record?.partition, 0);
      assert.equal(record?.offset, 0);
      assert.equal(broker.listOffsets('replicated', 0).highWatermark, 1);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('over HTTP, a v2 produce whose acks=all wait passes timeout_ms answers 503 / 50003', async () => {
    const dataDir = await dirWithSilentFollower();
    const node = await openNode({ dataDir });
    try {
      const res = await request(node.app)
        .post('/topics/replicated?acks=all&timeout_ms=50')
        .set('content-type', JSON_V2)
        .send(JSON.stringify({ records: [{ value: 1 }] }));
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error_code, 50003);
      assert.match(res.body.message, /in-sync replicas did not all have the records within 50 ms/);
      const ok = await request(node.app)
        .post('/topics/replicated?acks=1')
        .set('content-type', JSON_V2)
        .send(JSON.stringify({ records: [{ value: 2 }] }));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.equal(ok.body.offsets[0].offset, 1);
    } finally {
      await node.close();
    }
  });
});
