import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import type { Broker } from '../../src/broker/broker.js';
import { createApp } from '../../src/http/app.js';
import { SamsaNode } from '../../src/samsa-node.js';
import { JSON_V2, openNode, readPartition, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode();
  await node.broker.createTopic('orders', { partitions: 3 });
});
after(() => node.close());

function produce(app: Express, urlPath: string, body: unknown, key?: string): request.Test {
  const req = request(app).post(urlPath).set('content-type', JSON_V2);
  if (key !== undefined) req.set('Idempotency-Key', key);
  return req.send(JSON.stringify(body));
}

function endOffsets(broker: Broker, topic: string, partitions = 3): number[] {
  return Array.from({ length: partitions }, (_, p) => broker.listOffsets(topic, p).highWatermark);
}

/** Keyed records spread over partitions plus unkeyed ones on the sticky partition. */
const MIXED = {
  records: [
    { key: 'alpha', value: 1 },
    { value: 'unkeyed-1' },
    { key: 'beta', value: 2 },
    { key: 'gamma', value: 3, headers: [{ key: 'h', value: 'v' }] },
    { value: 'unkeyed-2' },
    { partition: 2, value: 'pinned' },
  ],
};

test('a retried request with the same Idempotency-Key answers the original offsets and writes nothing', async () => {
  const first = await produce(node.app, '/topics/orders', MIXED, 'order-1');
  assert.equal(first.status, 200, first.text);
  const written = endOffsets(node.broker, 'orders');
  for (let retry = 0; retry < 3; retry++) {
    const again = await produce(node.app, '/topics/orders', MIXED, 'order-1');
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, first.body);
  }
  assert.deepEqual(endOffsets(node.broker, 'orders'), written);
  const total = (await Promise.all([0, 1, 2].map((p) => readPartition(node.broker, 'orders', p)))).flat().length;
  assert.equal(total, MIXED.records.length);
});

test('without a key, or with a new key, the same body is written again', async () => {
  const body = { records: [{ value: 'again' }] };
  const a = await produce(node.app, '/topics/orders/partitions/1', body);
  const b = await produce(node.app, '/topics/orders/partitions/1', body);
  const c = await produce(node.app, '/topics/orders/partitions/1', body, 'k-1');
  const d = await produce(node.app, '/topics/orders/partitions/1', body, 'k-2');
  const offsets = [a, b, c, d].map((r) => r.body.offsets[0].offset);
  assert.equal(new Set(offsets).size, 4);
  const e = await produce(node.app, '/topics/orders/partitions/1', body, 'k-1');
  assert.equal(e.body.offsets[0].offset, offsets[2]);
});

test('a key reused with a different body answers 422 and writes nothing', async () => {
  await produce(node.app, '/topics/orders/partitions/0', { records: [{ key: 'a', value: 1 }] }, 'reuse');
  const before = endOffsets(node.broker, 'orders');
  const bodies = [
    { records: [{ key: 'a', value: 2 }] },
    {
      records: [
        { key: 'a', value: 1 },
        { key: 'a', value: 1 },
      ],
    },
    { records: [{ key: 'b', value: 1 }] },
    { records: [{ key: 'a', value: 1, headers: [{ key: 'x', value: 'y' }] }] },
  ];
  for (const body of bodies) {
    const res = await produce(node.app, '/topics/orders/partitions/0', body, 'reuse');
    assert.equal(res.status, 422, JSON.stringify(body));
    assert.match(res.body.message, /Idempotency-Key was already used/);
  }
  const other = await produce(node.app, '/topics/orders/partitions/1', { records: [{ key: 'a', value: 1 }] }, 'reuse');
  assert.equal(other.status, 422);
  assert.deepEqual(endOffsets(node.broker, 'orders'), before);
});

