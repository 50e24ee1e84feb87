/**
 * What the Kafka client tests share: the clients found on the machine (kcat, kafka-python), running
 * them, a raw connection speaking the protocol through Samsa's own codec, and readers of the same
 * records over HTTP (a v2 consumer instance, an SSE stream).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

const CLIENT_TIMEOUT_MS = 30_000;
export const V2 = 'application/vnd.kafka.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

function kcatBinary(): string | null {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0 ? 'kcat' : null;
}

/** Debian's python3-kafka lives in the system interpreter, which may not be the first python3 on PATH. */
function pythonWithKafka(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import kafka'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

/** kcat (librdkafka 2.0.2 on Debian), or null when missing. */
export const KCAT = kcatBinary();
export const PYTHON = pythonWithKafka();

/** Skips a test when a client is missing, except under CI, where a missing client is a failure. */
export function need(t: TestContext, tool: string | null, name: string): tool is string {
  if (tool !== null) return true;
  const message = `${name} is not installed (Debian: apt-get install kcat python3-kafka; .ci/run installs both)`;
  if (process.env.CI === 'true') assert.fail(message);
  t.skip(message);
  return false;
}

export function run(command: string, args: string[], input?: string | Buffer): Buffer {
  const result = spawnSync(command, args, { input, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} exited ${result.status}\n${result.stdout?.toString()}\n${result.stderr?.toString()}`,
  );
  return result.stdout;
}

export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  headers?: string[];
  key: string | null;
  payload: string | null;
}

export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

export const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export interface HttpRecord {
  offset: number;
  key: string | null;
  value: string | null;
  headers: unknown[];
  /** Present when asked for (`{ timestamps: true }`). */
  timestamp?: number;
}

/**
 * Reads `count` records of one partition from `offset` with a v2 consumer instance (binary format);
 * with `timestamps`, each record keeps its timestamp.
 */
export async function readOverV2(
  baseUrl: string,
  topic: string,
  partition: number,
  offset: number,
  count: number,
  opts: { timestamps?: boolean } = {},
): Promise<HttpRecord[]> {
  const group = `g-${topic}`;
  const base = `${baseUrl}/consumers/${group}/instances/c`;
  const post = (url: string, body: unknown) =>
    fetch(url, { method: 'POST', headers: { 'Content-Type': V2 }, body: JSON.stringify(body) });
  const created = await post(`${baseUrl}/consumers/${group}`, {
    name: 'c',
    format: 'binary',
    'auto.commit.enable': 'false',
  });
  assert.equal(created.status, 200, await created.text());
  try {
    assert.equal((await post(`${base}/assignments`, { partitions: [{ topic, partition }] })).status, 204);
    assert.equal((await post(`${base}/positions`, { offsets: [{ topic, partition, offset }] })).status, 204);
    const records: Array<Required<HttpRecord>> = [];
    const deadline = Date.now() + 10_000;
    while (records.length < count && Date.now() < deadline) {
      const res = await fetch(`${base}/records?timeout=1000`, { headers: { Accept: BINARY_V2 } });
      assert.equal(res.status, 200);
      records.push(...((await res.json()) as typeof records));
    }
    return records.map(({ offset: o, key, value, headers, timestamp }) =>
      opts.timestamps ? { offset: o, key, value, headers, timestamp } : { offset: o, key, value, headers },
    );
  } finally {
    await fetch(base, { method: 'DELETE', headers: { 'Content-Type': V2 } });
  }
}

/** The first `count` record events of the topic's SSE stream from the beginning, values as base64. */
export async function readOverSse(
  baseUrl: string,
  topic: string,
  count: number,
  opts: { timestamps?: boolean } = {},
): Promise<HttpRecord[]> {
  const aborter = new AbortController();
  const res = await fetch(`${baseUrl}/topics/${topic}/stream?from=earliest&format=binary`, {
    signal: aborter.signal,
  });
  assert.equal(res.status, 200);
  const events: HttpRecord[] = [];
  let text = '';
  const decoder = new TextDecoder();
  const timer = setTimeout(() => aborter.abort(), 10_000);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      for (const line of text.split('\n').filter((l) => l.startsWith('data: '))) {
        const e = JSON.parse(line.slice('data: '.length)) as Required<HttpRecord>;
        if (events.some((x) => x.offset === e.offset)) continue;
        const { offset, key, value, headers, timestamp } = e;
        events.push(opts.timestamps ? { offset, key, value, headers, timestamp } : { offset, key, value, headers });
      }
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
    aborter.abort();
  }
  return events;
}

export { RawConnection } from './raw-connection.js';

/** A `samsa serve` with its Kafka listener on a free port, in a fresh data directory. */
export interface KafkaServer {
  dataDir: string;
  server: ServerProcess;
  /** `127.0.0.1:<kafka port>`, the bootstrap address. */
  broker: string;
  clusterId: string;
  /** SIGTERM; the server must exit 0 (its stderr shown when not); the data directory goes. */
  stop(): Promise<void>;
}

export async function startKafkaServer(name: string): Promise<KafkaServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `samsa-${name}-`));
  const server = await startServer(dataDir, ['--kafka-port', String(await freePort())]);
  assert.ok(server.kafkaPort, 'the server logs its Kafka port');
  const clusters = (await (await fetch(`${server.baseUrl}/v3/clusters`)).json()) as {
    data: Array<{ cluster_id: string }>;
  };
  return {
    dataDir,
    server,
    broker: `127.0.0.1:${server.kafkaPort}`,
    clusterId: clusters.data[0]?.cluster_id as string,
    stop: async () => {
      server.child.kill('SIGTERM');
      assert.equal(await server.exited, 0, server.stderr());
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
