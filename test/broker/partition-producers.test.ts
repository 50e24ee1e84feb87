/**
 * A partition's idempotent producers on a real log: the state follows the log through a truncation
 * and through a follower's replicated appends into its leadership.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Partition } from '../../src/broker/partition.js';
import { type ProducerBatch, producerBatchOf } from '../../src/broker/producer-state-manager.js';
import { ProducerStateError } from '../../src/errors.js';
import { preparedFromEncoded } from '../../src/storage/partition-log.js';
import { readBatchHeader, setBaseOffset, setPartitionLeaderEpoch } from '../../src/storage/record-batch.js';
import { producerBatch } from '../kafka/producer-requests.js';
import { logConfig, makeTempDir, openLog, removeDir } from '../storage/log-fixture.js';

const limits = { expirationMs: 86_400_000, maxProducers: 100 };
const role = { localId: 0, replicaLagTimeMaxMs: 30_000, mayLead: () => true };
const PRODUCER = 42;

function state(leader: number, leaderEpoch: number, version: number) {
  return { replicas: [0, 1], leader, leaderEpoch, isr: [0, 1], version };
}

/** A leader append of the producer's batch `seq` (one record): its answer. */
function appendSeq(p: Partition, seq: number) {
  const batch = producerBatch(PRODUCER, 0, seq, [`r${seq}`]);
  const producer = producerBatchOf(readBatchHeader(batch)) as ProducerBatch;
  return p.appendAsLeader(preparedFromEncoded(p.log.logConfig, batch, Date.now()), false, { producer, limits });
}

const outOfOrder = (err: unknown) => err instanceof ProducerStateError && err.reason === 'OUT_OF_ORDER_SEQUENCE_NUMBER';

describe('idempotent producers of a partition', () => {
  it('after a truncation the state is rebuilt from what the log still holds', () => {
    const root = makeTempDir();
    const { log } = openLog(root, logConfig());
    try {
      const p = new Partition('t', 0, log, state(0, 0, 0), role);
      for (let seq = 0; seq < 3; seq++) assert.equal(appendSeq(p, seq).baseOffset, seq);
      log.truncateTo(1);
      // Sequence 2 went with the tail: it is not a duplicate now, but a gap after sequence 0.
      assert.throws(() => appendSeq(p, 2), outOfOrder);
      const again = appendSeq(p, 1);
      assert.deepEqual([again.baseOffset, again.duplicate], [1, undefined]);
    } finally {
      removeDir(root);
    }
  });

  it('a follower that becomes leader knows the producers of the batches it replicated', () => {
    const root = makeTempDir();
    const { log } = openLog(root, logConfig());
    try {
      const p = new Partition('t', 0, log, state(1, 0, 0), role);
      for (let seq = 0; seq < 3; seq++) {
        // As node 1 stored them: its offsets and leader epoch.
        const batch = producerBatch(PRODUCER, 0, seq, [`r${seq}`]);
        setBaseOffset(batch, seq);
        setPartitionLeaderEpoch(batch, 0);
        log.appendAsFollower(batch);
      }
      p.applyState(state(0, 1, 1), Date.now());
      const retry = appendSeq(p, 2);
      assert.deepEqual([retry.baseOffset, retry.duplicate], [2, true]);
      assert.throws(() => appendSeq(p, 4), outOfOrder);
      assert.equal(appendSeq(p, 3).baseOffset, 3);
      assert.equal(log.logEndOffset, 4);
    } finally {
      removeDir(root);
    }
  });
});
