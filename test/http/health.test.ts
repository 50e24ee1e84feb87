import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { openNode } from './node-fixture.js';

test('/healthz answers 200 while the broker is still recovering', async () => {
  const node = await openNode({ start: false });
  try {
    const res = await request(node.app).get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  } finally {
    await node.close();
  }
});

test('/readyz is 503 with the error body until start() completes, then 200', async () => {
  const node = await openNode({ start: false });
  try {
    const before = await request(node.app).get('/readyz');
    assert.equal(before.status, 503);
    assert.match(before.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(typeof before.body.error_code, 'number');
    assert.equal(typeof before.body.message, 'string');

    await node.broker.start();
    const after = await request(node.app).get('/readyz');
    assert.equal(after.status, 200);
    assert.deepEqual(after.body, { status: 'ready' });
  } finally {
    await node.close();
  }
});

test('produce answers 503 while the broker is recovering', async () => {
  const node = await openNode({ start: false });
  try {
    const res = await request(node.app)
      .post('/topics/early')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ records: [{ value: 1 }] }));
    assert.equal(res.status, 503);
    assert.equal(res.body.error_code, 50302);
  } finally {
    await node.close();
  }
});

test('responses do not advertise express', async () => {
  const node = await openNode();
  try {
    const res = await request(node.app).get('/healthz');
    assert.equal(res.headers['x-powered-by'], undefined);
  } finally {
    await node.close();
  }
});

test('/readyz says why it is not ready: recovering_logs while logs recover', async () => {
  const node = await openNode({ start: false });
  try {
    const res = await request(node.app).get('/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.reasons, ['recovering_logs']);
    assert.equal(res.body.error_code, 50302);
    assert.match(res.body.message, /recovering its logs/);
    // Requests refused before readiness carry the same reasons.
    const produce = await request(node.app)
      .post('/topics/early')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ records: [{ value: 1 }] }));
    assert.deepEqual(produce.body.reasons, ['recovering_logs']);
  } finally {
    await node.close();
  }
});

test('/readyz fails with disk_full below --min-free-disk-bytes while /healthz stays 200', async () => {
  const node = await openNode();
  try {
    const app = createApp({ node: node.samsa, minFreeDiskBytes: Number.MAX_SAFE_INTEGER });
    const ready = await request(app).get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.reasons, ['disk_full']);
    assert.match(ready.body.message, /\d+ bytes free, below the minimum of 9007199254740991/);
    assert.equal((await request(app).get('/healthz')).status, 200);

    const roomy = createApp({ node: node.samsa, minFreeDiskBytes: 1 });
    assert.equal((await request(roomy).get('/readyz')).status, 200);
  } finally {
    await node.close();
  }
});

test('once shutdown has begun both probes answer 503 with shutting_down', async () => {
  const node = await openNode();
  try {
    await node.broker.shutdown();
    const live = await request(node.app).get('/healthz');
    assert.equal(live.status, 503);
    assert.deepEqual(live.body.reasons, ['shutting_down']);
    const ready = await request(node.app).get('/readyz');
    assert.equal(ready.status, 503);
    assert.deepEqual(ready.body.reasons, ['shutting_down']);
  } finally {
    await node.close();
  }
});
