import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { TopicPartition } from '../../src/broker/topic-partition.js';
import type { Assignment, MemberSubscription } from '../../src/groups/assignor.js';
import { parseAssignmentStrategy } from '../../src/groups/assignors.js';
import { RangeAssignor } from '../../src/groups/range-assignor.js';
import { RoundRobinAssignor } from '../../src/groups/round-robin-assignor.js';
import { StickyAssignor } from '../../src/groups/sticky-assignor.js';

const tp = (topic: string, partition: number): TopicPartition => ({ topic, partition });
const member = (
  memberId: string,
  topics: readonly string[],
  owned: readonly TopicPartition[] = [],
): MemberSubscription => ({
  memberId,
  topics,
  owned,
});

/** Every partition of a subscribed, existing topic is assigned once, to a member subscribed to it. */
function assertValid(members: MemberSubscription[], partitionsPerTopic: Map<string, number>, a: Assignment): void {
  const seen = new Set<string>();
  for (const [memberId, partitions] of a) {
    const m = members.find((x) => x.memberId === memberId);
    assert.ok(m, `assignment for unknown member ${memberId}`);
    for (const p of partitions) {
      assert.ok(m.topics.includes(p.topic), `${memberId} got ${p.topic} without subscribing`);
      const k = `${p.topic}-${p.partition}`;
      assert.ok(!seen.has(k), `${k} assigned twice`);
      seen.add(k);
    }
  }
  const subscribed = new Set(members.flatMap((m) => m.topics));
  for (const [topic, count] of partitionsPerTopic) {
    if (!subscribed.has(topic)) continue;
    for (let p = 0; p < count; p++) assert.ok(seen.has(`${topic}-${p}`), `${topic}-${p} unassigned`);
  }
}

const counts = (a: Assignment) => [...a.values()].map((l) => l.length);

/** Members with identical subscriptions and a topic layout. */
const uniformGroup = fc.record({
  memberCount: fc.integer({ min: 1, max: 8 }),
  topicSizes: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
});

function layout(
  memberCount: number,
  topicSizes: number[],
): { members: MemberSubscription[]; ppt: Map<string, number> } {
  const ppt = new Map(topicSizes.map((n, i) => [`t${i}`, n]));
  const topics = [...ppt.keys()];
  return {
    members: Array.from({ length: memberCount }, (_, i) => member(`m${String(i).padStart(2, '0')}`, topics)),
    ppt,
  };
}

