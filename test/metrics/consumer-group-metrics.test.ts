/**
 * The app attaches the group coordinator and the consumer instances to /metrics: lag after a known
 * commit, members and live instances are what the scrape says.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { openNode } from '../http/node-fixture.js';
import { parseExposition } from './exposition.js';

const V2 = 'application/vnd.kafka.v2+json';
const JSON_V2 = 'application/vnd.kafka.json.v2+json';

test('samsa_consumer_group_lag is the log end offset minus the committed offset of a REST consumer', async () => {
  const node = await openNode();
  try {
    await node.broker.createTopic('orders', { partitions: 2 });
    for (const [partition, count] of [
      [0, 10],
      [1, 3],
    ] as const) {
      const res = await request(node.app)
        .post(`/topics/orders/partitions/${partition}`)
        .set('content-type', JSON_V2)
        .send({ records: Array.from({ length: count }, (_, i) => ({ value: i })) });
      assert.equal(res.status, 200);
    }
    await request(node.app).post('/consumers/billing').set('content-type', V2).send({ name: 'c1' });
    const base = '/consumers/billing/instances/c1';
    await request(node.app)
      .post(`${base}/subscription`)
      .set('content-type', V2)
      .send({ topics: ['orders'] });
    await request(node.app).get(`${base}/records`).query({ timeout: 300 });
    // Processed offsets 0..3 of partition 0 and everything of partition 1: committed 4 and 3.
    const commit = await request(node.app)
      .post(`${base}/offsets`)
      .set('content-type', V2)
      .send({
        offsets: [
          { topic: 'orders', partition: 0, offset: 3 },
          { topic: 'orders', partition: 1, offset: 2 },
        ],
      });
    assert.equal(commit.status, 200);

    const m = parseExposition((await request(node.app).get('/metrics')).text);
    assert.equal(m.value('samsa_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '0' }), 6);
    assert.equal(m.value('samsa_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '1' }), 0);
    assert.equal(m.value('samsa_consumer_group_members', { group: 'billing' }), 1);
    assert.equal(m.value('samsa_consumer_instances'), 1);
    assert.ok(m.value('samsa_consumer_group_rebalances_total', { group: 'billing' }) >= 1);

    await request(node.app).delete(base);
    const after = parseExposition((await request(node.app).get('/metrics')).text);
    assert.equal(after.value('samsa_consumer_group_members', { group: 'billing' }), 0);
    assert.equal(after.value('samsa_consumer_instances'), 0);
  } finally {
    await node.close();
  }
});

test('v3 produce counts in samsa_produce_requests_total', async () => {
  const node = await openNode();
  try {
    const url = `/v3/clusters/${node.broker.clusterId}/topics/orders/records`;
    const ok = await request(node.app)
      .post(url)
      .set('content-type', 'application/json')
      .send({ value: { type: 'JSON', data: 1 } });
    assert.equal(ok.status, 200);
    const m = parseExposition((await request(node.app).get('/metrics')).text);
    assert.equal(m.value('samsa_produce_requests_total', { api: 'v3', acks: 'all', outcome: 'success' }), 1);
  } finally {
    await node.close();
  }
});
