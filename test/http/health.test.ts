import assert from 'node:assert/strict';
import { test } from 'node:test';
import request from 'supertest';
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
