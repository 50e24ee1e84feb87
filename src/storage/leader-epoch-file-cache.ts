import path from 'node:path';
import { readCheckpointFile, writeCheckpointFile } from './checkpoint-file.js';
import { storageFaultOf } from './storage-fault.js';

/** Kafka's name for the file, in the partition's directory. */
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;
/** Most epochs one partition may list; every leader change adds one, so this is decades of elections. */
const MAX_EPOCH_ENTRIES = 1_000_000;

export interface EpochEntry {
  readonly epoch: number;
  /** The first offset the leader of this epoch wrote. */
  readonly startOffset: number;
}

/** What OffsetsForLeaderEpoch answers for one partition. */
export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

/**
 * A partition's leader-epoch history (Kafka's LeaderEpochFileCache, KIP-101/KIP-279): which epoch
 * started at which offset, kept in `leader-epoch-checkpoint`. Epochs and start offsets both
 * strictly increase from one entry to the next. Every change is written through synchronously
 * and atomically (Kafka defers the write after a truncation; a change here is rare enough not to).
 * A stale file is harmless: opening the log truncates it to the log's bounds again.
 */
export class LeaderEpochFileCache {
  /** Ascending by epoch (and so by start offset). */
  private entries: EpochEntry[];
  private pending = false;

  private constructor(
    readonly file: string,
    entries: EpochEntry[],
  ) {
    this.entries = entries;
  }

  /**
   * Reads `leader-epoch-checkpoint` from `dir`. `loaded` is false when the file is missing or
   * damaged: the caller then rebuilds the history from the batches' partition leader epochs.
   */
  static open(dir: string): { cache: LeaderEpochFileCache; loaded: boolean } {
    const file = path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const cache = new LeaderEpochFileCache(file, []);
    const fields = readCheckpointFile(file, 2);
    if (fields === null || fields.length > MAX_EPOCH_ENTRIES) return { cache, loaded: false };
    for (const [epochText, offsetText] of fields) {
      const epoch = Number(epochText);
      const startOffset = Number(offsetText);
      const valid =
        /^\d+$/.test(epochText as string) &&
        /^\d+$/.test(offsetText as string) &&
        epoch <= 0x7fffffff &&
        Number.isSafeInteger(startOffset);
      if (!valid) return { cache: new LeaderEpochFileCache(file, []), loaded: false };
      cache.assignEntry(epoch, startOffset);
    }
    return { cache, loaded: true };
  }

