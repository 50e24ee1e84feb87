import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startServer } from './server-process.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';

async function produce(baseUrl: string, body: unknown, key?: string): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = { 'content-type': JSON_V2 };
  if (key !== undefined) headers['idempotency-key'] = key;
  const res = await fetch(`${baseUrl}/topics/crash`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function endOffset(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/topics/crash/partitions/0/offsets`);
  return ((await res.json()) as { end_offset: number }).end_offset;
}

test('an Idempotency-Key acknowledged before kill -9 still answers the original offsets after restart', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idem-crash-'));
  try {
    let server = await startServer(dataDir);
    const body = { records: [{ key: 'a', value: { n: 1 } }, { value: 'two' }] };
    const first = await produce(server.baseUrl, body, 'crash-key');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    for (let i = 0; i < 10; i++) await produce(server.baseUrl, { records: [{ value: i }] }, `other-${i}`);
    const written = await endOffset(server.baseUrl);
    server.child.kill('SIGKILL');
    assert.equal(await server.exited, 'SIGKILL');

    server = await startServer(dataDir);
    try {
      const again = await produce(server.baseUrl, body, 'crash-key');
      assert.equal(again.status, 200);
      assert.deepEqual(again.body, first.body);
      const other = await produce(server.baseUrl, { records: [{ value: 3 }] }, 'other-3');
      assert.equal(other.status, 200);
      assert.equal(await endOffset(server.baseUrl), written, 'nothing was written twice');
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
