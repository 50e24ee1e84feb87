/**
 * `npm run bench -- storage`: the log engine against the file system it sits on.
 *
 * Append: `PartitionLog.append` of 100-byte values in batches of 1, 100 and 1000 records, each
 * beside a raw baseline measured in the same run: `fs.writeSync` appends of a pre-encoded batch of
 * the same size to a plain file, as many times. The ratio ours/raw says what encoding, the CRC,
 * index upkeep and bookkeeping cost over the bare write. "encode only" separates the CPU part.
 * Read: `PartitionLog.read` through the whole batch-1000 log with 1 MiB maxBytes vs `fs.readSync`
 * of the same file in 1 MiB chunks (both from the page cache, right after writing).
 *
 * Everything lives in a temp dir under os.tmpdir(), removed afterwards. Environment:
 * BENCH_STORAGE_MB (bytes per batched case, default 200), BENCH_STORAGE_SINGLE_MB (batch of 1, default 20).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLogConfig } from '../src/storage/log-config.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { encodeRecordBatch, forEachBatch, type RecordInput } from '../src/storage/record-batch.js';

const MIB = 1024 * 1024;
const VALUE_BYTES = 100;
const READ_CHUNK_BYTES = MIB;

interface Row {
  case: string;
  records: number;
  bytes: number;
  seconds: number;
  baseline?: { bytes: number; seconds: number };
}

function recordsOf(count: number): RecordInput[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${i % 1000}`),
    value: Buffer.alloc(VALUE_BYTES, i & 0xff),
    timestamp: now + i,
  }));
}

function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

function openFreshLog(root: string, name: string): PartitionLog {
  // segment.bytes 1 GiB (the default), so a case appends to one or a few segments as Kafka would.
  const config = buildLogConfig({}, {});
  return PartitionLog.open(path.join(root, `${name}-0`), name, 0, config, { recoveryPoint: 0, cleanShutdown: false })
    .log;
}

/** Appends batches of `batchSize` records until `volumeBytes` of log is written. */
function appendCase(root: string, batchSize: number, volumeBytes: number): { row: Row; log: PartitionLog } {
  const records = recordsOf(batchSize);
  const log = openFreshLog(root, `append-${batchSize}`);
  const now = Date.now();
  const batchBytes = encodeRecordBatch(records, { baseOffset: 0 }).length;
  const batches = Math.max(1, Math.floor(volumeBytes / batchBytes));
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) log.append(records, now);
  const elapsed = seconds(start);
  return {
    row: { case: `append, batch ${batchSize}`, records: batches * batchSize, bytes: log.sizeBytes, seconds: elapsed },
    log,
  };
}

/** The same number of same-sized positional writes of pre-encoded bytes to a plain file. */
function rawWrite(root: string, batchBytes: number, batches: number): { bytes: number; seconds: number } {
  const chunk = Buffer.alloc(batchBytes, 7);
  const file = path.join(root, `raw-${batchBytes}.bin`);
  const fd = fs.openSync(file, 'w');
  let position = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) {
    let written = 0;
    while (written < chunk.length)
      written += fs.writeSync(fd, chunk, written, chunk.length - written, position + written);
    position += chunk.length;
  }
  const elapsed = seconds(start);
  fs.closeSync(fd);
  fs.rmSync(file);
  return { bytes: position, seconds: elapsed };
}

function encodeOnly(batchSize: number, volumeBytes: number): Row {
  const records = recordsOf(batchSize);
  const batchBytes = encodeRecordBatch(records, { baseOffset: 0 }).length;
  const batches = Math.max(1, Math.floor(volumeBytes / batchBytes));
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) sink += encodeRecordBatch(records, { baseOffset: i }).length;
  return {
    case: `encode only, batch ${batchSize}`,
    records: batches * batchSize,
    bytes: sink,
    seconds: seconds(start),
  };
}

function readThrough(log: PartitionLog): Row {
  log.highWatermark = log.logEndOffset;
  let offset = log.logStartOffset;
  let bytes = 0;
  let records = 0;
  const start = process.hrtime.bigint();
  while (offset < log.logEndOffset) {
    const result = log.read(offset, READ_CHUNK_BYTES);
    if (result.records.length === 0) throw new Error(`read at ${offset} returned nothing below the LEO`);
    bytes += result.records.length;
    forEachBatch(result.records, (header) => {
      offset = header.lastOffset + 1;
      records += header.recordsCount;
    });
  }
  return { case: 'read, 1 MiB maxBytes', records, bytes, seconds: seconds(start) };
}

function rawRead(file: string, sizeBytes: number): { bytes: number; seconds: number } {
  const fd = fs.openSync(file, 'r');
  let position = 0;
  const start = process.hrtime.bigint();
  while (position < sizeBytes) {
    // A fresh buffer per chunk, as PartitionLog.read allocates one per answer.
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, sizeBytes - position));
    const n = fs.readSync(fd, buf, 0, buf.length, position);
    if (n === 0) break;
    position += n;
  }
  const elapsed = seconds(start);
  fs.closeSync(fd);
  return { bytes: position, seconds: elapsed };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function printTable(rows: Row[]): void {
  const header = ['case', 'records/s', 'MB/s', 'raw MB/s', 'ours/raw'];
  const lines = rows.map((r) => {
    const mbps = r.bytes / MIB / r.seconds;
    const raw = r.baseline ? r.baseline.bytes / MIB / r.baseline.seconds : undefined;
    return [
      r.case,
      fmt(r.records / r.seconds),
      fmt(mbps, 1),
      raw === undefined ? '-' : fmt(raw, 1),
      raw === undefined ? '-' : `${fmt((100 * mbps) / raw)}%`,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const render = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(render(l));
}

export async function runStorageBench(): Promise<void> {
  const batchedBytes = Number(process.env.BENCH_STORAGE_MB ?? 200) * MIB;
  const singleBytes = Number(process.env.BENCH_STORAGE_SINGLE_MB ?? 20) * MIB;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
  const rows: Row[] = [];
  try {
    console.log(
      `storage bench: ${VALUE_BYTES}-byte values, ${batchedBytes / MIB} MiB per batched case, ${singleBytes / MIB} MiB for batch 1, in ${root}`,
    );
    let readLog: PartitionLog | undefined;
    for (const batchSize of [1, 100, 1000]) {
      const { row, log } = appendCase(root, batchSize, batchSize === 1 ? singleBytes : batchedBytes);
      const batches = row.records / batchSize;
      row.baseline = rawWrite(root, row.bytes / batches, batches);
      rows.push(row);
      if (batchSize === 1000) readLog = log;
      else await log.delete();
    }
    rows.push(encodeOnly(1000, batchedBytes));
    if (readLog) {
      const read = readThrough(readLog);
      const segment = readLog.segmentList()[0];
      // The raw read covers the same number of bytes from the first segment file (one file at 200 MB).
      if (segment) read.baseline = rawRead(segment.logPath, Math.min(read.bytes, segment.sizeBytes));
      rows.push(read);
      await readLog.delete();
    }
    printTable(rows);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runStorageBench();