  /** Every entry, oldest first (a copy). */
  epochEntries(): EpochEntry[] {
    return this.entries.slice();
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** The newest epoch, or UNDEFINED_EPOCH when none is known. O(1): the leader checks it per append. */
  get latestEpoch(): number {
    const last = this.entries[this.entries.length - 1];
    return last === undefined ? UNDEFINED_EPOCH : last.epoch;
  }

  latestEntry(): EpochEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  earliestEntry(): EpochEntry | undefined {
    return this.entries[0];
  }

  /**
   * Records that `epoch` started at `startOffset` (Kafka's assign). A repeat of the latest epoch
   * at a later offset changes nothing. Entries that would break monotonicity (an epoch or a
   * start offset at or above the new one's) are removed first, as Kafka does: the new leader's
   * word wins. Writes the file when anything changed; `flush=false` leaves that to the caller.
   */
  assign(epoch: number, startOffset: number, flush = true): boolean {
    if (
      !Number.isInteger(epoch) ||
      epoch < 0 ||
      epoch > 0x7fffffff ||
      !Number.isSafeInteger(startOffset) ||
      startOffset < 0
    ) {
      throw new RangeError(`invalid leader epoch entry (epoch ${epoch}, start offset ${startOffset})`);
    }
    if (!this.assignEntry(epoch, startOffset)) return false;
    if (flush) this.flush();
    return true;
  }

  private assignEntry(epoch: number, startOffset: number): boolean {
    const latest = this.latestEntry();
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false;
    let keep = this.entries.length;
    while (keep > 0) {
      const e = this.entries[keep - 1] as EpochEntry;
      if (e.epoch < epoch && e.startOffset < startOffset) break;
      keep--;
    }
    this.entries.length = keep;
    if (this.entries.length >= MAX_EPOCH_ENTRIES) this.entries.shift();
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /**
   * Kafka's endOffsetFor, which OffsetsForLeaderEpoch answers with: the largest known epoch <=
   * `requestedEpoch` and the start offset of the first epoch after it, or `logEndOffset` when
   * the latest epoch is asked for. An epoch older than every known one answers itself with the
   * first known start offset (its data is gone; the follower replicates from there). UNDEFINED
   * for UNDEFINED_EPOCH, an empty cache, or an epoch newer than the latest.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedAnswer;
    if (this.entries.length > 0 && this.latestEpoch === requestedEpoch) {
      return { epoch: requestedEpoch, endOffset: logEndOffset };
    }
    // The first entry with a larger epoch, and the one before it (the floor, if any).
    let higher = 0;
    while (higher < this.entries.length && (this.entries[higher] as EpochEntry).epoch <= requestedEpoch) higher++;
    const higherEntry = this.entries[higher];
    if (higherEntry === undefined) return undefinedAnswer;
    const floorEntry = this.entries[higher - 1];
    if (floorEntry === undefined) return { epoch: requestedEpoch, endOffset: higherEntry.startOffset };
    return { epoch: floorEntry.epoch, endOffset: higherEntry.startOffset };
  }

  /** The epoch of the leader that wrote `offset`, or UNDEFINED_EPOCH when it precedes every entry. */
  epochForOffset(offset: number): number {
    let found = UNDEFINED_EPOCH;
    for (const e of this.entries) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /**
   * Removes every entry starting at or after `endOffset`: the log was truncated there (Kafka's
   * truncateFromEnd). Entries must not outlive the offsets they describe, or a later leader
   * would be told of an epoch this log no longer holds.
   */
  truncateFromEnd(endOffset: number, flush = true): boolean {
    const before = this.entries.length;
    while (this.entries.length > 0 && (this.entries.at(-1) as EpochEntry).startOffset >= endOffset) this.entries.pop();
    if (this.entries.length === before) return false;
    if (flush) this.flush();
    return true;
  }

  /**
   * The log now starts at `startOffset` (retention, or a follower adopting the leader's start):
   * entries starting at or before it collapse into one, the last of them, moved to start there
   * (Kafka's truncateFromStart; an entry exactly at `startOffset` stays as it is).
   */
  truncateFromStart(startOffset: number, flush = true): boolean {
    let removed = 0;
    while (removed < this.entries.length && (this.entries[removed] as EpochEntry).startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const last = this.entries[removed - 1] as EpochEntry;
    if (removed === 1 && last.startOffset === startOffset) return false;
    this.entries.splice(0, removed, { epoch: last.epoch, startOffset });
    if (flush) this.flush();
    return true;
  }

  /** Forgets every entry and writes the empty file (Kafka's clearAndFlush). */
  clear(): void {
    this.entries = [];
    this.flush();
  }

  /**
   * Writes the checkpoint: `0`, the count, then `epoch startOffset` lines. A full or read-only disk
   * leaves the older file (whole: the write is atomic) and `flushPending` set; the log's next flush
   * writes it again. Meanwhile the cache in memory answers, and an open after a crash rebuilds the
   * newest epochs from the recovered batches.
   */
  flush(): void {
    try {
      writeCheckpointFile(
        this.file,
        this.entries.map((e) => `${e.epoch} ${e.startOffset}`),
      );
      this.pending = false;
    } catch (err) {
      if (storageFaultOf(err, this.file) === undefined) throw err;
      this.pending = true;
    }
  }

  /** The last flush was refused by the disk: the file is older than the cache. */
  get flushPending(): boolean {
    return this.pending;
  }
}
