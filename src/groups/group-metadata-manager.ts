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
 * and replicate), and cached in memory (Kafka's GroupMetadataManager). A group's records
 * all go to partition `abs(hash(group)) % 50`, so they stay in order, and the node leading that
 * partition is the group's coordinator: it loads the partition into the cache when it starts
 * leading it (`loadPartition`) and drops it when it stops (`dropPartition`).
 */
export class GroupMetadataManager {
  private readonly offsets = new Map<string, Map<string, CommittedOffset>>();
  private readonly groups = new Map<string, GroupMetadataValue>();
  /** The last offset each offsets partition was appended at here, for commits that wait for the followers. */
  private readonly lastAppended = new Map<number, number>();

  constructor(private readonly broker: Broker) {}

  /** Creates the topic if needed (Kafka does on the first FindCoordinator; Samsa at start). */
  ensureTopic(): Promise<void> {
    return this.broker.ensureInternalTopic(CONSUMER_OFFSETS_TOPIC, OFFSETS_TOPIC_PARTITIONS, OFFSETS_TOPIC_CONFIGS);
  }

  /** The offsets partition holding `group`'s records. */
  partitionOf(group: string): number {
    return partitionForGroup(group, OFFSETS_TOPIC_PARTITIONS);
  }

  /** Rebuilds the cache entries of one offsets partition from its log, to the log end (this node leads it). */
  loadPartition(p: number): void {
    this.dropPartition(p);
    let offset = this.broker.listOffsets(CONSUMER_OFFSETS_TOPIC, p).logStartOffset;
    for (;;) {
      // To the log end, as Kafka loads: a new leader's records past the high watermark are its log now.
      const read = this.broker.readPartitions({
        partitions: [{ topic: CONSUMER_OFFSETS_TOPIC, partition: p, offset, maxBytes: LOAD_FETCH_BYTES }],
        maxBytes: LOAD_FETCH_BYTES,
        isolation: 'log_end',
      }).partitions[0];
      if (read?.error) throw read.error;
      if (!read || read.records.length === 0) break;
      const { records, logEndOffset } = read;
      const before = offset;
      forEachFetchedBatch(records, (batch) => {
        batch.forEachRecord(offset, (r) => {
          const key = r.key();
          if (key !== null) this.apply(key, r.value());
          return true;
        });
        offset = batch.lastOffset + 1;
        return true;
      });
      if (offset <= before || offset >= logEndOffset) break;
    }
  }

  /** Forgets every group whose records live in offsets partition `p` (another node coordinates them now). */
  dropPartition(p: number): void {
    for (const group of [...this.groups.keys()]) if (this.partitionOf(group) === p) this.groups.delete(group);
    for (const group of [...this.offsets.keys()]) if (this.partitionOf(group) === p) this.offsets.delete(group);
    this.lastAppended.delete(p);
  }

  /**
   * Resolves once everything this node appended for `group` is replicated to the ISR (Kafka
   * writes offset commits with acks=all); at once on a single node.
   */
  async waitForReplication(group: string, timeoutMs: number): Promise<void> {
    const p = this.partitionOf(group);
    const last = this.lastAppended.get(p);
    if (last !== undefined) await this.broker.waitForReplication(CONSUMER_OFFSETS_TOPIC, p, last, timeoutMs);
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
    const partition = this.partitionOf(group);
    const now = Date.now();
    const inputs: RecordInput[] = records.map((r) => ({ key: r.key, value: r.value, timestamp: now }));
    // Written first, cached second: the cache never holds what the log does not.
    const { lastOffset } = this.broker.appendInternal(CONSUMER_OFFSETS_TOPIC, partition, inputs);
    this.lastAppended.set(partition, lastOffset);
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
  storeGroup(group: string, generation: number, protocolType: string, protocol: string | null): void {
    this.append(group, [
      {
        key: encodeGroupKey(group),
        value: encodeGroupValue({ protocolType, generation, protocol, currentStateTimestamp: Date.now() }),
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
