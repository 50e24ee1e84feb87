/**
 * `npm run bench -- kafka`: produce and consume of 100-byte records through the Kafka listener with
 * librdkafka (kcat, Debian's librdkafka 2.0.2), each beside a ceiling measured in the same run with
 * the same client and the same settings:
 *
 * - produce: kcat -P (acks=1 and acks=all, linger.ms=5, batch.num.messages 100 / 1000 / 10000, the
 *   batch sizes a tuned client uses) against Samsa and against a bare TCP server that reads the
 *   same Produce frames (size prefix, correlation id) and answers each with a fixed Produce
 *   response: what framing and sockets cost on this runtime, nothing else;
 * - consume: kcat -C from the beginning to the end of one partition against Samsa and against a
 *   bare TCP server answering each Fetch with a raw read of the same segment files (a table of
 *   batch positions built once at start, one read per answer, the bytes written as read).
 *
 * Every server runs in a child process (this file, re-run with `--serve samsa|bare-produce|
 * bare-fetch`); each case alternates runs over BENCH_KAFKA_ROUNDS rounds (default 3) and reports
 * the medians, beside each server's own CPU time per record (asked over IPC around the run), which
 * is steadier than the rate on a shared machine. Environment: BENCH_KAFKA_RECORDS (records per
 * produce run of the largest batches, default 2,000,000; smaller batches send a share of it),
 * BENCH_KAFKA_CASES (only cases whose name contains one of these comma-separated texts),
 * BENCH_SERVER_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), BENCH_VERBOSE.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ChildServer, cpuMicros, startChild, stopChild } from './child-server.js';
import { printTable } from './markdown-table.js';

const VALUE_BYTES = 100;
const TOPIC = 'bench';
const RECORDS = Math.max(10_000, Number(process.env.BENCH_KAFKA_RECORDS ?? 2_000_000));
const ROUNDS = Math.max(1, Number(process.env.BENCH_KAFKA_ROUNDS ?? 3));
const VERBOSE = process.env.BENCH_VERBOSE !== undefined;
const CASE_FILTER = (process.env.BENCH_KAFKA_CASES ?? '').split(',').filter((c) => c.length > 0);
/** Records consumed per run, and the batch size they were produced in. */
const CONSUME_RECORDS = RECORDS;
const CONSUME_BATCH_RECORDS = 1000;
const KCAT_TIMEOUT_MS = 300_000;

interface ProduceCase {
  batchRecords: number;
  acks: '1' | 'all';
  records: number;
}

const PRODUCE_CASES: ProduceCase[] = [
  { batchRecords: 100, acks: '1', records: Math.round(RECORDS / 5) },
  { batchRecords: 1000, acks: '1', records: Math.round(RECORDS / 2) },
  { batchRecords: 10_000, acks: '1', records: RECORDS },
  { batchRecords: 10_000, acks: 'all', records: RECORDS },
];

// ---------------------------------------------------------------------------------------------
// The servers (child side)

/** Tells the parent the port, and answers its IPC questions: CPU time, and the ones `more` knows. */
function announce(port: number, more: (m: unknown) => Promise<unknown> | undefined = () => undefined): void {
  process.on('message', (m) => {
    if (m === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
      return;
    }
    more(m)?.then(
      (answer) => process.send?.({ answer }),
      (err: unknown) => process.send?.({ answer: { error: String(err) } }),
    );
  });
  process.stdout.write(`${JSON.stringify({ port })}\n`);
}

function listenOn(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** Samsa: one node, the Kafka listener, one topic of one partition; `reset` empties it, `load` fills it. */
async function serveSamsa(): Promise<void> {
  const { SamsaNode } = await import('../src/samsa-node.js');
  const { kafkaApis } = await import('../src/kafka/kafka-apis.js');
  const { KafkaListener } = await import('../src/kafka/kafka-listener.js');
  const { createLogger } = await import('../src/logger.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-kafka-'));
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await node.start();
  const { broker } = node;
  await broker.createTopic(TOPIC, { partitions: 1 });
  const logger = createLogger({ level: 'error', pretty: false });
  const listener = new KafkaListener({
    ...kafkaApis({ broker, coordinator: node.coordinator, logger, advertisedListener: null }),
    logger,
  });
  const { port } = await listener.listen(0, '127.0.0.1');
  process.on('SIGTERM', () => {
    void listener
      .close()
      .then(() => node.shutdown())
      .then(() => {
        fs.rmSync(dataDir, { recursive: true, force: true });
        process.exit(0);
      });
  });
  announce(port, (m) => {
    if (m === 'reset') {
      return (async () => {
        await broker.deleteTopic(TOPIC);
        await broker.createTopic(TOPIC, { partitions: 1 });
        return { reset: true };
      })();
    }
    if (m === 'end') return Promise.resolve({ end: broker.listOffsets(TOPIC, 0).logEndOffset });
    if (m === 'load') {
      return (async () => {
        const value = randomBytes(VALUE_BYTES);
        for (let n = 0; n < CONSUME_RECORDS; n += CONSUME_BATCH_RECORDS) {
          const count = Math.min(CONSUME_BATCH_RECORDS, CONSUME_RECORDS - n);
          const records = Array.from({ length: count }, () => ({ key: null, value, partition: 0 }));
          await broker.produce(TOPIC, records, { acks: 1, timeoutMs: 10_000 });
        }
        return { partitionDir: path.join(dataDir, `${TOPIC}-0`) };
      })();
    }
    return undefined;
  });
}

