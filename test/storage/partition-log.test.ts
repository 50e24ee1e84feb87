import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidRecordError, OffsetOutOfRangeError, RecordTooLargeError } from '../../src/errors.js';
import { CompressionCodec } from '../../src/storage/compression.js';
import type { LogConfig } from '../../src/storage/log-config.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { compressionOf, decodeRecordBatch, forEachBatch, type RecordInput } from '../../src/storage/record-batch.js';
import type { LogSegment } from '../../src/storage/segment.js';
import {
  assertRecordsEqual,
  CLEAN,
  contentBytes,
  logConfig,
  makeTempDir,
  openLog,
  readRecords,
  removeDir,
  type StoredRecord,
  segmentLogFiles,
  UNCLEAN,
} from './log-fixture.js';

const T0 = 1_700_000_000_000;

/** A record's shape as fast-check draws it; content is derived from its position so it is unique. */
interface RecordShape {
  keyLength: number | null;
  valueLength: number | null;
  timestampJitterMs: number;
  headerCount: number;
}

/** Mostly small fields so segments hold many batches and index entries, sometimes up to 2000 bytes. */
const fieldLength = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 60 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2000 }) },
);

const recordShape: fc.Arbitrary<RecordShape> = fc.record({
  keyLength: fc.option(fieldLength, { freq: 6 }),
  valueLength: fc.option(fieldLength, { freq: 8 }),
  timestampJitterMs: fc.integer({ min: -5000, max: 5000 }),
  headerCount: fc.integer({ min: 0, max: 2 }),
});

/** Batches of 1..50 records, most of them small so a segment holds several. */
const batchShape = fc.oneof(
  { weight: 3, arbitrary: fc.array(recordShape, { minLength: 1, maxLength: 5, size: 'max' }) },
  { weight: 1, arbitrary: fc.array(recordShape, { minLength: 1, maxLength: 50, size: 'max' }) },
);

const batchShapes = (maxBatches: number): fc.Arbitrary<RecordShape[][]> =>
  fc.array(batchShape, { minLength: 1, maxLength: maxBatches, size: 'max' });

/** Turns shapes into records; record n gets timestamp T0 + 10n + jitter (not monotonic). */
function materialize(batches: RecordShape[][], firstSeed = 0, baseTimestamp = T0): RecordInput[][] {
  let seed = firstSeed;
  return batches.map((batch) =>
    batch.map((s) => {
      const n = seed++;
      const headers = Array.from({ length: s.headerCount }, (_, h) => ({
        key: `h${h}`,
        value: h === 1 ? null : contentBytes(n + 7919 * (h + 1), 3 + h),
      }));
      return {
        key: s.keyLength === null ? null : contentBytes(n, s.keyLength),
        value: s.valueLength === null ? null : contentBytes(n + 104_729, s.valueLength),
        headers,
        timestamp: baseTimestamp + 10 * n + s.timestampJitterMs,
      };
    }),
  );
}

/** Appends every batch, checking the offsets each append is given; returns the stored records. */
function appendAll(log: PartitionLog, batches: RecordInput[][], now = T0): StoredRecord[] {
  const stored: StoredRecord[] = [];
  for (const batch of batches) {
    const leo = log.logEndOffset;
    const info = log.append(batch, now);
    assert.equal(info.baseOffset, leo);
    assert.equal(info.lastOffset, leo + batch.length - 1);
    assert.equal(log.logEndOffset, leo + batch.length);
    batch.forEach((r, i) => {
      stored.push({ ...r, headers: r.headers ?? [], offset: leo + i });
    });
  }
  return stored;
}

/**
 * The read contract from every offset: the first batch holds the offset, batches follow each
 * other densely, the records from the offset on are exactly the appended ones, and the answer
 * fits `maxBytes` unless it is a single batch (KIP-74).
 */
