import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { truncationStep } from '../../src/replication/follower-truncation.js';
import type { PartitionLog } from '../../src/storage/partition-log.js';
import { logConfig, makeTempDir, openLog, removeDir } from '../storage/log-fixture.js';
import { type BatchPlan, batchesOf, fetchAll, filesOf, writeAsLeader } from '../storage/replica-log-fixture.js';

const config = logConfig({ 'segment.bytes': 3000, 'index.interval.bytes': 200 });
const UNDEFINED = { epoch: -1, endOffset: -1 };

/** The follower's side of OffsetsForLeaderEpoch until it needs no more truncation, as a replica fetcher runs it. */
function truncateAgainst(follower: PartitionLog, leader: PartitionLog): number {
  for (let rounds = 1; ; rounds++) {
    const latest = follower.leaderEpochCache.latestEpoch;
    const answer = leader.endOffsetForEpoch(latest);
    const step = truncationStep(follower.logEndOffset, follower.highWatermark, answer, (e) =>
      follower.endOffsetForEpoch(e),
    );
    follower.truncateTo(step.offset);
    if (step.completed) return rounds;
    assert.ok(rounds < 50, 'truncation converges');
  }
}

describe('follower truncation by leader epoch', () => {
  test('the four answers of KIP-101/279', () => {
    // The leader knows nothing: back to the high watermark.
    assert.deepEqual(
      truncationStep(20, 12, UNDEFINED, () => UNDEFINED),
      { offset: 12, completed: true },
    );
    // Both know the epoch: the smaller end.
    assert.deepEqual(
      truncationStep(20, 12, { epoch: 3, endOffset: 15 }, () => ({ epoch: 3, endOffset: 20 })),
      { offset: 15, completed: true },
    );
    // The follower lacks the leader's epoch 3 (it has 2, ending at 9): cut there and ask again.
    assert.deepEqual(
      truncationStep(20, 5, { epoch: 3, endOffset: 15 }, () => ({ epoch: 2, endOffset: 9 })),
      { offset: 9, completed: false },
    );
    // No epoch history on the follower: the leader's end.
    assert.deepEqual(
      truncationStep(20, 5, { epoch: 3, endOffset: 15 }, () => UNDEFINED),
      { offset: 15, completed: true },
    );
  });

  test('after truncating by epoch and fetching, a diverged follower holds exactly the leader bytes', async () => {
    const plan = fc.record({
      common: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
      followerTail: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
      replicated: fc.nat(),
      leaderTail: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
      followerNewEpoch: fc.boolean(),
      epochGap: fc.integer({ min: 1, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(plan, async (p) => {
        const root = makeTempDir();
        try {
          const leader = openLog(`${root}/leader`, config).log;
          const follower = openLog(`${root}/follower`, config).log;
          // A history both share: batches of epochs 1, 2, ...
          writeAsLeader(
            leader,
            p.common.map((records, i): BatchPlan => ({ records, valueBytes: 40, epoch: i + 1 })),
          );
          follower.appendAsFollower(fetchAll(leader));
          follower.highWatermark = follower.logEndOffset;
          // The follower then led (its own epoch, or still the last common one) and wrote a tail...
          const followerEpoch = p.common.length + (p.followerNewEpoch ? 1 : 0);
          const start = follower.logEndOffset;
          writeAsLeader(
            follower,
            p.followerTail.map((records) => ({ records, valueBytes: 40, epoch: followerEpoch })),
          );
          // ... of which the new leader had replicated some batches before it took over,
          const batches = batchesOf(fetchAll(follower, start)).map((b) => b.bytes);
          const replicated = batches.length === 0 ? 0 : p.replicated % (batches.length + 1);
          if (replicated > 0) leader.appendAsFollower(Buffer.concat(batches.slice(0, replicated)));
          // ... and went on in a newer epoch.
          writeAsLeader(
            leader,
            p.leaderTail.map((records) => ({ records, valueBytes: 60, epoch: followerEpoch + p.epochGap })),
          );
          truncateAgainst(follower, leader);
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
      }),
      { numRuns: 40 },
    );
  });
});