interface Frame {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  frame: Buffer;
}

/**
 * A bare Kafka-protocol server: size-prefixed frames are split from the stream and handed to
 * `answer` with their api key, version and correlation id; what it returns is written back, in
 * order (answers here are synchronous).
 */
function bareServer(answer: (f: Frame) => Buffer | Buffer[] | null): net.Server {
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    // Chunks of a frame not whole yet, joined once it is (never one copy per chunk).
    let chunks: Buffer[] = [];
    let buffered = 0;
    let needed = 4;
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      buffered += chunk.length;
      if (buffered < needed) return;
      const buf = chunks.length === 1 ? chunk : Buffer.concat(chunks, buffered);
      let at = 0;
      socket.cork();
      while (buf.length - at >= 4) {
        const size = buf.readInt32BE(at);
        if (buf.length - at < 4 + size) break;
        const frame = buf.subarray(at + 4, at + 4 + size);
        at += 4 + size;
        const out = answer({
          apiKey: frame.readInt16BE(0),
          apiVersion: frame.readInt16BE(2),
          correlationId: frame.readInt32BE(4),
          frame,
        });
        if (out === null) continue;
        for (const b of Array.isArray(out) ? out : [out]) socket.write(b);
      }
      socket.uncork();
      const rest = buf.subarray(at);
      chunks = rest.length > 0 ? [rest] : [];
      buffered = rest.length;
      needed = rest.length >= 4 ? 4 + rest.readInt32BE(0) : 4;
    });
  });
}

/** The APIs and versions Samsa's listener advertises, so a client sends a bare server the same requests. */
async function samsaApiVersions(): Promise<Map<number, { min: number; max: number }>> {
  const { kafkaApis } = await import('../src/kafka/kafka-apis.js');
  // The factories only keep the context for their handlers, which a bare server never calls.
  const { versions } = kafkaApis({
    broker: null as never,
    coordinator: null as never,
    logger: null as never,
    advertisedListener: null,
  });
  return new Map([...(versions ?? new Map())]);
}

/** Answers ApiVersions and Metadata as Samsa would (one broker, here; one topic of one partition). */
async function bareControlAnswers(port: () => number) {
  const { APIS, API_KEYS, responseHeaderVersion } = await import('../src/kafka/protocol/apis.js');
  const { encode, decodeAt } = await import('../src/kafka/protocol/codec.js');
  const { ResponseHeader, RequestHeader } = await import('../src/kafka/protocol/messages/headers.js');
  const { requestHeaderVersion } = await import('../src/kafka/protocol/apis.js');
  const versions = await samsaApiVersions();
  versions.set(API_KEYS.ApiVersions, { min: 0, max: 3 });
  const frameOf = (apiKey: number, version: number, correlationId: number, body: Record<string, unknown>) => {
    const api = APIS.get(apiKey);
    if (!api) throw new Error(`no api ${apiKey}`);
    const header = encode({ correlationId }, ResponseHeader, responseHeaderVersion(api, version));
    const encoded = encode(body, api.response, version);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(header.length + encoded.length);
    return Buffer.concat([size, header, encoded]);
  };
  /** The request body, decoded (only for the rare requests; never Produce). */
  const requestOf = (f: Frame) => {
    const api = APIS.get(f.apiKey);
    if (!api) throw new Error(`no api ${f.apiKey}`);
    const { end } = decodeAt(f.frame, 0, RequestHeader, requestHeaderVersion(api, f.apiVersion));
    return decodeAt(f.frame, end, api.request, f.apiVersion).value;
  };
  const control = (f: Frame): Buffer | null => {
    if (f.apiKey === API_KEYS.ApiVersions) {
      const apiKeys = [...versions].map(([apiKey, r]) => ({ apiKey, minVersion: r.min, maxVersion: r.max }));
      return frameOf(f.apiKey, Math.min(f.apiVersion, 3), f.correlationId, {
        errorCode: 0,
        apiKeys,
        throttleTimeMs: 0,
      });
    }
    if (f.apiKey === API_KEYS.Metadata) {
      return frameOf(f.apiKey, f.apiVersion, f.correlationId, {
        throttleTimeMs: 0,
        brokers: [{ nodeId: 0, host: '127.0.0.1', port: port(), rack: null }],
        clusterId: 'bare',
        controllerId: 0,
        topics: [
          {
            errorCode: 0,
            name: TOPIC,
            isInternal: false,
            partitions: [
              {
                errorCode: 0,
                partitionIndex: 0,
                leaderId: 0,
                leaderEpoch: 0,
                replicaNodes: [0],
                isrNodes: [0],
                offlineReplicas: [],
              },
            ],
          },
        ],
      });
    }
    return null;
  };
  return { control, frameOf, requestOf, API_KEYS };
}