test('keys are per topic: the same key on another topic is a new request', async () => {
  const body = { records: [{ value: 'x' }] };
  const one = await produce(node.app, '/topics/orders/partitions/0', body, 'shared-key');
  const two = await produce(node.app, '/topics/invoices', body, 'shared-key');
  assert.equal(two.status, 200);
  assert.equal(two.body.offsets[0].offset, 0);
  assert.notEqual(one.body.offsets[0].offset, undefined);
});

test('v3 records: a retried single record answers the same report; a stream uses one key per object', async () => {
  const url = `/v3/clusters/${node.broker.clusterId}/topics/orders/records`;
  const one = JSON.stringify({ partition_id: 2, value: { type: 'STRING', data: 'v3' } });
  const post = (body: string) =>
    request(node.app)
      .post(url)
      .set('content-type', 'application/json')
      .set('Idempotency-Key', 'v3-key')
      .buffer(true)
      .parse((res, cb) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => cb(null, text));
      })
      .send(body);
  const first = await post(one);
  const again = await post(one);
  assert.equal(first.status, 200);
  assert.equal(again.body, first.body);
  const stream = `${one}\n${JSON.stringify({ partition_id: 2, value: { type: 'STRING', data: 'v3-second' } })}`;
  const before = endOffsets(node.broker, 'orders');
  const streamed = await post(stream);
  const lines = (streamed.body as string).trim().split('\r\n');
  assert.equal(lines[0], (first.body as string).trim(), 'object 0 carries the key as sent');
  assert.deepEqual(endOffsets(node.broker, 'orders'), [before[0], before[1], (before[2] as number) + 1]);
  const restreamed = await post(stream);
  assert.equal(restreamed.body, streamed.body);
});

test('the Idempotency-Key header is validated by the spec', async () => {
  const res = await produce(node.app, '/topics/orders', { records: [{ value: 1 }] }, 'k'.repeat(256));
  assert.equal(res.status, 422);
  assert.match(res.body.message, /Idempotency-Key/);
});

/** A node on `dataDir` behind the real app. */
async function open(dataDir: string, brokerConfigs: Record<string, string> = {}) {
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs });
  await node.start();
  return { broker: node.broker, app: createApp({ node }), shutdown: () => node.shutdown() };
}

test('keys survive a restart: the log carries them', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idem-'));
  try {
    let n = await open(dataDir, { 'num.partitions': '3' });
    const first = await produce(n.app, '/topics/restart', MIXED, 'before-restart');
    assert.equal(first.status, 200, first.text);
    // Enough later traffic that the batch is not the last one in the log.
    for (let i = 0; i < 20; i++) await produce(n.app, '/topics/restart', { records: [{ value: i }] });
    const written = endOffsets(n.broker, 'restart');
    await n.shutdown();

    n = await open(dataDir, { 'num.partitions': '3' });
    const again = await produce(n.app, '/topics/restart', MIXED, 'before-restart');
    assert.deepEqual(again.body, first.body);
    assert.deepEqual(endOffsets(n.broker, 'restart'), written);
    const changed = await produce(n.app, '/topics/restart', { records: [{ value: 'other' }] }, 'before-restart');
    assert.equal(changed.status, 422);
    await n.shutdown();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('memory is bounded: idempotency.max.keys per partition, then idempotency.ttl.ms', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idem-'));
  try {
    const n = await open(dataDir, { 'idempotency.max.keys': '2', 'idempotency.ttl.ms': '300' });
    const body = { records: [{ value: 'bounded' }] };
    const offsetOf = async (key: string) =>
      (await produce(n.app, '/topics/bounded', body, key)).body.offsets[0].offset as number;
    const k1 = await offsetOf('k1');
    const k2 = await offsetOf('k2');
    assert.equal(await offsetOf('k2'), k2);
    await offsetOf('k3'); // pushes k1, the oldest, out
    assert.equal(await offsetOf('k3'), k2 + 1);
    assert.notEqual(await offsetOf('k1'), k1, 'k1 was forgotten and written again');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.notEqual(await offsetOf('k3'), k2 + 1, 'k3 expired');
    await n.shutdown();
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
