/**
 * Dynamic broker configs over v3: set per broker (`/brokers/{id}/configs`) or cluster-wide
 * (`/broker-configs`), reported with Kafka's sources, applied to the live logs at once, kept in
 * the data dir across a restart; read-only, unknown and invalid ones refused with clear errors.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

const WEEK_MS = '604800000';

async function withNode(fn: (node: TestNode, v3: (s: string) => string) => Promise<void>): Promise<void> {
  const node = await openNode({ brokerConfigs: { 'log.segment.bytes': '1048576' } });
  try {
    await fn(node, (suffix) => `/v3/clusters/${node.broker.clusterId}${suffix}`);
  } finally {
    await node.close();
  }
}

const put = (node: TestNode, url: string, value: string) =>
  request(node.app).put(url).set('content-type', 'application/json').send({ value });
const alter = (node: TestNode, url: string, body: object) =>
  request(node.app).post(url).set('content-type', 'application/json').send(body);

test('a cluster-wide log.retention.ms reaches every topic without an override at once, and new topics', () =>
  withNode(async (node, v3) => {
    await node.broker.createTopic('plain', { partitions: 1 });
    await node.broker.createTopic('own', { partitions: 1, configs: { 'retention.ms': '60000' } });
    assert.deepEqual((await request(node.app).get(v3('/broker-configs'))).body.data, []);

    const set = await put(node, v3('/broker-configs/log.retention.ms'), '3600000');
    assert.equal(set.status, 204, set.text);

    const plain = await request(node.app).get(v3('/topics/plain/configs/retention.ms'));
    assert.equal(plain.body.value, '3600000');
    assert.equal(plain.body.source, 'DYNAMIC_DEFAULT_BROKER_CONFIG');
    assert.equal(plain.body.is_default, false);
    assert.deepEqual(plain.body.synonyms, [
      { name: 'log.retention.ms', value: '3600000', source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' },
      { name: 'log.retention.ms', value: WEEK_MS, source: 'DEFAULT_CONFIG' },
    ]);
    const own = await request(node.app).get(v3('/topics/own/configs/retention.ms'));
    assert.deepEqual([own.body.value, own.body.source], ['60000', 'DYNAMIC_TOPIC_CONFIG']);
    await node.broker.createTopic('later', { partitions: 1 });
    assert.equal((await request(node.app).get(v3('/topics/later/configs/retention.ms'))).body.value, '3600000');

    const list = await request(node.app).get(v3('/broker-configs')).set('host', 'kafka.local');
    assert.equal(list.status, 200, list.text);
    const root = `http://kafka.local/v3/clusters/${node.broker.clusterId}`;
    assert.deepEqual(list.body, {
      kind: 'KafkaClusterConfigList',
      metadata: { self: `${root}/broker-configs`, next: null },
      data: [
        {
          kind: 'KafkaClusterConfig',
          metadata: {
            self: `${root}/broker-configs/log.retention.ms`,
            resource_name: `crn:///kafka=${node.broker.clusterId}/broker-config=log.retention.ms`,
          },
          cluster_id: node.broker.clusterId,
          config_type: 'BROKER',
          name: 'log.retention.ms',
          value: '3600000',
          is_default: false,
          is_read_only: false,
          is_sensitive: false,
          source: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
          synonyms: [
            { name: 'log.retention.ms', value: '3600000', source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' },
            { name: 'log.retention.ms', value: WEEK_MS, source: 'DEFAULT_CONFIG' },
          ],
        },
      ],
    });
    const one = await request(node.app).get(v3('/broker-configs/log.retention.ms')).set('host', 'kafka.local');
    assert.deepEqual(one.body, list.body.data[0]);
  }));

test('the new default applies to the live logs: retention deletes by it and message.max.bytes limits produce', () =>
  withNode(async (node, v3) => {
    await node.broker.createTopic('events', { partitions: 1 });
    // Small segments (per broker), so old records sit in closed segments that retention may delete.
    assert.equal((await put(node, v3('/brokers/0/configs/log.segment.bytes'), '1024')).status, 204);
    for (let i = 0; i < 6; i++) {
      const res = await request(node.app)
        .post('/topics/events')
        .set('content-type', JSON_V2)
        .send({ records: [{ value: 'x'.repeat(400) }, { value: 'y'.repeat(400) }] });
      assert.equal(res.status, 200, res.text);
    }
    node.broker.runRetention();
    assert.equal(node.broker.listOffsets('events', 0).logStartOffset, 0, 'a week of retention keeps everything');
    // One millisecond: every closed segment is older than that a moment later.
    assert.equal((await put(node, v3('/broker-configs/log.retention.ms'), '1')).status, 204);
    await new Promise((resolve) => setTimeout(resolve, 5));
    node.broker.runRetention();
    assert.ok(node.broker.listOffsets('events', 0).logStartOffset > 0, 'retention used the new log.retention.ms');

    assert.equal((await put(node, v3('/broker-configs/message.max.bytes'), '200')).status, 204);
    const big = await request(node.app)
      .post('/topics/events')
      .set('content-type', JSON_V2)
      .send({ records: [{ value: 'z'.repeat(500) }] });
    assert.equal(big.status, 422, big.text);
    assert.equal(big.body.error_code, 42207);
    assert.match(big.body.message, /exceeds max\.message\.bytes \(200\)/);
  }));

test('per broker beats cluster-wide beats start-up; DELETE steps back one level at a time', () =>
  withNode(async (node, v3) => {
    const brokerConfig = async () => (await request(node.app).get(v3('/brokers/0/configs/log.segment.bytes'))).body;
    assert.equal((await brokerConfig()).source, 'STATIC_BROKER_CONFIG');
    assert.equal((await put(node, v3('/broker-configs/log.segment.bytes'), '2097152')).status, 204);
    assert.equal((await put(node, v3('/brokers/0/configs/log.segment.bytes'), '4194304')).status, 204);
    const layered = await brokerConfig();
    assert.deepEqual(
      [layered.value, layered.source, layered.is_read_only],
      ['4194304', 'DYNAMIC_BROKER_CONFIG', false],
    );
    assert.deepEqual(layered.synonyms, [
      { name: 'log.segment.bytes', value: '4194304', source: 'DYNAMIC_BROKER_CONFIG' },
      { name: 'log.segment.bytes', value: '2097152', source: 'DYNAMIC_DEFAULT_BROKER_CONFIG' },
      { name: 'log.segment.bytes', value: '1048576', source: 'STATIC_BROKER_CONFIG' },
      { name: 'log.segment.bytes', value: '1073741824', source: 'DEFAULT_CONFIG' },
    ]);
    await node.broker.createTopic('t', { partitions: 1 });
    const topic = await request(node.app).get(v3('/topics/t/configs/segment.bytes'));
    assert.deepEqual([topic.body.value, topic.body.source], ['4194304', 'DYNAMIC_BROKER_CONFIG']);
    assert.equal(topic.body.synonyms.length, 4);

    assert.equal((await request(node.app).delete(v3('/brokers/0/configs/log.segment.bytes'))).status, 204);
    assert.deepEqual(
      [(await brokerConfig()).value, (await brokerConfig()).source],
      ['2097152', 'DYNAMIC_DEFAULT_BROKER_CONFIG'],
    );
    assert.equal((await request(node.app).delete(v3('/broker-configs/log.segment.bytes'))).status, 204);
    assert.deepEqual(
      [(await brokerConfig()).value, (await brokerConfig()).source],
      ['1048576', 'STATIC_BROKER_CONFIG'],
    );
    // Nothing cluster-wide any more: Confluent answers 404 for both.
    for (const res of [
      await request(node.app).get(v3('/broker-configs/log.segment.bytes')),
      await request(node.app).delete(v3('/broker-configs/log.segment.bytes')),
    ]) {
      assert.equal(res.status, 404, res.text);
      assert.match(res.body.message, /log\.segment\.bytes has no cluster-wide dynamic value/);
    }
  }));

test('dynamic configs survive a restart: they are kept in the data dir', async () => {
  const first = await openNode();
  const v3 = (s: string) => `/v3/clusters/${first.broker.clusterId}${s}`;
  assert.equal((await put(first, v3('/broker-configs/log.cleanup.policy'), 'compact')).status, 204);
  assert.equal((await put(first, v3('/brokers/0/configs/log.retention.bytes'), '1048576')).status, 204);
  assert.ok(fs.existsSync(path.join(first.dataDir, 'dynamic-broker-configs.json')));
  await first.samsa.shutdown();
  const second = await openNode({ dataDir: first.dataDir });
  try {
    await second.broker.createTopic('t', { partitions: 1 });
    const policy = await request(second.app).get(v3('/topics/t/configs/cleanup.policy'));
    assert.deepEqual([policy.body.value, policy.body.source], ['compact', 'DYNAMIC_DEFAULT_BROKER_CONFIG']);
    const bytes = await request(second.app).get(v3('/brokers/0/configs/log.retention.bytes'));
    assert.deepEqual([bytes.body.value, bytes.body.source], ['1048576', 'DYNAMIC_BROKER_CONFIG']);
  } finally {
    await second.close();
  }
});

test('unknown names are 404 (400 in the cluster-wide batch, as Kafka), invalid values 400 / 40002; nothing changes', () =>
  withNode(async (node, v3) => {
    for (const url of [v3('/broker-configs/log.retention.hours'), v3('/brokers/0/configs/log.retention.hours')]) {
      const res = await put(node, url, '1');
      assert.equal(res.status, 404, url);
      assert.match(res.body.message, /Config log\.retention\.hours cannot be found/);
    }
    const batchUnknown = await alter(node, v3('/broker-configs:alter'), {
      data: [{ name: 'log.retention.hours', value: '1' }],
    });
    assert.deepEqual(
      [batchUnknown.status, batchUnknown.body],
      [400, { error_code: 40002, message: 'Unknown broker config: log.retention.hours' }],
    );
    const perBrokerUnknown = await alter(node, v3('/brokers/0/configs:alter'), {
      data: [{ name: 'nope', value: '1' }],
    });
    assert.equal(perBrokerUnknown.status, 404);

    const invalid = await put(node, v3('/broker-configs/log.retention.ms'), 'soon');
    assert.deepEqual(
      [invalid.status, invalid.body],
      [
        400,
        { error_code: 40002, message: "Invalid value 'soon' for configuration log.retention.ms: not a whole number" },
      ],
    );
    const badPolicy = await alter(node, v3('/broker-configs:alter'), {
      data: [
        { name: 'log.retention.ms', value: '1000' },
        { name: 'log.cleanup.policy', value: 'shred' },
      ],
    });
    assert.equal(badPolicy.status, 400);
    const readOnly = await put(node, v3('/broker-configs/auto.create.topics.enable'), 'false');
    assert.equal(readOnly.status, 400);
    assert.match(readOnly.body.message, /auto\.create\.topics\.enable is read-only/);
    assert.deepEqual((await request(node.app).get(v3('/broker-configs'))).body.data, []);
  }));

test('configs:alter sets and deletes together; validate_only changes nothing', () =>
  withNode(async (node, v3) => {
    const dry = await alter(node, v3('/broker-configs:alter'), {
      data: [{ name: 'log.retention.ms', value: '1000' }],
      validate_only: true,
    });
    assert.equal(dry.status, 204, dry.text);
    assert.deepEqual((await request(node.app).get(v3('/broker-configs'))).body.data, []);
    const both = await alter(node, v3('/broker-configs:alter'), {
      data: [
        { name: 'log.retention.ms', value: '1000' },
        { name: 'log.roll.ms', value: '60000' },
      ],
    });
    assert.equal(both.status, 204, both.text);
    const swap = await alter(node, v3('/broker-configs:alter'), {
      data: [
        { name: 'log.retention.ms', operation: 'DELETE' },
        { name: 'min.insync.replicas', value: '1' },
      ],
    });
    assert.equal(swap.status, 204, swap.text);
    const names = (await request(node.app).get(v3('/broker-configs'))).body.data.map((c: { name: string }) => c.name);
    assert.deepEqual(names, ['log.roll.ms', 'min.insync.replicas']);
    const perBroker = await alter(node, v3('/brokers/0/configs:alter'), {
      data: [{ name: 'log.flush.interval.ms', value: '1000' }],
    });
    assert.equal(perBroker.status, 204, perBroker.text);
    const flush = (await request(node.app).get(v3('/brokers/0/configs/log.flush.interval.ms'))).body;
    assert.deepEqual([flush.value, flush.source], ['1000', 'DYNAMIC_BROKER_CONFIG']);
  }));
