/**
 * Records of the `__consumer_offsets` topic in Kafka's own schemas (the group coordinator's
 * record serde), so the internal topic reads like Kafka's:
 *
 *   OffsetCommitKey  v1: int16 version=1, string group, string topic, int32 partition
 *   OffsetCommitValue v3: int16 version=3, int64 offset, int32 leaderEpoch, string metadata, int64 commitTimestamp
 *   GroupMetadataKey v2: int16 version=2, string group
 *   GroupMetadataValue v3: int16 version=3, string protocolType, int32 generation, nullable string protocol,
 *     nullable string leader, int64 currentStateTimestamp, int32 member count (always 0: REST members
 *     live in memory and do not survive a restart, so none are stored)
 *
 * Strings are int16 length + UTF-8 (-1 for null). A null value is a tombstone.
 */

import { Reader, Writer } from './protocol-bytes.js';

export type OffsetsTopicKey =
  | { kind: 'offset'; group: string; topic: string; partition: number }
  | { kind: 'group'; group: string };

export interface OffsetCommitValue {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  currentStateTimestamp: number;
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Buffer {
  return new Writer().int16(1).string(group).string(topic).int32(partition).done();
}

export function encodeGroupKey(group: string): Buffer {
  return new Writer().int16(2).string(group).done();
}

export function encodeOffsetValue(v: OffsetCommitValue): Buffer {
  return new Writer().int16(3).int64(v.offset).int32(v.leaderEpoch).string(v.metadata).int64(v.commitTimestamp).done();
}

export function encodeGroupValue(v: GroupMetadataValue): Buffer {
  return new Writer()
    .int16(3)
    .string(v.protocolType)
    .int32(v.generation)
    .string(v.protocol)
    .string(null)
    .int64(v.currentStateTimestamp)
    .int32(0)
    .done();
}

/** Decodes a key; null for versions this build does not know (skipped, as Kafka does). */
export function decodeKey(buf: Buffer): OffsetsTopicKey | null {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    const group = r.string() ?? '';
    const topic = r.string() ?? '';
    return { kind: 'offset', group, topic, partition: r.int32() };
  }
  if (version === 2) return { kind: 'group', group: r.string() ?? '' };
  return null;
}

export function decodeOffsetValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const version = r.int16();
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = r.string() ?? '';
  const commitTimestamp = r.int64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

export function decodeGroupValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  r.int16();
  const protocolType = r.string() ?? '';
  const generation = r.int32();
  const protocol = r.string();
  r.string(); // leader
  const currentStateTimestamp = r.int64();
  return { protocolType, generation, protocol, currentStateTimestamp };
}

/** Kafka's `Utils.abs(groupId.hashCode()) % partitions`: Java's String.hashCode over UTF-16 units. */
export function partitionForGroup(group: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < group.length; i++) h = (Math.imul(h, 31) + group.charCodeAt(i)) | 0;
  const abs = h === -2147483648 ? 0 : Math.abs(h);
  return abs % partitions;
}
