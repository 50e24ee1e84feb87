import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CorruptRecordError, UnexpectedAppendOffsetError } from '../../src/errors.js';
import { PartitionLog } from '../../src/storage/partition-log.js';
import { setBaseOffset } from '../../src/storage/record-batch.js';
import {
  assertRecordsEqual,
  CLEAN,
  FRESH,
  logConfig,
  makeTempDir,
  openLog,
  PARTITION,
  partitionDir,
  readRecords,
  removeDir,
  TOPIC,
  UNCLEAN,
} from './log-fixture.js';
import { type BatchPlan, batchesOf, epochsOfBatches, fetchAll, filesOf, writeAsLeader } from './replica-log-fixture.js';

const SEGMENT_FILES = ['.log', '.index', '.timeindex'];

/** A leader log in `root/leader` and an empty follower log in `root/follower`, same config. */
function leaderAndFollower(root: string, config = logConfig({ 'segment.bytes': 3000, 'index.interval.bytes': 200 })) {
  const open = (name: string) =>
    PartitionLog.open(path.join(root, name, `${TOPIC}-${PARTITION}`), TOPIC, PARTITION, config, FRESH).log;
  return { leader: open('leader'), follower: open('follower') };
}

const batchPlan: fc.Arbitrary<BatchPlan> = fc.record({
  records: fc.integer({ min: 1, max: 12 }),
  valueBytes: fc.integer({ min: 0, max: 400 }),
  epoch: fc.integer({ min: 0, max: 3 }),
});
/** Epochs never decrease along a leader's log. */
const leaderPlans = fc.array(batchPlan, { minLength: 1, maxLength: 40 }).map((plans) => {
  let epoch = 0;
  return plans.map((p) => {
    epoch += p.epoch === 3 ? 1 : 0;
    return { ...p, epoch };
  });
});

