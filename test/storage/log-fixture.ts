import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildLogConfig, type LogConfig } from '../../src/storage/log-config.js';
import { type OpenOptions, PartitionLog } from '../../src/storage/partition-log.js';
import {
  type DecodedRecord,
  decodeRecordBatch,
  forEachBatch,
  type RecordInput,
} from '../../src/storage/record-batch.js';

/** A fresh directory under the OS temp dir; the caller removes it with `removeDir`. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A topic config from Kafka-named overrides, everything else at its default. */
export function logConfig(overrides: Record<string, string | number> = {}): LogConfig {
  const asStrings: Record<string, string> = {};
  for (const [k, v] of Object.entries(overrides)) asStrings[k] = String(v);
  return buildLogConfig(asStrings, {});
}

export const TOPIC = 'orders';
export const PARTITION = 3;

export function partitionDir(root: string): string {
  return path.join(root, `${TOPIC}-${PARTITION}`);
}

export const FRESH: OpenOptions = { recoveryPoint: 0, cleanShutdown: false };
export const CLEAN: OpenOptions = { recoveryPoint: Number.MAX_SAFE_INTEGER, cleanShutdown: true };
export const UNCLEAN: OpenOptions = { recoveryPoint: 0, cleanShutdown: false };

export function openLog(
  root: string,
  config: LogConfig,
  opts: OpenOptions = FRESH,
): { log: PartitionLog; truncatedBytes: number } {
  return PartitionLog.open(partitionDir(root), TOPIC, PARTITION, config, opts);
}

/**
 * Every record from `from` up to `maxOffset` (default: the log end offset), walking the log
 * the way a consumer does: `read`, whole batches, skip records below the requested offset.
 */
export function readRecords(
  log: PartitionLog,
  from = log.logStartOffset,
  maxBytes = 1024 * 1024,
  maxOffset = log.logEndOffset,
): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let next = from;
  // A bound on the walk: each step must make progress, so LEO - from + 1 steps are plenty.
  for (let steps = 0; next < maxOffset; steps++) {
    assert.ok(steps <= maxOffset - from + 1, `read loop made no progress at offset ${next}`);
    const { records } = log.read(next, maxBytes, { maxOffset });
    if (records.length === 0) break;
    let lastOffset = next - 1;
    forEachBatch(records, (header, batch) => {
      for (const r of decodeRecordBatch(batch)) if (r.offset >= next) out.push(r);
      lastOffset = header.lastOffset;
    });
    assert.ok(lastOffset >= next, `read from ${next} returned no batch reaching it`);
    next = lastOffset + 1;
  }
  return out;
}

/** What a decoded record must equal: the input record at its offset. */
export interface StoredRecord extends RecordInput {
  offset: number;
}

export function assertRecordsEqual(
  actual: readonly DecodedRecord[],
  expected: readonly StoredRecord[],
  what = 'records',
): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} records, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as DecodedRecord;
    const e = expected[i] as StoredRecord;
    const at = `${what}[${i}] (offset ${e.offset})`;
    assert.equal(a.offset, e.offset, `${at}: offset`);
    assert.equal(a.timestamp, e.timestamp, `${at}: timestamp`);
    assert.deepEqual(a.key, e.key, `${at}: key`);
    assert.deepEqual(a.value, e.value, `${at}: value`);
    assert.deepEqual(a.headers, e.headers ?? [], `${at}: headers`);
  }
}

/**
 * Deterministic content of `length` bytes, distinct per `seed`: the first bytes carry the
 * seed so a record served at the wrong offset never compares equal by accident.
 */
export function contentBytes(seed: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (seed * 131 + i * 7 + (i >> 8)) & 0xff;
  if (length >= 4) buf.writeUInt32BE(seed >>> 0, 0);
  return buf;
}

/** The `.log` files of a partition directory, sorted by base offset. */
export function segmentLogFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort();
}
