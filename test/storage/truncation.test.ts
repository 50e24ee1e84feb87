import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LogManager } from '../../src/storage/log-manager.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import {
  assertRecordsEqual,
  CLEAN,
  logConfig,
  makeTempDir,
  openLog,
  PARTITION,
  partitionDir,
  readRecords,
  removeDir,
  segmentLogFiles,
  TOPIC,
  UNCLEAN,
} from './log-fixture.js';
import {
  type BatchPlan,
  batchesOf,
  epochsOfBatches,
  fetchAll,
  filesOf,
  T0,
  writeAsLeader,
} from './replica-log-fixture.js';

const config = logConfig({ 'segment.bytes': 2500, 'index.interval.bytes': 150 });

const plans: fc.Arbitrary<BatchPlan[]> = fc
  .array(
    fc.record({
      records: fc.integer({ min: 1, max: 8 }),
      valueBytes: fc.integer({ min: 0, max: 300 }),
      epoch: fc.integer({ min: 0, max: 4 }),
    }),
    { minLength: 1, maxLength: 40 },
  )
  .map((ps) => {
    let epoch = 0;
    return ps.map((p) => {
      if (p.epoch === 4) epoch++;
      return { ...p, epoch };
    });
  });

/** Where Kafka's LogSegment.truncateTo leaves the log end: the base of the batch holding `target`. */
function expectedEnd(log: PartitionLog, target: number): number {
  for (const b of batchesOf(fetchAll(log))) if (b.lastOffset >= target) return Math.min(b.baseOffset, target);
  return Math.min(target, log.logEndOffset);
}

/** Everything a truncated log must agree on with itself, and with a reopen of its files. */
async function checkTruncated(log: PartitionLog, end: number, records: ReturnType<typeof writeAsLeader>) {
  assert.equal(log.logEndOffset, end, 'log end offset');
  assertRecordsEqual(readRecords(log), records.slice(log.logStartOffset, end), 'records after truncation');
  assert.ok(log.highWatermark <= end && log.recoveryPoint <= end, 'high watermark and recovery point clamped');
  const batches = fetchAll(log);
  assert.deepEqual(log.leaderEpochCache.epochEntries(), epochsOfBatches(batches), 'epochs of what is left');
  for (const seg of log.segmentList()) {
    assert.ok(seg.baseOffset <= Math.max(end, log.logStartOffset), `segment ${seg.baseOffset} past the end survives`);
    assert.ok(seg.offsetIndex.lastEntry().offset < Math.max(end, seg.baseOffset + 1), 'offset index trimmed');
    const lastTime = seg.timeIndex.lastEntry();
    assert.ok(lastTime === null || lastTime.offset < end, 'time index trimmed');
  }
  const files = segmentLogFiles(log.dir).map((f) => Number(f.slice(0, 20)));
  assert.deepEqual(
    files,
    log.segmentList().map((s) => s.baseOffset),
    'only live segments have files',
  );
  // An unclean reopen (every segment recovered, indexes rebuilt from the log) sees the same log,
  // and the offset index the truncation left is the one a rebuild makes.
  log.flush();
  const indexes = filesOf(log.dir, ['.index']);
  const { log: recovered, truncatedBytes } = openLog(log.dir.replace(/\/[^/]+$/, ''), config, UNCLEAN);
  assert.equal(truncatedBytes, 0);
  assert.equal(recovered.logEndOffset, end);
  assert.equal(recovered.logStartOffset, log.logStartOffset);
  assertRecordsEqual(readRecords(recovered), records.slice(log.logStartOffset, end), 'records after reopen');
  assert.deepEqual(filesOf(recovered.dir, ['.index']), indexes, 'offset index equals a rebuild');
  assert.deepEqual(recovered.leaderEpochCache.epochEntries(), log.leaderEpochCache.epochEntries());
  await recovered.close();
}

