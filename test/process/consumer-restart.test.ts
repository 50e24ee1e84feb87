/**
 * Committed offsets live in `__consumer_offsets`: after the real server process stops and starts
 * again on the same data directory, a new consumer instance of the group resumes exactly at the
 * committed offset, neither re-reading what was committed nor skipping what was not.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type ServerProcess, startServer } from './server-process.js';

const V2 = 'application/vnd.kafka.v2+json';
const JSON_V2 = 'application/vnd.kafka.json.v2+json';

async function call(server: ServerProcess, method: string, url: string, body?: unknown, accept?: string) {
  const res = await fetch(`${server.baseUrl}${url}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': V2 }), ...(accept ? { accept } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function readValues(server: ServerProcess, base: string, count: number): Promise<number[]> {
  const values: number[] = [];
  const deadline = Date.now() + 10_000;
  while (values.length < count && Date.now() < deadline) {
    const res = await call(server, 'GET', `${base}/records?timeout=200`, undefined, JSON_V2);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    values.push(...(res.body as { value: number }[]).map((r) => r.value));
  }
  return values;
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
}

test('committed offsets survive a restart of the server; a new instance resumes from them', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-consumer-restart-'));
  let server = await startServer(dataDir);
  try {
    const produced = await fetch(`${server.baseUrl}/topics/orders`, {
      method: 'POST',
      headers: { 'content-type': JSON_V2 },
      body: JSON.stringify({ records: Array.from({ length: 10 }, (_, i) => ({ value: i })) }),
    });
    assert.equal(produced.status, 200);
    const settings = { format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' };
    assert.equal((await call(server, 'POST', '/consumers/billing', { ...settings, name: 'c1' })).status, 200);
    const base = '/consumers/billing/instances/c1';
    assert.equal((await call(server, 'POST', `${base}/subscription`, { topics: ['orders'] })).status, 204);
    assert.deepEqual(await readValues(server, base, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Processed up to offset 5 only.
    const commit = await call(server, 'POST', `${base}/offsets`, {
      offsets: [{ topic: 'orders', partition: 0, offset: 5 }],
    });
    assert.equal(commit.status, 200);
    await stop(server);

    server = await startServer(dataDir);
    // Instances live in memory: the old one is gone.
    assert.equal((await call(server, 'GET', `${base}/subscription`)).status, 404);
    assert.equal((await call(server, 'POST', '/consumers/billing', { ...settings, name: 'c2' })).status, 200);
    const base2 = '/consumers/billing/instances/c2';
    assert.equal((await call(server, 'POST', `${base2}/subscription`, { topics: ['orders'] })).status, 204);
    assert.deepEqual(await readValues(server, base2, 4), [6, 7, 8, 9]);
    const clusters = await call(server, 'GET', '/v3/clusters');
    const clusterId = clusters.body.data[0].cluster_id as string;
    const lags = await call(server, 'GET', `/v3/clusters/${clusterId}/consumer-groups/billing/lags`);
    assert.deepEqual(
      lags.body.data.map((l: { current_offset: number; lag: number }) => [l.current_offset, l.lag]),
      [[6, 4]],
    );
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
