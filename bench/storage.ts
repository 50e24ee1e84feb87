/**
 * `npm run bench -- storage`: the log engine against the file system it sits on.
 *
 * Append: `PartitionLog.append` of 100-byte values (keyed, in columns as the produce path hands
 * them over) in batches of 1, 100 and 1000 records, each
 * beside a raw baseline measured in the same run: `fs.writeSync` appends of a pre-encoded batch of
 * the same size to a plain file, as many times. The ratio ours/raw says what encoding, the CRC,
 * index upkeep and bookkeeping cost over the bare write. "encode only" (`prepare`) and "write
 * prepared" (`appendPrepared`, against its own raw baseline) show the two halves apart, and
 * "CRC-32C only" the checksum inside the first.
 * Read: `PartitionLog.read` through the whole batch-1000 log with 1 MiB maxBytes vs `fs.readSync`
 * of the same file in 1 MiB chunks (both from the page cache, right after writing), alternating.
 *
 * Every write starts after a `sync`, and raw and ours alternate over BENCH_STORAGE_ROUNDS rounds
 * (default 2), each keeping its best: the order of two writers on a VM otherwise decides much.
 * Everything lives in a temp dir under os.tmpdir(), removed afterwards. Environment:
 * BENCH_STORAGE_MB (bytes per batched case, default 200), BENCH_STORAGE_SINGLE_MB (batch of 1, default 20).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@node-rs/crc32';
import { batchBuffers, takeBatchBuffer } from '../src/storage/batch-buffers.js';
import { buildLogConfig } from '../src/storage/log-config.js';
import { PartitionLog } from '../src/storage/partition-log.js';
import { ATTRIBUTES_OFFSET, encodeRecordBatch, forEachBatch } from '../src/storage/record-batch.js';
import { fieldColumnOf, type RecordColumns } from '../src/storage/record-columns.js';

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

/**
 * `count` records in columns, the form the produce path hands the log (storage/record-columns.ts):
 * every key in one buffer, every value in another.
 */
function recordsOf(count: number): RecordColumns {
  const now = Date.now();
  return {
    count,
    keys: fieldColumnOf(Array.from({ length: count }, (_, i) => Buffer.from(`key-${i % 1000}`))),
    values: fieldColumnOf(Array.from({ length: count }, (_, i) => Buffer.alloc(VALUE_BYTES, i & 0xff))),
    timestamps: Float64Array.from({ length: count }, (_, i) => now + i),
    headers: null,
  };
}

/**
 * Writes back every dirty page before a timed write, so each case (ours or raw) starts from the
 * same page-cache state: otherwise a later case pays for an earlier one's write-back throttling.
 */
function settle(): void {
  execFileSync('sync');
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
  settle();
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
  settle();
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

/**
 * The engine's write half alone: `appendPrepared` of one batch encoded up front, as many times
 * (each append stamps the next base offset into it). The produce path runs the two halves
 * separately too: every partition's batch is prepared before any is written.
 */
async function appendPreparedCase(root: string, batchSize: number, volumeBytes: number): Promise<Row> {
  const log = openFreshLog(root, `prepared-${batchSize}`);
  const now = Date.now();
  // A batch is appended once (its memory then goes back to the pool): these bytes have memory of their own.
  const encoded = log.prepare(recordsOf(batchSize), now);
  const prepared = { ...encoded, batch: Buffer.from(encoded.batch) };
  const batches = Math.max(1, Math.floor(volumeBytes / prepared.batch.length));
  settle();
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) log.appendPrepared(prepared);
  const elapsed = seconds(start);
  const row = {
    case: `write prepared, batch ${batchSize}`,
    records: batches * batchSize,
    bytes: log.sizeBytes,
    seconds: elapsed,
  };
  await log.delete();
  return row;
}

function encodeOnly(batchSize: number, volumeBytes: number): Row {
  const records = recordsOf(batchSize);
  const batchBytes = encodeRecordBatch(records, { baseOffset: 0 }).length;
  const batches = Math.max(1, Math.floor(volumeBytes / batchBytes));
  let sink = 0;
  const start = process.hrtime.bigint();
  // Into pooled memory, given back at once, as the log's write gives it back.
  for (let i = 0; i < batches; i++) {
    const batch = encodeRecordBatch(records, { baseOffset: i, allocate: takeBatchBuffer });
    sink += batch.length;
    batchBuffers.give(batch);
  }
  return {
    case: `encode only, batch ${batchSize}`,
    records: batches * batchSize,
    bytes: sink,
    seconds: seconds(start),
  };
}

