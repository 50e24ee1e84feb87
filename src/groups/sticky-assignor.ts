import { type TopicPartition, tpKey } from '../broker/topic-partition.js';
import {
  type Assignment,
  comparePartitions,
  emptyAssignment,
  type MemberSubscription,
  type PartitionAssignor,
  sortMembers,
  subscribedPartitions,
} from './assignor.js';

/**
 * Kafka's StickyAssignor goal (KIP-54, eager): an assignment as balanced as the subscriptions
 * allow (counts differ by at most one between members that could trade partitions) that moves
 * as few partitions as possible from the previous generation.
 *
 * 1. Each member keeps what it owned, if the partition still exists, the member still
 *    subscribes to its topic, and no earlier member already claimed it.
 * 2. Unowned partitions go, one by one, to the eligible member with the fewest partitions.
 * 3. While some member has two more partitions than an eligible peer, one moves over.
 */
export class StickyAssignor implements PartitionAssignor {
  readonly name = 'sticky';

  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment {
    const out = emptyAssignment(members);
    const sorted = sortMembers(members);
    const key = (tp: TopicPartition) => tpKey(tp.topic, tp.partition);
    const all = subscribedPartitions(members, partitionsPerTopic);
    const exists = new Set(all.map(key));
    const claimed = new Set<string>();
    const list = (m: MemberSubscription) => out.get(m.memberId) as TopicPartition[];

    for (const m of sorted) {
      for (const tp of [...m.owned].sort(comparePartitions)) {
        const k = key(tp);
        if (exists.has(k) && !claimed.has(k) && m.topics.includes(tp.topic)) {
          claimed.add(k);
          list(m).push({ topic: tp.topic, partition: tp.partition });
        }
      }
    }
    for (const tp of all) {
      if (claimed.has(key(tp))) continue;
      let best: MemberSubscription | undefined;
      for (const m of sorted) {
        if (m.topics.includes(tp.topic) && (best === undefined || list(m).length < list(best).length)) best = m;
      }
      if (best) {
        claimed.add(key(tp));
        list(best).push(tp);
      }
    }
    // Balance: each move lowers the sum of squared counts, so this terminates; the bound is a guard.
    const maxMoves = all.length * Math.max(1, sorted.length);
    for (let moves = 0; moves < maxMoves; moves++) {
      let moved = false;
      const byCount = [...sorted].sort((a, b) => list(b).length - list(a).length);
      outer: for (const from of byCount) {
        const owned = list(from);
        for (let i = owned.length - 1; i >= 0; i--) {
          const tp = owned[i] as TopicPartition;
          const to = sorted.find((m) => m !== from && m.topics.includes(tp.topic) && list(m).length < owned.length - 1);
          if (to) {
            owned.splice(i, 1);
            list(to).push(tp);
            moved = true;
            break outer;
          }
        }
      }
      if (!moved) break;
    }
    for (const partitions of out.values()) partitions.sort(comparePartitions);
    return out;
  }
}
