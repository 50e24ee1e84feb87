/**
 * `npm run bench -- consume`: records/s through the v2 consumer API (`GET .../records`, binary
 * format, 100-byte values, a large `max_bytes`) for one instance reading every partition and for
 * four instances of one group sharing them; beside raw engine reads of the same records
 * (`PartitionLog.read` + `decodeRecordBatch`, no HTTP, no JSON) in the same run, as a ratio.
 *
 * The server runs in a child process (this file, re-run with `--serve`), so the client's JSON
 * parsing never shares its event loop. Environment: BENCH_RECORDS (default 400000), BENCH_SERVER_ARGS.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { announce, type ChildServer, startChild, stopChild } from './child-server.js';
import { printTable } from './markdown-table.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000);
const PARTITIONS = 4;
const VALUE_BYTES = 100;
const RECORDS_PER_APPEND = 1000;
const MAX_BYTES = 8 * 1024 * 1024;
const TOPIC = 'bench';
const V2 = 'application/vnd.kafka.v2+json';
const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

/** A node with `RECORDS` records spread evenly over the topic's partitions. */
async function openLoadedNode(dataDir: string) {
  const { SamsaNode } = await import('../src/samsa-node.js');
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await node.start();
  await node.broker.createTopic(TOPIC, { partitions: PARTITIONS });
  const value = randomBytes(VALUE_BYTES);
  for (let n = 0; n < RECORDS; n += RECORDS_PER_APPEND) {
    const count = Math.min(RECORDS_PER_APPEND, RECORDS - n);
    const records = Array.from({ length: count }, (_, i) => ({
      key: null,
      value,
      partition: (((n + i) / RECORDS_PER_APPEND) % PARTITIONS) | 0,
    }));
    await node.broker.produce(TOPIC, records, { acks: 1, timeoutMs: 10_000 });
  }
  return node;
}

// ---- the server (child side) ----

async function serve(): Promise<void> {
  const { createApp } = await import('../src/http/app.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-consume-'));
  const node = await openLoadedNode(dataDir);
  const server = http.createServer(createApp({ node }));
  process.on('SIGTERM', () => {
    server.close();
    void node.shutdown().then(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  announce(server);
}

// ---- the client (parent side) ----

function startServer(): Promise<ChildServer> {
  return startChild(fileURLToPath(import.meta.url), []);
}

function call(
  agent: http.Agent,
  port: number,
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method,
        agent,
        headers: {
          accept: BINARY_V2,
          ...(payload ? { 'content-type': V2, 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** `instances` members of a fresh group read until together they have every record; records/s. */
async function consume(port: number, group: string, instances: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: instances });
  const bases: string[] = [];
  for (let i = 0; i < instances; i++) {
    const name = `c${i}`;
    const created = await call(agent, port, 'POST', `/consumers/${group}`, {
      name,
      format: 'binary',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
    const base = `/consumers/${group}/instances/${name}`;
    const sub = await call(agent, port, 'POST', `${base}/subscription`, { topics: [TOPIC] });
    if (sub.status !== 204) throw new Error(`subscribe: ${sub.status} ${sub.text}`);
    bases.push(base);
  }
  let total = 0;
  const started = performance.now();
  await Promise.all(
    bases.map(async (base) => {
      while (total < RECORDS) {
        const res = await call(agent, port, 'GET', `${base}/records?timeout=200&max_bytes=${MAX_BYTES}`);
        if (res.status !== 200) throw new Error(`records: ${res.status} ${res.text.slice(0, 200)}`);
        total += (JSON.parse(res.text) as unknown[]).length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (total !== RECORDS) throw new Error(`read ${total} records, expected ${RECORDS}`);
  return RECORDS / seconds;
}

/** The engine alone: every partition read from offset 0 in 1 MiB fetches and decoded. */
async function rawEngineReads(): Promise<number> {
  const { decodeRecordBatch, forEachBatch } = await import('../src/storage/record-batch.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-raw-'));
  const node = await openLoadedNode(dataDir);
  try {
    let best = 0;
    for (let run = 0; run < 3; run++) {
      let count = 0;
      const started = performance.now();
      for (let p = 0; p < PARTITIONS; p++) {
        const log = node.broker.partition(TOPIC, p).log;
        let offset = 0;
        for (;;) {
          const { records } = log.read(offset, 1024 * 1024);
          if (records.length === 0) break;
          forEachBatch(records, (header, batch) => {
            for (const r of decodeRecordBatch(batch)) if (r.offset >= offset) count++;
            offset = header.lastOffset + 1;
          });
        }
      }
      if (count !== RECORDS) throw new Error(`raw read ${count} records, expected ${RECORDS}`);
      best = Math.max(best, RECORDS / ((performance.now() - started) / 1000));
    }
    return best;
  } finally {
    await node.shutdown();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

export async function runConsumeBench(): Promise<void> {
  console.log(
    `consume bench: ${fmt(RECORDS)} records of ${VALUE_BYTES} bytes in ${PARTITIONS} partitions, binary format, max_bytes=${MAX_BYTES}, ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const raw = await rawEngineReads();
  const server = await startServer();
  const rows: string[][] = [];
  try {
    for (const instances of [1, 4]) {
      // Best of three fresh groups: the first run also warms the JIT and the page cache.
      let best = 0;
      for (let run = 0; run < 3; run++)
        best = Math.max(best, await consume(server.port, `g${instances}-${run}`, instances));
      rows.push([
        `GET records, ${instances} instance${instances > 1 ? 's' : ''}`,
        fmt(best),
        fmt(raw),
        `${fmt((100 * best) / raw, 1)}%`,
      ]);
      console.log(rows.at(-1)?.join('  |  '));
    }
  } finally {
    await stopChild(server);
  }
  console.log();
  printTable(['case', 'records/s', 'raw engine reads records/s', 'ratio'], rows);
}

if (process.argv.includes('--serve')) await serve();
else if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsumeBench();
