import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Broker, type BrokerOptions } from '../../src/broker/broker.js';
import { partitionForKey } from '../../src/broker/partitioner.js';
import {
  InvalidConfigError,
  InvalidTopicError,
  RecordTooLargeError,
  ServiceUnavailableError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../../src/errors.js';
import { httpAnswerOf } from '../../src/http/error-codes.js';
import { KAFKA_ERRORS } from '../../src/kafka-errors.js';
import { decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-broker-'));
}

async function started(
  dataDir: string,
  brokerConfigs: Record<string, string> = {},
  extra: Partial<BrokerOptions> = {},
): Promise<Broker> {
  const broker = await Broker.open({ dataDir, nodeId: 0, brokerConfigs, ...extra });
  await broker.start();
  return broker;
}

const v = (s: string) => Buffer.from(s);

async function values(broker: Broker, topic: string, partition: number): Promise<string[]> {
  const out: string[] = [];
  const { records } = await broker.fetch(
    topic,
    partition,
    broker.listOffsets(topic, partition).logStartOffset,
    64 * 1024 * 1024,
  );
  forEachBatch(records, (_h, batch) => {
    for (const r of decodeRecordBatch(batch)) out.push(r.value?.toString() ?? '<null>');
  });
  return out;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('broker', () => {
  test('topic metadata, config overrides, records and the cluster id survive a restart', async () => {
    const dir = tempDir();
    try {
      let broker = await started(dir);
      const clusterId = broker.clusterId;
      await broker.createTopic('orders', {
        partitions: 4,
        configs: { 'retention.ms': '1000000', 'cleanup.policy': 'delete' },
      });
      await broker.produce('orders', [{ partition: 2, key: null, value: v('a') }], { acks: -1, timeoutMs: 1000 });
      await broker.shutdown();

      broker = await started(dir);
      assert.equal(broker.clusterId, clusterId);
      const t = broker.describeTopic('orders');
      assert.equal(t.partitions.length, 4);
      assert.deepEqual(t.configOverrides, { 'retention.ms': '1000000', 'cleanup.policy': 'delete' });
      const retention = broker.topicConfigs('orders').find((c) => c.name === 'retention.ms');
      assert.deepEqual(retention, { name: 'retention.ms', value: '1000000', source: 'DYNAMIC_TOPIC_CONFIG' });
      assert.deepEqual(await values(broker, 'orders', 2), ['a']);
      assert.equal(broker.listOffsets('orders', 2).highWatermark, 1);
      await broker.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refuses topic names Kafka refuses and accepts a 249-character name', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      for (const bad of ['', '.', '..', 'a/b', 'spaces no', 'é', 'x'.repeat(250)]) {
        await assert.rejects(broker.createTopic(bad), InvalidTopicError, `"${bad}" must be refused`);
      }
      await broker.createTopic('x'.repeat(249));
      await broker.createTopic('a.b_c-D9');
      await assert.rejects(broker.createTopic('a.b_c-D9'), TopicExistsError);
      assert.deepEqual(broker.listTopics(), ['a.b_c-D9', 'x'.repeat(249)]);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('invalid topic configs and partition counts are refused and nothing is created', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      await assert.rejects(broker.createTopic('t', { configs: { 'retention.ms': 'soon' } }), InvalidConfigError);
      await assert.rejects(broker.createTopic('t', { configs: { 'no.such.config': '1' } }), InvalidConfigError);
      await assert.rejects(broker.createTopic('t', { partitions: 0 }));
      await assert.rejects(broker.createTopic('t', { replicationFactor: 3 }), InvalidConfigError);
      assert.deepEqual(broker.listTopics(), []);
      assert.deepEqual(
        fs.readdirSync(dir).filter((f) => f.startsWith('t-')),
        [],
      );
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('broker-wide defaults apply to new topics, and bad broker settings fail at open', async () => {
    const dir = tempDir();
    try {
      await assert.rejects(
        Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: { 'log.retention.ms': 'x' } }),
        InvalidConfigError,
      );
      await assert.rejects(
        Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: { 'log.bogus': '1' } }),
        InvalidConfigError,
      );
      const broker = await started(dir, { 'log.retention.ms': '12345', 'num.partitions': '3' });
      await broker.produce('auto', [{ key: null, value: v('x') }], { acks: 1, timeoutMs: 1000 });
      assert.equal(broker.describeTopic('auto').partitions.length, 3);
      const retention = broker.topicConfigs('auto').find((c) => c.name === 'retention.ms');
      assert.deepEqual(retention, { name: 'retention.ms', value: '12345', source: 'STATIC_BROKER_CONFIG' });
      await broker.shutdown();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with auto.create.topics.enable=false, producing to an unknown topic fails at once with 40401', async () => {
    const dir = tempDir();
    const broker = await started(dir, { 'auto.create.topics.enable': 'false' });
    try {
      const t0 = Date.now();
      await assert.rejects(
        broker.produce('nope', [{ key: null, value: v('x') }], { acks: -1, timeoutMs: 60_000 }),
        (err: unknown) => {
          assert.ok(err instanceof UnknownTopicError);
          assert.equal(err.kafkaError, KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
          assert.equal(err.during, 'produce');
          assert.equal(httpAnswerOf(err).errorCode, 40401);
          return true;
        },
      );
      assert.ok(Date.now() - t0 < 1000);
      assert.deepEqual(broker.listTopics(), []);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('keys go where Kafka producers put them; unkeyed requests stick to one partition and move on', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      await broker.createTopic('p', { partitions: 5 });
      const keys = Array.from({ length: 50 }, (_, i) => `key-${i}`);
      const results = await broker.produce(
        'p',
        keys.map((k) => ({ key: v(k), value: v(k) })),
        { acks: -1, timeoutMs: 1000 },
      );
      for (const [i, r] of results.entries()) assert.equal(r.partition, partitionForKey(v(keys[i] as string), 5));

      const seen: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await broker.produce(
          'p',
          [
            { key: null, value: v('a') },
            { key: null, value: v('b') },
          ],
          { acks: 1, timeoutMs: 1000 },
        );
        assert.equal(res[0]?.partition, res[1]?.partition, 'one request, one partition');
        assert.equal(res[1]?.offset, (res[0]?.offset as number) + 1);
        seen.push(res[0]?.partition as number);
      }
      assert.deepEqual(new Set(seen), new Set([0, 1, 2, 3, 4]), 'successive unkeyed requests cover every partition');
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a request with one oversized batch or an unknown partition writes nothing anywhere', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      await broker.createTopic('big', { partitions: 2, configs: { 'max.message.bytes': '2000' } });
      await assert.rejects(
        broker.produce(
          'big',
          [
            { partition: 0, key: null, value: v('small') },
            { partition: 1, key: null, value: Buffer.alloc(5000) },
          ],
          {
            acks: -1,
            timeoutMs: 1000,
          },
        ),
        RecordTooLargeError,
      );
      await assert.rejects(
        broker.produce(
          'big',
          [
            { partition: 0, key: null, value: v('small') },
            { partition: 7, key: null, value: v('x') },
          ],
          {
            acks: -1,
            timeoutMs: 1000,
          },
        ),
        UnknownPartitionError,
      );
      assert.equal(broker.listOffsets('big', 0).logEndOffset, 0);
      assert.equal(broker.listOffsets('big', 1).logEndOffset, 0);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('deleting a topic removes its data from disk and a new topic of that name starts empty', async () => {
    const dir = tempDir();
    const broker = await started(dir);
    try {
      await broker.produce('gone', [{ key: null, value: v('x') }], { acks: -1, timeoutMs: 1000 });
      assert.ok(fs.existsSync(path.join(dir, 'gone-0')));
      await broker.deleteTopic('gone');
      assert.ok(!fs.existsSync(path.join(dir, 'gone-0')));
      assert.throws(() => broker.listOffsets('gone', 0), UnknownTopicError);
      await broker.produce('gone', [{ key: null, value: v('y') }], { acks: -1, timeoutMs: 1000 });
      assert.deepEqual(await values(broker, 'gone', 0), ['y']);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is not ready and refuses requests until its logs are recovered', async () => {
    const dir = tempDir();
    try {
      const broker = await Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: {} });
      assert.equal(broker.ready, false);
      await assert.rejects(
        broker.produce('t', [{ key: null, value: v('x') }], { acks: -1, timeoutMs: 1000 }),
        ServiceUnavailableError,
      );
      await broker.start();
      assert.equal(broker.ready, true);
      await broker.shutdown();
      assert.equal(broker.ready, false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the retention loop deletes expired segments in the background and moves the log start offset', async () => {
    const dir = tempDir();
    const broker = await started(dir, { 'log.retention.check.interval.ms': '50' });
    try {
      await broker.createTopic('old', { configs: { 'retention.ms': '60000', 'segment.bytes': '1000' } });
      const dayAgo = Date.now() - 86_400_000;
      for (let i = 0; i < 40; i++) {
        await broker.produce('old', [{ key: null, value: Buffer.alloc(100, i), timestamp: dayAgo }], {
          acks: -1,
          timeoutMs: 1000,
        });
      }
      await broker.produce('old', [{ key: null, value: v('fresh') }], { acks: -1, timeoutMs: 1000 });
      await until(() => broker.listOffsets('old', 0).logStartOffset > 0, 5000);
      const { logStartOffset, logEndOffset } = broker.listOffsets('old', 0);
      assert.equal(logEndOffset, 41, 'offsets never change');
      assert.ok(logStartOffset <= 40, 'the segment holding the fresh record stays');
      assert.equal((await values(broker, 'old', 0)).at(-1), 'fresh');
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the cleaner compacts a compacted topic in the background, keeping the newest value per key', async () => {
    const dir = tempDir();
    const broker = await started(dir, { 'log.cleaner.backoff.ms': '50' });
    try {
      await broker.createTopic('state', { configs: { 'cleanup.policy': 'compact', 'segment.bytes': '1000' } });
      const past = Date.now() - 1000;
      for (let i = 0; i < 60; i++) {
        await broker.produce('state', [{ key: v(`k${i % 3}`), value: v(`v${i}`), timestamp: past }], {
          acks: -1,
          timeoutMs: 1000,
        });
      }
      const before = (await values(broker, 'state', 0)).length;
      await until(() => {
        const { records } = broker.readPartitions({
          partitions: [{ topic: 'state', partition: 0, offset: 0, maxBytes: 1 << 20 }],
          maxBytes: 1 << 20,
          isolation: 'high_watermark',
        }).partitions[0] as { records: Buffer };
        let n = 0;
        forEachBatch(records, (_h, b) => {
          n += decodeRecordBatch(b).length;
        });
        return n < before;
      }, 5000);
      assert.equal(broker.listOffsets('state', 0).logEndOffset, 60);
      // Read everything from the start: the last value of each key must be there.
      const all: string[] = [];
      let offset = 0;
      while (offset < 60) {
        const { records } = await broker.fetch('state', 0, offset, 1 << 20);
        assert.ok(records.length > 0, `a read from ${offset} below the high watermark returns data`);
        forEachBatch(records, (h, b) => {
          for (const r of decodeRecordBatch(b)) all.push(`${r.key?.toString()}=${r.value?.toString()}`);
          offset = h.lastOffset + 1;
        });
      }
      for (const last of ['k0=v57', 'k1=v58', 'k2=v59']) assert.ok(all.includes(last), `${last} kept`);
      assert.ok(all.length < 60);
    } finally {
      await broker.shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
