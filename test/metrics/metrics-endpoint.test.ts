/**
 * /metrics tells the truth: what a test produced, deleted, committed and requested is what the scrape
 * says, per topic and partition, and labels stay bounded however many topic names clients use.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { SamsaMetrics } from '../../src/metrics/samsa-metrics.js';
import { openNode } from '../http/node-fixture.js';
import { parseExposition } from './exposition.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';

function records(count: number, size = 10): string {
  return JSON.stringify({
    records: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: 'x'.repeat(size) })),
  });
}

async function scrape(app: Parameters<typeof request>[0]) {
  const res = await request(app).get('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(res.text);
}

test('records and bytes produced per topic, and partition offsets and sizes, match what was produced', async () => {
  const node = await openNode({ brokerConfigs: { 'num.partitions': '3' } });
  try {
    for (const [topic, count] of [
      ['orders', 7],
      ['payments', 2],
      ['orders', 5],
    ] as const) {
      const res = await request(node.app).post(`/topics/${topic}`).set('content-type', JSON_V2).send(records(count));
      assert.equal(res.status, 200);
    }
    await request(node.app).post('/topics/orders/partitions/1').set('content-type', JSON_V2).send(records(4));

    const m = await scrape(node.app);
    assert.equal(m.value('samsa_records_in_total', { topic: 'orders' }), 16);
    assert.equal(m.value('samsa_records_in_total', { topic: 'payments' }), 2);
    for (const topic of ['orders', 'payments']) {
      // Every appended batch is stored whole, so bytes in equal the bytes of the logs.
      const stored = m.find('samsa_partition_log_size_bytes', { topic }).reduce((sum, s) => sum + s.value, 0);
      assert.ok(stored > 0);
      assert.equal(m.value('samsa_bytes_in_total', { topic }), stored);
      assert.equal(m.find('samsa_partition_log_end_offset', { topic }).length, 3);
      for (let p = 0; p < 3; p++) {
        const offsets = node.broker.listOffsets(topic, p);
        const labels = { topic, partition: String(p) };
        assert.equal(m.value('samsa_partition_log_end_offset', labels), offsets.logEndOffset);
        assert.equal(m.value('samsa_partition_high_watermark', labels), offsets.highWatermark);
        assert.equal(m.value('samsa_partition_log_start_offset', labels), 0);
        assert.equal(m.value('samsa_partition_segments', labels), 1);
      }
    }
    const endOffsets = m.find('samsa_partition_log_end_offset', { topic: 'orders' }).reduce((n, s) => n + s.value, 0);
    assert.equal(endOffsets, 16);
    assert.equal(m.value('samsa_records_out_total', { topic: 'orders' }), 0);

    node.broker.recordDelivered('orders', 3, 300);
    const after = await scrape(node.app);
    assert.equal(after.value('samsa_records_out_total', { topic: 'orders' }), 3);
    assert.equal(after.value('samsa_bytes_out_total', { topic: 'orders' }), 300);
  } finally {
    await node.close();
  }
});

test('produce requests are counted by api, acks and outcome', async () => {
  const node = await openNode({ brokerConfigs: { 'auto.create.topics.enable': 'false' } });
  try {
    await node.broker.createTopic('orders', { partitions: 2 });
    await node.broker.createTopic('strict', { partitions: 1, configs: { 'min.insync.replicas': '2' } });
    const post = (path: string, body = records(1)) =>
      request(node.app).post(path).set('content-type', JSON_V2).send(body);
    assert.equal((await post('/topics/orders')).status, 200);
    assert.equal((await post('/topics/orders?acks=1')).status, 200);
    assert.equal((await post('/topics/orders/partitions/1?acks=1')).status, 200);
    assert.equal((await post('/topics/orders?acks=0')).status, 200);
    assert.equal((await post('/topics/nowhere')).status, 404);
    assert.equal((await post('/topics/orders/partitions/9?acks=1')).status, 404);
    // One replica cannot satisfy min.insync.replicas=2 with acks=all: the broker refuses (503).
    assert.equal((await post('/topics/strict')).status, 503);
    assert.equal((await post('/topics/strict?acks=1')).status, 200);

    const m = await scrape(node.app);
    const count = (acks: string, outcome: string) =>
      m.value('samsa_produce_requests_total', { api: 'v2', acks, outcome });
    assert.equal(count('all', 'success'), 1);
    assert.equal(count('1', 'success'), 3);
    assert.equal(count('0', 'success'), 1);
    assert.equal(count('all', 'client_error'), 1);
    assert.equal(count('1', 'client_error'), 1);
    assert.equal(count('all', 'server_error'), 1);
    assert.equal(count('0', 'server_error'), 0);
    const total = m.find('samsa_produce_requests_total', { api: 'v2' }).reduce((n, s) => n + s.value, 0);
    assert.equal(total, 8);
  } finally {
    await node.close();
  }
});

test('a deleted topic disappears from every per-topic and per-partition family', async () => {
  const node = await openNode();
  try {
    for (const topic of ['doomed', 'kept']) {
      await request(node.app).post(`/topics/${topic}`).set('content-type', JSON_V2).send(records(3));
    }
    const before = await scrape(node.app);
    assert.equal(before.value('samsa_records_in_total', { topic: 'doomed' }), 3);
    assert.equal(before.find('samsa_partition_log_end_offset', { topic: 'doomed' }).length, 1);

    await node.broker.deleteTopic('doomed');
    const after = await scrape(node.app);
    const mentions = after.samples.filter((s) => s.labels.topic === 'doomed').map((s) => s.name);
    assert.deepEqual(mentions, []);
    assert.equal(after.value('samsa_records_in_total', { topic: 'kept' }), 3);
  } finally {
    await node.close();
  }
});

test('route labels are OpenAPI templates: 1,000 distinct topic names add no series', async () => {
  const node = await openNode({ brokerConfigs: { 'auto.create.topics.enable': 'false' } });
  const server = createServer(node.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    for (let i = 0; i < 1_000; i++) {
      const topic = `topic-${i}`;
      const res =
        i % 3 === 0
          ? await fetch(`${base}/topics/${topic}`, {
              method: 'POST',
              headers: { 'content-type': JSON_V2 },
              body: records(1),
            })
          : i % 3 === 1
            ? await fetch(`${base}/topics/${topic}/partitions/0/offsets`)
            : await fetch(`${base}/no-such-api/${topic}`);
      assert.equal(res.status, 404);
      await res.arrayBuffer();
    }
    const m = parseExposition(await (await fetch(`${base}/metrics`)).text());
    const counts = m.find('samsa_http_request_duration_seconds_count');
    const routes = new Set(counts.map((s) => s.labels.route));
    assert.deepEqual(
      [...routes].sort(),
      ['/topics/{topic}', '/topics/{topic}/partitions/{partition}/offsets', 'unmatched'].sort(),
    );
    assert.equal(counts.length, 3); // one (method, route, status) each
    assert.equal(
      counts.reduce((n, s) => n + s.value, 0),
      1_000,
    );
    assert.equal(m.value('samsa_http_request_duration_seconds_count', { route: 'unmatched', status: '404' }), 333);
    assert.ok(!m.samples.some((s) => Object.values(s.labels).some((v) => v.includes('topic-'))));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await node.close();
  }
});

test('a 405 on a known path is labelled with its template; methods and statuses are recorded', async () => {
  const node = await openNode();
  try {
    assert.equal((await request(node.app).delete('/healthz')).status, 405);
    assert.equal((await request(node.app).get('/healthz')).status, 200);
    const m = await scrape(node.app);
    assert.equal(m.value('samsa_http_request_duration_seconds_count', { method: 'DELETE', route: '/healthz' }), 1);
    assert.equal(
      m.value('samsa_http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status: '200' }),
      1,
    );
    assert.equal(m.types.get('samsa_http_request_duration_seconds'), 'histogram');
  } finally {
    await node.close();
  }
});

test('/metrics answers while the broker recovers its logs, and reports the recovery time after', async () => {
  const node = await openNode({ start: false });
  try {
    const during = await scrape(node.app);
    assert.equal(during.value('samsa_recovery_duration_seconds'), 0);
    await node.broker.start();
    const report = node.broker.lastStartReport;
    assert.ok(report);
    const after = await scrape(node.app);
    assert.equal(after.value('samsa_recovery_duration_seconds'), report.durationMs / 1000);
  } finally {
    await node.close();
  }
});

test('OpenMetrics is served when the Accept header prefers it, and the text format stays intact after', async () => {
  const node = await openNode();
  try {
    await request(node.app).post('/topics/orders').set('content-type', JSON_V2).send(records(2));
    // What Prometheus 2.x sends.
    const accept =
      'application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const om = await request(node.app).get('/metrics').set('accept', accept);
    assert.equal(om.status, 200);
    assert.equal(om.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    assert.match(om.text, /^# TYPE samsa_records_in counter$/m);
    assert.match(om.text, /^samsa_records_in_total\{topic="orders"\} 2$/m);
    assert.ok(om.text.endsWith('# EOF\n'));

    // Counters keep their `_total` family name in the text format afterwards (prom-client renames them for OpenMetrics).
    const text = await scrape(node.app);
    assert.equal(text.types.get('samsa_records_in_total'), 'counter');
    assert.equal(text.value('samsa_records_in_total', { topic: 'orders' }), 2);

    const plain = await request(node.app).get('/metrics').set('accept', 'application/json');
    assert.equal(plain.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  } finally {
    await node.close();
  }
});

test('log flushes are timed through the storage observer', async () => {
  const node = await openNode();
  try {
    // flush.messages=1: every append is fsynced, so each produce is one observed flush.
    await node.broker.createTopic('synced', { partitions: 1, configs: { 'flush.messages': '1' } });
    for (let i = 0; i < 3; i++) {
      await request(node.app).post('/topics/synced').set('content-type', JSON_V2).send(records(1));
    }
    const m = await scrape(node.app);
    assert.ok(m.value('samsa_log_flush_duration_seconds_count') >= 3);
    assert.ok(m.value('samsa_log_flush_duration_seconds_sum') > 0);
  } finally {
    await node.close();
  }
});

test('families of subsystems not attached yet are exposed empty or zero', async () => {
  const node = await openNode();
  try {
    const res = await request(node.app).get('/metrics');
    const m = parseExposition(res.text);
    for (const family of ['samsa_consumer_group_lag', 'samsa_consumer_group_members', 'samsa_sse_events_total']) {
      assert.ok(m.types.has(family), family);
      assert.equal(m.find(family).length, 0, family);
    }
    assert.equal(m.types.get('samsa_consumer_group_rebalances_total'), 'counter');
    for (const family of [
      'samsa_consumer_instances',
      'samsa_sse_streams',
      'samsa_sse_dropped_slow_total',
      'samsa_under_replicated_partitions',
      'samsa_offline_partitions',
      'samsa_isr_shrinks_total',
      'samsa_isr_expands_total',
      'samsa_leader_elections_total',
    ]) {
      assert.equal(m.value(family), 0, family);
    }
    // The default process and Node.js families keep their standard names, as Prometheus' client
    // guidelines and the common Node.js dashboards expect; everything else is Samsa's own.
    for (const family of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
    ]) {
      assert.ok(m.types.has(family), family);
    }
    for (const family of m.types.keys()) {
      assert.match(family, /^(samsa_|process_|nodejs_)/, family);
      assert.doesNotMatch(family, /^samsa_(process|nodejs)_/, family);
    }
  } finally {
    await node.close();
  }
});

test('on a single node the replica lag families are exposed with no series: there is no follower', async () => {
  const node = await openNode({ brokerConfigs: { 'replica.lag.time.max.ms': '12000' } });
  try {
    const res = await request(node.app).post('/topics/orders').set('content-type', JSON_V2).send(records(3));
    assert.equal(res.status, 200);
    const m = await scrape(node.app);
    assert.equal(m.value('samsa_partition_log_end_offset', { topic: 'orders', partition: '0' }), 3);
    for (const family of ['samsa_replica_lag_records', 'samsa_replica_lag_seconds']) {
      assert.equal(m.types.get(family), 'gauge', family);
      assert.deepEqual(m.find(family), [], family);
    }
    // What the lag alert compares samsa_replica_lag_seconds with (half of it).
    assert.equal(m.value('samsa_replica_lag_time_max_seconds'), 12);
  } finally {
    await node.close();
  }
});

test('attached sources feed lag (log end offset minus committed offset), members, rebalances and streams', async () => {
  const node = await openNode({ brokerConfigs: { 'num.partitions': '2' } });
  try {
    const metrics = new SamsaMetrics(node.broker);
    const app = createApp({ node: node.samsa, metrics });
    await request(app).post('/topics/orders/partitions/0').set('content-type', JSON_V2).send(records(10));
    await request(app).post('/topics/orders/partitions/1').set('content-type', JSON_V2).send(records(4));
    let groups = [
      {
        group: 'billing',
        members: 2,
        rebalancesTotal: 3,
        committedOffsets: [
          { topic: 'orders', partition: 0, offset: 7 },
          { topic: 'orders', partition: 1, offset: 4 },
          { topic: 'gone', partition: 0, offset: 1 },
        ],
      },
      {
        group: 'audit',
        members: 0,
        rebalancesTotal: 0,
        committedOffsets: [{ topic: 'orders', partition: 0, offset: 0 }],
      },
    ];
    metrics.attach({
      consumerGroups: { groups: () => groups, consumerInstances: () => 2 },
      sse: {
        openStreams: () => 5,
        eventsTotalByTopic: () => [
          ['orders', 12],
          ['deleted-topic', 9],
        ],
        droppedSlowTotal: () => 1,
      },
      replication: { isrShrinksTotal: () => 4, isrExpandsTotal: () => 3, leaderElectionsTotal: () => 2 },
    });

    const m = await scrape(app);
    assert.equal(m.value('samsa_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '0' }), 3);
    assert.equal(m.value('samsa_consumer_group_lag', { group: 'billing', topic: 'orders', partition: '1' }), 0);
    assert.equal(m.value('samsa_consumer_group_lag', { group: 'audit', topic: 'orders', partition: '0' }), 10);
    assert.equal(m.find('samsa_consumer_group_lag', { topic: 'gone' }).length, 0);
    assert.equal(m.value('samsa_consumer_group_members', { group: 'billing' }), 2);
    assert.equal(m.value('samsa_consumer_group_rebalances_total', { group: 'billing' }), 3);
    assert.equal(m.value('samsa_consumer_instances'), 2);
    assert.equal(m.value('samsa_sse_streams'), 5);
    assert.equal(m.value('samsa_sse_events_total', { topic: 'orders' }), 12);
    assert.equal(m.find('samsa_sse_events_total', { topic: 'deleted-topic' }).length, 0);
    assert.equal(m.value('samsa_sse_dropped_slow_total'), 1);
    assert.equal(m.value('samsa_isr_shrinks_total'), 4);
    assert.equal(m.value('samsa_isr_expands_total'), 3);
    assert.equal(m.value('samsa_leader_elections_total'), 2);

    // A group the coordinator no longer reports (deleted, expired) disappears.
    groups = groups.filter((g) => g.group !== 'audit');
    const after = await scrape(app);
    assert.equal(after.find('samsa_consumer_group_members', { group: 'audit' }).length, 0);
    assert.equal(after.find('samsa_consumer_group_lag', { group: 'audit' }).length, 0);
  } finally {
    await node.close();
  }
});
