/**
 * `npm run bench -- sse`: Server-Sent Events delivery.
 *
 * (a) Latency: one idle stream; a single-record produce (acks=1) at a time, timed from the
 *     request to the event's arrival at the reader (p50/p99), beside the produce answer alone and
 *     a bare HTTP round trip (the same client against a tiny node http server) in the same run.
 * (b) Fan-out: 1, 10 and 100 concurrent raw-http readers of one topic while a producer writes
 *     100-byte records as fast as it can: events/s delivered in total, the ratio to one reader,
 *     and the produce rate alone (no readers) as the baseline.
 *
 * The servers run in child processes (this file, re-run with `--serve samsa|bare`), so readers and
 * producer never share their event loop. Environment: BENCH_SECONDS (per fan-out case, default 3),
 * BENCH_LATENCY_SAMPLES (default 300).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { announce, type ChildServer, post, startChild, stopChild } from './child-server.js';

const VALUE_BYTES = 100;
const RECORDS_PER_REQUEST = 100;
const PRODUCER_CONNECTIONS = 4;
const READER_COUNTS: readonly number[] = process.env.BENCH_SSE_READERS
  ? process.env.BENCH_SSE_READERS.split(',').map(Number)
  : [1, 10, 100];
const CASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 300);
const LATENCY_WARMUP = 50;
/** Longest wait for readers to catch up after a case, before calling them incomplete. */
const CATCH_UP_TIMEOUT_MS = 60_000;
const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const TOPICS = ['latency', 'produce-only', ...READER_COUNTS.map((n) => `fan-${n}`)];

// ---- the servers (child side) ----

async function serve(kind: string): Promise<void> {
  let server: http.Server;
  if (kind === 'samsa') {
    const { SamsaNode } = await import('../src/samsa-node.js');
    const { createApp } = await import('../src/http/app.js');
    const { DEFAULT_SSE_LIMITS, SseHub } = await import('../src/http/sse-stream.js');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-sse-'));
    const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
    await node.start();
    for (const topic of TOPICS) await node.broker.createTopic(topic, { partitions: 1 });
    // Every reader comes from 127.0.0.1: lift the per-client limit above the largest case.
    const sseHub = new SseHub({ ...DEFAULT_SSE_LIMITS, maxStreamsPerClient: 1000 });
    server = http.createServer(createApp({ node, sseHub }));
    process.on('SIGTERM', () => {
      sseHub.closeAll();
      server.closeAllConnections();
      server.close();
      void node.shutdown().then(() => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
    });
  } else {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'Content-Type': 'application/vnd.kafka.v2+json' });
        res.end('{"offsets":[{"partition":0,"offset":0,"error_code":null,"error":null}]}');
      });
    });
    process.on('SIGTERM', () => {
      server.close();
      process.exit(0);
    });
  }
  announce(server);
}

// ---- the clients (parent side) ----

function startServer(kind: 'samsa' | 'bare'): Promise<ChildServer> {
  return startChild(fileURLToPath(import.meta.url), [kind]);
}

/** JSON values (stored as 100 bytes of JSON text), so streams render them in the default json format. */
function produceBody(count: number): Buffer {
  const value = 'v'.repeat(VALUE_BYTES - 2);
  return Buffer.from(JSON.stringify({ records: Array.from({ length: count }, () => ({ value })) }));
}

const RECORD_MARK = Buffer.from('event: record\n');

/** A raw SSE reader that only counts record events (Buffer.indexOf, across chunk boundaries). */
class CountingReader {
  events = 0;
  private carry: Buffer = Buffer.alloc(0);
  private req: http.ClientRequest | null = null;
  private onEvent: (() => void) | null = null;

  open(port: number, topic: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = http.get(
        {
          host: '127.0.0.1',
          port,
          path: `/topics/${topic}/stream`,
          agent: false,
          headers: { Accept: 'text/event-stream' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`stream answered ${res.statusCode}`));
            return;
          }
          res.on('data', (chunk: Buffer) => this.count(chunk));
          resolve();
        },
      );
      this.req.on('error', reject);
    });
  }

  private count(chunk: Buffer): void {
    const data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let n = 0;
    let at = data.indexOf(RECORD_MARK);
    let end = 0;
    while (at !== -1) {
      n++;
      end = at + RECORD_MARK.length;
      at = data.indexOf(RECORD_MARK, end);
    }
    // Keep a possible partial mark for the next chunk.
    this.carry = data.subarray(Math.max(end, data.length - (RECORD_MARK.length - 1)));
    if (n > 0) {
      this.events += n;
      this.onEvent?.();
    }
  }

  /** Resolves at the next record event. */
  nextEvent(): Promise<void> {
    return new Promise((resolve) => {
      this.onEvent = () => {
        this.onEvent = null;
        resolve();
      };
    });
  }

  close(): void {
    this.req?.destroy();
  }
}

