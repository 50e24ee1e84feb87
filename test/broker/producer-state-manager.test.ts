import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProducerBatch, ProducerStateManager, producerBatchOf } from '../../src/broker/producer-state-manager.js';
import { ProducerStateError } from '../../src/errors.js';
import type { BatchHeader } from '../../src/storage/record-batch.js';

const limits = { expirationMs: 60_000, maxProducers: 3 };
const WHERE = 't-0';

function batch(producerId: number, producerEpoch: number, firstSequence: number, records = 1): ProducerBatch {
  return producerBatchOf({
    producerId,
    producerEpoch,
    baseSequence: firstSequence,
    lastOffsetDelta: records - 1,
  }) as ProducerBatch;
}

/** Checks and, when it may be appended, records `b` at the next offsets of a pretend log. */
function append(state: ProducerStateManager, log: { end: number }, b: ProducerBatch, now = 0) {
  const earlier = state.check(b, now, WHERE);
  if (earlier !== null) return { duplicateOf: earlier.baseOffset };
  const records = ((b.lastSequence - b.firstSequence + 2 ** 31) % 2 ** 31) + 1;
  const at = { baseOffset: log.end, lastOffset: log.end + records - 1, timestamp: now };
  log.end += records;
  state.record(b, at, now);
  return { appendedAt: at.baseOffset };
}

function refusedWith(reason: string) {
  return (err: unknown) => err instanceof ProducerStateError && err.reason === reason;
}

describe('producer state of a partition', () => {
  it('appends batches in sequence and answers a retry of any of the last five with its first offsets', () => {
    const state = new ProducerStateManager(limits);
    const log = { end: 0 };
    for (let i = 0; i < 7; i++) assert.deepEqual(append(state, log, batch(1, 0, i * 2, 2)), { appendedAt: i * 2 });
    for (let i = 2; i < 7; i++) assert.deepEqual(append(state, log, batch(1, 0, i * 2, 2)), { duplicateOf: i * 2 });
    // The sixth-last batch is forgotten: its retry no longer continues the sequence.
    assert.throws(() => state.check(batch(1, 0, 2, 2), 0, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.equal(log.end, 14);
  });

  it('refuses a gap and a batch that overlaps the last one differently', () => {
    const state = new ProducerStateManager(limits);
    const log = { end: 0 };
    append(state, log, batch(1, 0, 0, 3));
    assert.throws(() => state.check(batch(1, 0, 4), 0, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.throws(() => state.check(batch(1, 0, 1, 2), 0, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.deepEqual(append(state, log, batch(1, 0, 3)), { appendedAt: 3 });
  });

  it('fences an older epoch once a newer one wrote; a new epoch starts at sequence 0', () => {
    const state = new ProducerStateManager(limits);
    const log = { end: 0 };
    append(state, log, batch(1, 0, 0));
    assert.throws(() => state.check(batch(1, 1, 5), 0, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.deepEqual(append(state, log, batch(1, 1, 0)), { appendedAt: 1 });
    assert.throws(() => state.check(batch(1, 0, 1), 0, WHERE), refusedWith('INVALID_PRODUCER_EPOCH'));
  });

  it('accepts an unknown producer at any sequence, and sequences wrap past 2^31 - 1 to 0', () => {
    const state = new ProducerStateManager(limits);
    const log = { end: 0 };
    const top = 2 ** 31 - 2;
    const wrapping = batch(2, 0, top, 4);
    assert.equal(wrapping.lastSequence, 1);
    assert.deepEqual(append(state, log, wrapping), { appendedAt: 0 });
    assert.deepEqual(append(state, log, batch(2, 0, 2)), { appendedAt: 4 });
  });

  it('forgets producers idle past producer.id.expiration.ms and keeps at most maxProducers', () => {
    const state = new ProducerStateManager(limits);
    const log = { end: 0 };
    append(state, log, batch(1, 0, 0), 0);
    append(state, log, batch(2, 0, 0), 50_000);
    // Producer 1 is unknown now, so any sequence is taken; producer 2 is still checked.
    assert.equal(state.check(batch(1, 0, 9), 70_000, WHERE), null);
    assert.throws(() => state.check(batch(2, 0, 9), 70_000, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    for (const id of [3, 4, 5]) append(state, log, batch(id, 0, 0), 70_000);
    assert.equal(state.size, 3);
    assert.equal(state.check(batch(2, 0, 9), 70_000, WHERE), null, 'the least recently active went first');
  });

  it('is rebuilt from stored batch headers, leaving out plain batches and Idempotency-Key hashes', () => {
    const header = (baseOffset: number, producerId: number, baseSequence: number, count = 1): BatchHeader => ({
      baseOffset,
      sizeBytes: 100,
      partitionLeaderEpoch: 0,
      magic: 2,
      crc: 0,
      attributes: 0,
      lastOffsetDelta: count - 1,
      lastOffset: baseOffset + count - 1,
      baseTimestamp: 1_000,
      maxTimestamp: 1_000,
      producerId,
      producerEpoch: producerId < 0 ? -1 : 0,
      baseSequence,
      recordsCount: count,
    });
    const state = ProducerStateManager.fromHeaders(
      [header(0, 7, 0, 2), header(2, -1, -1), header(3, 2 ** 52 + 5, 0), header(4, 7, 2)],
      limits,
      2_000,
    );
    assert.equal(state.size, 1);
    assert.equal(state.check(batch(7, 0, 0, 2), 2_000, WHERE)?.baseOffset, 0);
    assert.equal(state.check(batch(7, 0, 2), 2_000, WHERE)?.baseOffset, 4);
    assert.throws(() => state.check(batch(7, 0, 5), 2_000, WHERE), refusedWith('OUT_OF_ORDER_SEQUENCE_NUMBER'));
    assert.equal(producerBatchOf(header(3, 2 ** 52 + 5, 0)), null);
  });
});
