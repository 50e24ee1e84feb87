import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { CompressionCodec } from './compression.js';
import type { PartitionLog } from './partition-log.js';
import {
  compressionOf,
  type DecodedRecord,
  decodeRecordBatch,
  encodeRecordBatch,
  timestampTypeOf,
} from './record-batch.js';
import { type LogSegment, segmentFileName } from './segment.js';

export interface CleanerOptions {
  /**
   * Most distinct keys held in the offset map of one pass (Kafka bounds it by
   * `log.cleaner.dedupe.buffer.size`). Segments past the point where it fills wait for
   * the next pass.
   */
  maxMapEntries: number;
  /** Batches rewritten between yields to the event loop, so produce latency stays flat. */
  batchesPerYield: number;
}

export interface CleanStats {
  segmentsCleaned: number;
  recordsRemoved: number;
  bytesBefore: number;
  bytesAfter: number;
}

const DEFAULT_OPTIONS: CleanerOptions = { maxMapEntries: 1_000_000, batchesPerYield: 256 };

interface CleanerState {
  /** Offset up to which the log has been cleaned; later bytes are "dirty". In memory only. */
  cleanedUpTo: number;
  /** Earliest time a kept tombstone may be dropped, or Infinity. */
  nextTombstoneExpiryMs: number;
}

/**
 * Kafka's log compaction for `cleanup.policy=compact`: keeps the newest record of every key
 * and drops tombstones after `delete.retention.ms`. Offsets never change: a rewritten batch
 * keeps its base offset and every surviving record its offset. The active segment is never
 * touched, nor are segments newer than `min.compaction.lag.ms`.
 *
 * Tombstone horizon (simplification of KIP-534): a tombstone is dropped by the first pass that
 * runs more than `delete.retention.ms` after its own timestamp.
 */
export class LogCleaner {
  private readonly state = new WeakMap<PartitionLog, CleanerState>();
  private readonly options: CleanerOptions;

  constructor(options: Partial<CleanerOptions> = {}) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  private stateOf(log: PartitionLog): CleanerState {
    let s = this.state.get(log);
    if (!s) {
      s = { cleanedUpTo: log.logStartOffset, nextTombstoneExpiryMs: Number.POSITIVE_INFINITY };
      this.state.set(log, s);
    }
    return s;
  }

  /** Segments eligible for cleaning: inactive and older than the compaction lag, oldest first. */
  private cleanableSegments(log: PartitionLog, now: number): LogSegment[] {
    const segments = log.segmentList().slice(0, -1);
    const lagMs = log.logConfig.minCompactionLagMs;
    const out: LogSegment[] = [];
    for (const seg of segments) {
      if (seg.maxTimestampSoFar >= 0 && now - seg.maxTimestampSoFar < lagMs) break;
      out.push(seg);
    }
    return out;
  }

  /** Kafka's trigger: dirty bytes / cleanable bytes >= `min.cleanable.dirty.ratio`, or a tombstone is due. */
  needsCleaning(log: PartitionLog, now: number): boolean {
    if (!log.logConfig.cleanupPolicyCompact) return false;
    const segments = this.cleanableSegments(log, now);
    if (segments.length === 0) return false;
    const s = this.stateOf(log);
    if (now >= s.nextTombstoneExpiryMs) return true;
    let total = 0;
    let dirty = 0;
    for (const seg of segments) {
      total += seg.sizeBytes;
      if (seg.nextOffset > s.cleanedUpTo) dirty += seg.sizeBytes;
    }
    return total > 0 && dirty > 0 && dirty / total >= log.logConfig.minCleanableDirtyRatio;
  }

  /** One cleaning pass over `log`. */
  async clean(log: PartitionLog, now: number): Promise<CleanStats> {
    const stats: CleanStats = { segmentsCleaned: 0, recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0 };
    let segments = this.cleanableSegments(log, now);
    if (segments.length === 0) return stats;
    // A truncation during the pass invalidates the offset map (its newest copies may be gone).
    const truncations = log.truncations;
    for (const seg of segments) log.cleaning.add(seg);
    try {
      // 1. The offset map: newest offset of every key in the cleanable range.
      const latest = new Map<string, number>();
      let mapped = 0;
      for (const seg of segments) {
        let full = false;
        for (const record of this.records(seg)) {
          if (record.key === null) continue;
          latest.set(record.key.toString('latin1'), record.offset);
          if (latest.size > this.options.maxMapEntries) {
            full = true;
            break;
          }
        }
        if (full) {
          if (mapped === 0)
            throw new Error(`offset map of ${this.options.maxMapEntries} keys cannot hold one segment of ${log.name}`);
          // Segments up to the one that overflowed are fully mapped; clean only those. Keys the
          // map holds from the overflowing segment are newer still, so dropping older copies is right.
          break;
        }
        mapped++;
        await yieldToEventLoop();
        if (log.truncations !== truncations) return stats;
      }
      segments = segments.slice(0, mapped);
      // 2. Rewrite each segment with what survives.
      let nextTombstoneExpiryMs = Number.POSITIVE_INFINITY;
      for (const seg of segments) {
        const result = await this.cleanSegment(log, seg, latest, now, truncations);
        if (result === null) return stats; // the log closed or was truncated under us
        stats.segmentsCleaned++;
        stats.recordsRemoved += result.recordsRemoved;
        stats.bytesBefore += result.bytesBefore;
        stats.bytesAfter += result.bytesAfter;
        nextTombstoneExpiryMs = Math.min(nextTombstoneExpiryMs, result.nextTombstoneExpiryMs);
      }
      const s = this.stateOf(log);
      s.cleanedUpTo = (segments[segments.length - 1] as LogSegment).nextOffset;
      s.nextTombstoneExpiryMs = nextTombstoneExpiryMs;
      return stats;
    } finally {
      for (const seg of segments) log.cleaning.delete(seg);
      for (const seg of log.cleaning) if (!log.segmentList().includes(seg)) log.cleaning.delete(seg);
    }
  }