function percentiles(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function latency(samsa: ChildServer, bare: ChildServer): Promise<void> {
  const body = produceBody(1);
  const reader = new CountingReader();
  await reader.open(samsa.port, 'latency');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const delivered: number[] = [];
  const acked: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    await sleep(2); // the stream is idle (waiting) when the record comes
    const arrived = reader.nextEvent();
    const t0 = process.hrtime.bigint();
    await post(agent, samsa.port, '/topics/latency?acks=1', JSON_V2, body);
    const ackMs = msSince(t0);
    await arrived;
    if (i >= LATENCY_WARMUP) {
      acked.push(ackMs);
      delivered.push(msSince(t0));
    }
  }
  reader.close();
  agent.destroy();

  const bareAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const roundTrips: number[] = [];
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_SAMPLES; i++) {
    await sleep(2);
    const t0 = process.hrtime.bigint();
    await post(bareAgent, bare.port, '/topics/latency', JSON_V2, body);
    if (i >= LATENCY_WARMUP) roundTrips.push(msSince(t0));
  }
  bareAgent.destroy();

  const rows: [string, { p50: number; p99: number }][] = [
    ['produce (acks=1) → event received', percentiles(delivered)],
    ['produce (acks=1) → answer', percentiles(acked)],
    ['bare HTTP round trip (baseline)', percentiles(roundTrips)],
  ];
  console.log(`\n(a) latency, one idle stream, ${LATENCY_SAMPLES} single-record produces`);
  console.log(['case'.padEnd(36), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8)].join(' '));
  for (const [name, p] of rows)
    console.log([name.padEnd(36), p.p50.toFixed(2).padStart(8), p.p99.toFixed(2).padStart(8)].join(' '));
  const e2e = rows[0]?.[1];
  const base = rows[2]?.[1];
  if (e2e && base) {
    console.log(
      `delivery p50 is ${(e2e.p50 / base.p50).toFixed(1)}x a bare round trip; ` +
        `the 50 ms goal is ${e2e.p99 <= 50 ? 'met' : 'NOT met'} at p99 (${e2e.p99.toFixed(2)} ms)`,
    );
  }
}

/** Produces flat out on PRODUCER_CONNECTIONS connections until `until`; answers records written. */
async function produceUntil(port: number, topic: string, until: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PRODUCER_CONNECTIONS });
  const body = produceBody(RECORDS_PER_REQUEST);
  let records = 0;
  await Promise.all(
    Array.from({ length: PRODUCER_CONNECTIONS }, async () => {
      while (Date.now() < until) {
        await post(agent, port, `/topics/${topic}?acks=1`, JSON_V2, body);
        records += RECORDS_PER_REQUEST;
      }
    }),
  );
  agent.destroy();
  return records;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function fanOut(samsa: ChildServer): Promise<void> {
  console.log(
    `\n(b) fan-out: ${VALUE_BYTES}-byte records, ${RECORDS_PER_REQUEST} per request, ${PRODUCER_CONNECTIONS} producer connections, ${CASE_SECONDS} s per case`,
  );
  const t0 = process.hrtime.bigint();
  const alone = await produceUntil(samsa.port, 'produce-only', Date.now() + CASE_SECONDS * 1000);
  const produceAlone = alone / (msSince(t0) / 1000);
  console.log(`produce rate alone (baseline): ${fmt(produceAlone)} records/s`);
  console.log(
    ['readers', 'produced rec/s', 'delivered ev/s', 'vs 1 reader', 'caught up after', 'complete']
      .map((h) => h.padStart(16))
      .join(''),
  );
  let single = 0;
  for (const n of READER_COUNTS) {
    const topic = `fan-${n}`;
    const readers = Array.from({ length: n }, () => new CountingReader());
    await Promise.all(readers.map((r) => r.open(samsa.port, topic)));
    await sleep(200); // every stream is past its first poll and waiting
    const total = () => readers.reduce((sum, r) => sum + r.events, 0);
    const start = process.hrtime.bigint();
    const before = total();
    const produced = await produceUntil(samsa.port, topic, Date.now() + CASE_SECONDS * 1000);
    const seconds = msSince(start) / 1000;
    const deliveredPerSecond = (total() - before) / seconds;
    // Then wait for the readers to get everything, to say how far behind they were.
    const caughtUpAt = process.hrtime.bigint();
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (total() < produced * n && Date.now() < deadline) await sleep(10);
    const lagMs = msSince(caughtUpAt);
    const complete = total() === produced * n;
    for (const r of readers) r.close();
    if (n === 1) single = deliveredPerSecond;
    console.log(
      [
        String(n),
        fmt(produced / seconds),
        fmt(deliveredPerSecond),
        `${(deliveredPerSecond / single).toFixed(1)}x`,
        `${fmt(lagMs)} ms`,
        complete ? 'yes' : `NO (${total()}/${produced * n})`,
      ]
        .map((c) => c.padStart(16))
        .join(''),
    );
  }
  console.log('goal: at least 500,000 events/s delivered in total to 100 streams');
}

export async function runSseBench(): Promise<void> {
  console.log(`sse bench: ${os.cpus().length} CPUs, node ${process.version}`);
  const samsa = await startServer('samsa');
  const bare = await startServer('bare');
  try {
    await latency(samsa, bare);
    await fanOut(samsa);
  } finally {
    await stopChild(samsa);
    await stopChild(bare);
  }
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt !== -1) await serve(process.argv[serveAt + 1] ?? '');