describe('appendAsFollower: batches as the leader wrote them', () => {
  test('stores exactly the leader bytes, rolls and indexes the same segments, and learns the epochs', async () => {
    await fc.assert(
      fc.asyncProperty(leaderPlans, fc.integer({ min: 1, max: 5 }), async (plans, chunks) => {
        const root = makeTempDir();
        try {
          const { leader, follower } = leaderAndFollower(root);
          const stored = writeAsLeader(leader, plans);
          const fetched = fetchAll(leader);
          // Fetched in several pieces at batch boundaries, as successive fetches would.
          const batches = batchesOf(fetched);
          const per = Math.ceil(batches.length / chunks);
          for (let i = 0; i < batches.length; i += per) {
            const piece = Buffer.concat(batches.slice(i, i + per).map((b) => b.bytes));
            const info = follower.appendAsFollower(piece, 0);
            assert.equal(info.baseOffset, batches[i]?.baseOffset);
            assert.equal(info.sizeBytes, piece.length);
          }
          assert.equal(follower.logEndOffset, leader.logEndOffset);
          leader.flush();
          follower.flush();
          assert.deepEqual(
            filesOf(follower.dir, SEGMENT_FILES),
            filesOf(leader.dir, SEGMENT_FILES),
            'the same segment files, byte for byte',
          );
          assert.deepEqual(follower.leaderEpochCache.epochEntries(), epochsOfBatches(fetched));
          assert.deepEqual(follower.leaderEpochCache.epochEntries(), leader.leaderEpochCache.epochEntries());
          assertRecordsEqual(readRecords(follower), stored);
          await follower.close();
          await leader.close();
          // The follower's log reopens as it was written, after a crash as after a clean stop.
          for (const opts of [UNCLEAN, CLEAN]) {
            const reopened = PartitionLog.open(follower.dir, TOPIC, PARTITION, follower.logConfig, opts).log;
            assert.equal(reopened.logEndOffset, stored.length);
            assertRecordsEqual(readRecords(reopened), stored);
            assert.deepEqual(reopened.leaderEpochCache.epochEntries(), epochsOfBatches(fetched));
            await reopened.close();
          }
        } finally {
          removeDir(root);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('the leader-epoch-checkpoint file is Kafka text: version, count, then "epoch startOffset" lines', async () => {
    const root = makeTempDir();
    try {
      const { leader, follower } = leaderAndFollower(root);
      writeAsLeader(leader, [
        { records: 3, valueBytes: 10, epoch: 2 },
        { records: 2, valueBytes: 10, epoch: 2 },
        { records: 4, valueBytes: 10, epoch: 5 },
        { records: 1, valueBytes: 10, epoch: 7 },
      ]);
      follower.appendAsFollower(fetchAll(leader));
      const text = fs.readFileSync(path.join(follower.dir, 'leader-epoch-checkpoint'), 'utf8');
      assert.equal(text, '0\n3\n2 0\n5 5\n7 9\n');
      await follower.close();
      await leader.close();
    } finally {
      removeDir(root);
    }
  });

  test('a corrupt batch anywhere rejects the whole append: nothing is written', async () => {
    const root = makeTempDir();
    try {
      const { leader, follower } = leaderAndFollower(root);
      writeAsLeader(leader, [
        { records: 2, valueBytes: 50, epoch: 1 },
        { records: 2, valueBytes: 50, epoch: 1 },
      ]);
      const fetched = Buffer.from(fetchAll(leader));
      const second = batchesOf(fetched)[1];
      assert.ok(second);
      fetched[fetched.length - 1] = (fetched[fetched.length - 1] as number) ^ 0x01; // a value byte of batch 2
      assert.throws(() => follower.appendAsFollower(fetched), CorruptRecordError);
      assert.equal(follower.logEndOffset, 0);
      assert.equal(follower.sizeBytes, 0);
      assert.deepEqual(follower.leaderEpochCache.epochEntries(), []);
      // A declared length below the batch header is corrupt too, not a partial tail.
      const tiny = Buffer.from(fetchAll(leader));
      tiny.writeInt32BE(20, 8);
      assert.throws(() => follower.appendAsFollower(tiny), CorruptRecordError);
      assert.equal(follower.sizeBytes, 0);
      await follower.close();
      await leader.close();
    } finally {
      removeDir(root);
    }
  });

  test('offsets must continue the log: a gap, an overlap or a jump between batches is refused and writes nothing', async () => {
    const root = makeTempDir();
    try {
      const { leader, follower } = leaderAndFollower(root);
      writeAsLeader(leader, [
        { records: 3, valueBytes: 20, epoch: 0 },
        { records: 3, valueBytes: 20, epoch: 0 },
        { records: 3, valueBytes: 20, epoch: 0 },
      ]);
      const batches = batchesOf(fetchAll(leader));
      const [b0, b1, b2] = batches as [(typeof batches)[0], (typeof batches)[0], (typeof batches)[0]];
      // The first batch must start at the log end offset (0): starting at 3 is a gap.
      assert.throws(() => follower.appendAsFollower(b1.bytes), UnexpectedAppendOffsetError);
      assert.equal(follower.logEndOffset, 0);
      // Batch 0 then batch 2 skips offsets 3..5: the whole append is refused, batch 0 included.
      assert.throws(() => follower.appendAsFollower(Buffer.concat([b0.bytes, b2.bytes])), UnexpectedAppendOffsetError);
      assert.equal(follower.logEndOffset, 0);
      assert.equal(follower.sizeBytes, 0);
      follower.appendAsFollower(b0.bytes);
      // Appending batch 0 again overlaps what the log holds.
      assert.throws(() => follower.appendAsFollower(b0.bytes), UnexpectedAppendOffsetError);
      // A batch restamped to an offset in the middle of the previous one.
      const shifted = Buffer.from(b1.bytes);
      setBaseOffset(shifted, 2); // outside the CRC, so only the offset check can catch it
      assert.throws(() => follower.appendAsFollower(shifted), UnexpectedAppendOffsetError);
      assert.equal(follower.logEndOffset, 3);
      follower.appendAsFollower(Buffer.concat([b1.bytes, b2.bytes]));
      assert.equal(follower.logEndOffset, 9);
      await follower.close();
      await leader.close();
    } finally {
      removeDir(root);
    }
  });

  test('a partial batch at the end of a fetch is left out, as Kafka does, and fetched again next time', async () => {
    const root = makeTempDir();
    try {
      const { leader, follower } = leaderAndFollower(root);
      writeAsLeader(leader, [
        { records: 2, valueBytes: 30, epoch: 0 },
        { records: 2, valueBytes: 30, epoch: 0 },
      ]);
      const fetched = fetchAll(leader);
      const first = batchesOf(fetched)[0];
      assert.ok(first);
      const cut = fetched.subarray(0, fetched.length - 7);
      const info = follower.appendAsFollower(cut);
      assert.equal(info.sizeBytes, first.bytes.length);
      assert.equal(info.lastOffset, 1);
      assert.equal(follower.logEndOffset, 2);
      // Less than a header left over is left out too.
      const rest = fetched.subarray(first.bytes.length);
      assert.equal(follower.appendAsFollower(rest.subarray(0, 30)).sizeBytes, 0);
      follower.appendAsFollower(rest);
      assert.equal(follower.logEndOffset, 4);
      await follower.close();
      await leader.close();
    } finally {
      removeDir(root);
    }
  });

  test('a missing leader-epoch-checkpoint is rebuilt from the batches on open and written again', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig({ 'segment.bytes': 1500 });
      const { log } = openLog(root, config);
      writeAsLeader(log, [
        { records: 5, valueBytes: 100, epoch: 0 },
        { records: 5, valueBytes: 100, epoch: 4 },
        { records: 5, valueBytes: 100, epoch: 4 },
        { records: 5, valueBytes: 100, epoch: 9 },
      ]);
      const expected = log.leaderEpochCache.epochEntries();
      assert.deepEqual(expected, [
        { epoch: 0, startOffset: 0 },
        { epoch: 4, startOffset: 5 },
        { epoch: 9, startOffset: 15 },
      ]);
      assert.ok(log.segmentCount > 1);
      await log.close();
      const file = path.join(partitionDir(root), 'leader-epoch-checkpoint');
      for (const damage of [() => fs.rmSync(file), () => fs.writeFileSync(file, '0\n2\n1 0\n')]) {
        damage();
        const { log: reopened } = openLog(root, config, CLEAN);
        assert.deepEqual(reopened.leaderEpochCache.epochEntries(), expected);
        assert.equal(fs.readFileSync(file, 'utf8'), '0\n3\n0 0\n4 5\n9 15\n');
        await reopened.close();
      }
    } finally {
      removeDir(root);
    }
  });

  test('an epoch a crash left out of the checkpoint is learnt again from the recovered batches', async () => {
    const root = makeTempDir();
    try {
      const config = logConfig();
      const { log } = openLog(root, config);
      writeAsLeader(log, [
        { records: 2, valueBytes: 10, epoch: 1 },
        { records: 2, valueBytes: 10, epoch: 3 },
      ]);
      await log.close();
      // The checkpoint as it was before epoch 3 started, and an entry past the log end.
      const file = path.join(partitionDir(root), 'leader-epoch-checkpoint');
      fs.writeFileSync(file, '0\n1\n1 0\n');
      const { log: recovered } = openLog(root, config, UNCLEAN);
      assert.deepEqual(recovered.leaderEpochCache.epochEntries(), [
        { epoch: 1, startOffset: 0 },
        { epoch: 3, startOffset: 2 },
      ]);
      await recovered.close();
      fs.writeFileSync(file, '0\n3\n1 0\n3 2\n8 50\n');
      const { log: clean } = openLog(root, config, CLEAN);
      assert.deepEqual(clean.leaderEpochCache.epochEntries(), [
        { epoch: 1, startOffset: 0 },
        { epoch: 3, startOffset: 2 },
      ]);
      assert.equal(fs.readFileSync(file, 'utf8'), '0\n2\n1 0\n3 2\n', 'the stale entry is gone from the file too');
      await clean.close();
    } finally {
      removeDir(root);
    }
  });
});
