import fs from 'node:fs';
import path from 'node:path';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { forEachBatch, type RecordInput } from '../../src/storage/record-batch.js';
import { contentBytes, type StoredRecord } from './log-fixture.js';

export const T0 = 1_700_000_000_000;

/** One leader batch to write: how many records, of what value size, under which leader epoch. */
export interface BatchPlan {
  records: number;
  valueBytes: number;
  epoch: number;
}

/** Appends the planned batches as a leader does (its epoch stamped); returns what each offset holds. */
export function writeAsLeader(log: PartitionLog, plans: readonly BatchPlan[]): StoredRecord[] {
  const stored: StoredRecord[] = [];
  for (const plan of plans) {
    const base = log.logEndOffset;
    const records: RecordInput[] = Array.from({ length: plan.records }, (_, i) => ({
      key: Buffer.from(`k${base + i}`),
      value: contentBytes(base + i, plan.valueBytes),
      headers: [],
      timestamp: T0 + 10 * (base + i),
    }));
    log.append(records, T0, plan.epoch);
    records.forEach((r, i) => {
      stored.push({ ...r, headers: [], offset: base + i });
    });
  }
  return stored;
}

/** Every stored batch of `log` from `from`, whole and as on disk, concatenated (what a follower fetches). */
export function fetchAll(log: PartitionLog, from = log.logStartOffset): Buffer {
  const parts: Buffer[] = [];
  let next = from;
  while (next < log.logEndOffset) {
    const { records } = log.read(next, 1024 * 1024, { maxOffset: log.logEndOffset });
    if (records.length === 0) break;
    parts.push(records);
    forEachBatch(records, (header) => {
      next = header.lastOffset + 1;
    });
  }
  return Buffer.concat(parts);
}

/** Batch boundaries of concatenated batches: [baseOffset, lastOffset, epoch] each. */
export function batchesOf(buf: Buffer): { baseOffset: number; lastOffset: number; epoch: number; bytes: Buffer }[] {
  const out: { baseOffset: number; lastOffset: number; epoch: number; bytes: Buffer }[] = [];
  forEachBatch(buf, (header, batch) => {
    out.push({
      baseOffset: header.baseOffset,
      lastOffset: header.lastOffset,
      epoch: header.partitionLeaderEpoch,
      bytes: batch,
    });
  });
  return out;
}

/** The files of a partition dir and their bytes (hex), for comparing two dirs. */
export function filesOf(dir: string, suffixes: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(dir).sort()) {
    if (suffixes.some((s) => f.endsWith(s))) out.set(f, fs.readFileSync(path.join(dir, f)).toString('hex'));
  }
  return out;
}

/** The epoch history a log's batches imply: each epoch from the first batch carrying a higher one. */
export function epochsOfBatches(buf: Buffer): { epoch: number; startOffset: number }[] {
  const out: { epoch: number; startOffset: number }[] = [];
  for (const b of batchesOf(buf)) {
    const latest = out.at(-1);
    if (b.epoch >= 0 && (latest === undefined || b.epoch > latest.epoch))
      out.push({ epoch: b.epoch, startOffset: b.baseOffset });
  }
  return out;
}