  private *records(seg: LogSegment): Generator<DecodedRecord> {
    for (const { position, header } of seg.scan(0)) {
      yield* decodeRecordBatch(seg.readAt(position, header.sizeBytes));
    }
  }

  private async cleanSegment(
    log: PartitionLog,
    seg: LogSegment,
    latest: Map<string, number>,
    now: number,
    truncations: number,
  ): Promise<{
    recordsRemoved: number;
    bytesBefore: number;
    bytesAfter: number;
    nextTombstoneExpiryMs: number;
  } | null> {
    const deleteRetentionMs = log.logConfig.deleteRetentionMs;
    const cleanedPath = path.join(seg.dir, `${segmentFileName(seg.baseOffset, '.log')}.cleaned`);
    const fd = fs.openSync(cleanedPath, 'w', 0o644);
    let written = 0;
    let recordsRemoved = 0;
    let nextTombstoneExpiryMs = Number.POSITIVE_INFINITY;
    let sinceYield = 0;
    try {
      for (const { position, header } of seg.scan(0)) {
        const bytes = seg.readAt(position, header.sizeBytes);
        const records = decodeRecordBatch(bytes);
        const kept = records.filter((r) => {
          if (r.key === null) return false;
          const newest = latest.get(r.key.toString('latin1'));
          if (newest !== undefined && r.offset < newest) return false;
          if (r.value === null) {
            const expiry = r.timestamp + deleteRetentionMs;
            if (now >= expiry) return false;
            nextTombstoneExpiryMs = Math.min(nextTombstoneExpiryMs, expiry);
          }
          return true;
        });
        recordsRemoved += records.length - kept.length;
        let out: Buffer | null = null;
        if (kept.length === records.length)
          out = bytes; // untouched batches are copied as they are
        else if (kept.length > 0) {
          out = encodeRecordBatch(kept, {
            baseOffset: header.baseOffset,
            partitionLeaderEpoch: header.partitionLeaderEpoch,
            compression: compressionOf(header.attributes) as CompressionCodec,
            timestampType: timestampTypeOf(header.attributes),
            logAppendTime: header.maxTimestamp,
            offsetDeltas: kept.map((r) => r.offset - header.baseOffset),
            lastOffsetDelta: header.lastOffsetDelta,
          });
        }
        if (out !== null) {
          fs.writeSync(fd, out, 0, out.length, written);
          written += out.length;
        }
        if (++sinceYield >= this.options.batchesPerYield) {
          sinceYield = 0;
          await yieldToEventLoop();
          if (!log.segmentList().includes(seg) || log.truncations !== truncations) {
            fs.closeSync(fd);
            fs.rmSync(cleanedPath, { force: true });
            return null;
          }
        }
      }
      fs.fsyncSync(fd);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(cleanedPath, { force: true });
      throw err;
    }
    fs.closeSync(fd);
    if (!log.segmentList().includes(seg) || log.truncations !== truncations) {
      fs.rmSync(cleanedPath, { force: true });
      return null;
    }
    const bytesBefore = seg.sizeBytes;
    // Swap in without yielding. Indexes go first: a crash in between leaves the original
    // .log without indexes, which start-up rebuilds; the rename itself is atomic.
    seg.close();
    fs.rmSync(path.join(seg.dir, segmentFileName(seg.baseOffset, '.index')), { force: true });
    fs.rmSync(path.join(seg.dir, segmentFileName(seg.baseOffset, '.timeindex')), { force: true });
    fs.renameSync(cleanedPath, seg.logPath);
    log.replaceSegment(seg, log.reopenSegment(seg.baseOffset));
    return { recordsRemoved, bytesBefore, bytesAfter: written, nextTombstoneExpiryMs };
  }
}
