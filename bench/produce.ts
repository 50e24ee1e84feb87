/**
 * `npm run bench -- produce`: v2 produce throughput (records/s, MB/s of values) for the json and
 * binary formats, 1 / 100 / 1000 records per request, acks=1 and acks=all, 8 keep-alive connections;
 * and single-record latency (p50/p99, one connection). Every figure sits beside the same load against
 * a bare express endpoint (express.raw + JSON.parse of the same body + a same-sized JSON answer), so
 * the ratio says what Samsa costs over the HTTP stack it is built on.
 *
 * Both servers run in child processes (this file, re-run with `--serve samsa|bare`), so the load
 * generator never shares their event loop; they are started the same way and loaded one at a time.
 * Each case starts both servers, then alternates runs against them over BENCH_PRODUCE_ROUNDS rounds
 * (default 3) and reports each one's median: on this VM one run of either swings by a third (more
 * for bare express), and the median of alternating runs is steadier than any single pair. Beside
 * the rates, each server's own CPU time per record (asked of the child over IPC before and after
 * the measured window): what the rate would follow on cores of its own, and far steadier here.
 * Environment: BENCH_SECONDS (per run, default 2), BENCH_PRODUCE_CASES (only the cases whose name
 * contains one of these comma-separated texts, e.g. `json 1000/req`), BENCH_VERBOSE (print every run).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { announce, type ChildServer, cpuMicros, post, startChild, stopChild } from './child-server.js';
import { printTable } from './markdown-table.js';

const CONNECTIONS = 8;
const VALUE_BYTES = 100;
const RECORDS_PER_REQUEST = [1, 100, 1000] as const;
const FORMATS = ['json', 'binary'] as const;
const ACKS = ['1', 'all'] as const;
const CASE_SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
/** Warm-up per case, not measured: long enough for the JIT to settle on a fresh server. */
const WARM_UP_MS = 1000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_PRODUCE_ROUNDS ?? 3));
const VERBOSE = process.env.BENCH_VERBOSE !== undefined;
const CASE_FILTER = (process.env.BENCH_PRODUCE_CASES ?? '').split(',').filter((c) => c.length > 0);
const TOPIC = 'bench';

type Format = (typeof FORMATS)[number];
const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/vnd.kafka.json.v2+json',
  binary: 'application/vnd.kafka.binary.v2+json',
};

// ---- the servers (child side) ----

async function serve(kind: string): Promise<void> {
  let server: http.Server;
  if (kind === 'samsa') {
    const { SamsaNode } = await import('../src/samsa-node.js');
    const { createApp } = await import('../src/http/app.js');
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
    const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
    await node.start();
    const { broker } = node;
    await broker.createTopic(TOPIC, { partitions: 1 });
    server = http.createServer(createApp({ node }));
    const stop = async () => {
      server.close();
      await node.shutdown();
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop());
  } else {
    const { default: express } = await import('express');
    const app = express();
    // What Samsa's edge does before its handler, minus the spec: read the bytes, parse the JSON.
    app.post('/topics/:topic', express.raw({ type: () => true, limit: 16 * 1024 * 1024 }), (req, res) => {
      const body = JSON.parse((req.body as Buffer).toString('utf8')) as { records: unknown[] };
      const offsets = body.records.map((_, i) => ({ partition: 0, offset: i, error_code: null, error: null }));
      res
        .status(200)
        .type('application/vnd.kafka.v2+json')
        .send(JSON.stringify({ offsets, key_schema_id: null, value_schema_id: null }));
    });
    server = http.createServer(app);
    process.on('SIGTERM', () => {
      server.close();
      process.exit(0);
    });
  }
  announce(server);
}

// ---- the load generator (parent side) ----

function startServer(kind: 'samsa' | 'bare'): Promise<ChildServer> {
  return startChild(fileURLToPath(import.meta.url), [kind]);
}

function requestBody(format: Format, count: number): Buffer {
  const records = Array.from({ length: count }, () =>
    format === 'json'
      ? { value: 'x'.repeat(VALUE_BYTES - 2) } // stored as its JSON text: 100 bytes with the quotes
      : { value: randomBytes(VALUE_BYTES).toString('base64') },
  );
  return Buffer.from(JSON.stringify({ records }));
}

interface Throughput {
  recordsPerSecond: number;
  /** The server's own CPU time (user + system) per record over the measured window. */
  cpuMicrosPerRecord: number;
}