function checkReadsFromEveryOffset(log: PartitionLog, stored: readonly StoredRecord[], maxBytes: number): void {
  const start = log.logStartOffset;
  const leo = log.logEndOffset;
  for (let offset = start; offset < leo; offset++) {
    const { records } = log.read(offset, maxBytes, { maxOffset: leo });
    const batches: { baseOffset: number; lastOffset: number }[] = [];
    const decoded: ReturnType<typeof decodeRecordBatch> = [];
    let bytes = 0;
    forEachBatch(records, (header, batch) => {
      batches.push({ baseOffset: header.baseOffset, lastOffset: header.lastOffset });
      bytes += batch.length;
      for (const r of decodeRecordBatch(batch)) if (r.offset >= offset) decoded.push(r);
    });
    assert.equal(bytes, records.length, `read(${offset}) returned a partial batch`);
    assert.ok(batches.length > 0, `read(${offset}) returned nothing below the LEO ${leo}`);
    const first = batches[0] as { baseOffset: number; lastOffset: number };
    assert.ok(
      first.baseOffset <= offset && offset <= first.lastOffset,
      `read(${offset}) starts at batch ${JSON.stringify(first)}`,
    );
    for (let i = 1; i < batches.length; i++) {
      assert.equal(
        (batches[i] as { baseOffset: number }).baseOffset,
        (batches[i - 1] as { lastOffset: number }).lastOffset + 1,
      );
    }
    if (batches.length > 1)
      assert.ok(records.length <= maxBytes, `read(${offset}, ${maxBytes}) returned ${records.length} bytes`);
    assertRecordsEqual(decoded, stored.slice(offset - start, offset - start + decoded.length), `read(${offset})`);
  }
}

function bruteForceOffsetForTimestamp(stored: readonly StoredRecord[], from: number, hw: number, timestamp: number) {
  for (const r of stored)
    if (r.offset >= from && r.offset < hw && r.timestamp >= timestamp)
      return { offset: r.offset, timestamp: r.timestamp };
  return null;
}

function checkOffsetForTimestamp(log: PartitionLog, stored: readonly StoredRecord[], extra: number[] = []): void {
  const timestamps = new Set<number>(extra);
  for (let i = 0; i < stored.length; i += Math.max(1, Math.floor(stored.length / 40))) {
    const t = (stored[i] as StoredRecord).timestamp;
    timestamps
      .add(t - 1)
      .add(t)
      .add(t + 1);
  }
  const all = stored.map((r) => r.timestamp);
  timestamps
    .add(Math.min(...all) - 1000)
    .add(Math.max(...all))
    .add(Math.max(...all) + 1);
  for (const t of timestamps) {
    assert.deepEqual(
      log.offsetForTimestamp(t),
      bruteForceOffsetForTimestamp(stored, log.logStartOffset, log.highWatermark, t),
      `offsetForTimestamp(${t}) with high watermark ${log.highWatermark}`,
    );
  }
  // ListOffsets MAX_TIMESTAMP (KIP-734): the first committed record with the largest timestamp.
  let max: { offset: number; timestamp: number } | null = null;
  for (const r of stored)
    if (r.offset >= log.logStartOffset && r.offset < log.highWatermark && (max === null || r.timestamp > max.timestamp))
      max = { offset: r.offset, timestamp: r.timestamp };
  assert.deepEqual(log.offsetOfMaxTimestamp(), max, `offsetOfMaxTimestamp with high watermark ${log.highWatermark}`);
}