describe('truncateTo', () => {
  test('any target: the batch holding it and all after go, and log, indexes, epochs and a reopen agree', async () => {
    await fc.assert(
      fc.asyncProperty(plans, fc.double({ min: 0, max: 1.1, noNaN: true }), async (ps, where) => {
        const root = makeTempDir();
        try {
          const { log } = openLog(root, config);
          const records = writeAsLeader(log, ps);
          const leo = log.logEndOffset;
          const target = Math.floor(where * leo);
          log.highWatermark = leo;
          const end = expectedEnd(log, target);
          assert.equal(log.truncateTo(target), target < leo);
          await checkTruncated(log, end, records);
          assert.equal(log.highWatermark, end, 'a high watermark above the new end comes down to it');
          // The log goes on from its new end: appends (as leader, and as follower) land there.
          const more = writeAsLeader(log, [{ records: 2, valueBytes: 40, epoch: 9 }]);
          assert.equal(more[0]?.offset, end);
          assert.deepEqual(log.leaderEpochCache.latestEntry(), { epoch: 9, startOffset: end });
          await log.close();
        } finally {
          removeDir(root);
        }
      }),
      { numRuns: 30 },
    );
  });

  test('a target inside a batch removes that whole batch: the log ends at its base offset', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, config);
      const records = writeAsLeader(log, [
        { records: 5, valueBytes: 10, epoch: 1 },
        { records: 5, valueBytes: 10, epoch: 2 },
        { records: 5, valueBytes: 10, epoch: 2 },
      ]);
      log.highWatermark = 7;
      assert.equal(log.truncateTo(12), true);
      assert.equal(log.logEndOffset, 10);
      assert.equal(log.highWatermark, 7, 'a high watermark below the new end stays');
      assert.deepEqual(log.leaderEpochCache.epochEntries(), [
        { epoch: 1, startOffset: 0 },
        { epoch: 2, startOffset: 5 },
      ]);
      assert.equal(log.truncateTo(7), true);
      assert.equal(log.logEndOffset, 5);
      assert.equal(log.highWatermark, 5);
      assert.deepEqual(log.leaderEpochCache.epochEntries(), [{ epoch: 1, startOffset: 0 }]);
      assert.equal(
        fs.readFileSync(`${partitionDir(root)}/leader-epoch-checkpoint`, 'utf8'),
        '0\n1\n1 0\n',
        'the checkpoint follows the truncation',
      );
      await checkTruncated(log, 5, records);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('at a segment boundary the later segments are deleted entirely and the one starting there is emptied', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, config);
      const records = writeAsLeader(
        log,
        Array.from({ length: 20 }, () => ({ records: 2, valueBytes: 200, epoch: 0 })),
      );
      const segments = log.segmentList();
      assert.ok(segments.length >= 4, `${segments.length} segments`);
      const boundary = (segments[2] as (typeof segments)[0]).baseOffset;
      log.truncateTo(boundary);
      assert.deepEqual(
        segmentLogFiles(log.dir).map((f) => Number(f.slice(0, 20))),
        segments.slice(0, 3).map((s) => s.baseOffset),
      );
      assert.equal(log.segmentList().at(-1)?.sizeBytes, 0);
      await checkTruncated(log, boundary, records);
      // A truncated log rolls again at the same base offsets (fresh files, not the deleted ones).
      writeAsLeader(
        log,
        Array.from({ length: 20 }, () => ({ records: 2, valueBytes: 200, epoch: 1 })),
      );
      assert.ok(log.segmentCount >= 4);
      await log.close();
      const { log: reopened } = openLog(root, config, CLEAN);
      assert.equal(reopened.logEndOffset, boundary + 40);
      await reopened.close();
    } finally {
      removeDir(root);
    }
  });

  test('a target at or past the log end changes nothing but an epoch started at the end with no data', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, config);
      writeAsLeader(log, [{ records: 3, valueBytes: 10, epoch: 1 }]);
      log.leaderEpochCache.assign(2, 3); // a leader that took over at 3 and wrote nothing
      assert.equal(log.truncateTo(3), false);
      assert.equal(log.truncateTo(100), false);
      assert.equal(log.logEndOffset, 3);
      assert.deepEqual(log.leaderEpochCache.epochEntries(), [{ epoch: 1, startOffset: 0 }]);
      assert.throws(() => log.truncateTo(-1), RangeError);
      await log.close();
    } finally {
      removeDir(root);
    }
  });

  test('below the log start offset the log is emptied and restarts at the target (truncateFullyAndStartAt)', async () => {
    const root = makeTempDir();
    try {
      const retained = logConfig({ 'segment.bytes': 2500, 'retention.bytes': 3000 });
      const { log: writer } = openLog(root, retained);
      writeAsLeader(
        writer,
        Array.from({ length: 30 }, () => ({ records: 2, valueBytes: 200, epoch: 3 })),
      );
      await writer.close(); // retention waits for the fsyncs that follow each roll
      const { log } = openLog(root, retained, CLEAN);
      log.highWatermark = log.logEndOffset;
      assert.ok(log.deleteOldSegments(T0) > 0);
      const start = log.logStartOffset;
      assert.ok(start > 10);
      assert.deepEqual(
        log.leaderEpochCache.epochEntries(),
        [{ epoch: 3, startOffset: start }],
        'retention moved the epoch start',
      );
      assert.equal(log.truncateTo(4), true);
      assert.equal(log.logStartOffset, 4);
      assert.equal(log.logEndOffset, 4);
      assert.equal(log.highWatermark, 4);
      assert.equal(log.recoveryPoint, 4);
      assert.deepEqual(log.leaderEpochCache.epochEntries(), []);
      assert.deepEqual(segmentLogFiles(log.dir), ['00000000000000000004.log']);
      writeAsLeader(log, [{ records: 2, valueBytes: 10, epoch: 5 }]);
      assert.equal(log.logEndOffset, 6);
      await log.close();
      const { log: reopened } = openLog(root, retained, UNCLEAN);
      assert.equal(reopened.logStartOffset, 4);
      assert.equal(reopened.logEndOffset, 6);
      assert.deepEqual(reopened.leaderEpochCache.epochEntries(), [{ epoch: 5, startOffset: 4 }]);
      // Ahead of the log end too: a follower adopting a leader's log start offset.
      reopened.truncateFullyAndStartAt(1000);
      assert.equal(reopened.logStartOffset, 1000);
      assert.equal(reopened.logEndOffset, 1000);
      assert.deepEqual(segmentLogFiles(reopened.dir), ['00000000000000001000.log']);
      await reopened.close();
    } finally {
      removeDir(root);
    }
  });

  test('truncateFullyAndStartAt at the first segment base offset replaces it, not deletes the new one', async () => {
    const root = makeTempDir();
    try {
      const { log } = openLog(root, config);
      writeAsLeader(log, [{ records: 3, valueBytes: 10, epoch: 0 }]);
      log.truncateFullyAndStartAt(0);
      assert.equal(log.logEndOffset, 0);
      writeAsLeader(log, [{ records: 1, valueBytes: 10, epoch: 0 }]);
      await log.close();
      const { log: reopened } = openLog(root, config, UNCLEAN);
      assert.equal(reopened.logEndOffset, 1);
      await reopened.close();
    } finally {
      removeDir(root);
    }
  });

  test('a follower diverged from its leader truncates to the epoch end and then replicates the leader exactly', async () => {
    const root = makeTempDir();
    try {
      const open = (name: string) => openLog(`${root}/${name}`, config).log;
      const leader = open('leader');
      const follower = open('follower');
      const common: BatchPlan[] = [
        { records: 4, valueBytes: 50, epoch: 1 },
        { records: 4, valueBytes: 50, epoch: 2 },
      ];
      writeAsLeader(leader, common);
      follower.appendAsFollower(fetchAll(leader));
      // The follower led epoch 3 briefly and wrote what nobody else has; the leader went on in epoch 4.
      writeAsLeader(follower, [{ records: 6, valueBytes: 50, epoch: 3 }]);
      writeAsLeader(leader, [{ records: 3, valueBytes: 70, epoch: 4 }]);
      // OffsetsForLeaderEpoch: the leader knows no epoch 3; its answer is epoch 2, ending at 8.
      const answer = leader.endOffsetForEpoch(follower.leaderEpochCache.latestEpoch);
      assert.deepEqual(answer, { epoch: 2, endOffset: 8 });
      follower.truncateTo(Math.min(answer.endOffset, follower.endOffsetForEpoch(answer.epoch).endOffset));
      assert.equal(follower.logEndOffset, 8);
      follower.appendAsFollower(fetchAll(leader, follower.logEndOffset));
      leader.flush();
      follower.flush();
      assert.deepEqual(filesOf(follower.dir, ['.log']), filesOf(leader.dir, ['.log']));
      assert.deepEqual(follower.leaderEpochCache.epochEntries(), leader.leaderEpochCache.epochEntries());
      await follower.close();
      await leader.close();
    } finally {
      removeDir(root);
    }
  });

  test('a cleaning pass overtaken by a truncation swaps nothing in', async () => {
    const root = makeTempDir();
    try {
      const compacted = logConfig({
        'segment.bytes': 1200,
        'cleanup.policy': 'compact',
        'min.cleanable.dirty.ratio': 0.01,
      });
      const { log } = openLog(root, compacted);
      // Every record has the same key, so cleaning keeps only the newest copy of it.
      for (let i = 0; i < 40; i++)
        log.append([{ key: Buffer.from('k'), value: Buffer.alloc(100, i), timestamp: T0 + i }], T0, 0);
      log.highWatermark = log.logEndOffset;
      const manager = new LogManager({
        dataDir: root,
        retentionCheckIntervalMs: 60_000,
        flushCheckIntervalMs: 60_000,
        checkpointIntervalMs: 60_000,
        cleanerBackoffMs: 60_000,
        onError: () => {},
      });
      const pass = manager.cleaner.clean(log, T0 + 1000);
      // The pass yields after mapping its first segment; the truncation lands meanwhile.
      log.truncateTo(3);
      await pass;
      assert.equal(log.logEndOffset, 3);
      const values = readRecords(log).map((r) => r.value?.[0]);
      assert.deepEqual(values, [0, 1, 2], 'the records below the truncation point are all still there');
      await log.close();
    } finally {
      removeDir(root);
    }
  });
});

