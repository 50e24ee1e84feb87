import fs from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';

/** The only checkpoint version Kafka has written so far. */
const CHECKPOINT_VERSION = '0';
/** A checkpoint longer than this is not ours; reading stops rather than buffering without bound. */
const MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024;

/**
 * Kafka's checkpoint text format (CheckpointFile), shared by the offset checkpoints of a data dir
 * and each partition's `leader-epoch-checkpoint`: line 1 the version `0`, line 2 the entry count,
 * then one entry per line, fields separated by single spaces. Returns each entry's fields, or
 * null when the file is missing or is not a whole checkpoint of version 0 with `fieldCount`
 * fields per entry (callers then rebuild what it held, which is always safe).
 */
export function readCheckpointFile(file: string, fieldCount: number): string[][] | null {
  let text: string;
  try {
    if (fs.statSync(file).size > MAX_CHECKPOINT_BYTES) return null;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== CHECKPOINT_VERSION || lines[1] === undefined || !/^\d+$/.test(lines[1])) return null;
  const count = Number(lines[1]);
  if (lines.length !== 2 + count) return null;
  const entries: string[][] = [];
  for (let i = 2; i < lines.length; i++) {
    const fields = (lines[i] as string).split(' ');
    if (fields.length !== fieldCount || fields.some((f) => f.length === 0)) return null;
    entries.push(fields);
  }
  return entries;
}

/** Writes entries (already joined into lines) atomically: temp file, fsync, rename, fsync the dir. */
export function writeCheckpointFile(file: string, lines: readonly string[]): void {
  writeFileAtomic(file, `${CHECKPOINT_VERSION}\n${lines.length}\n${lines.map((l) => `${l}\n`).join('')}`);
}
