import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file.js';

/**
 * Kafka's offset checkpoints in the root of a data dir (OffsetCheckpointFile):
 * `recovery-point-offset-checkpoint` and `replication-offset-checkpoint` (the high watermarks),
 * one `topic partition offset` line per partition in the checkpoint text format
 * (checkpoint-file.ts). Topic names cannot hold spaces, so the format needs no escaping.
 * A missing or damaged file reads as empty: every offset then starts from its safe default
 * (full recovery, a high watermark at the log start offset).
 */
export function readOffsetCheckpoint(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [topic, partition, offset] of readCheckpointFile(file, 3) ?? []) {
    const n = Number(offset);
    if (/^\d+$/.test(partition as string) && Number.isSafeInteger(n) && n >= 0) out.set(`${topic}-${partition}`, n);
  }
  return out;
}

export function writeOffsetCheckpoint(
  file: string,
  entries: Iterable<{ topic: string; partition: number; offset: number }>,
): void {
  const lines: string[] = [];
  for (const e of entries) lines.push(`${e.topic} ${e.partition} ${e.offset}`);
  writeCheckpointFile(file, lines);
}
