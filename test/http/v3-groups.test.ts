/**
 * v3 consumer-group admin over HTTP: groups, members and assignments in Confluent's shapes, lag
 * numbers that match what was produced and committed, and the rules of offset reset and group
 * deletion (only without members).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

const V2 = 'application/vnd.kafka.v2+json';

async function produce(node: TestNode, topic: string, partition: number, count: number): Promise<void> {
  const res = await request(node.app)
    .post(`/topics/${topic}/partitions/${partition}`)
    .set('content-type', JSON_V2)
    .send({ records: Array.from({ length: count }, (_, i) => ({ value: i })) });
  assert.equal(res.status, 200);
}

/** An instance subscribed to `topic` that has (unless `read` is false) read once, so it holds an assignment. */
async function member(node: TestNode, group: string, name: string, topic: string, read = true): Promise<string> {
  const created = await request(node.app)
    .post(`/consumers/${group}`)
    .set('content-type', V2)
    .send({ name, format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
  assert.equal(created.status, 200);
  const base = `/consumers/${group}/instances/${name}`;
  await request(node.app)
    .post(`${base}/subscription`)
    .set('content-type', V2)
    .send({ topics: [topic] });
  if (read) await request(node.app).get(`${base}/records`).query({ timeout: 300 }).set('accept', JSON_V2);
  return base;
}

async function commit(node: TestNode, base: string, topic: string, partition: number, lastOffset: number) {
  const res = await request(node.app)
    .post(`${base}/offsets`)
    .set('content-type', V2)
    .send({ offsets: [{ topic, partition, offset: lastOffset }] });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

async function withNode(fn: (node: TestNode, groups: string) => Promise<void>): Promise<void> {
  const node = await openNode();
  try {
    await fn(node, `/v3/clusters/${node.broker.clusterId}/consumer-groups`);
  } finally {
    await node.close();
  }
}

describe('v3 consumer groups', () => {
  test('list and get a group, its members and their assignments, in Confluent shapes', () =>
    withNode(async (node, groups) => {
      await node.broker.createTopic('orders', { partitions: 2 });
      await member(node, 'billing', 'c1', 'orders');

      const list = await request(node.app).get(groups);
      assert.equal(list.status, 200);
      assert.equal(list.body.kind, 'KafkaConsumerGroupList');
      assert.deepEqual(
        list.body.data.map((g: { consumer_group_id: string }) => g.consumer_group_id),
        ['billing'],
      );

      const group = await request(node.app).get(`${groups}/billing`);
      assert.equal(group.status, 200);
      const clusterId = node.broker.clusterId;
      assert.deepEqual(
        { ...group.body, metadata: undefined, coordinator: undefined, consumers: undefined, lag_summary: undefined },
        {
          kind: 'KafkaConsumerGroup',
          cluster_id: clusterId,
          consumer_group_id: 'billing',
          is_simple: false,
          partition_assignor: 'range',
          state: 'STABLE',
          type: 'CLASSIC',
          is_mixed_consumer_group: false,
          metadata: undefined,
          coordinator: undefined,
          consumers: undefined,
          lag_summary: undefined,
        },
      );
      assert.match(group.body.coordinator.related, new RegExp(`/v3/clusters/${clusterId}/brokers/0$`));
      assert.match(group.body.lag_summary.related, /\/consumer-groups\/billing\/lag-summary$/);
      assert.equal(group.body.metadata.resource_name, `crn:///kafka=${clusterId}/consumer-group=billing`);

      const consumers = await request(node.app).get(`${groups}/billing/consumers`);
      assert.equal(consumers.body.kind, 'KafkaConsumerList');
      assert.equal(consumers.body.data.length, 1);
      const [c] = consumers.body.data;
      assert.equal(c.client_id, 'c1');
      assert.equal(c.instance_id, null);
      assert.match(c.consumer_id, /^c1-/);

      const one = await request(node.app).get(`${groups}/billing/consumers/${c.consumer_id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body.consumer_id, c.consumer_id);
      const assignments = await request(node.app).get(`${groups}/billing/consumers/${c.consumer_id}/assignments`);
      assert.deepEqual(
        assignments.body.data.map((a: { topic_name: string; partition_id: number }) => [a.topic_name, a.partition_id]),
        [
          ['orders', 0],
          ['orders', 1],
        ],
      );
      // Each assignment's own link answers that same assignment; a partition not assigned is 404.
      const withHost = await request(node.app)
        .get(`${groups}/billing/consumers/${c.consumer_id}/assignments`)
        .set('host', 'kafka.local');
      const first = withHost.body.data[0];
      const single = await request(node.app).get(new URL(first.metadata.self).pathname).set('host', 'kafka.local');
      assert.equal(single.status, 200, single.text);
      assert.deepEqual(single.body, first);
      const notAssigned = await request(node.app).get(
        `${groups}/billing/consumers/${c.consumer_id}/assignments/orders/partitions/5`,
      );
      assert.deepEqual([notAssigned.status, notAssigned.body.error_code], [404, 404]);
      assert.match(notAssigned.body.message, /is not assigned partition orders-5/);

      const missing = await request(node.app).get(`${groups}/billing/consumers/nobody`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error_code, 404);
      const unknownGroup = await request(node.app).get(`${groups}/nope`);
      assert.equal(unknownGroup.status, 404);
      assert.equal(unknownGroup.body.error_code, 40405);
      const unknownCluster = await request(node.app).get('/v3/clusters/other/consumer-groups');
      assert.equal(unknownCluster.status, 404);
    }));

  test('lags and the lag summary are log end offset minus committed offset, with who reads each partition', () =>
    withNode(async (node, groups) => {
      await node.broker.createTopic('orders', { partitions: 3 });
      await produce(node, 'orders', 0, 10);
      await produce(node, 'orders', 1, 4);
      await produce(node, 'orders', 2, 6);
      const c1 = await member(node, 'billing', 'c1', 'orders');
      await commit(node, c1, 'orders', 0, 2); // committed 3: lag 7
      await commit(node, c1, 'orders', 1, 3); // committed 4: lag 0
      // Partition 2 has no committed offset: not listed, as Confluent.

      const lags = await request(node.app).get(`${groups}/billing/lags`);
      assert.equal(lags.status, 200);
      assert.equal(lags.body.kind, 'KafkaConsumerLagList');
      const memberId = (await request(node.app).get(`${groups}/billing/consumers`)).body.data[0].consumer_id;
      assert.deepEqual(
        lags.body.data.map((l: Record<string, unknown>) => [
          l.topic_name,
          l.partition_id,
          l.current_offset,
          l.log_end_offset,
          l.lag,
          l.consumer_id,
          l.client_id,
          l.instance_id,
        ]),
        [
          ['orders', 0, 3, 10, 7, memberId, 'c1', null],
          ['orders', 1, 4, 4, 0, memberId, 'c1', null],
        ],
      );
      const one = await request(node.app).get(`${groups}/billing/lags/orders/partitions/0`);
      assert.equal(one.body.lag, 7);
      assert.equal((await request(node.app).get(`${groups}/billing/lags/orders/partitions/2`)).status, 404);

      const summary = await request(node.app).get(`${groups}/billing/lag-summary`);
      assert.equal(summary.status, 200);
      assert.equal(summary.body.kind, 'KafkaConsumerGroupLagSummary');
      assert.equal(summary.body.max_lag, 7);
      assert.equal(summary.body.total_lag, 7);
      assert.equal(summary.body.max_lag_topic_name, 'orders');
      assert.equal(summary.body.max_lag_partition_id, 0);
      assert.equal(summary.body.max_lag_consumer_id, memberId);
      assert.equal(summary.body.max_lag_client_id, 'c1');
      assert.match(summary.body.max_lag_partition.related, /\/topics\/orders\/partitions\/0$/);

      // After the member leaves, the lag stays, read by nobody.
      await request(node.app).delete(c1);
      await produce(node, 'orders', 1, 5);
      const after = await request(node.app).get(`${groups}/billing/lag-summary`);
      assert.equal(after.body.total_lag, 12);
      assert.equal(after.body.max_lag_consumer_id, '');
      assert.equal(after.body.max_lag_consumer, undefined);
      const state = await request(node.app).get(`${groups}/billing`);
      assert.equal(state.body.state, 'EMPTY');
      assert.equal(state.body.is_simple, true);
    }));

  test('offsets:reset only without members, to earliest, latest, a timestamp or explicit offsets', () =>
    withNode(async (node, groups) => {
      const t0 = Date.now() - 100_000;
      await node.broker.produce(
        'orders',
        Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.from(String(i)), timestamp: t0 + i * 1000 })),
        { acks: -1, timeoutMs: 1000 },
      );
      const c1 = await member(node, 'billing', 'c1', 'orders');
      await commit(node, c1, 'orders', 0, 4);
      const reset = (body: object) =>
        request(node.app).post(`${groups}/billing/offsets:reset`).set('content-type', 'application/json').send(body);

      const busy = await reset({ to: 'earliest' });
      assert.equal(busy.status, 409);
      assert.equal(busy.body.error_code, 40903);

      await request(node.app).delete(c1);
      const earliest = await reset({ to: 'earliest' });
      assert.equal(earliest.status, 200, JSON.stringify(earliest.body));
      assert.deepEqual(earliest.body.offsets, [{ topic_name: 'orders', partition_id: 0, offset: 0 }]);
      assert.equal(node.samsa.coordinator.committedOffset('billing', 'orders', 0)?.offset, 0);

      const latest = await reset({ to: 'latest', topics: ['orders'] });
      assert.deepEqual(latest.body.offsets, [{ topic_name: 'orders', partition_id: 0, offset: 10 }]);
      const byTime = await reset({ to: 'timestamp', timestamp: new Date(t0 + 6500).toISOString() });
      assert.deepEqual(byTime.body.offsets, [{ topic_name: 'orders', partition_id: 0, offset: 7 }]);
      const explicit = await reset({
        to: 'offsets',
        offsets: [{ topic_name: 'orders', partition_id: 0, offset: 500 }],
      });
      assert.deepEqual(explicit.body.offsets, [{ topic_name: 'orders', partition_id: 0, offset: 10 }], 'clamped');
      await reset({ to: 'offsets', offsets: [{ topic_name: 'orders', partition_id: 0, offset: 8 }] });

      // A new member resumes at the reset offset.
      const c2 = await member(node, 'billing', 'c2', 'orders', false);
      let got: { offset: number }[] = [];
      for (let i = 0; i < 20 && got.length === 0; i++) {
        got = (await request(node.app).get(`${c2}/records`).query({ timeout: 200 }).set('accept', JSON_V2)).body;
      }
      assert.deepEqual(
        got.map((r) => r.offset),
        [8, 9],
      );

      await request(node.app).delete(c2);
      assert.equal((await reset({ to: 'timestamp' })).status, 422);
      assert.equal((await reset({ to: 'offsets' })).status, 422);
      assert.equal((await reset({ to: 'sideways' })).status, 422);
      assert.equal((await reset({ to: 'earliest', topics: ['nope'] })).status, 404);
      const fresh = await request(node.app)
        .post(`${groups}/fresh/offsets:reset`)
        .set('content-type', 'application/json')
        .send({ to: 'earliest' });
      assert.equal(fresh.status, 422, 'a group without commits must name its topics');
    }));

  test('delete: 409 with members, 204 when empty (offsets gone), 404 when unknown', () =>
    withNode(async (node, groups) => {
      await node.broker.createTopic('orders', { partitions: 1 });
      await produce(node, 'orders', 0, 3);
      const c1 = await member(node, 'billing', 'c1', 'orders');
      await commit(node, c1, 'orders', 0, 1);

      const busy = await request(node.app).delete(`${groups}/billing`);
      assert.equal(busy.status, 409);
      assert.equal(busy.body.error_code, 40903);

      await request(node.app).delete(c1);
      const deleted = await request(node.app).delete(`${groups}/billing`);
      assert.equal(deleted.status, 204);
      assert.equal(node.samsa.coordinator.committedOffset('billing', 'orders', 0), undefined);
      assert.equal((await request(node.app).get(`${groups}/billing`)).status, 404);
      const again = await request(node.app).delete(`${groups}/billing`);
      assert.equal(again.status, 404);
      assert.equal(again.body.error_code, 40405);
      assert.deepEqual((await request(node.app).get(groups)).body.data, []);
    }));
});
