import fs from 'node:fs';
import path from 'node:path';
import {
  CorruptRecordError,
  InvalidRecordError,
  LogClosedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  UnexpectedAppendOffsetError,
} from '../errors.js';
import { batchBuffers, takeBatchBuffer } from './batch-buffers.js';
import { CompressionCodec } from './compression.js';
import { type EpochEndOffset, LeaderEpochFileCache } from './leader-epoch-file-cache.js';
import type { LogConfig } from './log-config.js';
import {
  type BatchHeader,
  decodeRecordBatch,
  encodeRecordBatch,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  type RecordInput,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  validateRecordBatch,
} from './record-batch.js';
import { columnsOf, isColumns, type RecordColumns } from './record-columns.js';
import { LogSegment, type SegmentConfig, segmentFileName } from './segment.js';
import { throwAsStorageFault } from './storage-fault.js';

export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  /** Broker clock used for LogAppendTime topics, else -1 (Kafka's convention). */
  logAppendTime: number;
  maxTimestamp: number;
  sizeBytes: number;
}

/**
 * A batch encoded and checked by `prepare`, waiting for its offsets. It is appended once: its
 * buffer belongs to the log from then on (see batch-buffers.ts).
 */
export interface PreparedBatch {
  readonly batch: Buffer;
  readonly recordCount: number;
  readonly now: number;
}

export interface ReadResult {
  /** Whole stored batches, concatenated, exactly as on disk. Empty when nothing is readable yet. */
  records: Buffer;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
}

export interface ReadOptions {
  /** Exclusive upper bound; defaults to the high watermark (what consumers may read). */
  maxOffset?: number;
  /** Return the first batch even when larger than maxBytes (KIP-74). Default true. */
  minOneBatch?: boolean;
}

export interface OpenOptions {
  /** Offset below which everything was flushed before the last stop (recovery point checkpoint). */
  recoveryPoint: number;
  /** The log start offset DeleteRecords last set (`log-start-offset-checkpoint`); default 0. */
  logStartOffset?: number;
  /**
   * The high watermark checkpointed before the last stop (`replication-offset-checkpoint`),
   * clamped to [log start offset, log end offset]. Default 0, so the log start offset.
   */
  highWatermark?: number;
  /** The data dir carried a clean-shutdown marker: indexes can be trusted. */
  cleanShutdown: boolean;
  /** Told how long each fsync of this log took (metrics); storage itself imports nothing above it. */
  onFlush?: (durationMs: number) => void;
}

/**
 * A partition's log (Kafka's UnifiedLog): an ordered list of segments, the last one active.
 * Offsets are dense on append and never change afterwards; the log start offset only grows.
 * JavaScript runs one append at a time, so the check-then-write sequence needs no lock.
 */
export class PartitionLog {
  private segments: LogSegment[] = [];
  private closed = false;
  /** Records below this offset are committed (replicated to the ISR). Set by the broker layer. */
  highWatermark = 0;
  /** Offset below which everything is known flushed to disk. */
  recoveryPoint: number;
  private unflushedMessages = 0;
  private lastFlushMs = Date.now();
  /** Segments whose asynchronous fsync (after a roll) is in flight; never closed meanwhile. */
  private readonly flushing = new Map<LogSegment, Promise<void>>();
  /** Segments the cleaner is rewriting; retention leaves them alone meanwhile. */
  readonly cleaning = new Set<LogSegment>();
  /** Truncations so far: work begun before one (a cleaning pass, a roll's fsync) must not apply after it. */
  private truncationCount = 0;
  /** Which leader epoch started at which offset (`leader-epoch-checkpoint`). */
  readonly leaderEpochCache: LeaderEpochFileCache;
  /**
   * Kafka's log start offset may lie inside the first segment: DeleteRecords (KIP-107) moves it to
   * any offset up to the high watermark, and records below it are gone to readers even while the
   * segment holding them stays on disk (it goes once wholly below).
   */
  private startOffsetFloor = 0;

  private constructor(
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    private config: LogConfig,
    recoveryPoint: number,
    leaderEpochCache: LeaderEpochFileCache,
    private readonly onFlush: (durationMs: number) => void = () => {},
  ) {
    this.recoveryPoint = recoveryPoint;
    this.leaderEpochCache = leaderEpochCache;
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }

