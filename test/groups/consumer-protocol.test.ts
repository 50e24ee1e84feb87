import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from '../../src/groups/consumer-protocol.js';

const partitions = fc.array(
  fc.record({ topic: fc.constantFrom('a', 'b', 'orders'), partition: fc.integer({ min: 0, max: 50 }) }),
  { maxLength: 20 },
);

/** What encoding groups by topic yields: each topic's partitions together, topics in first-seen order. */
function grouped(tps: { topic: string; partition: number }[]) {
  const topics = [...new Set(tps.map((tp) => tp.topic))];
  return topics.flatMap((topic) =>
    tps.filter((tp) => tp.topic === topic).map((tp) => ({ topic: tp.topic, partition: tp.partition })),
  );
}

test('subscriptions and assignments read back as written', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }), partitions, (topics, owned) => {
      assert.deepEqual(decodeSubscription(encodeSubscription(topics, owned)), {
        topics,
        ownedPartitions: grouped(owned),
      });
    }),
  );
  fc.assert(
    fc.property(partitions, (assigned) => {
      assert.deepEqual(decodeAssignment(encodeAssignment(assigned)), grouped(assigned));
    }),
  );
});

test('a v0 subscription (no owned partitions) and a newer version than known are read; empty bytes are no assignment', () => {
  const v0 = Buffer.from([0, 0, 0, 0, 0, 1, 0, 1, 0x74, 0xff, 0xff, 0xff, 0xff]);
  assert.deepEqual(decodeSubscription(v0), { topics: ['t'], ownedPartitions: [] });
  const v9 = Buffer.concat([Buffer.from([0, 9]), encodeSubscription(['x'], []).subarray(2), Buffer.from('future')]);
  assert.deepEqual(decodeSubscription(v9).topics, ['x']);
  assert.deepEqual(decodeAssignment(Buffer.alloc(0)), []);
});

test('random bytes are read or refused with a RangeError, never more', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      for (const decode of [decodeSubscription, decodeAssignment]) {
        try {
          decode(Buffer.from(bytes));
        } catch (err) {
          assert.ok(err instanceof RangeError, String(err));
        }
      }
    }),
    { numRuns: 2000 },
  );
});
