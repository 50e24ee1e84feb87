import fs from 'node:fs';
import path from 'node:path';
import { CorruptRecordError } from '../errors.js';
import { batchBuffers } from './batch-buffers.js';
import { readInt64BE } from './int64.js';
import { OffsetIndex } from './offset-index.js';
import {
  type BatchHeader,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  validateRecordBatch,
} from './record-batch.js';
import { throwAsStorageFault } from './storage-fault.js';
import { TimeIndex } from './time-index.js';

export interface SegmentConfig {
  /** Bytes of log between sparse index entries (`index.interval.bytes`). */
  indexIntervalBytes: number;
  /** Largest an index file may grow (`segment.index.bytes`); a full index rolls the segment. */
  maxIndexBytes: number;
}

/** A batch's position and header, as found by a scan. */
export interface BatchPosition {
  position: number;
  header: BatchHeader;
}

/** Bytes read per syscall when scanning batch headers. */
const SCAN_CHUNK_BYTES = 64 * 1024;
/** Batches are read whole during recovery; this bounds one chunk's buffer unless a batch is larger. */
const RECOVERY_CHUNK_BYTES = 1024 * 1024;

const SEGMENT_SUFFIXES = ['.log', '.index', '.timeindex'] as const;
/** Files of a segment retention has removed from the log, waiting to be unlinked. */
const DELETED_SUFFIX = '.deleted';

/** `<20-digit base offset><suffix>`, Kafka's segment file names. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/**
 * One segment of a partition log (Kafka's LogSegment): the `.log` of record batches and its
 * two sparse indexes. Appends are positional writes that reach the OS page cache before they
 * return; fsync is the caller's decision (flush policy). Not safe for concurrent appends: the
 * owning PartitionLog serialises them.
 */
