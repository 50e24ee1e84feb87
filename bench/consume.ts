/**
 * `npm run bench -- consume`: records/s through the v2 consumer API (`GET .../records`, 100-byte
 * values, a large `max_bytes`), in the binary and the json format, for one instance reading every
 * partition and for four instances of one group sharing them.
 *
 * The baseline, measured in the same run, is a bare express endpoint that answers the same records
 * as a JSON array, in the same number of answers of the same size: the records are kept in memory
 * as the objects a v2 answer holds (base64 values for binary, parsed values for json) and each
 * answer is `res.json(slice)`, so the bare side pays for stringifying and sending, nothing else.
 * The engine's own reads (the broker's fetch + decode, no HTTP, no JSON) are the ceiling row.
 *
 * Both servers run in child processes (this file, re-run with `--serve samsa|bare`), so the
 * client's JSON parsing never shares their event loop. Environment: BENCH_RECORDS (default
 * 400000), BENCH_SERVER_ARGS.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { announce, startChild, stopChild } from './child-server.js';
import { printTable } from './markdown-table.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 400_000);
const PARTITIONS = 4;
const VALUE_BYTES = 100;
const RECORDS_PER_APPEND = 1000;
const MAX_BYTES = 8 * 1024 * 1024;
const V2 = 'application/vnd.kafka.v2+json';
type Format = 'binary' | 'json';
const FORMATS: Format[] = ['binary', 'json'];
const ACCEPT: Record<Format, string> = {
  binary: 'application/vnd.kafka.binary.v2+json',
  json: 'application/vnd.kafka.json.v2+json',
};
const topicOf = (format: Format) => `bench-${format}`;

/** Record `i`'s value: 100 random bytes, or a JSON object whose text is 100 bytes. */
function recordValue(format: Format, i: number, random: Buffer): Buffer {
  if (format === 'binary') return random;
  const text = JSON.stringify({ id: i, name: 'bench', tags: ['a', 'b'], pad: '' });
  return Buffer.from(
    JSON.stringify({ id: i, name: 'bench', tags: ['a', 'b'], pad: 'x'.repeat(VALUE_BYTES - text.length) }),
  );
}

const partitionOfRecord = (i: number) => ((i / RECORDS_PER_APPEND) % PARTITIONS) | 0;

/** A node with `RECORDS` records in each format's topic, spread evenly over its partitions. */
async function openLoadedNode(dataDir: string) {
  const { SamsaNode } = await import('../src/samsa-node.js');
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await node.start();
  const random = randomBytes(VALUE_BYTES);
  for (const format of FORMATS) {
    await node.broker.createTopic(topicOf(format), { partitions: PARTITIONS });
    for (let n = 0; n < RECORDS; n += RECORDS_PER_APPEND) {
      const count = Math.min(RECORDS_PER_APPEND, RECORDS - n);
      const records = Array.from({ length: count }, (_, i) => ({
        key: null,
        value: recordValue(format, n + i, random),
        partition: partitionOfRecord(n + i),
      }));
      await node.broker.produce(topicOf(format), records, { acks: 1, timeoutMs: 10_000 });
    }
  }
  return node;
}

// ---- the servers (child side) ----

