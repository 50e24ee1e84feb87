import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplicaTracker } from '../../src/replication/replica-tracker.js';

const LAG_MAX_MS = 30_000;
const tracker = (isr = [1, 2, 3]) =>
  new ReplicaTracker({ leaderId: 1, replicas: [1, 2, 3], isr, replicaLagTimeMaxMs: LAG_MAX_MS, nowMs: 0 });

describe('replica tracker (the leader side of the ISR)', () => {
  test('the high watermark is the smallest log end offset over the ISR, the leader included', () => {
    const t = tracker();
    assert.equal(t.highWatermark(10), -1, 'a follower not heard from holds it back');
    t.onFollowerFetch(2, 7, 10, 100);
    t.onFollowerFetch(3, 10, 10, 100);
    assert.equal(t.highWatermark(10), 7);
    t.setIsr([1, 3]);
    assert.equal(t.highWatermark(10), 10, 'out of the ISR, a slow follower no longer holds it back');
    assert.equal(t.highWatermark(8), 8);
  });

  test('a follower that keeps asking for the log end stays in sync; one that stops falls out after the lag time', () => {
    const t = tracker();
    t.onFollowerFetch(2, 10, 10, 1_000);
    t.onFollowerFetch(3, 4, 10, 1_000);
    assert.deepEqual(t.laggingInSync(LAG_MAX_MS), []);
    assert.deepEqual(t.laggingInSync(LAG_MAX_MS + 1), [3], 'stuck at 4 since it became leader at 0');
    assert.deepEqual(t.laggingInSync(LAG_MAX_MS + 1_001), [2, 3]);
  });

  test("on a busy partition a follower reaching the previous fetch's log end counts as caught up then", () => {
    const t = tracker();
    // Each fetch the leader has moved on by the time the follower asks again.
    t.onFollowerFetch(2, 0, 100, 10_000);
    t.onFollowerFetch(2, 100, 200, 20_000);
    t.onFollowerFetch(2, 200, 300, 45_000);
    // Caught up with the log end of its fetch at 20 s: not lagging at 45 s (3, silent since 0, is).
    assert.deepEqual(t.laggingInSync(45_000), [3]);
    assert.deepEqual(t.laggingInSync(20_000 + LAG_MAX_MS + 1), [2, 3]);
  });

  test('a follower out of sync comes back once it holds the high watermark and the current epoch', () => {
    const t = tracker([1, 2]);
    t.onFollowerFetch(2, 50, 50, 100);
    t.onFollowerFetch(3, 30, 50, 100);
    const hw = t.highWatermark(50);
    assert.equal(hw, 50);
    assert.deepEqual(t.caughtUpOutOfSync(hw, 0), []);
    t.onFollowerFetch(3, 50, 50, 200);
    assert.deepEqual(t.caughtUpOutOfSync(hw, 60), [], 'still short of the leader epoch start');
    assert.deepEqual(t.caughtUpOutOfSync(hw, 40), [3]);
    assert.equal(t.followerLogEndOffset(3), 50);
  });

  test('replica lag: records behind the log end as last fetched, and time since last caught up (0 while caught up)', () => {
    const t = tracker([1, 2]);
    const lag = (leaderLogEndOffset: number, nowMs: number) =>
      new Map(t.replicaLag(leaderLogEndOffset, nowMs).map((l) => [l.replicaId, l]));
    // Neither follower has fetched yet: no log end offset to count from, time counted from the leadership (0).
    assert.deepEqual(lag(10, 2_000).get(2), { replicaId: 2, lagRecords: null, lagMs: 2_000 });
    assert.deepEqual(lag(10, 2_000).get(3), { replicaId: 3, lagRecords: null, lagMs: 2_000 }, 'out of the ISR too');
    assert.equal(lag(10, 2_000).has(1), false, 'no lag for the leader itself');

    t.onFollowerFetch(2, 10, 10, 3_000);
    t.onFollowerFetch(3, 4, 10, 3_000);
    assert.deepEqual(lag(10, 5_000).get(2), { replicaId: 2, lagRecords: 0, lagMs: 0 }, 'caught up now');
    // 3 reached the previous fetch's log end (-1): caught up as of that fetch, at the leadership's start.
    assert.deepEqual(lag(10, 5_000).get(3), { replicaId: 3, lagRecords: 6, lagMs: 5_000 });
    // The leader appends and 2 stops fetching: its lag counts from its last caught-up fetch.
    assert.deepEqual(lag(25, 9_000).get(2), { replicaId: 2, lagRecords: 15, lagMs: 6_000 });
    t.onFollowerFetch(2, 25, 25, 9_500);
    assert.deepEqual(
      lag(25, 9_500).get(2),
      { replicaId: 2, lagRecords: 0, lagMs: 0 },
      'back to 0 once it fetches again',
    );
  });
});
