import fs from 'node:fs';
import { writeFileAtomic } from './atomic-file.js';

/**
 * Kafka's offset checkpoint text format (recovery-point-offset-checkpoint and friends):
 * line 1 the version `0`, line 2 the entry count, then `topic partition offset` per line.
 * Topic names cannot hold spaces, so the format needs no escaping.
 */
export function readOffsetCheckpoint(file: string): Map<string, number> {
  const out = new Map<string, number>();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  const lines = text.split('\n').filter((l) => l.length > 0);
  if (lines[0] !== '0') return out; // unknown version: start from scratch (full recovery is safe)
  const count = Number(lines[1]);
  for (const line of lines.slice(2, 2 + count)) {
    const [topic, partition, offset] = line.split(' ');
    if (topic === undefined || partition === undefined || offset === undefined) continue;
    const n = Number(offset);
    if (Number.isSafeInteger(n)) out.set(`${topic}-${partition}`, n);
  }
  return out;
}

export function writeOffsetCheckpoint(
  file: string,
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): void {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  writeFileAtomic(file, `0\n${lines.length}\n${lines.join('\n')}${lines.length ? '\n' : ''}`);
}
