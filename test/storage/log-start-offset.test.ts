/**
 * The log start offset DeleteRecords moves (KIP-107): inside a segment, never past the high
 * watermark, segments wholly below it gone from disk, and the offset kept across a restart by the
 * log manager's `log-start-offset-checkpoint`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OffsetOutOfRangeError } from '../../src/errors.js';
import { LogManager } from '../../src/storage/log-manager.js';
import {
  logConfig,
  makeTempDir,
  openLog,
  PARTITION,
  partitionDir,
  readRecords,
  removeDir,
  segmentLogFiles,
  TOPIC,
} from './log-fixture.js';

const T0 = 1_700_000_000_000;
const value = (i: number) => Buffer.from(`record-${i}-${'x'.repeat(60)}`);

describe('log start offset (DeleteRecords)', () => {
  test('moves inside a segment, deletes the segments wholly below it, refuses to pass the high watermark', async () => {
    const root = makeTempDir();
    try {
      // Small segments: 30 one-record batches of ~130 bytes roll several times.
      const { log } = openLog(root, logConfig({ 'segment.bytes': 1000 }));
      for (let i = 0; i < 30; i++) log.append([{ key: null, value: value(i), headers: [], timestamp: T0 + i }], T0 + i);
      log.highWatermark = 25;
      const segmentsBefore = segmentLogFiles(partitionDir(root)).length;
      assert.ok(segmentsBefore >= 4, `only ${segmentsBefore} segments`);

      assert.equal(log.advanceLogStartOffset(17), 17);
      assert.equal(log.logStartOffset, 17);
      assert.deepEqual(
        readRecords(log).map((r) => r.offset),
        Array.from({ length: 13 }, (_, i) => 17 + i),
      );
      assert.throws(() => log.read(16, 1 << 20), OffsetOutOfRangeError);
      // Segments whose post-roll fsync is still running go at the next retention pass.
      await new Promise((resolve) => setTimeout(resolve, 200));
      log.deleteOldSegments(T0);
      const left = segmentLogFiles(partitionDir(root));
      assert.ok(left.length < segmentsBefore, `segments below the new start are gone: ${left.join(' ')}`);
      assert.ok(Number(left[0]?.slice(0, 20)) <= 17, 'the segment holding offset 17 stays');

      // Lower than the start: nothing changes. Past the high watermark: OFFSET_OUT_OF_RANGE.
      assert.equal(log.advanceLogStartOffset(3), 17);
      assert.throws(() => log.advanceLogStartOffset(26), OffsetOutOfRangeError);
      assert.equal(log.logStartOffset, 17);

      // Up to the log end: every record goes, appends continue at the log end.
      log.highWatermark = 30;
      assert.equal(log.advanceLogStartOffset(30), 30);
      assert.deepEqual(readRecords(log), []);
      assert.equal(log.append([{ key: null, value: value(30), headers: [], timestamp: T0 }], T0).baseOffset, 30);
      assert.deepEqual(
        readRecords(log).map((r) => r.offset),
        [30],
      );
    } finally {
      removeDir(root);
    }
  });

  test('the log manager checkpoints it, and the next start opens the log there', async () => {
    const root = makeTempDir();
    try {
      const options = {
        dataDir: root,
        retentionCheckIntervalMs: 60_000,
        flushCheckIntervalMs: 60_000,
        checkpointIntervalMs: 60_000,
        cleanerBackoffMs: 60_000,
        onError: (task: string, err: unknown) => assert.fail(`${task}: ${String(err)}`),
      };
      const first = new LogManager(options);
      first.beginLoading();
      const { log } = first.loadLog(TOPIC, PARTITION, logConfig());
      first.finishLoading();
      for (let i = 0; i < 10; i++) log.append([{ key: null, value: value(i), headers: [], timestamp: T0 }], T0);
      log.highWatermark = 10;
      log.advanceLogStartOffset(6);
      first.checkpointLogStartOffsets();
      // No clean shutdown: what the checkpoint written at once says is what the next start reads.
      await log.close();

      const second = new LogManager(options);
      second.beginLoading();
      const { log: reopened } = second.loadLog(TOPIC, PARTITION, logConfig());
      second.finishLoading();
      assert.equal(reopened.logStartOffset, 6);
      assert.deepEqual(
        readRecords(reopened).map((r) => r.offset),
        [6, 7, 8, 9],
      );
      await second.shutdown();
    } finally {
      removeDir(root);
    }
  });
});
