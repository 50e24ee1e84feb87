import { type Broker, CONSUMER_OFFSETS_TOPIC, type RecordInput } from '../broker/broker.js';
import { forEachFetchedBatch } from '../broker/fetched-records.js';
import { splitTpKey, tpKey } from '../broker/topic-partition.js';
import {
  decodeGroupValue,
  decodeKey,
  decodeOffsetValue,
  encodeGroupKey,
  encodeGroupValue,
  encodeOffsetKey,
  encodeOffsetValue,
  type GroupMetadataValue,
  partitionForGroup,
} from './offsets-topic-format.js';

/** Kafka's `offsets.topic.num.partitions` default. */
export const OFFSETS_TOPIC_PARTITIONS = 50;
/** Kafka's settings for the offsets topic: compacted, 100 MiB segments. */
const OFFSETS_TOPIC_CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) };
/** Bytes read per fetch while loading the offsets topic at start-up. */
const LOAD_FETCH_BYTES = 1024 * 1024;

export interface CommittedOffset {
  /** The next offset to read (Kafka's convention). */
  offset: number;
  metadata: string;
  commitTimestamp: number;
  leaderEpoch: number;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  metadata?: string;
}

/**
 * Committed offsets and group records, stored in the compacted internal topic
 * `__consumer_offsets` through the same log engine as every topic (so they survive restarts
 * and will replicate), and cached in memory (Kafka's GroupMetadataManager). A group's records
 * all go to partition `abs(hash(group)) % 50`, so they stay in order.
 */
export class GroupMetadataManager {
  private readonly offsets = new Map<string, Map<string, CommittedOffset>>();
  private readonly groups = new Map<string, GroupMetadataValue>();

  constructor(private readonly broker: Broker) {}

  /** Creates the topic if needed and rebuilds the cache from it. */
  async load(): Promise<void> {
    await this.broker.ensureInternalTopic(CONSUMER_OFFSETS_TOPIC, OFFSETS_TOPIC_PARTITIONS, OFFSETS_TOPIC_CONFIGS);
    const partitions = this.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions.length;
    for (let p = 0; p < partitions; p++) {
      // Cluster mode: a partition with no replica on this node is another coordinator's to load.
      if (!this.broker.hostsPartition(CONSUMER_OFFSETS_TOPIC, p)) continue;
      let offset = this.broker.listOffsets(CONSUMER_OFFSETS_TOPIC, p).logStartOffset;
      for (;;) {
        const { records, highWatermark } = await this.broker.fetch(CONSUMER_OFFSETS_TOPIC, p, offset, LOAD_FETCH_BYTES);
        if (records.length === 0) break;
        forEachFetchedBatch(records, (batch) => {
          batch.forEachRecord(offset, (r) => {
            const key = r.key();
            if (key !== null) this.apply(key, r.value());
            return true;
          });
          offset = batch.lastOffset + 1;
          return true;
        });
        if (offset >= highWatermark) break;
      }
    }
  }

  private apply(keyBytes: Buffer, value: Buffer | null): void {
    const key = decodeKey(keyBytes);
    if (key === null) return;
    if (key.kind === 'group') {
      if (value === null) {
        this.groups.delete(key.group);
        this.offsets.delete(key.group);
      } else this.groups.set(key.group, decodeGroupValue(value));
      return;
    }
    const tp = tpKey(key.topic, key.partition);
    if (value === null) {
      this.offsets.get(key.group)?.delete(tp);
      return;
    }
    let byTp = this.offsets.get(key.group);
    if (!byTp) {
      byTp = new Map();
      this.offsets.set(key.group, byTp);
    }
    byTp.set(tp, decodeOffsetValue(value));
  }

  private append(group: string, records: { key: Buffer; value: Buffer | null }[]): void {
    if (records.length === 0) return;
    const partition = partitionForGroup(group, OFFSETS_TOPIC_PARTITIONS);
    const now = Date.now();
    const inputs: RecordInput[] = records.map((r) => ({ key: r.key, value: r.value, timestamp: now }));
    // Written first, cached second: the cache never holds what the log does not.
    this.broker.appendInternal(CONSUMER_OFFSETS_TOPIC, partition, inputs);
    for (const r of records) this.apply(r.key, r.value);
  }

  /** Commits offsets (one batch, one append) and updates the cache. */
  commit(group: string, entries: readonly OffsetToCommit[], now = Date.now()): void {
    this.append(
      group,
      entries.map((e) => ({
        key: encodeOffsetKey(group, e.topic, e.partition),
        value: encodeOffsetValue({
          offset: e.offset,
          leaderEpoch: -1,
          metadata: e.metadata ?? '',
          commitTimestamp: now,
        }),
      })),
    );
  }

  /** Records that the group exists (its generation and protocol), so empty groups survive restarts. */
  storeGroup(group: string, generation: number, protocol: string | null): void {
    this.append(group, [
      {
        key: encodeGroupKey(group),
        value: encodeGroupValue({ protocolType: 'consumer', generation, protocol, currentStateTimestamp: Date.now() }),
      },
    ]);
  }

  /** Tombstones for the group and all of its offsets. */
  deleteGroup(group: string): void {
    const records: { key: Buffer; value: Buffer | null }[] = [];
    for (const tp of this.offsets.get(group)?.keys() ?? []) {
      const { topic, partition } = splitTpKey(tp);
      records.push({ key: encodeOffsetKey(group, topic, partition), value: null });
    }
    records.push({ key: encodeGroupKey(group), value: null });
    this.append(group, records);
  }

  /** Tombstones for every committed offset of a deleted topic, in every group. */
  deleteTopicOffsets(topic: string): void {
    for (const [group, byTp] of this.offsets) {
      const records: { key: Buffer; value: Buffer | null }[] = [];
      for (const tp of byTp.keys()) {
        const k = splitTpKey(tp);
        if (k.topic === topic) records.push({ key: encodeOffsetKey(group, topic, k.partition), value: null });
      }
      this.append(group, records);
    }
  }

  committed(group: string): ReadonlyMap<string, CommittedOffset> {
    return this.offsets.get(group) ?? new Map();
  }

  committedOffset(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(group)?.get(tpKey(topic, partition));
  }

  storedGroup(group: string): GroupMetadataValue | undefined {
    return this.groups.get(group);
  }

  /** Every group with a group record or committed offsets. */
  knownGroups(): string[] {
    return [...new Set([...this.groups.keys(), ...[...this.offsets].filter(([, m]) => m.size > 0).map(([g]) => g)])];
  }
}
