/**
 * `samsa serve` logs JSON lines (stdout is a pipe here, not a terminal): lifecycle events, one line per
 * request with the client's X-Request-Id, and `--log-level` decides what is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startServer } from './server-process.js';

test('serve writes JSON request lines with the request id, and --log-level debug adds probe lines', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
  const server = await startServer(dataDir, ['--log-level', 'debug']);
  try {
    const res = await fetch(`${server.baseUrl}/topics/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-from-client-1' },
      body: JSON.stringify({ records: [{ value: 'do-not-log-this-value' }] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-from-client-1');
    await res.arrayBuffer();

    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.stderr());
    const lines = server
      .stdout()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const events = lines.map((l) => l.event);
    for (const event of ['listening', 'ready', 'shutting_down', 'stopped']) assert.ok(events.includes(event), event);
    const produced = lines.find((l) => l.event === 'request' && l.reqId === 'req-from-client-1');
    assert.ok(produced, server.stdout());
    assert.equal(produced.level, 'info');
    assert.equal(produced.route, '/topics/{topic}');
    assert.equal(produced.status, 200);
    // startServer polls /readyz: logged at debug, which --log-level debug lets through.
    assert.ok(lines.some((l) => l.event === 'request' && l.route === '/readyz' && l.level === 'debug'));
    assert.ok(!server.stdout().includes('do-not-log-this-value'));
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
