import {
  type Assignment,
  emptyAssignment,
  type MemberSubscription,
  type PartitionAssignor,
  sortMembers,
  subscribedPartitions,
} from './assignor.js';

/**
 * Kafka's RoundRobinAssignor: lay out every subscribed partition, sorted by topic and
 * partition, and deal them one at a time over the sorted members, skipping a member that is
 * not subscribed to the partition's topic.
 */
export class RoundRobinAssignor implements PartitionAssignor {
  readonly name = 'roundrobin';

  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
    const out = emptyAssignment(members);
    const sorted = sortMembers(members);
    if (sorted.length === 0) return out;
    let next = 0;
    for (const tp of subscribedPartitions(members, partitionsPerTopic)) {
      // Some member subscribes to tp.topic, so this loop ends within one lap.
      for (let tries = 0; tries < sorted.length; tries++) {
        const m = sorted[next % sorted.length] as MemberSubscription;
        next++;
        if (m.topics.includes(tp.topic)) {
          out.get(m.memberId)?.push(tp);
          break;
        }
      }
    }
    return out;
  }
}
