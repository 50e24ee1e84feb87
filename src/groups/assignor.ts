/**
 * Partition assignors (Kafka's ConsumerPartitionAssignor, run by the coordinator here because
 * every member of a REST group lives in this process). Pure functions: members and their
 * subscriptions in, partitions per member out. Every subscribed partition goes to exactly one
 * member subscribed to its topic.
 */

import type { TopicPartition } from '../broker/topic-partition.js';

export interface MemberSubscription {
  memberId: string;
  /** `group.instance.id` (static membership); sorts members first, as Kafka's range does. */
  groupInstanceId?: string;
  topics: readonly string[];
  /** What the member owned in the previous generation (used by sticky). */
  owned: readonly TopicPartition[];
}

export type Assignment = Map<string, TopicPartition[]>;

export interface PartitionAssignor {
  /** Kafka's protocol name: `range`, `roundrobin`, `sticky`. */
  readonly name: string;
  assign(members: readonly MemberSubscription[], partitionsPerTopic: ReadonlyMap<string, number>): Assignment;
}

/** Kafka's member order: static members by instance id first, then the rest by member id. */
export function sortMembers(members: readonly MemberSubscription[]): MemberSubscription[] {
  return [...members].sort((a, b) => {
    if (a.groupInstanceId !== undefined && b.groupInstanceId !== undefined)
      return cmp(a.groupInstanceId, b.groupInstanceId);
    if (a.groupInstanceId !== undefined) return -1;
    if (b.groupInstanceId !== undefined) return 1;
    return cmp(a.memberId, b.memberId);
  });
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function comparePartitions(a: TopicPartition, b: TopicPartition): number {
  return cmp(a.topic, b.topic) || a.partition - b.partition;
}

export function emptyAssignment(members: readonly MemberSubscription[]): Assignment {
  return new Map(members.map((m) => [m.memberId, []]));
}

/** Every partition of every topic some member subscribes to and that exists, sorted. */
export function subscribedPartitions(
  members: readonly MemberSubscription[],
  partitionsPerTopic: ReadonlyMap<string, number>,
): TopicPartition[] {
  const topics = [...new Set(members.flatMap((m) => m.topics))].filter((t) => partitionsPerTopic.has(t)).sort(cmp);
  const out: TopicPartition[] = [];
  for (const topic of topics) {
    const count = partitionsPerTopic.get(topic) as number;
    for (let partition = 0; partition < count; partition++) out.push({ topic, partition });
  }
  return out;
}
