import {
  type Assignment,
  emptyAssignment,
  type MemberSubscription,
  type PartitionAssignor,
  sortMembers,
} from './assignor.js';

/**
 * Kafka's RangeAssignor, topic by topic: sort the subscribed members, let n = ⌊P/C⌋ and
 * extra = P mod C; member i takes the contiguous range starting at n·i + min(i, extra), of
 * length n + 1 for the first `extra` members and n for the rest.
 */
export class RangeAssignor implements PartitionAssignor {
  readonly name = 'range';

  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
    const out = emptyAssignment(members);
    const sorted = sortMembers(members);
    const topics = new Set(members.flatMap((m) => m.topics));
    for (const topic of topics) {
      const partitions = partitionsPerTopic.get(topic);
      if (partitions === undefined) continue;
      const consumers = sorted.filter((m) => m.topics.includes(topic));
      const n = Math.floor(partitions / consumers.length);
      const extra = partitions % consumers.length;
      consumers.forEach((m, i) => {
        const start = n * i + Math.min(i, extra);
        const length = n + (i < extra ? 1 : 0);
        const list = out.get(m.memberId) as { topic: string; partition: number }[];
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p });
      });
    }
    return out;
  }
}
