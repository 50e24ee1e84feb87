/**
 * The consumer protocol's embedded formats (Kafka's ConsumerProtocolSubscription and
 * ConsumerProtocolAssignment, clients/src/main/resources/common/message/): what a member of
 * protocol type `consumer` puts in JoinGroup's metadata and what the leader hands out in SyncGroup.
 * The coordinator reads them when it runs the assignor for Kafka members (the leader is a REST
 * member), and writes them to present REST members to a Kafka leader and to hand Kafka members
 * what Samsa assigned. Each starts with an int16 version; later versions only append fields, so a
 * newer version than these is read as the newest known one (Kafka's rule).
 *
 *   Subscription v0: topics []string, userData nullable bytes; v1+: ownedPartitions [](topic, []int32);
 *     v2+: generationId int32; v3+: rackId nullable string
 *   Assignment v0+: assignedPartitions [](topic, []int32), userData nullable bytes
 */
import type { TopicPartition } from '../broker/topic-partition.js';
import { Reader, Writer } from './protocol-bytes.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface ConsumerSubscription {
  topics: string[];
  ownedPartitions: TopicPartition[];
}

/** Subscription v1 (topics, empty user data, owned partitions): every client since Kafka 0.9 reads v0's fields of it. */
export function encodeSubscription(topics: readonly string[], owned: readonly TopicPartition[]): Buffer {
  return new Writer()
    .int16(1)
    .array(topics, (w, t) => w.string(t))
    .bytes(Buffer.alloc(0))
    .array(byTopic(owned), (w, [topic, partitions]) => w.string(topic).array(partitions, (x, p) => x.int32(p)))
    .done();
}

/** Throws a RangeError on bytes that are not a subscription. */
export function decodeSubscription(bytes: Buffer): ConsumerSubscription {
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new RangeError(`subscription version ${version}`);
  const topics = r.array(2, () => r.string() ?? '');
  r.bytes();
  const ownedPartitions: TopicPartition[] = [];
  if (version >= 1 && r.remaining > 0) {
    for (const { topic, partitions } of r.array(6, () => ({ topic: r.string() ?? '', partitions: int32s(r) })))
      for (const partition of partitions) ownedPartitions.push({ topic, partition });
  }
  return { topics, ownedPartitions };
}

/** Assignment v0 with empty user data. */
export function encodeAssignment(partitions: readonly TopicPartition[]): Buffer {
  return new Writer()
    .int16(0)
    .array(byTopic(partitions), (w, [topic, ps]) => w.string(topic).array(ps, (x, p) => x.int32(p)))
    .bytes(Buffer.alloc(0))
    .done();
}

/** Throws a RangeError on bytes that are not an assignment; empty bytes are an empty assignment (Kafka's rule). */
export function decodeAssignment(bytes: Buffer): TopicPartition[] {
  if (bytes.length === 0) return [];
  const r = new Reader(bytes);
  const version = r.int16();
  if (version < 0) throw new RangeError(`assignment version ${version}`);
  const out: TopicPartition[] = [];
  for (const { topic, partitions } of r.array(6, () => ({ topic: r.string() ?? '', partitions: int32s(r) })))
    for (const partition of partitions) out.push({ topic, partition });
  return out;
}

function int32s(r: Reader): number[] {
  return r.array(4, () => r.int32());
}

function byTopic(partitions: readonly TopicPartition[]): [string, number[]][] {
  const out = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = out.get(tp.topic) ?? [];
    list.push(tp.partition);
    out.set(tp.topic, list);
  }
  return [...out];
}
