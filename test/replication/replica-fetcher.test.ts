/**
 * The follower's fetch loop against a leader that answers NOT_LEADER_OR_FOLLOWER at first, as a
 * node does for a moment after a topic is created elsewhere or an election, before its metadata
 * watch has told it that it leads. The peer is a stand-in for the HTTP client; the loop, its
 * retries and the appends are the real ones.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ReplicaFetchAnswerPartition, ReplicaFetchRequest } from '../../src/replication/internal-protocol.js';
import type { PeerClient } from '../../src/replication/peer-client.js';
import { type FollowerLog, ReplicaFetcher } from '../../src/replication/replica-fetcher.js';
import { until } from '../cluster/etcd-fixture.js';

/** An empty in-memory log that counts what is appended to it (one byte per record here). */
function memoryLog(): FollowerLog & { appended: Buffer[] } {
  const appended: Buffer[] = [];
  return {
    appended,
    get logEndOffset() {
      return appended.reduce((n, b) => n + b.length, 0);
    },
    logStartOffset: 0,
    highWatermark: 0,
    leaderEpochCache: { latestEpoch: -1 },
    appendAsFollower(records: Buffer) {
      appended.push(records);
      return { sizeBytes: records.length };
    },
    truncateTo: () => false,
    truncateFullyAndStartAt: () => undefined,
    advanceLogStartOffset: (o: number) => o,
    endOffsetForEpoch: () => ({ epoch: -1, endOffset: -1 }),
  };
}

test('a follower told NOT_LEADER_OR_FOLLOWER by the leader it was given asks again after the backoff, with no metadata change', async () => {
  let leaderKnowsIt = false;
  const fetches: Omit<ReplicaFetchRequest, 'replicaId'>[] = [];
  const peers = {
    async replicaFetch(_leader: number, request: Omit<ReplicaFetchRequest, 'replicaId'>) {
      fetches.push(request);
      const want = request.partitions[0] as { topic: string; partition: number; fetchOffset: number };
      const part: ReplicaFetchAnswerPartition = {
        topic: want.topic,
        partition: want.partition,
        error: leaderKnowsIt ? null : 'NOT_LEADER_OR_FOLLOWER',
        highWatermark: 0,
        logStartOffset: 0,
        logEndOffset: 3,
        sizeBytes: 0,
      };
      if (!leaderKnowsIt || want.fetchOffset >= 3) {
        await new Promise((r) => setTimeout(r, 20));
        return { answer: { partitions: [part] }, records: Buffer.alloc(0) };
      }
      return { answer: { partitions: [{ ...part, sizeBytes: 3 }] }, records: Buffer.from('abc') };
    },
  } as unknown as PeerClient;
  const fetcher = new ReplicaFetcher({
    peers,
    fetchWaitMaxMs: 50,
    fetchMaxBytes: 1024,
    fetchBackoffMs: 100,
    onError: () => undefined,
  });
  const log = memoryLog();
  const progress: number[] = [];
  fetcher.follow({
    topic: 't',
    partition: 0,
    leaderId: 2,
    leaderEpoch: 0,
    log,
    onProgress: (hw) => progress.push(hw),
  });
  try {
    await until('the first fetch, refused', async () => (fetches.length >= 1 ? true : undefined));
    // The leader learns it leads; nothing calls follow() again (the metadata does not change).
    leaderKnowsIt = true;
    await until(
      'the records fetched after the refusal',
      async () => (log.logEndOffset === 3 ? true : undefined),
      5_000,
    );
    assert.deepEqual(Buffer.concat(log.appended).toString(), 'abc');
    assert.ok(progress.length > 0, 'the broker was told of the progress');
  } finally {
    await fetcher.stop();
  }
});