/**
 * The CRC-32C of each batch alone (@node-rs/crc32 over attributes..end, as `encodeRecordBatch`
 * computes it): the part of encoding no encoder change can remove, beside the raw write it must
 * share the time with.
 */
function crcOnly(batchSize: number, volumeBytes: number): Row {
  const batch = encodeRecordBatch(recordsOf(batchSize), { baseOffset: 0 });
  const batches = Math.max(1, Math.floor(volumeBytes / batch.length));
  const covered = batch.subarray(ATTRIBUTES_OFFSET);
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) sink ^= crc32c(covered);
  const elapsed = seconds(start);
  if (sink === -1) console.log('(impossible)');
  return {
    case: `CRC-32C only, batch ${batchSize}`,
    records: batches * batchSize,
    bytes: batches * batch.length,
    seconds: elapsed,
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

/** The faster of two timings of the same work. */
function best<T extends { seconds: number }>(a: T | undefined, b: T): T {
  return a === undefined || b.seconds < a.seconds ? b : a;
}

export async function runStorageBench(): Promise<void> {
  const batchedBytes = Number(process.env.BENCH_STORAGE_MB ?? 200) * MIB;
  const singleBytes = Number(process.env.BENCH_STORAGE_SINGLE_MB ?? 20) * MIB;
  const rounds = Math.max(1, Number(process.env.BENCH_STORAGE_ROUNDS ?? 2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
  const rows: Row[] = [];
  try {
    console.log(
      `storage bench: ${VALUE_BYTES}-byte values, ${batchedBytes / MIB} MiB per batched case, ${singleBytes / MIB} MiB for batch 1, best of ${rounds} alternating rounds (raw, ours), in ${root}`,
    );
    // Raw and ours alternate and each keeps its best round: on a VM, whichever runs first on
    // fresh memory or behind another's write-back pays for it, and one round cannot say which.
    let readLog: PartitionLog | undefined;
    for (const batchSize of [1, 100, 1000]) {
      let row: Row | undefined;
      let raw: { bytes: number; seconds: number } | undefined;
      for (let round = 0; round < rounds; round++) {
        const volume = batchSize === 1 ? singleBytes : batchedBytes;
        const batchBytes = encodeRecordBatch(recordsOf(batchSize), { baseOffset: 0 }).length;
        const batches = Math.max(1, Math.floor(volume / batchBytes));
        raw = best(raw, rawWrite(root, batchBytes, batches));
        const measured = appendCase(root, batchSize, volume);
        row = best(row, measured.row);
        if (batchSize === 1000 && round === rounds - 1) readLog = measured.log;
        else await measured.log.delete();
      }
      if (row) rows.push({ ...row, baseline: raw });
    }
    rows.push(encodeOnly(1000, batchedBytes));
    rows.push(crcOnly(1000, batchedBytes));
    for (const batchSize of [100, 1000]) {
      let row: Row | undefined;
      let raw: { bytes: number; seconds: number } | undefined;
      for (let round = 0; round < rounds; round++) {
        const batchBytes = encodeRecordBatch(recordsOf(batchSize), { baseOffset: 0 }).length;
        raw = best(raw, rawWrite(root, batchBytes, Math.max(1, Math.floor(batchedBytes / batchBytes))));
        row = best(row, await appendPreparedCase(root, batchSize, batchedBytes));
      }
      if (row) rows.push({ ...row, baseline: raw });
    }
    if (readLog) {
      // Alternating rounds here too, each keeping its best: the first pass through a log pays for
      // memory the later ones reuse, whichever reader it is.
      let read: Row | undefined;
      let raw: { bytes: number; seconds: number } | undefined;
      const segment = readLog.segmentList()[0];
      for (let round = 0; round < rounds; round++) {
        read = best(read, readThrough(readLog));
        // The raw read covers the same number of bytes from the first segment file (one file at 200 MB).
        if (segment) raw = best(raw, rawRead(segment.logPath, Math.min(read.bytes, segment.sizeBytes)));
      }
      if (read) rows.push({ ...read, baseline: raw });
      await readLog.delete();
    }
    printTable(rows);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runStorageBench();