describe('high watermark and recovery point checkpoints', () => {
  const options = (dataDir: string, highWatermarkCheckpointIntervalMs = 60_000) => ({
    dataDir,
    retentionCheckIntervalMs: 60_000,
    flushCheckIntervalMs: 60_000,
    checkpointIntervalMs: 60_000,
    highWatermarkCheckpointIntervalMs,
    cleanerBackoffMs: 60_000,
    onError: (task: string, err: unknown) => {
      throw new Error(`${task} failed: ${String(err)}`);
    },
  });

  test('shutdown writes replication-offset-checkpoint; the next start restores each high watermark, clamped to the log', async () => {
    const root = makeTempDir();
    try {
      const first = new LogManager(options(root));
      first.beginLoading();
      const { log } = first.loadLog(TOPIC, PARTITION, config);
      const { log: other } = first.loadLog('payments', 0, config);
      writeAsLeader(
        log,
        Array.from({ length: 10 }, () => ({ records: 3, valueBytes: 50, epoch: 0 })),
      );
      writeAsLeader(other, [{ records: 5, valueBytes: 10, epoch: 0 }]);
      log.updateHighWatermark(17); // a follower's: below its log end
      other.updateHighWatermark(5);
      first.finishLoading();
      await first.shutdown();
      const text = fs.readFileSync(`${root}/replication-offset-checkpoint`, 'utf8');
      const lines = text.split('\n');
      assert.equal(lines[0], '0');
      assert.equal(lines[1], '2');
      assert.deepEqual(lines.slice(2, 4).sort(), [`${TOPIC} ${PARTITION} 17`, 'payments 0 5'].sort());
      assert.ok(text.endsWith('\n'));

      const second = new LogManager(options(root));
      second.beginLoading();
      assert.equal(second.loadLog(TOPIC, PARTITION, config).log.highWatermark, 17, 'restored, not the log end (30)');
      assert.equal(second.loadLog('payments', 0, config).log.highWatermark, 5);
      second.finishLoading();
      await second.shutdown();

      // A checkpoint above what the log holds (its tail was lost) comes down to the log end.
      fs.writeFileSync(`${root}/replication-offset-checkpoint`, `0\n2\n${TOPIC} ${PARTITION} 999\npayments 0 3\n`);
      const third = new LogManager(options(root));
      third.beginLoading();
      assert.equal(third.loadLog(TOPIC, PARTITION, config).log.highWatermark, 30);
      assert.equal(third.loadLog('payments', 0, config).log.highWatermark, 3);
      third.finishLoading();
      await third.shutdown();

      // A damaged checkpoint starts every high watermark at its log start offset.
      fs.writeFileSync(`${root}/replication-offset-checkpoint`, '0\n5\norders 3 2\n');
      const fourth = new LogManager(options(root));
      fourth.beginLoading();
      assert.equal(fourth.loadLog(TOPIC, PARTITION, config).log.highWatermark, 0);
      fourth.finishLoading();
      await fourth.shutdown();
    } finally {
      removeDir(root);
    }
  });

  test('the high-watermark checkpoint is written by its background task, not by appends', async () => {
    const root = makeTempDir();
    try {
      const manager = new LogManager(options(root, 20));
      manager.beginLoading();
      const { log } = manager.loadLog(TOPIC, PARTITION, config);
      manager.finishLoading();
      const file = `${root}/replication-offset-checkpoint`;
      writeAsLeader(log, [{ records: 4, valueBytes: 10, epoch: 0 }]);
      log.updateHighWatermark(4);
      assert.ok(!fs.existsSync(file), 'no checkpoint per append');
      manager.startBackgroundTasks();
      // Bounded wait for the task's first run; the assertion is on content, not on time.
      for (let i = 0; i < 500 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(fs.readFileSync(file, 'utf8'), `0\n1\n${TOPIC} ${PARTITION} 4\n`);
      await manager.shutdown();
    } finally {
      removeDir(root);
    }
  });

  test('a truncation lowers the recovery point with the log end, and the checkpoint written next says so', async () => {
    const root = makeTempDir();
    try {
      const manager = new LogManager(options(root));
      manager.beginLoading();
      const { log } = manager.loadLog(TOPIC, PARTITION, config);
      manager.finishLoading();
      writeAsLeader(
        log,
        Array.from({ length: 10 }, () => ({ records: 3, valueBytes: 50, epoch: 0 })),
      );
      log.flush();
      assert.equal(log.recoveryPoint, 30);
      log.truncateTo(12);
      assert.equal(log.recoveryPoint, 12);
      manager.checkpointRecoveryPoints();
      assert.equal(
        fs.readFileSync(`${root}/recovery-point-offset-checkpoint`, 'utf8'),
        `0\n1\n${TOPIC} ${PARTITION} 12\n`,
      );
      await manager.shutdown();
    } finally {
      removeDir(root);
    }
  });
});