/** The produce ceiling: every Produce frame read whole and answered with a fixed response for its version. */
async function serveBareProduce(): Promise<void> {
  let port = 0;
  const { control, frameOf, API_KEYS } = await bareControlAnswers(() => port);
  /** The fixed answer of each Produce version, with the correlation id patched in per request. */
  const fixed = new Map<number, Buffer>();
  const server = bareServer((f) => {
    if (f.apiKey !== API_KEYS.Produce) return control(f);
    let answer = fixed.get(f.apiVersion);
    if (answer === undefined) {
      answer = frameOf(API_KEYS.Produce, f.apiVersion, 0, {
        responses: [
          {
            name: TOPIC,
            partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 0, logAppendTimeMs: -1, logStartOffset: 0 }],
          },
        ],
        throttleTimeMs: 0,
      });
      fixed.set(f.apiVersion, answer);
    }
    const out = Buffer.allocUnsafe(answer.length);
    answer.copy(out);
    out.writeInt32BE(f.correlationId, 4);
    return out;
  });
  port = await listenOn(server);
  process.on('SIGTERM', () => process.exit(0));
  announce(port);
}

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  file: number;
  position: number;
  sizeBytes: number;
}

/**
 * The consume ceiling: Fetch answered with a raw read of the partition's segment files. The batch
 * positions are read once at start (the headers only); each Fetch reads whole batches from the
 * asked offset, up to the partition's max bytes, and writes them after a header made for the answer.
 */
async function serveBareFetch(partitionDir: string): Promise<void> {
  let port = 0;
  const { control, frameOf, requestOf, API_KEYS } = await bareControlAnswers(() => port);
  const files = fs
    .readdirSync(partitionDir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .map((f) => fs.openSync(path.join(partitionDir, f), 'r'));
  const batches: StoredBatch[] = [];
  const head = Buffer.alloc(61);
  for (const [file, fd] of files.entries()) {
    const size = fs.fstatSync(fd).size;
    for (let position = 0; position + 61 <= size; ) {
      fs.readSync(fd, head, 0, 61, position);
      const sizeBytes = head.readInt32BE(8) + 12;
      const baseOffset = Number(head.readBigInt64BE(0));
      batches.push({ baseOffset, lastOffset: baseOffset + head.readInt32BE(23), file, position, sizeBytes });
      position += sizeBytes;
    }
  }
  const endOffset = (batches.at(-1)?.lastOffset ?? -1) + 1;
  const find = (offset: number) => {
    let lo = 0;
    let hi = batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((batches[mid] as StoredBatch).lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const server = bareServer((f) => {
    if (f.apiKey === API_KEYS.ListOffsets) {
      const request = requestOf(f) as { topics: { partitions: { timestamp: bigint }[] }[] };
      const offset = request.topics[0]?.partitions[0]?.timestamp === -2n ? 0 : endOffset;
      return frameOf(f.apiKey, f.apiVersion, f.correlationId, {
        throttleTimeMs: 0,
        topics: [
          {
            name: TOPIC,
            partitions: [
              { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [offset], timestamp: -1, offset, leaderEpoch: 0 },
            ],
          },
        ],
      });
    }
    if (f.apiKey !== API_KEYS.Fetch) return control(f);
    const request = requestOf(f) as {
      topics: { partitions: { fetchOffset: bigint; partitionMaxBytes: number }[] }[];
    };
    const want = request.topics[0]?.partitions[0];
    const offset = Number(want?.fetchOffset ?? 0);
    let records = Buffer.alloc(0);
    if (offset < endOffset) {
      const first = find(offset);
      const start = batches[first] as StoredBatch;
      let bytes = start.sizeBytes;
      let i = first + 1;
      // Whole batches of one file, up to the partition's max bytes (at least one).
      for (; i < batches.length; i++) {
        const b = batches[i] as StoredBatch;
        if (b.file !== start.file || bytes + b.sizeBytes > (want?.partitionMaxBytes ?? 0)) break;
        bytes += b.sizeBytes;
      }
      records = Buffer.allocUnsafe(bytes);
      fs.readSync(files[start.file] as number, records, 0, bytes, start.position);
    }
    // The answer is encoded with no records; its last 4 bytes are their length, patched here.
    const answer = frameOf(f.apiKey, f.apiVersion, f.correlationId, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: endOffset,
              lastStableOffset: endOffset,
              logStartOffset: 0,
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: Buffer.alloc(0),
            },
          ],
        },
      ],
    });
    answer.writeInt32BE(answer.length - 4 + records.length, 0);
    answer.writeInt32BE(records.length, answer.length - 4);
    return [answer, records];
  });
  port = await listenOn(server);
  process.on('SIGTERM', () => process.exit(0));
  announce(port);
}