async function throughput(server: ChildServer, format: Format, count: number, acks: string): Promise<Throughput> {
  const port = server.port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const body = requestBody(format, count);
  const urlPath = `/topics/${TOPIC}?acks=${acks}`;
  // Warm up (JIT, connections), then measure.
  const warmUntil = Date.now() + WARM_UP_MS;
  const run = async (until: number) => {
    let requests = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          await post(agent, port, urlPath, CONTENT_TYPES[format], body);
          requests++;
        }
      }),
    );
    return requests;
  };
  await run(warmUntil);
  const cpuBefore = await cpuMicros(server);
  const started = process.hrtime.bigint();
  const requests = await run(Date.now() + CASE_SECONDS * 1000);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuUsed = (await cpuMicros(server)) - cpuBefore;
  agent.destroy();
  const recordsPerSecond = (requests * count) / seconds;
  return { recordsPerSecond, cpuMicrosPerRecord: cpuUsed / (requests * count) };
}

/** The median of `values` (the upper middle one for an even count). */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function latency(port: number): Promise<{ p50: number; p99: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const body = requestBody('binary', 1);
  const urlPath = `/topics/${TOPIC}?acks=all`;
  const samples: number[] = [];
  const until = Date.now() + CASE_SECONDS * 1000;
  for (let i = 0; Date.now() < until; i++) {
    const t0 = process.hrtime.bigint();
    await post(agent, port, urlPath, CONTENT_TYPES.binary, body);
    if (i >= 200) samples.push(Number(process.hrtime.bigint() - t0) / 1e6); // skip warm-up
  }
  agent.destroy();
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

export async function runProduceBench(): Promise<void> {
  console.log(
    `produce bench: ${CONNECTIONS} keep-alive connections, ${VALUE_BYTES}-byte values, ${CASE_SECONDS} s per run, median of ${ROUNDS} alternating runs (samsa, bare), ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const header = [
    'case',
    'samsa rec/s',
    'samsa MB/s',
    'bare rec/s',
    'bare MB/s',
    'ratio',
    'samsa CPU µs/rec',
    'bare CPU µs/rec',
    'CPU ratio',
  ];
  const rows: string[][] = [];
  for (const format of FORMATS) {
    for (const count of RECORDS_PER_REQUEST) {
      for (const acks of ACKS) {
        const name = `${format} ${count}/req acks=${acks}`;
        if (CASE_FILTER.length > 0 && !CASE_FILTER.some((c) => name.includes(c))) continue;
        const samsa = await startServer('samsa');
        const bare = await startServer('bare');
        const samsaRuns: Throughput[] = [];
        const bareRuns: Throughput[] = [];
        try {
          for (let round = 0; round < ROUNDS; round++) {
            const mine = await throughput(samsa, format, count, acks);
            const base = await throughput(bare, format, count, acks);
            samsaRuns.push(mine);
            bareRuns.push(base);
            if (VERBOSE) {
              console.log(
                `${name} round ${round}: samsa ${fmt(mine.recordsPerSecond)} rec/s, ${fmt(mine.cpuMicrosPerRecord, 2)} CPU µs/rec; bare ${fmt(base.recordsPerSecond)} rec/s, ${fmt(base.cpuMicrosPerRecord, 2)} CPU µs/rec`,
              );
            }
          }
        } finally {
          await stopChild(samsa);
          await stopChild(bare);
        }
        const mineRate = median(samsaRuns.map((r) => r.recordsPerSecond));
        const baseRate = median(bareRuns.map((r) => r.recordsPerSecond));
        const mineCpu = median(samsaRuns.map((r) => r.cpuMicrosPerRecord));
        const baseCpu = median(bareRuns.map((r) => r.cpuMicrosPerRecord));
        rows.push([
          name,
          fmt(mineRate),
          fmt((mineRate * VALUE_BYTES) / 1e6, 1),
          fmt(baseRate),
          fmt((baseRate * VALUE_BYTES) / 1e6, 1),
          `${fmt((100 * mineRate) / baseRate)}%`,
          fmt(mineCpu, 2),
          fmt(baseCpu, 2),
          `${fmt((100 * baseCpu) / mineCpu)}%`,
        ]);
        console.log(rows.at(-1)?.join('  |  '));
      }
    }
  }
  const samsa = await startServer('samsa');
  const mine = await latency(samsa.port);
  await stopChild(samsa);
  const bare = await startServer('bare');
  const base = await latency(bare.port);
  await stopChild(bare);
  console.log();
  printTable(header, rows);
  console.log();
  printTable(
    ['single-record latency (binary, acks=all, 1 connection)', 'samsa ms', 'bare ms', 'ratio'],
    [
      ['p50', fmt(mine.p50, 3), fmt(base.p50, 3), `${fmt(mine.p50 / base.p50, 2)}x`],
      ['p99', fmt(mine.p99, 3), fmt(base.p99, 3), `${fmt(mine.p99 / base.p99, 2)}x`],
    ],
  );
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) await serve(process.argv[serveAt + 1] ?? 'bare');
else if (process.argv[1] === fileURLToPath(import.meta.url)) await runProduceBench();