async function serveSamsa(): Promise<void> {
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

/** The bare endpoint: `GET /records/<format>?from=N&count=C` answers records N..N+C-1 as a v2 answer would hold them. */
async function serveBare(): Promise<void> {
  const express = (await import('express')).default;
  const random = randomBytes(VALUE_BYTES);
  const timestamp = Date.now();
  const stored: Record<Format, unknown[]> = { binary: [], json: [] };
  for (const format of FORMATS) {
    const next = new Array<number>(PARTITIONS).fill(0);
    for (let i = 0; i < RECORDS; i++) {
      const partition = partitionOfRecord(i);
      const bytes = recordValue(format, i, random);
      const offset = next[partition] as number;
      next[partition] = offset + 1;
      stored[format].push({
        topic: topicOf(format),
        key: null,
        value: format === 'binary' ? bytes.toString('base64') : JSON.parse(bytes.toString('utf8')),
        partition,
        offset,
        timestamp,
        headers: [],
      });
    }
  }
  const app = express();
  app.get('/records/:format', (req, res) => {
    const from = Number(req.query.from);
    const count = Number(req.query.count);
    res.type(ACCEPT[req.params.format as Format]);
    res.json(stored[req.params.format as Format].slice(from, from + count));
  });
  const server = http.createServer(app);
  process.on('SIGTERM', () => {
    server.close();
    process.exit(0);
  });
  announce(server);
}

// ---- the client (parent side) ----

function call(
  agent: http.Agent,
  port: number,
  method: string,
  urlPath: string,
  accept: string,
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
        headers: { accept, ...(payload ? { 'content-type': V2, 'content-length': payload.length } : {}) },
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

interface Run {
  recordsPerSecond: number;
  answers: number;
}

/** `instances` members of a fresh group read until together they have every record. */
async function consumeSamsa(port: number, format: Format, group: string, instances: number): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: instances });
  const bases: string[] = [];
  for (let i = 0; i < instances; i++) {
    const name = `c${i}`;
    const created = await call(agent, port, 'POST', `/consumers/${group}`, V2, {
      name,
      format,
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    if (created.status !== 200) throw new Error(`create: ${created.status} ${created.text}`);
    const base = `/consumers/${group}/instances/${name}`;
    const sub = await call(agent, port, 'POST', `${base}/subscription`, V2, { topics: [topicOf(format)] });
    if (sub.status !== 204) throw new Error(`subscribe: ${sub.status} ${sub.text}`);
    bases.push(base);
  }
  let total = 0;
  let answers = 0;
  const started = performance.now();
  await Promise.all(
    bases.map(async (base) => {
      while (total < RECORDS) {
        const res = await call(
          agent,
          port,
          'GET',
          `${base}/records?timeout=200&max_bytes=${MAX_BYTES}`,
          ACCEPT[format],
        );
        if (res.status !== 200) throw new Error(`records: ${res.status} ${res.text.slice(0, 200)}`);
        const count = (JSON.parse(res.text) as unknown[]).length;
        total += count;
        if (count > 0) answers++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (total !== RECORDS) throw new Error(`read ${total} records, expected ${RECORDS}`);
  return { recordsPerSecond: RECORDS / seconds, answers };
}

/** The same records from the bare endpoint, in `answers` answers shared by `instances` clients. */
async function consumeBare(port: number, format: Format, instances: number, answers: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: instances });
  const perAnswer = Math.ceil(RECORDS / answers);
  let next = 0;
  let total = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: instances }, async () => {
      while (next < RECORDS) {
        const from = next;
        next += perAnswer;
        const res = await call(
          agent,
          port,
          'GET',
          `/records/${format}?from=${from}&count=${perAnswer}`,
          ACCEPT[format],
        );
        if (res.status !== 200) throw new Error(`bare: ${res.status} ${res.text.slice(0, 200)}`);
        total += (JSON.parse(res.text) as unknown[]).length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (total !== RECORDS) throw new Error(`bare read ${total} records, expected ${RECORDS}`);
  return RECORDS / seconds;
}

/** The engine alone: every partition fetched through the broker from offset 0 in 1 MiB reads, and decoded. */
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
        let offset = 0;
        for (;;) {
          const { records } = await node.broker.fetch(topicOf('binary'), p, offset, 1024 * 1024);
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
    `consume bench: ${fmt(RECORDS)} records of ${VALUE_BYTES} bytes in ${PARTITIONS} partitions, max_bytes=${MAX_BYTES}, best of 3 alternating runs, ${os.cpus().length} CPUs, node ${process.version}`,
  );
  const raw = await rawEngineReads();
  const samsa = await startChild(fileURLToPath(import.meta.url), ['samsa']);
  const bare = await startChild(fileURLToPath(import.meta.url), ['bare']);
  const rows: string[][] = [];
  try {
    for (const format of FORMATS) {
      for (const instances of [1, 4]) {
        // Best of three: the first run also warms the JIT and the page cache. Each bare run sends
        // as many answers as the Samsa run before it did.
        let best = 0;
        let bestBare = 0;
        for (let run = 0; run < 3; run++) {
          const mine = await consumeSamsa(samsa.port, format, `${format}-${instances}-${run}`, instances);
          best = Math.max(best, mine.recordsPerSecond);
          bestBare = Math.max(bestBare, await consumeBare(bare.port, format, instances, mine.answers));
        }
        rows.push([
          `GET records, ${format}, ${instances} instance${instances > 1 ? 's' : ''}`,
          fmt(best),
          fmt(bestBare),
          `${fmt((100 * best) / bestBare, 1)}%`,
          fmt(raw),
        ]);
        console.log(rows.at(-1)?.join('  |  '));
      }
    }
  } finally {
    await stopChild(samsa);
    await stopChild(bare);
  }
  console.log();
  printTable(['case', 'samsa records/s', 'bare express records/s', 'ratio', 'engine reads records/s (ceiling)'], rows);
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  if (process.argv[serveAt + 1] === 'samsa') await serveSamsa();
  else await serveBare();
} else if (process.argv[1] === fileURLToPath(import.meta.url)) await runConsumeBench();