export class LogSegment {
  private logFd: number;
  /** Bytes in the `.log`. */
  sizeBytes = 0;
  /** Offset after this segment's last batch: the log end offset while it is active. */
  nextOffset: number;
  maxTimestampSoFar = -1;
  offsetOfMaxTimestampSoFar: number;
  /** maxTimestamp of the first batch, for time-based rolling; null when empty. */
  firstBatchTimestamp: number | null = null;
  private bytesSinceLastIndexEntry = 0;
  /** When the segment was created, or last emptied by a truncation (time-based rolling). */
  createdMs: number;
  /** Set by `markDeleted`: the files now carry the `.deleted` suffix. */
  private markedDeleted = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly config: SegmentConfig,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
  ) {
    this.logFd = fs.openSync(this.logPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
    this.createdMs = fs.fstatSync(this.logFd).birthtimeMs || Date.now();
  }

  get logPath(): string {
    return path.join(this.dir, segmentFileName(this.baseOffset, '.log'));
  }

  static create(dir: string, baseOffset: number, config: SegmentConfig): LogSegment {
    LogSegment.deleteFiles(dir, baseOffset);
    return LogSegment.openFiles(dir, baseOffset, config);
  }

  /** Removes a segment's files without opening them. */
  static deleteFiles(dir: string, baseOffset: number): void {
    for (const suffix of SEGMENT_SUFFIXES)
      fs.rmSync(path.join(dir, segmentFileName(baseOffset, suffix)), { force: true });
  }

  private static openFiles(dir: string, baseOffset: number, config: SegmentConfig): LogSegment {
    const offsetIndex = new OffsetIndex(
      path.join(dir, segmentFileName(baseOffset, '.index')),
      baseOffset,
      config.maxIndexBytes,
    );
    let timeIndex: TimeIndex | undefined;
    try {
      timeIndex = new TimeIndex(
        path.join(dir, segmentFileName(baseOffset, '.timeindex')),
        baseOffset,
        config.maxIndexBytes,
      );
      return new LogSegment(dir, baseOffset, config, offsetIndex, timeIndex);
    } catch (err) {
      // A full or read-only disk can refuse the second or third file: no descriptor may leak.
      offsetIndex.close();
      timeIndex?.close();
      throw err;
    }
  }

  /**
   * Opens an existing segment. With `recover`, every batch is validated and the indexes are
   * rebuilt (`truncatedBytes` says how much of a damaged tail was cut). Without it, the
   * indexes are trusted after a sanity check and only the tail after the last index entry
   * is scanned; if anything disagrees, the segment is recovered after all.
   */
  static open(
    dir: string,
    baseOffset: number,
    config: SegmentConfig,
    recover: boolean,
    onRecoveredBatch?: (header: BatchHeader) => void,
  ): { segment: LogSegment; truncatedBytes: number } {
    const segment = LogSegment.openFiles(dir, baseOffset, config);
    segment.sizeBytes = fs.fstatSync(segment.logFd).size;
    if (!recover && segment.loadTrusted()) return { segment, truncatedBytes: 0 };
    return { segment, truncatedBytes: segment.recover(onRecoveredBatch) };
  }

  /** Loads indexes and scans the short tail after the last index entry. False if anything is off. */
  private loadTrusted(): boolean {
    if (!this.offsetIndex.load(this.sizeBytes)) return false;
    const last = this.offsetIndex.lastEntry();
    let position = last.position;
    let prevLastOffset = this.offsetIndex.entries > 0 ? last.offset - 1 : this.baseOffset - 1;
    try {
      for (const { position: p, header } of this.scan(position)) {
        if (header.sizeBytes < RECORD_BATCH_OVERHEAD || p + header.sizeBytes > this.sizeBytes) return false;
        if (header.baseOffset <= prevLastOffset && p !== last.position) return false;
        if (p === last.position && this.offsetIndex.entries > 0 && header.lastOffset !== last.offset) return false;
        prevLastOffset = header.lastOffset;
        this.trackBatch(header);
        position = p + header.sizeBytes;
      }
    } catch {
      return false;
    }
    if (position !== this.sizeBytes) return false;
    this.bytesSinceLastIndexEntry = this.sizeBytes - last.position;
    if (!this.timeIndex.load(this.nextOffset)) return false;
    const lastTime = this.timeIndex.lastEntry();
    if (lastTime !== null && lastTime.timestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = lastTime.timestamp;
      this.offsetOfMaxTimestampSoFar = lastTime.offset;
    }
    if (this.sizeBytes > 0) this.firstBatchTimestamp = this.readHeaderAt(0).maxTimestamp;
    return true;
  }

  private trackBatch(header: BatchHeader): void {
    if (header.maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = header.maxTimestamp;
      this.offsetOfMaxTimestampSoFar = header.lastOffset;
    }
    this.nextOffset = header.lastOffset + 1;
  }

  /**
   * Validates every batch from the start (length, magic, CRC, increasing offsets), rebuilds
   * both indexes, and truncates the log after the last whole valid batch. Returns the
   * number of bytes truncated. `onBatch` sees every valid batch kept (the leader-epoch cache
   * takes the epochs it does not know from them, as Kafka's recovery does).
   */
  recover(onBatch?: (header: BatchHeader) => void): number {
    const fileSize = fs.fstatSync(this.logFd).size;
    this.offsetIndex.beginRebuild();
    this.timeIndex.beginRebuild();
    this.nextOffset = this.baseOffset;
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.firstBatchTimestamp = null;
    this.bytesSinceLastIndexEntry = 0;
    this.sizeBytes = 0;

    let position = 0;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = 0;
    for (;;) {
      if (position + RECORD_BATCH_OVERHEAD > fileSize) break;
      if (position + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
        chunk = this.readAt(position, Math.min(RECOVERY_CHUNK_BYTES, fileSize - position));
        chunkStart = position;
      }
      const declared = chunk.readInt32BE(position - chunkStart + 8) + LOG_OVERHEAD;
      // A length that runs past the end of the file is a torn write: stop there, as Kafka does.
      if (declared < RECORD_BATCH_OVERHEAD || position + declared > fileSize) break;
      if (position + declared > chunkStart + chunk.length) {
        chunk = this.readAt(position, Math.max(declared, Math.min(RECOVERY_CHUNK_BYTES, fileSize - position)));
        chunkStart = position;
      }
      const batch = chunk.subarray(position - chunkStart, position - chunkStart + declared);
      try {
        validateRecordBatch(batch);
      } catch (err) {
        if (err instanceof CorruptRecordError) break;
        throw err;
      }
      const header = readBatchHeader(batch);
      if (header.baseOffset < this.nextOffset || header.lastOffset - this.baseOffset > 0x7fffffff) break;
      this.indexBatch(header, position);
      onBatch?.(header);
      position += declared;
      this.sizeBytes = position;
    }
    const truncated = fileSize - position;
    if (truncated > 0) fs.ftruncateSync(this.logFd, position);
    this.offsetIndex.endRebuild();
    this.timeIndex.endRebuild();
    return truncated;
  }

  /** The sparse-index rule (Kafka LogSegment.append), shared by append and recovery. */
  private indexBatch(header: BatchHeader, position: number): void {
    if (this.firstBatchTimestamp === null) this.firstBatchTimestamp = header.maxTimestamp;
    this.trackBatch(header);
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(header.lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += header.sizeBytes;
  }

  /**
   * Appends one whole, validated batch whose offsets follow `nextOffset`. The buffer is the
   * segment's from here: once written, memory from batch-buffers.ts goes back there.
   */
  append(batch: Buffer, header: BatchHeader): void {
    this.write(batch, header);
    batchBuffers.give(batch);
  }

  /**
   * Appends one whole, validated batch the caller keeps (a follower's fetched bytes): written
   * as given, and never handed to batch-buffers.ts.
   */
  write(batch: Buffer, header: BatchHeader): void {
    if (header.baseOffset < this.nextOffset) {
      throw new Error(`append at offset ${header.baseOffset} below segment end ${this.nextOffset}`);
    }
    const position = this.sizeBytes;
    let written = 0;
    try {
      while (written < batch.length) {
        written += fs.writeSync(this.logFd, batch, written, batch.length - written, position + written);
      }
    } catch (err) {
      // A full disk can take part of the batch before it refuses the rest: cut the file back to the
      // last whole batch, so no torn batch waits in the log for recovery or a reader to find.
      if (written > 0) this.cutBackTo(position);
      throwAsStorageFault(err, this.logPath);
    }
    this.sizeBytes += batch.length;
    this.indexBatch(header, position);
  }

  /**
   * Best effort after a failed write: shrinking a file needs no free space, but a read-only
   * filesystem refuses it too; then the bytes past `sizeBytes` stay until the next append overwrites
   * them or recovery truncates them (every read and scan stops at `sizeBytes`).
   */
  private cutBackTo(position: number): void {
    try {
      fs.ftruncateSync(this.logFd, position);
    } catch {
      // see above: nothing past sizeBytes is ever read
    }
  }

  /**
   * Kafka's LogSegment.truncateTo: removes the batch holding `offset` and everything after it
   * (a truncation point inside a batch takes the whole batch: a batch is never split), trims
   * both indexes to what is left, and recomputes the segment's end and newest timestamp.
   * Returns the bytes removed. The segment's end becomes the lower of `offset` and the removed
   * batch's base offset, so it never exceeds `offset`.
   */
  truncateTo(offset: number): number {
    const found = this.translateOffset(offset);
    if (found === null) return 0;
    const removedBytes = this.sizeBytes - found.position;
    fs.ftruncateSync(this.logFd, found.position);
    this.sizeBytes = found.position;
    this.nextOffset = Math.min(offset, found.header.baseOffset);
    // Index entries name the last offset of a batch; every kept batch ends below nextOffset.
    this.offsetIndex.truncateTo(this.nextOffset);
    this.timeIndex.truncateTo(this.nextOffset);
    // The same sparse-index spacing a rebuild from the log would give.
    this.bytesSinceLastIndexEntry = this.sizeBytes - this.offsetIndex.lastEntry().position;
    // The newest timestamp left: the time index's last entry, then the batches after it.
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    let from = 0;
    const lastTime = this.timeIndex.lastEntry();
    if (lastTime !== null) {
      this.maxTimestampSoFar = lastTime.timestamp;
      this.offsetOfMaxTimestampSoFar = lastTime.offset;
      from = this.translateOffset(lastTime.offset + 1)?.position ?? this.sizeBytes;
    }
    for (const { header } of this.scan(from)) {
      if (header.maxTimestamp > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = header.maxTimestamp;
        this.offsetOfMaxTimestampSoFar = header.lastOffset;
      }
    }
    if (this.sizeBytes === 0) {
      this.firstBatchTimestamp = null;
      this.createdMs = Date.now();
    }
    return removedBytes;
  }

  /** Called when the segment stops being active: Kafka forces a final time-index entry. */
  onBecomeInactive(): void {
    if (this.maxTimestampSoFar >= 0 && !this.timeIndex.isFull) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
    }
    this.offsetIndex.writePending();
    this.timeIndex.writePending();
  }

  get isFull(): boolean {
    return this.offsetIndex.isFull || this.timeIndex.isFull;
  }

  /** Newest record timestamp, or the file's mtime when there is none (Kafka's retention rule). */
  get largestTimestamp(): number {
    if (this.maxTimestampSoFar >= 0) return this.maxTimestampSoFar;
    return fs.fstatSync(this.logFd).mtimeMs;
  }

  /** Up to `length` bytes of the log from `position` (fewer at the end of the file). */
  readAt(position: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let read = 0;
    while (read < length) {
      const n = fs.readSync(this.logFd, buf, read, length - read, position + read);
      if (n === 0) break;
      read += n;
    }
    return read === length ? buf : buf.subarray(0, read);
  }

  private readHeaderAt(position: number): BatchHeader {
    return readBatchHeader(this.readAt(position, RECORD_BATCH_OVERHEAD));
  }

  /** Batch headers from `position` to the end of the log, read a chunk at a time. */
  *scan(position: number, endPosition = this.sizeBytes): Generator<BatchPosition> {
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = position;
    while (position + RECORD_BATCH_OVERHEAD <= endPosition) {
      if (position + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
        chunk = this.readAt(position, Math.min(SCAN_CHUNK_BYTES, endPosition - position));
        chunkStart = position;
      }
      const header = readBatchHeader(chunk, position - chunkStart);
      if (header.sizeBytes < RECORD_BATCH_OVERHEAD) {
        throw new CorruptRecordError(
          `batch at position ${position} of ${this.logPath} declares ${header.sizeBytes} bytes`,
        );
      }
      yield { position, header };
      position += header.sizeBytes;
    }
  }

  /** The first batch whose last offset is >= `offset`, found through the offset index. */
  translateOffset(offset: number): BatchPosition | null {
    const start = this.offsetIndex.lookup(offset).position;
    for (const found of this.scan(start)) {
      if (found.header.lastOffset >= offset) return found;
    }
    return null;
  }

  /**
   * Whole stored batches starting with the one that holds `startOffset`, up to `maxBytes`,
   * excluding batches at or past `maxOffset` (the high watermark). With `minOneBatch`, the
   * first batch is returned even when larger than `maxBytes` (KIP-74), so a big record can
   * never stall a reader. Returns null when the segment has nothing at or after `startOffset`.
   */
  read(startOffset: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): Buffer | null {
    const start = this.translateOffset(startOffset);
    if (start === null || start.header.baseOffset >= maxOffset) return null;
    const available = this.sizeBytes - start.position;
    if (start.header.sizeBytes > maxBytes) {
      return minOneBatch ? this.readAt(start.position, start.header.sizeBytes) : Buffer.alloc(0);
    }
    const chunk = this.readAt(start.position, Math.min(maxBytes, available));
    let end = 0;
    while (end + RECORD_BATCH_OVERHEAD <= chunk.length) {
      const size = chunk.readInt32BE(end + 8) + LOG_OVERHEAD;
      if (end + size > chunk.length) break;
      if (end > 0 && readInt64BE(chunk, end) >= maxOffset) break;
      end += size;
    }
    return chunk.subarray(0, end);
  }

  flush(): void {
    fs.fsyncSync(this.logFd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
  }

  /** Asynchronous fsync of the log, so a roll never blocks the event loop on a large flush. */
  flushAsync(): Promise<void> {
    const fd = this.logFd;
    return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.logFd < 0) return;
    fs.closeSync(this.logFd);
    this.logFd = -1;
    this.offsetIndex.close();
    this.timeIndex.close();
  }

  /**
   * Closes and removes the segment's files: the `.deleted` ones once `markDeleted` renamed them
   * (by then a new segment may own the plain names: a truncated log can roll at the same base
   * offset again), the plain ones otherwise.
   */
  delete(): void {
    this.close();
    if (!this.markedDeleted) {
      LogSegment.deleteFiles(this.dir, this.baseOffset);
      return;
    }
    for (const suffix of SEGMENT_SUFFIXES) {
      fs.rmSync(path.join(this.dir, `${segmentFileName(this.baseOffset, suffix)}${DELETED_SUFFIX}`), { force: true });
    }
  }

  /**
   * Kafka's first step of deleting a segment: rename its files to `*.deleted` at once, so a
   * crash before the files are removed cannot bring the segment back (start-up removes
   * `*.deleted` files). Open descriptors stay valid; `delete()` removes the files later.
   */
  markDeleted(): void {
    if (this.markedDeleted) return; // the plain names may belong to a newer segment by now
    this.markedDeleted = true;
    for (const suffix of SEGMENT_SUFFIXES) {
      const file = path.join(this.dir, segmentFileName(this.baseOffset, suffix));
      if (fs.existsSync(file)) fs.renameSync(file, `${file}${DELETED_SUFFIX}`);
    }
  }
}