/** Segment files: Kafka names, whole index entries, and as many entries as index.interval.bytes implies. */
function checkSegmentFiles(log: PartitionLog, config: LogConfig, maxBatchBytes: number): void {
  log.flush(); // index entries are written behind, a run at a time: a flush puts every one in its file
  const dir = log.dir;
  assert.equal(path.basename(dir), `${log.topic}-${log.partition}`);
  // Beside the segments, a partition dir holds Kafka's leader-epoch-checkpoint once it has history.
  const files = fs
    .readdirSync(dir)
    .filter((f) => f !== 'leader-epoch-checkpoint')
    .sort();
  const bases = log.segmentList().map((s) => s.baseOffset);
  const expected = bases
    .flatMap((b) => ['.index', '.log', '.timeindex'].map((suffix) => `${String(b).padStart(20, '0')}${suffix}`))
    .sort();
  assert.deepEqual(files, expected);
  const interval = config.indexIntervalBytes;
  for (const seg of log.segmentList()) {
    const indexBytes = fs.statSync(seg.offsetIndex.path).size;
    const timeIndexBytes = fs.statSync(seg.timeIndex.path).size;
    assert.equal(indexBytes % 8, 0, `${seg.offsetIndex.path} is ${indexBytes} bytes`);
    assert.equal(timeIndexBytes % 12, 0, `${seg.timeIndex.path} is ${timeIndexBytes} bytes`);
    const entries = indexBytes / 8;
    // An entry needs more than `interval` bytes since the previous one, and no gap exceeds
    // interval + one batch: the index is sparse, not one entry per batch.
    assert.ok(
      entries <= Math.floor(seg.sizeBytes / (interval + 1)),
      `${entries} entries for ${seg.sizeBytes} bytes at interval ${interval}`,
    );
    assert.ok(
      entries >= Math.floor(seg.sizeBytes / (interval + maxBatchBytes)) - 1,
      `${entries} entries for ${seg.sizeBytes} bytes at interval ${interval}`,
    );
    assert.ok(
      timeIndexBytes / 12 <= entries + 1,
      `${timeIndexBytes / 12} time index entries for ${entries} offset index entries`,
    );
  }
}

function indexFileBytes(log: PartitionLog): Map<string, string> {
  const out = new Map<string, string>();
  for (const seg of log.segmentList()) {
    out.set(seg.offsetIndex.path, fs.readFileSync(seg.offsetIndex.path).toString('hex'));
    out.set(seg.timeIndex.path, fs.readFileSync(seg.timeIndex.path).toString('hex'));
  }
  return out;
}

function maxBatchSize(log: PartitionLog): number {
  let max = 0;
  for (const seg of log.segmentList()) for (const { header } of seg.scan(0)) max = Math.max(max, header.sizeBytes);
  return max;
}