  private static segmentConfig(config: LogConfig): SegmentConfig {
    return { indexIntervalBytes: config.indexIntervalBytes, maxIndexBytes: config.segmentIndexBytes };
  }

  /**
   * Opens (or creates) the log in `dir`, recovering every segment at or after the recovery
   * point unless the last shutdown was clean. A torn or corrupt tail is truncated and every
   * later segment deleted, as Kafka does. Returns the bytes truncated.
   */
  static open(
    dir: string,
    topic: string,
    partition: number,
    config: LogConfig,
    opts: OpenOptions,
  ): { log: PartitionLog; truncatedBytes: number } {
    fs.mkdirSync(dir, { recursive: true });
    const { cache: epochs, loaded: epochsLoaded } = LeaderEpochFileCache.open(dir);
    const log = new PartitionLog(dir, topic, partition, config, opts.recoveryPoint, epochs, opts.onFlush);
    // Kafka's recovery: a recovered batch with an epoch newer than any known one starts that epoch.
    let epochsChanged = false;
    const learnEpoch = (header: BatchHeader) => {
      const epoch = header.partitionLeaderEpoch;
      if (epoch >= 0 && epoch > epochs.latestEpoch && epochs.assign(epoch, header.baseOffset, false))
        epochsChanged = true;
    };
    const segConfig = PartitionLog.segmentConfig(config);
    const files = fs.readdirSync(dir);
    // Leftovers of an interrupted compaction: the original .log is still whole; an index
    // may be missing, which makes the segment rebuild it below.
    for (const f of files)
      if (f.endsWith('.cleaned') || f.endsWith('.deleted')) fs.rmSync(path.join(dir, f), { force: true });
    const bases = files
      .filter((f) => /^\d{20}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 20)))
      .sort((a, b) => a - b);
    let truncatedBytes = 0;
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i] as number;
      const next = bases[i + 1];
      const haveIndexes =
        files.includes(segmentFileName(base, '.index')) && files.includes(segmentFileName(base, '.timeindex'));
      const unflushed = next === undefined || next > opts.recoveryPoint;
      const recover = !haveIndexes || (!opts.cleanShutdown && unflushed);
      const { segment, truncatedBytes: cut } = LogSegment.open(
        dir,
        base,
        segConfig,
        recover,
        epochsLoaded ? learnEpoch : undefined,
      );
      log.segments.push(segment);
      if (cut > 0) {
        truncatedBytes += cut;
        for (const later of bases.slice(i + 1)) LogSegment.deleteFiles(dir, later);
        break;
      }
    }
    if (log.segments.length === 0) log.segments.push(LogSegment.create(dir, 0, segConfig));
    for (const s of log.segments.slice(0, -1)) s.onBecomeInactive();
    log.recoveryPoint = Math.min(opts.cleanShutdown ? log.logEndOffset : opts.recoveryPoint, log.logEndOffset);
    log.startOffsetFloor = opts.logStartOffset ?? 0;
    if (!epochsLoaded) {
      // No (readable) checkpoint: rebuild the history from every batch's partition leader epoch,
      // and write it (once the log holds anything) so the next start reads it instead.
      for (const seg of log.segments) for (const { header } of seg.scan(0)) learnEpoch(header);
      epochsChanged = log.logEndOffset > log.logStartOffset;
    }
    // A checkpoint written before a crash may name epochs past what survived, or before retention.
    if (epochs.truncateFromEnd(log.logEndOffset, false)) epochsChanged = true;
    if (epochs.truncateFromStart(log.logStartOffset, false)) epochsChanged = true;
    if (epochsChanged) epochs.flush();
    log.updateHighWatermark(opts.highWatermark ?? 0);
    return { log, truncatedBytes };
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1] as LogSegment;
  }

  get logStartOffset(): number {
    const base = (this.segments[0] as LogSegment).baseOffset;
    // Never past the log end: a checkpoint may name an offset a torn tail lost.
    return this.startOffsetFloor > base ? Math.min(this.startOffsetFloor, this.logEndOffset) : base;
  }

  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.sizeBytes;
    return total;
  }

  /** Truncations so far; the cleaner abandons a pass that one overtook. */
  get truncations(): number {
    return this.truncationCount;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** A snapshot of the segments, oldest first (for the cleaner and tests). */
  segmentList(): readonly LogSegment[] {
    return this.segments.slice();
  }

  get logConfig(): LogConfig {
    return this.config;
  }

  /** New topic config, effective for the next append, roll, retention and cleaning pass. */
  updateConfig(config: LogConfig): void {
    this.config = config;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(this.name);
  }

  /**
   * Validates `records` against the topic's rules and encodes them as one batch, without
   * writing anything: a request touching several partitions prepares every batch first, so
   * a bad one (too large, no key on a compacted topic) fails the request before any append.
   */
  prepare(
    input: readonly RecordInput[] | RecordColumns,
    now: number,
    producerId?: number,
    rows?: ArrayLike<number>,
  ): PreparedBatch {
    return prepareBatch(this.topic, this.config, input, now, producerId, rows);
  }

  /**
   * Appends a prepared batch at the log end offset, stamping its base offset and leader
   * epoch (both outside the CRC, so the encoded bytes stay as they are). The bytes reach the
   * OS before this returns, so a process crash cannot lose them; fsync follows the flush
   * policy (`flush.messages`, `flush.ms`).
   */
  appendPrepared(prepared: PreparedBatch, leaderEpoch = -1): AppendInfo {
    this.ensureOpen();
    try {
      return this.appendPreparedOrThrow(prepared, leaderEpoch);
    } catch (err) {
      // A full or read-only disk refused the batch (see storage-fault.ts); the segment already cut
      // any part of it back, so the log ends after its last whole batch, as before the call.
      throwAsStorageFault(err, `to ${this.name}`);
    }
  }

  private appendPreparedOrThrow(prepared: PreparedBatch, leaderEpoch: number): AppendInfo {
    const { batch, now } = prepared;
    const baseOffset = this.logEndOffset;
    setBaseOffset(batch, baseOffset);
    setPartitionLeaderEpoch(batch, leaderEpoch);
    // A new leader epoch starts here (Kafka assigns it as the leader takes over; here at its first append).
    if (leaderEpoch >= 0 && leaderEpoch !== this.leaderEpochCache.latestEpoch)
      this.leaderEpochCache.assign(leaderEpoch, baseOffset);
    const header = readBatchHeader(batch);
    if (this.shouldRoll(batch.length, header.maxTimestamp, header.lastOffset, now)) this.roll();
    this.active.append(batch, header);
    this.unflushedMessages += prepared.recordCount;
    if (this.unflushedMessages >= this.config.flushMessages) this.flush(now);
    return {
      baseOffset,
      lastOffset: header.lastOffset,
      logAppendTime: this.config.logAppendTime ? now : -1,
      maxTimestamp: header.maxTimestamp,
      sizeBytes: batch.length,
    };
  }

  /**
   * Kafka's appendAsFollower: appends batches exactly as the leader wrote them (offsets, partition
   * leader epochs and bytes unchanged, nothing re-encoded). Every batch is checked first (size,
   * magic, CRC-32C) and the offsets must continue the log: the first batch starts at the log end
   * offset and each next one right after the previous one's last offset; otherwise nothing is
   * written (CorruptRecordError, UnexpectedAppendOffsetError). A partial batch at the end, as a
   * size-limited fetch can return, is ignored, as Kafka does; `sizeBytes` says what was taken.
   * Segments roll and indexes grow as for leader appends; `max.message.bytes` is not applied
   * (the leader accepted the batch). A batch whose epoch is new starts that epoch in the cache.
   */
  appendAsFollower(records: Buffer, now = Date.now()): AppendInfo {
    this.ensureOpen();
    try {
      return this.appendAsFollowerOrThrow(records, now);
    } catch (err) {
      // The batches written before the refused one stay: each is whole, and the log end offset
      // says where the next fetch resumes.
      throwAsStorageFault(err, `to ${this.name}`);
    }
  }

  private appendAsFollowerOrThrow(records: Buffer, now: number): AppendInfo {
    const headers: BatchHeader[] = [];
    let position = 0;
    let nextOffset = this.logEndOffset;
    let maxTimestamp = -1;
    while (position + RECORD_BATCH_OVERHEAD <= records.length) {
      const sizeBytes = records.readInt32BE(position + 8) + LOG_OVERHEAD;
      if (sizeBytes < RECORD_BATCH_OVERHEAD) {
        throw new CorruptRecordError(`${this.name}: batch at byte ${position} declares only ${sizeBytes} bytes`);
      }
      if (position + sizeBytes > records.length) break;
      const batch = records.subarray(position, position + sizeBytes);
      validateRecordBatch(batch);
      const header = readBatchHeader(batch);
      if (header.baseOffset !== nextOffset)
        throw new UnexpectedAppendOffsetError(this.name, header.baseOffset, nextOffset);
      headers.push(header);
      nextOffset = header.lastOffset + 1;
      if (header.maxTimestamp > maxTimestamp) maxTimestamp = header.maxTimestamp;
      position += sizeBytes;
    }
    const baseOffset = this.logEndOffset;
    position = 0;
    let recordCount = 0;
    for (const header of headers) {
      const epoch = header.partitionLeaderEpoch;
      if (epoch >= 0 && epoch !== this.leaderEpochCache.latestEpoch)
        this.leaderEpochCache.assign(epoch, header.baseOffset);
      if (this.shouldRoll(header.sizeBytes, header.maxTimestamp, header.lastOffset, now)) this.roll();
      this.active.write(records.subarray(position, position + header.sizeBytes), header);
      position += header.sizeBytes;
      recordCount += header.recordsCount;
    }
    this.unflushedMessages += recordCount;
    if (recordCount > 0 && this.unflushedMessages >= this.config.flushMessages) this.flush(now);
    return { baseOffset, lastOffset: nextOffset - 1, logAppendTime: -1, maxTimestamp, sizeBytes: position };
  }

  /**
   * Kafka's updateHighWatermark: sets the high watermark to `hw` clamped to [log start offset,
   * log end offset] and returns what it became. A follower takes min(leader's HW, own LEO) this way.
   */
  updateHighWatermark(hw: number): number {
    this.highWatermark = Math.min(Math.max(hw, this.logStartOffset), this.logEndOffset);
    return this.highWatermark;
  }

  /** OffsetsForLeaderEpoch for this log (see LeaderEpochFileCache.endOffsetFor). */
  endOffsetForEpoch(leaderEpoch: number): EpochEndOffset {
    return this.leaderEpochCache.endOffsetFor(leaderEpoch, this.logEndOffset);
  }

  /**
   * Kafka's UnifiedLog.truncateTo: the log ends below `targetOffset` afterwards. Segments whose
   * base offset is above it are deleted, and the one holding it loses the batch containing
   * `targetOffset` and everything after (a batch is never split, so a point inside a batch ends
   * the log at that batch's base offset, below the target; followers truncate at batch
   * boundaries, where the two agree). A target below the log start offset empties the log and
   * restarts it there (`truncateFullyAndStartAt`). The leader-epoch cache loses the epochs that
   * started at or after the new end; the high watermark and the recovery point are lowered to it
   * when above. Returns whether anything was removed.
   */
  truncateTo(targetOffset: number): boolean {
    this.ensureOpen();
    if (!Number.isSafeInteger(targetOffset) || targetOffset < 0) {
      throw new RangeError(`cannot truncate ${this.name} to offset ${targetOffset}`);
    }
    if (targetOffset >= this.logEndOffset) {
      // Kafka still drops an epoch this node started at the log end without writing to it.
      this.leaderEpochCache.truncateFromEnd(this.logEndOffset);
      return false;
    }
    if (targetOffset < this.logStartOffset) {
      this.truncateFullyAndStartAt(targetOffset);
      return true;
    }
    this.truncationCount++;
    let keep = this.segments.length;
    while (keep > 1 && (this.segments[keep - 1] as LogSegment).baseOffset > targetOffset) keep--;
    for (const seg of this.segments.splice(keep)) this.deleteSegment(seg);
    this.active.truncateTo(targetOffset);
    this.afterTruncation();
    return true;
  }

  /**
   * Kafka's truncateFullyAndStartAt: deletes every segment and starts an empty log at `newOffset`
   * (a follower far behind, or past a leader's retention). The leader-epoch cache is cleared.
   */
  truncateFullyAndStartAt(newOffset: number): void {
    this.ensureOpen();
    if (!Number.isSafeInteger(newOffset) || newOffset < 0) {
      throw new RangeError(`cannot restart ${this.name} at offset ${newOffset}`);
    }
    this.truncationCount++;
    const doomed = this.segments.splice(0);
    // Rename first: the new segment may take the same file names.
    for (const seg of doomed) seg.markDeleted();
    this.startOffsetFloor = newOffset;
    this.segments.push(LogSegment.create(this.dir, newOffset, PartitionLog.segmentConfig(this.config)));
    for (const seg of doomed) this.deleteSegment(seg);
    this.leaderEpochCache.clear();
    this.afterTruncation();
  }

  private afterTruncation(): void {
    const end = this.logEndOffset;
    this.leaderEpochCache.truncateFromEnd(end);
    if (this.recoveryPoint > end) this.recoveryPoint = end;
    this.updateHighWatermark(Math.min(this.highWatermark, end));
  }

  /**
   * Removes a segment the log no longer lists. A segment whose post-roll fsync is in flight keeps
   * its descriptor until that ends.
   */
  private deleteSegment(seg: LogSegment): void {
    seg.markDeleted();
    const pending = this.flushing.get(seg);
    if (pending) void pending.then(() => seg.delete());
    else seg.delete();
  }

  /** `prepare` then `appendPrepared`: one batch, one write. */
  append(records: readonly RecordInput[] | RecordColumns, now: number, leaderEpoch = -1): AppendInfo {
    this.ensureOpen();
    return this.appendPrepared(this.prepare(records, now), leaderEpoch);
  }

  /** Kafka's `shouldRoll`: size, age, full indexes, or a relative offset past int32. */
  private shouldRoll(sizeBytes: number, maxTimestamp: number, lastOffset: number, now: number): boolean {
    const seg = this.active;
    if (seg.sizeBytes === 0) return false;
    if (seg.sizeBytes > this.config.segmentBytes - sizeBytes) return true;
    const ageMs = seg.firstBatchTimestamp !== null ? maxTimestamp - seg.firstBatchTimestamp : now - seg.createdMs;
    if (ageMs > this.config.segmentMs) return true;
    if (seg.isFull) return true;
    return lastOffset - seg.baseOffset > 0x7fffffff;
  }

  /**
   * Starts a new active segment at the log end offset. The old one is fsynced in the
   * background; the recovery point moves past it once that completes.
   */
  roll(): LogSegment {
    this.ensureOpen();
    const old = this.active;
    if (old.sizeBytes === 0) return old;
    old.onBecomeInactive();
    // A full disk may refuse the new files: the old segment then stays the active one (it may pass
    // segment.bytes a little; a later roll succeeds once space returns).
    const next = LogSegment.create(this.dir, this.logEndOffset, PartitionLog.segmentConfig(this.config));
    this.segments.push(next);
    const newBase = next.baseOffset;
    const flushStartedMs = performance.now();
    const truncations = this.truncationCount;
    const done = old
      .flushAsync()
      .then(() => {
        this.onFlush(performance.now() - flushStartedMs);
        // After a truncation, offsets below newBase may be new, unflushed data.
        if (truncations === this.truncationCount && newBase > this.recoveryPoint) this.recoveryPoint = newBase;
      })
      .catch(() => {
        // The fd was closed by shutdown, which flushes synchronously itself.
      })
      .finally(() => this.flushing.delete(old));
    this.flushing.set(old, done);
    return next;
  }

  /** Index of the segment holding `offset` (largest base offset <= offset). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.segments[mid] as LogSegment).baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /**
   * Stored batches from `offset`, up to `maxBytes`, below `maxOffset` (the high watermark by
   * default). The first batch may start before `offset`: readers skip records below it, as
   * Kafka clients do. Out-of-range offsets throw OffsetOutOfRangeError.
   */
  read(offset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    this.ensureOpen();
    const maxOffset = opts.maxOffset ?? this.highWatermark;
    const result: ReadResult = {
      records: EMPTY,
      logStartOffset: this.logStartOffset,
      logEndOffset: this.logEndOffset,
      highWatermark: this.highWatermark,
    };
    if (offset < this.logStartOffset || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.logEndOffset);
    }
    if (offset >= maxOffset) return result;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const seg = this.segments[i] as LogSegment;
      const from = Math.max(offset, seg.baseOffset);
      if (from >= maxOffset) break;
      const records = seg.read(from, maxBytes, maxOffset, opts.minOneBatch ?? true);
      if (records !== null && records.length > 0) {
        result.records = records;
        return result;
      }
      if (records !== null) return result; // first batch larger than maxBytes, minOneBatch off
    }
    return result;
  }

  /**
   * The first record with timestamp >= `timestamp` below the high watermark, via the time
   * index (Kafka's ListOffsets by timestamp). Null when there is none.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.ensureOpen();
    const hw = this.highWatermark;
    for (const seg of this.segments) {
      if (seg.maxTimestampSoFar < timestamp) continue;
      const startOffset = Math.max(seg.timeIndex.lookup(timestamp), this.logStartOffset);
      const start = seg.translateOffset(startOffset);
      if (start === null) continue;
      for (const { position, header } of seg.scan(start.position)) {
        if (header.baseOffset >= hw) return null;
        if (header.maxTimestamp < timestamp) continue;
        for (const r of decodeRecordBatch(seg.readAt(position, header.sizeBytes))) {
          if (r.offset >= startOffset && r.offset < hw && r.timestamp >= timestamp)
            return { offset: r.offset, timestamp: r.timestamp };
        }
      }
    }
    return null;
  }

  /**
   * The first record below the high watermark with the largest timestamp, with that timestamp
   * (Kafka's ListOffsets MAX_TIMESTAMP, KIP-734); null when the log holds no committed record.
   * Segments are visited from the largest maxTimestampSoFar down, and only batches whose header
   * could beat the best found are decoded, so usually one segment's headers and one batch are read.
   */
  offsetOfMaxTimestamp(): { offset: number; timestamp: number } | null {
    this.ensureOpen();
    const hw = this.highWatermark;
    let best: { offset: number; timestamp: number } | null = null;
    const bySegmentMax = this.segments.filter((seg) => seg.baseOffset < hw && seg.sizeBytes > 0);
    bySegmentMax.sort((a, b) => b.maxTimestampSoFar - a.maxTimestampSoFar || a.baseOffset - b.baseOffset);
    for (const seg of bySegmentMax) {
      if (best !== null && seg.maxTimestampSoFar < best.timestamp) break;
      for (const { position, header } of seg.scan(0)) {
        if (header.baseOffset >= hw) break;
        if (header.lastOffset < this.logStartOffset) continue;
        // Visited in offset order within a segment, segments of equal maxima too: a tie never wins later.
        if (best !== null && header.maxTimestamp <= best.timestamp) continue;
        for (const r of decodeRecordBatch(seg.readAt(position, header.sizeBytes))) {
          if (r.offset < this.logStartOffset || r.offset >= hw) continue;
          const better =
            best === null || r.timestamp > best.timestamp || (r.timestamp === best.timestamp && r.offset < best.offset);
          if (better) best = { offset: r.offset, timestamp: r.timestamp };
        }
      }
    }
    return best;
  }

  /**
   * Headers of the batches that may hold a record with timestamp >= `timestamp`, oldest first,
   * starting in each segment at the time index's lower bound (not on the produce path: the broker
   * reads producer ids from them once per partition when first asked about an idempotency key).
   */
  *batchHeadersSince(timestamp: number): Generator<BatchHeader> {
    this.ensureOpen();
    for (const seg of this.segments.slice()) {
      if (seg.maxTimestampSoFar < timestamp) continue;
      const start = seg.translateOffset(Math.max(seg.timeIndex.lookup(timestamp), this.logStartOffset));
      if (start === null) continue;
      for (const { header } of seg.scan(start.position)) yield header;
    }
  }

  /**
   * Headers of the batches in about the last `maxBytes` of the log (from the offset index entry at
   * or before that point) that may hold a record with timestamp >= `timestamp`, oldest first: what
   * the broker rebuilds its producers' state from (Kafka reads its producer snapshots and the log
   * after them; here the tail alone, bounded, so a long log costs no longer to open).
   */
  *tailBatchHeaders(maxBytes: number, timestamp: number): Generator<BatchHeader> {
    this.ensureOpen();
    const segments = this.segments.slice();
    let first = segments.length - 1;
    let firstPosition = 0;
    let budget = maxBytes;
    for (; first >= 0; first--) {
      const seg = segments[first] as LogSegment;
      if (seg.sizeBytes >= budget) {
        firstPosition = seg.offsetIndex.lookupPosition(seg.sizeBytes - budget).position;
        break;
      }
      budget -= seg.sizeBytes;
    }
    for (let i = Math.max(first, 0); i < segments.length; i++) {
      const seg = segments[i] as LogSegment;
      if (seg.maxTimestampSoFar < timestamp) continue;
      const since = seg.translateOffset(Math.max(seg.timeIndex.lookup(timestamp), this.logStartOffset));
      if (since === null) continue;
      const from = i === first ? Math.max(firstPosition, since.position) : since.position;
      for (const { header } of seg.scan(from)) yield header;
    }
  }

  /**
   * Kafka's delete retention: removes whole segments, oldest first, while they are older than
   * `retention.ms` or the log is larger than `retention.bytes`, never past the high watermark.
   * The log start offset moves to the first remaining segment. Segments wholly below a log start
   * offset DeleteRecords set go whatever the cleanup policy (Kafka's
   * deleteLogStartOffsetBreachedSegments). Returns segments deleted.
   */
  deleteOldSegments(now: number): number {
    if (this.closed) return 0;
    const byRetention = this.config.cleanupPolicyDelete;
    const { retentionMs, retentionBytes } = this.config;
    let sizeOverBytes = byRetention && retentionBytes >= 0 ? this.sizeBytes - retentionBytes : Number.NEGATIVE_INFINITY;
    let count = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i] as LogSegment;
      if (seg === this.active && seg.sizeBytes === 0) break;
      if (this.flushing.has(seg) || this.cleaning.has(seg)) break;
      const upperOffset = (this.segments[i + 1] as LogSegment | undefined)?.baseOffset ?? seg.nextOffset;
      if (upperOffset > this.highWatermark) break;
      const expired = byRetention && retentionMs >= 0 && now - seg.largestTimestamp > retentionMs;
      const overSize = sizeOverBytes - seg.sizeBytes >= 0;
      const belowStart = upperOffset <= this.startOffsetFloor;
      if (!expired && !overSize && !belowStart) break;
      sizeOverBytes -= seg.sizeBytes;
      count++;
    }
    if (count === 0) return 0;
    // Every segment goes: start an empty active one at the log end first, as Kafka does.
    if (count === this.segments.length) this.roll();
    for (const seg of this.segments.splice(0, count)) this.deleteSegment(seg);
    // Kafka moves the epoch history's start with the log start offset.
    this.leaderEpochCache.truncateFromStart(this.logStartOffset);
    return count;
  }

  /**
   * Kafka's DeleteRecords (KIP-107, UnifiedLog.maybeIncrementLogStartOffset): the log starts at
   * `offset` from now on, which may not pass the high watermark (OFFSET_OUT_OF_RANGE: records not
   * yet committed cannot be deleted). Segments wholly below it are deleted at once, as retention
   * would; a segment whose fsync or cleaning is in flight stays until the next retention pass, its
   * records already unreadable. A lower offset changes nothing. Returns the log start offset.
   */
  advanceLogStartOffset(offset: number): number {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.highWatermark) {
      throw new OffsetOutOfRangeError(offset, this.logStartOffset, this.highWatermark);
    }
    if (offset <= this.logStartOffset) return this.logStartOffset;
    this.startOffsetFloor = offset;
    let count = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i] as LogSegment;
      if (seg === this.active && seg.sizeBytes === 0) break;
      if (this.flushing.has(seg) || this.cleaning.has(seg)) break;
      const upperOffset = (this.segments[i + 1] as LogSegment | undefined)?.baseOffset ?? seg.nextOffset;
      if (upperOffset > offset) break;
      count++;
    }
    if (count === this.segments.length) this.roll();
    for (const seg of this.segments.splice(0, count)) this.deleteSegment(seg);
    this.leaderEpochCache.truncateFromStart(this.logStartOffset);
    return this.logStartOffset;
  }

  /** fsyncs every segment and advances the recovery point to the log end offset. */
  flush(now = Date.now()): void {
    if (this.closed) return;
    const startedMs = performance.now();
    for (const seg of this.segments) if (seg.nextOffset > this.recoveryPoint || seg === this.active) seg.flush();
    // An epoch checkpoint a full disk refused earlier (see LeaderEpochFileCache.flush).
    if (this.leaderEpochCache.flushPending) this.leaderEpochCache.flush();
    this.onFlush(performance.now() - startedMs);
    this.recoveryPoint = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = now;
  }

  /** `flush.ms`: called by the log manager's flush loop. */
  maybeFlushByTime(now: number): void {
    if (this.unflushedMessages > 0 && now - this.lastFlushMs >= this.config.flushMs) this.flush(now);
  }

  /** Opens an inactive segment afresh from disk, rebuilding its indexes (after the cleaner swaps a file in). */
  reopenSegment(baseOffset: number): LogSegment {
    const { segment } = LogSegment.open(this.dir, baseOffset, PartitionLog.segmentConfig(this.config), true);
    segment.onBecomeInactive();
    return segment;
  }

  /** Swaps a cleaned copy in for `old` (same base offset); used by the log cleaner. */
  replaceSegment(old: LogSegment, cleaned: LogSegment): void {
    const i = this.segments.indexOf(old);
    if (i < 0 || i === this.segments.length - 1) throw new Error('only a live, inactive segment can be replaced');
    this.segments[i] = cleaned;
  }

  /** Waits for background fsyncs, flushes and closes every file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.flushing.values());
    this.flush();
    this.closed = true;
    for (const seg of this.segments) seg.close();
  }

  /** Closes the log and removes its directory. */
  async delete(): Promise<void> {
    if (!this.closed) {
      await Promise.all(this.flushing.values());
      this.closed = true;
      for (const seg of this.segments) seg.close();
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * `PartitionLog.prepare` for a log that may not exist yet: it needs only the topic's config, so a
 * produce that auto-creates a topic checks its records against the new topic's config first and
 * creates nothing when they fail.
 */
export function prepareBatch(
  topic: string,
  config: LogConfig,
  input: readonly RecordInput[] | RecordColumns,
  now: number,
  producerId?: number,
  rows?: ArrayLike<number>,
): PreparedBatch {
  const records = isColumns(input) ? input : columnsOf(input);
  const count = rows ? rows.length : records.count;
  if (config.cleanupPolicyCompact) {
    const keyLengths = records.keys.lengths;
    for (let k = 0; k < count; k++) {
      if ((keyLengths[rows ? (rows[k] as number) : k] as number) < 0)
        throw new InvalidRecordError(`Compacted topic ${topic} cannot accept a record without a key.`);
    }
  }
  const batch = encodeRecordBatch(records, {
    baseOffset: 0,
    allocate: takeBatchBuffer,
    compression: config.compression ?? CompressionCodec.None,
    timestampType: config.logAppendTime ? 'LogAppendTime' : 'CreateTime',
    logAppendTime: now,
    producerId,
    rows,
  });
  if (batch.length > config.maxMessageBytes) {
    batchBuffers.give(batch);
    throw new RecordTooLargeError(batch.length, config.maxMessageBytes);
  }
  return { batch, recordCount: count, now };
}

/**
 * One batch encoded elsewhere (a produce another node forwarded to this leader) as a PreparedBatch:
 * exactly one magic-2 batch whose CRC-32C holds, within `max.message.bytes`. Its base offset and
 * leader epoch are stamped at the append (outside the CRC); its bytes are not re-encoded.
 */
export function preparedFromEncoded(config: LogConfig, batch: Buffer, now: number): PreparedBatch {
  validateRecordBatch(batch);
  if (batch.length > config.maxMessageBytes) throw new RecordTooLargeError(batch.length, config.maxMessageBytes);
  const header = readBatchHeader(batch);
  if (header.recordsCount !== header.lastOffsetDelta + 1 || header.recordsCount < 1) {
    throw new CorruptRecordError(
      `record batch counts ${header.recordsCount} records but spans ${header.lastOffsetDelta + 1} offsets`,
    );
  }
  return { batch, recordCount: header.recordsCount, now };
}
