/**
 * `samsa serve` as a real child process: it listens, answers probes, and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(fileURLToPath(import.meta.url), '../../..');
const STARTUP_TIMEOUT_MS = 20_000;

function samsa(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The Kafka listener is off unless a test turns it on: 9092 may be taken on a shared machine.
    env: { ...process.env, SAMSA_PORT: '', SAMSA_DATA_DIR: '', SAMSA_KAFKA_PORT: '0' },
  });
}

/** Binds port 0, reads the port the OS chose, and releases it for the child. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Reads the child's JSON lifecycle lines as they come; `waitFor` resolves with the first line of
 * that event, including one that arrived before the call (two events often share one chunk).
 */
function lifecycle(child: ChildProcess): { waitFor(event: string): Promise<Record<string, unknown>> } {
  const seen: Record<string, unknown>[] = [];
  const waiters: { event: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let newline = buffered.indexOf('\n'); newline !== -1; newline = buffered.indexOf('\n')) {
      const line = JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>;
      buffered = buffered.slice(newline + 1);
      seen.push(line);
      for (const waiter of waiters.filter((w) => w.event === line.event)) waiter.resolve(line);
    }
  });
  return {
    waitFor(event) {
      const already = seen.find((line) => line.event === event);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no '${event}' within ${STARTUP_TIMEOUT_MS} ms`)),
          STARTUP_TIMEOUT_MS,
        );
        waiters.push({
          event,
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`exited with ${code} before '${event}'`));
        });
      });
    },
  };
}

function collect(stream: NodeJS.ReadableStream | null | undefined): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return () => text;
}

test('serve answers /healthz, becomes ready, and exits 0 on SIGTERM', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
  const port = await freePort();
  const child = samsa(['serve', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dataDir]);
  const stderr = collect(child.stderr);
  const exited = exitOf(child);
  const events = lifecycle(child);
  try {
    const listening = await events.waitFor('listening');
    assert.equal(listening.port, port);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });

    await events.waitFor('ready');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 200);

    child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, stderr());
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('an unknown flag exits 2 with the usage text', async () => {
  const child = samsa(['serve', '--no-such-flag', '1']);
  const stderr = collect(child.stderr);
  const { code } = await exitOf(child);
  assert.equal(code, 2);
  assert.match(stderr(), /unknown flag '--no-such-flag'/);
  assert.match(stderr(), /Usage: samsa serve/);
});

test('--help prints the usage text and exits 0', async () => {
  const child = samsa(['serve', '--help']);
  const stdout = collect(child.stdout);
  const { code } = await exitOf(child);
  assert.equal(code, 0);
  assert.match(stdout(), /--log\.retention\.ms/);
});

test('the Kafka listener answers on --kafka-port and is closed at shutdown', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
  const port = await freePort();
  const kafkaPort = await freePort();
  const child = samsa([
    'serve',
    '--port',
    String(port),
    '--kafka-port',
    String(kafkaPort),
    '--host',
    '127.0.0.1',
    '--data-dir',
    dataDir,
  ]);
  const stderr = collect(child.stderr);
  const exited = exitOf(child);
  const events = lifecycle(child);
  try {
    const listening = await events.waitFor('kafka_listening');
    assert.equal(listening.port, kafkaPort);
    await events.waitFor('ready');
    // ApiVersions v0 (api key 18, correlation id 7, no client id): the answer starts with the id.
    const socket = net.connect(kafkaPort, '127.0.0.1');
    const request = Buffer.from([0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 7, 0xff, 0xff]);
    socket.write(request);
    const answer = await new Promise<Buffer>((resolve, reject) => {
      socket.once('data', resolve);
      socket.once('error', reject);
    });
    assert.equal(answer.readInt32BE(4), 7);
    assert.equal(answer.readInt16BE(8), 0);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    child.kill('SIGTERM');
    const { code } = await exited;
    assert.equal(code, 0, stderr());
    await closed;
    await new Promise<void>((resolve, reject) => {
      const probe = net.connect(kafkaPort, '127.0.0.1');
      probe.once('connect', () => reject(new Error('the Kafka port still accepts after shutdown')));
      probe.once('error', () => resolve());
    });
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a Kafka port already in use stops start-up with a message naming --kafka-port', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
  const holder = net.createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as net.AddressInfo).port;
  try {
    const child = samsa([
      'serve',
      '--port',
      '0',
      '--kafka-port',
      String(taken),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
    ]);
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    const { code } = await exitOf(child);
    assert.equal(code, 1);
    const output = stdout() + stderr();
    assert.match(output, /"event":"kafka_listen_failed"/);
    assert.match(output, new RegExp(`Kafka port ${taken} is already in use.*--kafka-port 0`));
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