/** Polls `condition` for up to `timeoutMs`; a bound, so a broken condition fails rather than hangs. */
async function eventually(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, 'condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('partition log: appends and reads', () => {
  test('offsets are dense, every offset reads back what was appended, and reopening changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        batchShapes(60),
        fc.integer({ min: 2000, max: 20_000 }),
        fc.integer({ min: 0, max: 512 }),
        fc.integer({ min: 1, max: 40_000 }),
        async (shapes, segmentBytes, indexIntervalBytes, maxBytes) => {
          const root = makeTempDir();
          const config = logConfig({ 'segment.bytes': segmentBytes, 'index.interval.bytes': indexIntervalBytes });
          try {
            const { log } = openLog(root, config);
            const stored = appendAll(log, materialize(shapes));
            assert.equal(log.logStartOffset, 0);
            assert.deepEqual(
              stored.map((r) => r.offset),
              stored.map((_, i) => i),
            );
            assertRecordsEqual(readRecords(log, 0, maxBytes), stored, 'whole log');
            checkReadsFromEveryOffset(log, stored, maxBytes);
            const largestBatch = maxBatchSize(log);
            if (process.env.SAMSA_TEST_STATS)
              console.log(
                `records=${stored.length} segments=${log.segmentCount} bytes=${log.sizeBytes} maxBytes=${maxBytes}`,
              );
            checkSegmentFiles(log, config, largestBatch);

            // offsetForTimestamp sees only what is below the high watermark.
            log.highWatermark = log.logEndOffset;
            checkOffsetForTimestamp(log, stored);
            log.highWatermark = Math.floor(log.logEndOffset / 2);
            checkOffsetForTimestamp(log, stored);

            // A crash: the first instance is never closed; a second one recovers every segment.
            // (The first is flushed for the comparison: its index entries are written behind.)
            log.flush();
            const indexesBefore = indexFileBytes(log);
            const { log: recovered, truncatedBytes } = openLog(root, config, UNCLEAN);
            assert.equal(truncatedBytes, 0);
            assert.equal(recovered.logEndOffset, stored.length);
            assertRecordsEqual(readRecords(recovered, 0, maxBytes), stored, 'after unclean reopen');
            assert.deepEqual(
              indexFileBytes(recovered),
              indexesBefore,
              'rebuilt indexes equal the ones written on append',
            );
            await recovered.close();
            await log.close();

            const { log: reopened, truncatedBytes: cut } = openLog(root, config, CLEAN);
            assert.equal(cut, 0);
            assert.equal(reopened.logEndOffset, stored.length);
            checkReadsFromEveryOffset(reopened, stored, maxBytes);
            reopened.highWatermark = reopened.logEndOffset;
            checkOffsetForTimestamp(reopened, stored);
            // Appends continue at the LEO after a reopen.
            const more = appendAll(
              reopened,
              materialize([[(shapes[0] as RecordShape[])[0] as RecordShape]], stored.length),
            );
            assertRecordsEqual(
              readRecords(reopened, 0, maxBytes),
              [...stored, ...more],
              'after appending to the reopened log',
            );
            checkSegmentFiles(reopened, config, Math.max(largestBatch, maxBatchSize(reopened)));
            await reopened.close();
          } finally {
            removeDir(root);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  test('a read at the log end offset is empty and outside [logStartOffset, LEO] throws OffsetOutOfRangeError', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig());
      appendAll(log, materialize([[{ keyLength: 1, valueLength: 10, timestampJitterMs: 0, headerCount: 0 }]]));
      log.highWatermark = log.logEndOffset;
      assert.equal(log.read(1, 1000).records.length, 0);
      assert.throws(() => log.read(2, 1000), OffsetOutOfRangeError);
      assert.throws(() => log.read(-1, 1000), OffsetOutOfRangeError);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('reads stop at the high watermark by default', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig());
      const one = { keyLength: 1, valueLength: 10, timestampJitterMs: 0, headerCount: 0 };
      const stored = appendAll(log, materialize([[one, one], [one], [one, one, one]]));
      assert.equal(log.read(0, 1 << 20).records.length, 0, 'nothing is visible below a high watermark of 0');
      log.highWatermark = 3;
      assertRecordsEqual(readRecords(log, 0, 1 << 20, log.highWatermark), stored.slice(0, 3));
      const { records } = log.read(0, 1 << 20);
      const bases: number[] = [];
      forEachBatch(records, (h) => bases.push(h.baseOffset));
      assert.deepEqual(bases, [0, 2]);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('a read whose first batch exceeds maxBytes still returns that one batch (KIP-74), or nothing without minOneBatch', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig());
      const big = { keyLength: 10, valueLength: 2000, timestampJitterMs: 0, headerCount: 0 };
      appendAll(log, materialize([[big], [big]]));
      const first = log.read(0, 100, { maxOffset: 2 }).records;
      const bases: number[] = [];
      forEachBatch(first, (h) => bases.push(h.baseOffset));
      assert.deepEqual(bases, [0]);
      assert.ok(first.length > 100, `the first batch is ${first.length} bytes`);
      assert.equal(log.read(0, 100, { maxOffset: 2, minOneBatch: false }).records.length, 0);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  for (const [type, codec] of [
    ['gzip', CompressionCodec.Gzip],
    ['snappy', CompressionCodec.Snappy],
    ['lz4', CompressionCodec.Lz4],
    ['zstd', CompressionCodec.Zstd],
  ] as const)
    test(`a ${type} topic stores compressed batches and reads them back unchanged`, async () => {
      const root = makeTempDir();
      try {
        const config = logConfig({ 'compression.type': type, 'segment.bytes': 4000, 'index.interval.bytes': 100 });
        const { log } = openLog(root, config);
        const shape = { keyLength: 20, valueLength: 300, timestampJitterMs: 3, headerCount: 2 };
        const stored = appendAll(
          log,
          materialize(Array.from({ length: 30 }, (_, i) => Array.from({ length: 1 + (i % 9) }, () => shape))),
        );
        assert.ok(log.segmentCount > 1, `the log rolled: ${log.segmentCount} segments`);
        forEachBatch(log.read(0, 1 << 20, { maxOffset: log.logEndOffset }).records, (h) => {
          assert.equal(compressionOf(h.attributes), codec);
        });
        assertRecordsEqual(readRecords(log), stored);
        checkReadsFromEveryOffset(log, stored, 5000);
        log.highWatermark = log.logEndOffset;
        checkOffsetForTimestamp(log, stored);
        await log.close();
        const { log: reopened } = openLog(root, config, UNCLEAN);
        assertRecordsEqual(readRecords(reopened), stored, 'after recovery');
        await reopened.close();
      } finally {
        removeDir(root);
      }
    });

  test('a LogAppendTime topic stamps every record with the broker clock', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig({ 'message.timestamp.type': 'LogAppendTime' }));
      const info = log.append(
        [
          { key: null, value: Buffer.from('x'), timestamp: 5 },
          { key: null, value: Buffer.from('y'), timestamp: 6 },
        ],
        T0 + 42,
      );
      assert.equal(info.logAppendTime, T0 + 42);
      assert.deepEqual(
        readRecords(log).map((r) => r.timestamp),
        [T0 + 42, T0 + 42],
      );
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('a batch over max.message.bytes throws RecordTooLargeError and writes nothing', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig({ 'max.message.bytes': 1000 }));
      const stored = appendAll(log, [[{ key: null, value: Buffer.alloc(500, 1), timestamp: T0 }]]);
      const sizeBefore = log.sizeBytes;
      const fileBefore = fs.statSync(path.join(log.dir, segmentLogFiles(log.dir)[0] as string)).size;
      assert.throws(
        () => log.append([{ key: null, value: Buffer.alloc(1000, 2), timestamp: T0 }], T0),
        RecordTooLargeError,
      );
      assert.throws(
        () =>
          log.append(
            Array.from({ length: 20 }, () => ({ key: null, value: Buffer.alloc(60, 3), timestamp: T0 })),
            T0,
          ),
        RecordTooLargeError,
      );
      assert.equal(log.logEndOffset, 1);
      assert.equal(log.sizeBytes, sizeBefore);
      assert.equal(fs.statSync(path.join(log.dir, segmentLogFiles(log.dir)[0] as string)).size, fileBefore);
      assertRecordsEqual(readRecords(log), stored);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('a compacted topic rejects a batch holding any record without a key and writes nothing', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, logConfig({ 'cleanup.policy': 'compact' }));
      assert.throws(() => log.append([{ key: null, value: Buffer.from('v'), timestamp: T0 }], T0), InvalidRecordError);
      assert.throws(
        () =>
          log.append(
            [
              { key: Buffer.from('k'), value: Buffer.from('v'), timestamp: T0 },
              { key: null, value: Buffer.from('v'), timestamp: T0 },
            ],
            T0,
          ),
        InvalidRecordError,
      );
      assert.equal(log.logEndOffset, 0);
      assert.equal(log.sizeBytes, 0);
      assert.equal(log.append([{ key: Buffer.from('k'), value: null, timestamp: T0 }], T0).baseOffset, 0);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('the offset index stays sparse: about one entry per index.interval.bytes of log', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'index.interval.bytes': 4096 });
      const { log } = openLog(root, config);
      const records = Array.from({ length: 10 }, (_, i) => ({
        key: null,
        value: contentBytes(i, 90),
        timestamp: T0 + i,
      }));
      for (let i = 0; i < 2000; i++) log.append(records, T0);
      log.flush();
      const seg = log.segmentList()[0] as LogSegment;
      const batchBytes = seg.sizeBytes / 2000;
      const entries = fs.statSync(seg.offsetIndex.path).size / 8;
      // One entry each time more than 4096 bytes have gone by: every ceil(4097 / batch) batches.
      const perEntry = Math.ceil(4097 / batchBytes);
      assert.equal(entries, Math.floor((2000 - 1) / perEntry));
      assert.ok(
        entries <= seg.sizeBytes / 4097 && entries >= seg.sizeBytes / (4096 + batchBytes) - 1,
        `${entries} entries for ${seg.sizeBytes} bytes`,
      );
      await log.close();
    } finally {
      removeDir(root);
    }
  });
});