describe('range assignor', () => {
  test("follows Kafka's per-topic rule: the first P mod C members take one more, contiguous", () => {
    const a = new RangeAssignor().assign(
      [member('c0', ['t0', 't1']), member('c1', ['t0', 't1'])],
      new Map([
        ['t0', 3],
        ['t1', 3],
      ]),
    );
    assert.deepEqual(a.get('c0'), [tp('t0', 0), tp('t0', 1), tp('t1', 0), tp('t1', 1)]);
    assert.deepEqual(a.get('c1'), [tp('t0', 2), tp('t1', 2)]);
  });

  test('assigns every partition exactly once and balances each topic within one', () => {
    fc.assert(
      fc.property(uniformGroup, ({ memberCount, topicSizes }) => {
        const { members, ppt } = layout(memberCount, topicSizes);
        const a = new RangeAssignor().assign(members, ppt);
        assertValid(members, ppt, a);
        for (const topic of ppt.keys()) {
          const perMember = [...a.values()].map((l) => l.filter((p) => p.topic === topic).length);
          assert.ok(Math.max(...perMember) - Math.min(...perMember) <= 1);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('roundrobin assignor', () => {
  test("deals sorted partitions over sorted members, as Kafka's example shows", () => {
    const a = new RoundRobinAssignor().assign(
      [member('c0', ['t0', 't1']), member('c1', ['t0', 't1'])],
      new Map([
        ['t0', 3],
        ['t1', 3],
      ]),
    );
    assert.deepEqual(a.get('c0'), [tp('t0', 0), tp('t0', 2), tp('t1', 1)]);
    assert.deepEqual(a.get('c1'), [tp('t0', 1), tp('t1', 0), tp('t1', 2)]);
  });

  test('assigns every partition exactly once and balances within one overall', () => {
    fc.assert(
      fc.property(uniformGroup, ({ memberCount, topicSizes }) => {
        const { members, ppt } = layout(memberCount, topicSizes);
        const a = new RoundRobinAssignor().assign(members, ppt);
        assertValid(members, ppt, a);
        assert.ok(Math.max(...counts(a)) - Math.min(...counts(a)) <= 1);
      }),
      { numRuns: 200 },
    );
  });
});

describe('sticky assignor', () => {
  test('is valid and balanced within one, also with mixed subscriptions', () => {
    fc.assert(
      fc.property(
        uniformGroup,
        fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
        ({ memberCount, topicSizes }, narrow) => {
          const { members, ppt } = layout(memberCount, topicSizes);
          // Some members subscribe to t0 only: balance then holds among those who could trade.
          const mixed = members.map((m, i) => (narrow[i] ? member(m.memberId, ['t0']) : m));
          const a = new StickyAssignor().assign(mixed, ppt);
          assertValid(mixed, ppt, a);
          if (mixed.every((m) => m.topics.length === ppt.size))
            assert.ok(Math.max(...counts(a)) - Math.min(...counts(a)) <= 1);
          for (const from of mixed) {
            for (const to of mixed) {
              const fromList = a.get(from.memberId) as TopicPartition[];
              const movable = fromList.some((p) => to.topics.includes(p.topic));
              if (movable)
                assert.ok(
                  fromList.length - (a.get(to.memberId) as TopicPartition[]).length <= 1,
                  'no member could take one from a fuller peer',
                );
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  test('keeps previous ownership: when a member joins, only the partitions it needs move', () => {
    fc.assert(
      fc.property(uniformGroup, ({ memberCount, topicSizes }) => {
        const { members, ppt } = layout(memberCount, topicSizes);
        const sticky = new StickyAssignor();
        const first = sticky.assign(members, ppt);
        const withOwned = members.map((m) => member(m.memberId, m.topics, first.get(m.memberId)));
        const joined = [...withOwned, member('zz-new', [...ppt.keys()])];
        const second = sticky.assign(joined, ppt);
        assertValid(joined, ppt, second);
        let moved = 0;
        for (const m of withOwned) {
          const now = new Set((second.get(m.memberId) ?? []).map((p) => `${p.topic}-${p.partition}`));
          for (const p of m.owned) if (!now.has(`${p.topic}-${p.partition}`)) moved++;
        }
        // Only what the newcomer takes moves: at most ⌈P/(C+1)⌉ partitions.
        const total = [...ppt.values()].reduce((x, y) => x + y, 0);
        assert.equal(moved, (second.get('zz-new') ?? []).length);
        assert.ok(moved <= Math.ceil(total / (memberCount + 1)));
      }),
      { numRuns: 200 },
    );
  });

  test('an unchanged group keeps exactly the same assignment', () => {
    const { members, ppt } = layout(3, [5, 7]);
    const sticky = new StickyAssignor();
    const first = sticky.assign(members, ppt);
    const again = sticky.assign(
      members.map((m) => member(m.memberId, m.topics, first.get(m.memberId))),
      ppt,
    );
    assert.deepEqual(again, first);
  });
});

test('partition.assignment.strategy accepts short names and Kafka class names, and refuses others', () => {
  assert.deepEqual(parseAssignmentStrategy('range'), ['range']);
  assert.deepEqual(parseAssignmentStrategy('org.apache.kafka.clients.consumer.StickyAssignor, roundrobin'), [
    'sticky',
    'roundrobin',
  ]);
  assert.equal(parseAssignmentStrategy('cooperative-sticky'), null);
  assert.equal(parseAssignmentStrategy(''), null);
});
