import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CompressionCodec } from '../../src/storage/compression.js';
import { LogCleaner } from '../../src/storage/log-cleaner.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import { type PartitionLog, preparedFromEncoded } from '../../src/storage/partition-log.js';
import { compressionOf, type DecodedRecord, encodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';
import type { LogSegment } from '../../src/storage/segment.js';
import {
  assertRecordsEqual,
  CLEAN,
  contentBytes,
  logConfig,
  makeTempDir,
  openLog,
  partitionDir,
  readRecords,
  removeDir,
  type StoredRecord,
  segmentLogFiles,
  UNCLEAN,
} from './log-fixture.js';

/** "Now" for every test: every record is older, so min.compaction.lag.ms = 0 never holds a segment back. */
const NOW = 1_700_000_000_000;

interface KeyedShape {
  key: number;
  tombstone: boolean;
  valueLength: number;
}

const keyedShape: fc.Arbitrary<KeyedShape> = fc.record({
  key: fc.integer({ min: 0, max: 11 }),
  tombstone: fc.integer({ min: 0, max: 9 }).map((n) => n < 3),
  valueLength: fc.integer({ min: 0, max: 120 }),
});

/** Appends keyed batches; record n is stamped `NOW - ageOfFirstMs + n * stepMs` (all in the past). */
function appendKeyed(log: PartitionLog, batches: KeyedShape[][], ageOfFirstMs: number, stepMs: number): StoredRecord[] {
  const stored: StoredRecord[] = [];
  let n = 0;
  for (const batch of batches) {
    const records = batch.map((s) => {
      const i = n++;
      return {
        key: Buffer.from(`key-${s.key}`),
        value: s.tombstone ? null : contentBytes(i, s.valueLength),
        headers: i % 4 === 0 ? [{ key: 'n', value: Buffer.from(String(i)) }] : [],
        timestamp: NOW - ageOfFirstMs + i * stepMs,
      };
    });
    const { baseOffset } = log.append(records, NOW);
    records.forEach((r, i) => {
      stored.push({ ...r, offset: baseOffset + i });
    });
  }
  return stored;
}

/**
 * What a pass must leave: in the cleaned range (below the active segment), the newest record
 * of each key within that range, minus tombstones whose delete.retention.ms has run out; the
 * active segment exactly as it was.
 */
function expectedAfterCleaning(
  stored: readonly StoredRecord[],
  activeBase: number,
  config: LogConfig,
  now: number,
): StoredRecord[] {
  const newest = new Map<string, number>();
  for (const r of stored) if (r.offset < activeBase) newest.set((r.key as Buffer).toString(), r.offset);
  return stored.filter((r) => {
    if (r.offset >= activeBase) return true;
    if (newest.get((r.key as Buffer).toString()) !== r.offset) return false;
    return r.value !== null || now < r.timestamp + config.deleteRetentionMs;
  });
}

function fileBytes(file: string): Buffer {
  return fs.readFileSync(file);
}

describe('log cleaner', () => {
  test('keeps the newest record per key at its original offset and drops expired tombstones', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(keyedShape, { minLength: 1, maxLength: 8, size: 'max' }), {
          minLength: 2,
          maxLength: 50,
          size: 'max',
        }),
        fc.integer({ min: 600, max: 3000 }),
        fc.integer({ min: 0, max: 400_000 }),
        async (batches, segmentBytes, deleteRetentionMs) => {
          const root = makeTempDir();
          const config = logConfig({
            'cleanup.policy': 'compact',
            'segment.bytes': segmentBytes,
            'index.interval.bytes': 200,
            'delete.retention.ms': deleteRetentionMs,
          });
          try {
            const { log } = openLog(root, config);
            // Records span from NOW - 300 s to the past's edge, so some tombstones outlive delete.retention.ms.
            const total = batches.reduce((sum, b) => sum + b.length, 0);
            const stored = appendKeyed(log, batches, 300_000, Math.floor(300_000 / total));
            const leo = log.logEndOffset;
            const active = log.segmentList().at(-1) as LogSegment;
            const activeBase = active.baseOffset;
            const activeBytes = fileBytes(active.logPath);

            const stats = await new LogCleaner({ batchesPerYield: 3 }).clean(log, NOW);
            const expected = expectedAfterCleaning(stored, activeBase, config, NOW);
            assert.equal(stats.segmentsCleaned, log.segmentCount - 1);
            assert.equal(stats.recordsRemoved, stored.length - expected.length);
            assert.equal(log.logEndOffset, leo, 'cleaning never moves the LEO');
            assert.equal(log.logStartOffset, 0);
            assert.ok(
              fileBytes((log.segmentList().at(-1) as LogSegment).logPath).equals(activeBytes),
              'the active segment is untouched',
            );

            const after = readRecords(log, 0, 1 + (segmentBytes % 700));
            assertRecordsEqual(after, expected, 'records after cleaning');
            // Consumer view: the last record of each key is its newest value, or nothing for an expired tombstone.
            const lastByKey = new Map<string, DecodedRecord>();
            for (const r of after) lastByKey.set((r.key as Buffer).toString(), r);
            const newestByKey = new Map<string, StoredRecord>();
            for (const r of stored) newestByKey.set((r.key as Buffer).toString(), r);
            for (const [key, newest] of newestByKey) {
              const seen = lastByKey.get(key);
              const expired =
                newest.offset < activeBase && newest.value === null && NOW >= newest.timestamp + deleteRetentionMs;
              if (expired) assert.equal(seen, undefined, `${key}: an expired tombstone leaves no record`);
              else assert.equal(seen?.offset, newest.offset, `${key}: newest value at offset ${newest.offset}`);
            }
            // Every survivor's offset can still be read directly.
            for (const r of expected) assert.equal(readRecords(log, r.offset, 1, r.offset + 1)[0]?.offset, r.offset);

            // A second pass changes nothing; a restart (clean or not) serves the same records.
            await new LogCleaner().clean(log, NOW);
            assertRecordsEqual(readRecords(log), expected, 'after a second pass');
            await log.close();
            for (const opts of [CLEAN, UNCLEAN]) {
              const { log: reopened, truncatedBytes } = openLog(root, config, opts);
              assert.equal(truncatedBytes, 0);
              assert.equal(reopened.logEndOffset, leo);
              assertRecordsEqual(readRecords(reopened), expected, 'after reopening');
              await reopened.close();
            }
          } finally {
            removeDir(root);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('keeps a tombstone until delete.retention.ms after its timestamp, then drops it', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 500, 'delete.retention.ms': 60_000 });
      const { log } = openLog(root, config);
      const tombstoneAt = NOW - 10_000;
      log.append([{ key: Buffer.from('a'), value: Buffer.from('v1'), timestamp: tombstoneAt - 1 }], NOW);
      log.append([{ key: Buffer.from('a'), value: null, timestamp: tombstoneAt }], NOW);
      for (let i = 0; i < 10; i++)
        log.append([{ key: Buffer.from(`filler-${i}`), value: Buffer.alloc(100, i), timestamp: tombstoneAt + 1 }], NOW);
      assert.ok(log.segmentCount > 2, `${log.segmentCount} segments`);
      const cleaner = new LogCleaner();

      await cleaner.clean(log, NOW);
      const kept = readRecords(log).filter((r) => r.key?.toString() === 'a');
      assert.deepEqual(
        kept.map((r) => [r.offset, r.value]),
        [[1, null]],
        'the tombstone replaces the value and is kept while young',
      );
      assert.equal(cleaner.needsCleaning(log, tombstoneAt + 60_000 - 1), false);
      assert.equal(cleaner.needsCleaning(log, tombstoneAt + 60_000), true, 'a due tombstone triggers cleaning');

      await cleaner.clean(log, tombstoneAt + 60_000 - 1);
      assert.equal(
        readRecords(log).filter((r) => r.key?.toString() === 'a').length,
        1,
        'one ms before expiry it stays',
      );
      await cleaner.clean(log, tombstoneAt + 60_000);
      assert.equal(readRecords(log).filter((r) => r.key?.toString() === 'a').length, 0, 'at expiry it goes');
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('a cleaned batch keeps its codec: gzip, snappy, lz4 and zstd batches side by side', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 300 });
      const { log } = openLog(root, config);
      const codecs = [CompressionCodec.Gzip, CompressionCodec.Snappy, CompressionCodec.Lz4, CompressionCodec.Zstd];
      // Each batch holds a key that a later batch replaces and a key of its own, so every batch is rewritten.
      codecs.forEach((compression, i) => {
        const records = [
          { key: Buffer.from('shared'), value: contentBytes(i, 150), timestamp: NOW - 1000 + i },
          { key: Buffer.from(`own-${i}`), value: contentBytes(i, 150), timestamp: NOW - 1000 + i },
        ];
        log.appendPrepared(
          preparedFromEncoded(config, encodeRecordBatch(records, { baseOffset: 0, compression }), NOW),
        );
      });
      // Each large enough to roll a segment of its own; the second stays active (never cleaned).
      for (const seed of [98, 99])
        log.append([{ key: Buffer.from('shared'), value: contentBytes(seed, 250), timestamp: NOW }], NOW);
      assert.ok(log.segmentCount >= 5, `${log.segmentCount} segments`);
      await new LogCleaner().clean(log, NOW);
      const batches: Array<[number, number]> = [];
      for (let offset = 0; offset < log.logEndOffset; ) {
        forEachBatch(log.read(offset, 1 << 20, { maxOffset: log.logEndOffset }).records, (h) => {
          batches.push([h.baseOffset, compressionOf(h.attributes)]);
          offset = h.lastOffset + 1;
        });
      }
      assert.deepEqual(batches, [
        ...codecs.map((codec, i) => [2 * i, codec]),
        [8, CompressionCodec.None],
        [9, CompressionCodec.None],
      ]);
      assert.deepEqual(
        readRecords(log).map((r) => [r.offset, r.key?.toString()]),
        [
          [1, 'own-0'],
          [3, 'own-1'],
          [5, 'own-2'],
          [7, 'own-3'],
          [8, 'shared'],
          [9, 'shared'],
        ],
      );
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('leaves segments younger than min.compaction.lag.ms alone', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 400, 'min.compaction.lag.ms': 1000 });
      const { log } = openLog(root, config);
      for (let i = 0; i < 12; i++)
        log.append([{ key: Buffer.from('same'), value: Buffer.alloc(100, i), timestamp: NOW - 5500 + i * 500 }], NOW);
      // Cleanable: inactive segments, oldest first, up to the first whose newest record is under 1 s old.
      let cleanableEnd = 0;
      for (const seg of log.segmentList().slice(0, -1)) {
        if (NOW - seg.maxTimestampSoFar < 1000) break;
        cleanableEnd = seg.nextOffset;
      }
      assert.ok(cleanableEnd > 1 && cleanableEnd < 11, `cleanable up to ${cleanableEnd}`);
      await new LogCleaner().clean(log, NOW);
      assert.deepEqual(
        readRecords(log).map((r) => r.offset),
        [cleanableEnd - 1, ...Array.from({ length: 12 - cleanableEnd }, (_, i) => cleanableEnd + i)],
        'only the cleanable range is compacted; younger segments keep every record',
      );
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('needsCleaning follows min.cleanable.dirty.ratio', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({
        'cleanup.policy': 'compact',
        'segment.bytes': 1000,
        'min.cleanable.dirty.ratio': 0.5,
      });
      const { log } = openLog(root, config);
      const write = (count: number, from: number) => {
        for (let i = 0; i < count; i++)
          log.append(
            [{ key: Buffer.from(`k${(from + i) % 50}`), value: Buffer.alloc(200, i), timestamp: NOW - 100_000 }],
            NOW,
          );
      };
      const cleaner = new LogCleaner();
      assert.equal(cleaner.needsCleaning(log, NOW), false, 'nothing cleanable in an empty log');
      write(40, 0);
      assert.equal(cleaner.needsCleaning(log, NOW), true, 'a never-cleaned log is all dirty');
      await cleaner.clean(log, NOW);
      assert.equal(cleaner.needsCleaning(log, NOW), false, 'just cleaned');
      const cleanedSegments = log.segmentCount - 1;

      write(12, 100); // the old active segment and new ones, all dirty, behind a new active segment
      const cleanable = log.segmentList().slice(0, -1);
      const total = cleanable.reduce((sum, s) => sum + s.sizeBytes, 0);
      const dirty = cleanable.slice(cleanedSegments).reduce((sum, s) => sum + s.sizeBytes, 0);
      assert.ok(dirty > 0 && dirty < total, `dirty ${dirty} of ${total} bytes`);
      const ratio = dirty / total;
      log.updateConfig(
        logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 1000, 'min.cleanable.dirty.ratio': ratio + 0.001 }),
      );
      assert.equal(cleaner.needsCleaning(log, NOW), false, `ratio ${ratio} is below the threshold`);
      log.updateConfig(
        logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 1000, 'min.cleanable.dirty.ratio': ratio - 0.001 }),
      );
      assert.equal(cleaner.needsCleaning(log, NOW), true, `ratio ${ratio} reaches the threshold`);
      log.updateConfig(
        logConfig({ 'cleanup.policy': 'delete', 'segment.bytes': 1000, 'min.cleanable.dirty.ratio': 0 }),
      );
      assert.equal(cleaner.needsCleaning(log, NOW), false, 'a delete-only topic is never compacted');
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('a restart after a crash mid-swap recovers a consistent log, before or after the rename', async () => {
    const root = makeTempDir();
    const cleanedRoot = makeTempDir();
    try {
      const config = logConfig({ 'cleanup.policy': 'compact', 'segment.bytes': 1500, 'index.interval.bytes': 100 });
      const { log } = openLog(root, config);
      const batches = Array.from({ length: 40 }, (_, i) => [{ key: i % 6, tombstone: false, valueLength: 50 + i }]);
      const stored = appendKeyed(log, batches, 100_000, 100);
      const activeBase = (log.segmentList().at(-1) as LogSegment).baseOffset;
      await log.close();
      fs.cpSync(partitionDir(root), partitionDir(cleanedRoot), { recursive: true });

      // The reference: the same log cleaned to completion.
      const { log: reference } = openLog(cleanedRoot, config, CLEAN);
      await new LogCleaner().clean(reference, NOW);
      const expectedClean = expectedAfterCleaning(stored, activeBase, config, NOW);
      assertRecordsEqual(readRecords(reference), expectedClean, 'reference cleaning');
      await reference.close();

      const dir = partitionDir(root);
      const first = segmentLogFiles(dir)[0] as string;
      const base = first.slice(0, 20);
      // Crash 1: the .cleaned copy is written and the indexes removed, the rename has not happened.
      fs.copyFileSync(path.join(partitionDir(cleanedRoot), first), path.join(dir, `${first}.cleaned`));
      fs.rmSync(path.join(dir, `${base}.index`));
      fs.rmSync(path.join(dir, `${base}.timeindex`));
      const before = openLog(root, config, CLEAN);
      assert.equal(before.truncatedBytes, 0);
      assert.ok(!fs.existsSync(path.join(dir, `${first}.cleaned`)), 'the leftover .cleaned file is removed');
      assert.ok(fs.existsSync(path.join(dir, `${base}.index`)), 'the index is rebuilt');
      assertRecordsEqual(readRecords(before.log), stored, 'the original segment still serves everything');
      await before.log.close();

      // Crash 2: the cleaned .log was renamed in, but the indexes had not been rebuilt yet.
      fs.copyFileSync(path.join(partitionDir(cleanedRoot), first), path.join(dir, first));
      fs.rmSync(path.join(dir, `${base}.index`));
      fs.rmSync(path.join(dir, `${base}.timeindex`));
      const after = openLog(root, config, CLEAN);
      assert.equal(after.truncatedBytes, 0);
      const firstSegmentEnd = Number(segmentLogFiles(dir)[1]?.slice(0, 20));
      assertRecordsEqual(
        readRecords(after.log),
        [
          ...expectedClean.filter((r) => r.offset < firstSegmentEnd),
          ...stored.filter((r) => r.offset >= firstSegmentEnd),
        ],
        'the cleaned first segment followed by the untouched rest',
      );
      const appended = after.log.append([{ key: Buffer.from('new'), value: Buffer.from('v'), timestamp: NOW }], NOW);
      assert.equal(appended.baseOffset, stored.length);
      await after.log.close();
    } finally {
      removeDir(root);
      removeDir(cleanedRoot);
    }
  });
});