// ---------------------------------------------------------------------------------------------
// The client (parent side)

function ask(server: ChildServer, question: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'answer' in m) {
        server.child.off('message', onMessage);
        const answer = (m as { answer: Record<string, unknown> }).answer;
        if ('error' in answer) reject(new Error(String(answer.error)));
        else resolve(answer);
      }
    };
    server.child.on('message', onMessage);
    server.child.send(question, (err) => {
      if (err) reject(err);
    });
  });
}

/** Runs kcat with stdin from `input` (or nothing) and stdout to `output`; resolves with the wall time in seconds. */
function kcat(args: string[], input: string | null, output: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stdin = input === null ? 'ignore' : fs.openSync(input, 'r');
    const stdout = fs.openSync(output, 'w');
    const started = process.hrtime.bigint();
    const child = spawn('kcat', args, { stdio: [stdin, stdout, 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), KCAT_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      if (typeof stdin === 'number') fs.closeSync(stdin);
      fs.closeSync(stdout);
      if (code !== 0 || stderr.includes('ERROR')) reject(new Error(`kcat ${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve(seconds);
    });
  });
}

interface Run {
  recordsPerSecond: number;
  cpuMicrosPerRecord: number;
}

async function measured(server: ChildServer, records: number, body: () => Promise<number>): Promise<Run> {
  const cpuBefore = await cpuMicros(server);
  const seconds = await body();
  const cpuUsed = (await cpuMicros(server)) - cpuBefore;
  return { recordsPerSecond: records / seconds, cpuMicrosPerRecord: cpuUsed / records };
}

function produceArgs(port: number, c: ProduceCase): string[] {
  return [
    '-b',
    `127.0.0.1:${port}`,
    '-P',
    '-t',
    TOPIC,
    '-p',
    '0',
    '-X',
    `acks=${c.acks === 'all' ? -1 : 1}`,
    '-X',
    'linger.ms=5',
    '-X',
    `batch.num.messages=${c.batchRecords}`,
    '-X',
    'batch.size=1048576',
    '-X',
    'queue.buffering.max.messages=1000000',
    '-X',
    'queue.buffering.max.kbytes=2097151',
  ];
}

function consumeArgs(port: number): string[] {
  return [
    '-b',
    `127.0.0.1:${port}`,
    '-C',
    '-t',
    TOPIC,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-c',
    String(CONSUME_RECORDS),
    '-f',
    '%o\n',
    '-X',
    'fetch.message.max.bytes=4194304',
    '-X',
    'queued.min.messages=1000000',
  ];
}

/** The last offset kcat printed (its output is one offset per line). */
function lastOffsetIn(file: string): number {
  const text = fs.readFileSync(file, 'utf8').trimEnd();
  return Number(text.slice(text.lastIndexOf('\n') + 1));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

function row(name: string, mine: Run[], base: Run[]): string[] {
  const mineRate = median(mine.map((r) => r.recordsPerSecond));
  const baseRate = median(base.map((r) => r.recordsPerSecond));
  const mineCpu = median(mine.map((r) => r.cpuMicrosPerRecord));
  const baseCpu = median(base.map((r) => r.cpuMicrosPerRecord));
  return [
    name,
    fmt(mineRate),
    fmt((mineRate * VALUE_BYTES) / 1e6, 1),
    fmt(baseRate),
    `${fmt((100 * mineRate) / baseRate)}%`,
    fmt(mineCpu, 3),
    fmt(baseCpu, 3),
  ];
}

function selected(name: string): boolean {
  return CASE_FILTER.length === 0 || CASE_FILTER.some((c) => name.includes(c));
}

export async function runKafkaBench(): Promise<void> {
  const self = fileURLToPath(import.meta.url);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-kafka-client-'));
  const [load] = os.loadavg();
  console.log(
    `kafka bench: kcat (librdkafka) against the Kafka listener, ${VALUE_BYTES}-byte values, one partition, median of ${ROUNDS} alternating runs (samsa, bare), ${os.cpus().length} CPUs, load average ${fmt(load ?? 0, 2)} at start, node ${process.version}`,
  );
  const input = path.join(work, 'records.txt');
  const line = `${'x'.repeat(VALUE_BYTES)}\n`;
  fs.writeFileSync(input, line.repeat(RECORDS));
  const output = path.join(work, 'out.txt');
  const rows: string[][] = [];
  try {
    for (const c of PRODUCE_CASES) {
      const name = `produce ${c.batchRecords}/batch acks=${c.acks}`;
      if (!selected(name)) continue;
      const slice = path.join(work, `records-${c.records}.txt`);
      if (!fs.existsSync(slice)) fs.writeFileSync(slice, line.repeat(c.records));
      const samsa = await startChild(self, ['samsa']);
      const bare = await startChild(self, ['bare-produce']);
      const mine: Run[] = [];
      const base: Run[] = [];
      try {
        for (let round = 0; round < ROUNDS; round++) {
          await ask(samsa, 'reset');
          const m = await measured(samsa, c.records, () => kcat(produceArgs(samsa.port, c), slice, output));
          const end = Number((await ask(samsa, 'end')).end);
          if (end !== c.records) throw new Error(`${name}: samsa holds ${end} records, ${c.records} were sent`);
          const b = await measured(bare, c.records, () => kcat(produceArgs(bare.port, c), slice, output));
          mine.push(m);
          base.push(b);
          if (VERBOSE)
            console.log(
              `${name} round ${round}: samsa ${fmt(m.recordsPerSecond)} rec/s, bare ${fmt(b.recordsPerSecond)}`,
            );
        }
      } finally {
        await stopChild(samsa);
        await stopChild(bare);
      }
      rows.push(row(name, mine, base));
      console.log(rows.at(-1)?.join('  |  '));
    }

    const name = `consume ${fmt(CONSUME_RECORDS)} records (${CONSUME_BATCH_RECORDS}/batch)`;
    if (selected(name) || selected('consume')) {
      const samsa = await startChild(self, ['samsa']);
      let bare: ChildServer | null = null;
      const mine: Run[] = [];
      const base: Run[] = [];
      try {
        const { partitionDir } = (await ask(samsa, 'load')) as { partitionDir: string };
        bare = await startChild(self, ['bare-fetch', partitionDir]);
        for (let round = 0; round < ROUNDS; round++) {
          for (const [server, runs] of [
            [samsa, mine],
            [bare, base],
          ] as const) {
            runs.push(await measured(server, CONSUME_RECORDS, () => kcat(consumeArgs(server.port), null, output)));
            const last = lastOffsetIn(output);
            if (last !== CONSUME_RECORDS - 1)
              throw new Error(`consume read to offset ${last}, not ${CONSUME_RECORDS - 1}`);
          }
          if (VERBOSE)
            console.log(
              `consume round ${round}: samsa ${fmt(mine.at(-1)?.recordsPerSecond ?? 0)} rec/s, bare ${fmt(base.at(-1)?.recordsPerSecond ?? 0)}`,
            );
        }
      } finally {
        await stopChild(samsa);
        if (bare) await stopChild(bare);
      }
      rows.push(row(name, mine, base));
      console.log(rows.at(-1)?.join('  |  '));
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log();
  printTable(
    [
      'case (kcat, 100-byte records)',
      'samsa rec/s',
      'samsa MB/s',
      'bare rec/s',
      'ratio',
      'samsa CPU µs/rec',
      'bare CPU µs/rec',
    ],
    rows,
  );
  console.log(
    '\nbare: produce, a TCP server answering each Produce frame with a fixed response; consume, one answering each Fetch with a raw read of the same segment files.',
  );
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) {
  const kind = process.argv[serveAt + 1];
  if (kind === 'samsa') await serveSamsa();
  else if (kind === 'bare-produce') await serveBareProduce();
  else await serveBareFetch(process.argv[serveAt + 2] as string);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) await runKafkaBench();