describe('partition log: retention', () => {
  test('deleteOldSegments removes whole old segments only, never at or past the high watermark, and keeps offsets', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1500, max: 6000 }),
        fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: -1 }),
        fc.option(fc.integer({ min: 0, max: 40_000 }), { nil: -1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 60_000 }),
        async (batchSizes, segmentBytes, retentionMs, retentionBytes, hwFraction, nowAfterLastMs) => {
          const root = makeTempDir();
          const config = logConfig({
            'segment.bytes': segmentBytes,
            'retention.ms': retentionMs,
            'retention.bytes': retentionBytes,
            'index.interval.bytes': 256,
          });
          try {
            // Batch i is written at T0 + 1000 i; its records carry that time.
            const batches = batchSizes.map((n, i) =>
              Array.from({ length: n }, (_, j) => ({
                key: contentBytes(i, 4),
                value: contentBytes(i * 100 + j, 100),
                timestamp: T0 + 1000 * i,
              })),
            );
            const { log: writer } = openLog(root, config);
            const stored = appendAll(writer, batches);
            // Reopen so no post-roll fsync is still in flight (retention waits for those).
            await writer.close();
            const { log } = openLog(root, config, CLEAN);
            const leo = log.logEndOffset;
            log.highWatermark = Math.floor(hwFraction * leo);
            const now = T0 + 1000 * (batchSizes.length - 1) + nowAfterLastMs;

            const before = log
              .segmentList()
              .map((s) => ({ base: s.baseOffset, next: s.nextOffset, size: s.sizeBytes, largest: s.largestTimestamp }));
            // Kafka's rule, oldest first: stop at the first segment that is neither expired nor
            // needed to get under retention.bytes, or that reaches past the high watermark.
            let overBytes =
              retentionBytes >= 0
                ? before.reduce((sum, s) => sum + s.size, 0) - retentionBytes
                : Number.NEGATIVE_INFINITY;
            let expectedDeleted = 0;
            for (let i = 0; i < before.length; i++) {
              const s = before[i] as (typeof before)[number];
              if (i === before.length - 1 && s.size === 0) break;
              if ((before[i + 1]?.base ?? s.next) > log.highWatermark) break;
              const expired = retentionMs >= 0 && now - s.largest > retentionMs;
              const overSize = overBytes - s.size >= 0;
              if (!expired && !overSize) break;
              overBytes -= s.size;
              expectedDeleted++;
            }

            assert.equal(log.deleteOldSegments(now), expectedDeleted);
            const start =
              expectedDeleted < before.length ? (before[expectedDeleted] as (typeof before)[number]).base : leo;
            assert.equal(log.logStartOffset, start);
            assert.ok(
              log.logStartOffset <= log.highWatermark,
              'retention never removes records at or past the high watermark',
            );
            assert.equal(log.logEndOffset, leo);
            const remainingBases = log.segmentList().map((s) => s.baseOffset);
            assert.deepEqual(
              remainingBases,
              expectedDeleted < before.length ? before.slice(expectedDeleted).map((s) => s.base) : [leo],
            );
            assert.deepEqual(
              segmentLogFiles(log.dir),
              remainingBases.map((b) => `${String(b).padStart(20, '0')}.log`),
            );
            assertRecordsEqual(readRecords(log), stored.slice(start), 'records left after retention');
            if (start > 0) assert.throws(() => log.read(start - 1, 1000, { maxOffset: leo }), OffsetOutOfRangeError);

            // Appends carry on at the same LEO whatever retention removed.
            const info = log.append([{ key: null, value: Buffer.from('after retention'), timestamp: now }], now);
            assert.equal(info.baseOffset, leo);
            assert.deepEqual(
              readRecords(log, leo).map((r) => r.value?.toString()),
              ['after retention'],
            );
            await log.close();
          } finally {
            removeDir(root);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  test('when every segment expires an empty active segment remains at the LEO and appends continue there', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'segment.bytes': 2000, 'retention.ms': 1000 });
      const { log: writer } = openLog(root, config);
      const stored = appendAll(
        writer,
        Array.from({ length: 30 }, (_, i) => [{ key: null, value: contentBytes(i, 200), timestamp: T0 + i }]),
      );
      await writer.close();
      const { log } = openLog(root, config, CLEAN);
      log.highWatermark = log.logEndOffset;
      const segments = log.segmentCount;
      assert.ok(segments > 2, `the log rolled: ${segments} segments`);
      assert.equal(log.deleteOldSegments(T0 + 60_000), segments);
      assert.equal(log.segmentCount, 1);
      assert.equal(log.logStartOffset, stored.length);
      assert.equal(log.logEndOffset, stored.length);
      assert.equal(log.sizeBytes, 0);
      // The old active segment's files are renamed to *.deleted at once (Kafka's first step), even
      // while its post-roll fsync is in flight, so a crash now cannot bring its records back.
      assert.deepEqual(segmentLogFiles(log.dir), [`${String(stored.length).padStart(20, '0')}.log`]);
      await eventually(() => !fs.readdirSync(log.dir).some((f) => f.endsWith('.deleted')));
      assert.equal(
        log.append([{ key: null, value: Buffer.from('next'), timestamp: T0 + 60_000 }], T0 + 60_000).baseOffset,
        stored.length,
      );
      log.highWatermark = log.logEndOffset;
      assert.deepEqual(
        readRecords(log).map((r) => [r.offset, r.value?.toString()]),
        [[stored.length, 'next']],
      );
      // A second pass right away must not delete the fresh segment (its record is new).
      assert.equal(log.deleteOldSegments(T0 + 60_000), 0);
      await log.close();
      const { log: reopened } = openLog(root, config, UNCLEAN);
      assert.equal(reopened.logStartOffset, stored.length);
      assert.equal(reopened.logEndOffset, stored.length + 1);
      await reopened.close();
    } finally {
      removeDir(root);
    }
  });

  test('retention leaves a compact-only topic alone', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'segment.bytes': 2000, 'retention.ms': 0, 'cleanup.policy': 'compact' });
      const { log } = openLog(root, config);
      appendAll(
        log,
        Array.from({ length: 20 }, (_, i) => [{ key: Buffer.from('k'), value: contentBytes(i, 200), timestamp: T0 }]),
      );
      log.highWatermark = log.logEndOffset;
      await log.close();
      const { log: reopened } = openLog(root, config, CLEAN);
      reopened.highWatermark = reopened.logEndOffset;
      assert.equal(reopened.deleteOldSegments(T0 + 1_000_000), 0);
      assert.equal(reopened.logStartOffset, 0);
      await reopened.close();
    } finally {
      removeDir(root);
    }
  });
});
