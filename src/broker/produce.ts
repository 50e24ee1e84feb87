/**
 * The produce path (Kafka's ReplicaManager.appendRecords and DelayedProduce): partition each
 * record, stamp the broker's clock where the request gave no CreateTime, group the rows per
 * partition, prepare one batch per partition, append them, then acknowledge as `acks` asks.
 * Hot path: one pass over the records, no object per record, one write per partition.
 */
import type { TopicMetadata } from '../cluster/metadata-store.js';
import {
  InvalidTopicError,
  NotEnoughReplicasError,
  NotLeaderOrFollowerError,
  TopicExistsError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../errors.js';
import { buildLogConfig, type LogConfig } from '../storage/log-config.js';
import { type PreparedBatch, prepareBatch } from '../storage/partition-log.js';
import type { RecordInput } from '../storage/record-batch.js';
import type { BrokerSettings } from './broker-config.js';
import type { DynamicBrokerConfig } from './dynamic-broker-config.js';
import { producerIdOfKey } from './idempotency-cache.js';
import { replayIdempotent, replayPartition } from './idempotent-replay.js';
import type { HostedPartitions, Partition } from './partition.js';
import { partitionForKey, type StickyPartitioner } from './partitioner.js';
import type { ProduceColumns, ProduceColumnsResult, ProduceOptions } from './produce-request.js';
import type { TopicAdmin } from './topic-admin.js';
import { isInternalTopic, validateTopicName } from './topic-name.js';
import type { TopicTrafficTotals } from './topic-traffic.js';

/** What the produce path shares with the rest of the broker. */
export interface ProduceContext {
  settings: BrokerSettings;
  dynamicConfigs: DynamicBrokerConfig;
  topics: ReadonlyMap<string, TopicMetadata>;
  partitions: ReadonlyMap<string, HostedPartitions>;
  sticky: StickyPartitioner;
  traffic: TopicTrafficTotals;
  /** Auto-creation goes through topic administration's queue and its create-or-join. */
  admin: TopicAdmin;
  /** Throws while the broker recovers or shuts down. */
  ensureReady: () => void;
  /** Where failures no request is waiting for go (an acks=0 produce whose append failed). */
  onError: (task: string, err: unknown) => void;
  /**
   * Cluster mode: sends a batch for a partition another node leads to that leader, which appends
   * it as its own and answers as `acks` asks. Null on a single node, which leads every partition.
   */
  forward: ForwardProduce | null;
}

/** Appends one prepared batch on the partition's leader, another node (see ProduceContext.forward). */
export type ForwardProduce = (
  topic: string,
  partition: number,
  leaderId: number,
  batch: PreparedBatch,
  opts: ProduceOptions,
  producerId: number | undefined,
) => Promise<{ baseOffset: number; logAppendTime: number }>;

/** Where each partition's batch went: its base offset and the append time (-1 unless LogAppendTime). */
type Bases = Map<number, { base: number; appendTime: number }>;

/** A request checked, partitioned and encoded, ready to append; or the answer found without appending. */
type Plan =
  | { kind: 'replayed'; result: ProduceColumnsResult }
  /** The topic does not exist yet: the request is valid against the config it will have. */
  | { kind: 'new-topic'; assigned: Int32Array }
  | {
      kind: 'append';
      list: HostedPartitions;
      assigned: Int32Array;
      /** Whether the records go to more than one partition. */
      spread: boolean;
      prepared: Map<number, PreparedBatch>;
      /** Partitions led by another node (cluster mode), by partition: the leader to forward to. */
      remote: Map<number, number> | null;
      /** acks=all: refuse before writing when the ISR is smaller than min.insync.replicas. */
      requireMinIsr: boolean;
      timestamps: Float64Array;
      producerId: number | undefined;
      now: number;
    };

export class ProducePath {
  /** acks=0 produces to a topic still being created, answered but not yet appended; shutdown waits for them. */
  private readonly unacknowledged = new Set<Promise<void>>();

  constructor(private readonly ctx: ProduceContext) {}

  /**
   * Produces records to a topic: explicit partition wins, else murmur2 of the key, else the
   * sticky partition of this request. One batch and one append per partition. Every batch is
   * prepared (validated, encoded) before the first append, so a request that fails writes
   * nothing. The topic is auto-created when `auto.create.topics.enable` is on, otherwise an
   * unknown topic fails at once (UnknownTopicError during produce).
   *
   * acks=0 answers once the request has passed those checks, with offset and timestamp -1 for
   * every record (as Kafka's producer reports them when it asks for no acknowledgement); what
   * fails after that (the append, an auto-creation) is reported to `onError`, not to the client.
   * acks=1 answers after the leader's append; acks=all once the high watermark is past the
   * request's last offset in every partition it wrote, or fails after `timeoutMs`.
   */
  async produceColumns(topic: string, input: ProduceColumns, opts: ProduceOptions): Promise<ProduceColumnsResult> {
    this.ctx.ensureReady();
    const plan = this.plan(topic, input, opts);
    if (opts.acks === 0) return this.answerUnacknowledged(topic, input, opts, plan);
    if (plan.kind === 'replayed') return plan.result;
    if (plan.kind === 'new-topic') {
      await this.createTopic(topic);
      return this.produceColumns(topic, input, opts);
    }
    const { bases, lastOffsets } = this.appendLocal(topic, plan);
    if (plan.remote !== null) await this.forwardRemote(topic, plan, opts, bases);
    const result = this.answer(plan, bases);
    if (opts.acks === -1) {
      // With ISR {self} the append already moved the high watermark: no promise, no wait.
      let waits: Promise<void>[] | null = null;
      for (const [p, last] of lastOffsets) {
        const partition = plan.list[p] as Partition;
        if (partition.highWatermark > last) continue;
        waits ??= [];
        waits.push(partition.waitForHighWatermarkPast(last, opts.timeoutMs));
      }
      if (waits !== null) await Promise.all(waits);
    }
    return result;
  }

  /**
   * Settles once every answered acks=0 produce still waiting for its topic's creation has appended
   * (or failed): shutdown waits for it before closing the logs, so an answered request is not cut off.
   */
  async idle(): Promise<void> {
    while (this.unacknowledged.size > 0) await Promise.allSettled([...this.unacknowledged]);
  }

  /** Appends to one partition of an internal topic on behalf of the broker itself (acks=all). */
  appendInternal(p: Partition, records: RecordInput[]): { baseOffset: number; lastOffset: number } {
    const info = p.appendAsLeader(p.log.prepare(records, Date.now()), true);
    return { baseOffset: info.baseOffset, lastOffset: info.lastOffset };
  }

  /**
   * Everything before the append, all synchronous: no other request can change the topic between
   * these checks and the append (a topic to auto-create is created only once the whole request has
   * passed every check against the config it will have).
   */
  private plan(topic: string, input: ProduceColumns, opts: ProduceOptions): Plan {
    const { ctx } = this;
    if (isInternalTopic(topic))
      throw new InvalidTopicError(`Topic '${topic}' is internal to the broker; clients cannot write to it.`);
    const list = ctx.topics.has(topic) ? (ctx.partitions.get(topic) as HostedPartitions) : null;
    let newTopicConfig: LogConfig | null = null;
    if (list === null) {
      if (!ctx.settings.autoCreateTopics) throw new UnknownTopicError(topic, 'produce');
      validateTopicName(topic);
      newTopicConfig = buildLogConfig({}, ctx.dynamicConfigs.topicDefaults.values);
    }
    const partitionCount = list === null ? ctx.settings.numPartitions : list.length;
    const now = Date.now();
    let producerId: number | undefined;
    if (opts.idempotencyKey !== undefined) {
      producerId = producerIdOfKey(opts.idempotencyKey);
      // Cluster mode replays per partition, where each leader remembers its part (appendLocal,
      // Broker.produceForwarded); one node alone sees the whole request here.
      const earlier =
        list && ctx.forward === null && replayIdempotent(topic, list, input, producerId, ctx.settings.idempotency, now);
      if (earlier) return { kind: 'replayed', result: earlier };
    }
    const { records, partitions: explicit } = input;
    const count = records.count;
    const { keys, timestamps } = records;
    let stickyPartition = -1;
    const assigned = new Int32Array(count);
    let spread = false;
    for (let i = 0; i < count; i++) {
      let p = explicit === null ? -1 : (explicit[i] as number);
      if (p >= 0) {
        if (p >= partitionCount) throw new UnknownPartitionError(topic, p);
      } else if (p !== -1) {
        throw new UnknownPartitionError(topic, p);
      } else if ((keys.lengths[i] as number) >= 0) {
        p = keys.views
          ? partitionForKey(keys.views[i] as Uint8Array, partitionCount)
          : partitionForKey(keys.bytes, partitionCount, keys.starts[i] as number, keys.lengths[i] as number);
      } else {
        // A retry must land where the first attempt did: in a cluster, whose leaders replay each
        // partition on their own, a keyed request's unkeyed records go to the partition of its key.
        if (stickyPartition < 0)
          stickyPartition =
            producerId !== undefined && ctx.forward !== null
              ? producerId % partitionCount
              : ctx.sticky.partitionFor(topic, partitionCount);
        p = stickyPartition;
      }
      assigned[i] = p;
      if (p !== assigned[0]) spread = true;
      // The request's own CreateTime, or the broker's clock when it gave none.
      if (Number.isNaN(timestamps[i] as number)) timestamps[i] = now;
    }
    // Most requests go to one partition: then the batch is the whole request, no row list.
    const rowsOf = new Map<number, number[] | undefined>();
    if (!spread) rowsOf.set(assigned[0] as number, undefined);
    else {
      for (let i = 0; i < count; i++) {
        const p = assigned[i] as number;
        let rows = rowsOf.get(p);
        if (!rows) {
          rows = [];
          rowsOf.set(p, rows);
        }
        rows.push(i);
      }
    }
    const prepared = new Map<number, PreparedBatch>();
    if (newTopicConfig !== null) {
      for (const [p, rows] of rowsOf)
        prepared.set(p, prepareBatch(topic, newTopicConfig, records, now, producerId, rows));
      // A new partition's ISR on a single node is this node alone (a cluster's is all its replicas).
      if (ctx.forward === null && opts.acks === -1 && newTopicConfig.minInsyncReplicas > 1) {
        throw new NotEnoughReplicasError(topic, assigned[0] as number, 1, newTopicConfig.minInsyncReplicas);
      }
      // Valid as a whole; the batches above were only the proof: this first request to a topic pays
      // for preparing twice, once against the config it will have and once after the creation.
      return { kind: 'new-topic', assigned };
    }
    const partitions = list as HostedPartitions;
    let remote: Map<number, number> | null = null;
    for (const [p, rows] of rowsOf) {
      const local = partitions[p];
      if (local?.isLeader) {
        prepared.set(p, local.log.prepare(records, now, producerId, rows));
        continue;
      }
      // Another node leads it (cluster mode): encode here, append there.
      const leader = local?.leaderId ?? ctx.topics.get(topic)?.partitionStates[p]?.leader ?? -1;
      if (ctx.forward === null || leader < 0 || leader === ctx.admin.nodeId) {
        throw new NotLeaderOrFollowerError(topic, p, leader, leader < 0 ? 'it has no leader now' : '');
      }
      const config = ctx.admin.logConfigOf(ctx.topics.get(topic) as TopicMetadata);
      prepared.set(p, prepareBatch(topic, config, records, now, producerId, rows));
      remote ??= new Map();
      remote.set(p, leader);
    }
    const requireMinIsr = opts.acks === -1;
    return {
      kind: 'append',
      list: partitions,
      assigned,
      spread,
      prepared,
      remote,
      requireMinIsr,
      timestamps,
      producerId,
      now,
    };
  }

  /**
   * Creates the topic (or joins a creation in flight, or finds it created by an explicit create
   * meanwhile), so the request can then produce to it as to any existing topic.
   */
  private async createTopic(topic: string): Promise<void> {
    await this.ctx.admin.createOrJoin(topic, {}, false).catch((err: unknown) => {
      if (!(err instanceof TopicExistsError)) throw err;
    });
  }

  /**
   * One append per partition this node leads (all of them on a single node); returns where each
   * batch went and, for acks=all, the last offset to wait for in each.
   */
  private appendLocal(
    topic: string,
    plan: Extract<Plan, { kind: 'append' }>,
  ): { bases: Bases; lastOffsets: Map<number, number> } {
    const { list, prepared, remote, requireMinIsr, producerId, now } = plan;
    const bases: Bases = new Map();
    const lastOffsets = new Map<number, number>();
    const traffic = this.ctx.traffic.of(topic);
    for (const [p, batch] of prepared) {
      if (remote?.has(p)) continue;
      const partition = list[p] as Partition;
      const earlier =
        producerId !== undefined && this.ctx.forward !== null
          ? replayPartition(partition, producerId, batch, this.ctx.settings.idempotency, now)
          : null;
      if (earlier) {
        bases.set(p, { base: earlier.baseOffset, appendTime: -1 });
        lastOffsets.set(p, earlier.baseOffset + batch.recordCount - 1);
        continue;
      }
      const info = partition.appendAsLeader(batch, requireMinIsr);
      bases.set(p, { base: info.baseOffset, appendTime: info.logAppendTime });
      lastOffsets.set(p, info.baseOffset + batch.recordCount - 1);
      if (producerId !== undefined) {
        partition.builtIdempotencyCache?.remember(producerId, {
          baseOffset: info.baseOffset,
          recordCount: batch.recordCount,
          rememberedAtMs: now,
        });
      }
      traffic.recordsIn += batch.recordCount;
      traffic.bytesIn += info.sizeBytes;
    }
    return { bases, lastOffsets };
  }

  /**
   * Sends the batches of partitions other nodes lead to their leaders, all at once, and adds where
   * they went to `bases`. The leader answers as `acks` asks (acks=all: once its ISR has them).
   */
  private async forwardRemote(
    topic: string,
    plan: Extract<Plan, { kind: 'append' }>,
    opts: ProduceOptions,
    bases: Bases,
  ): Promise<void> {
    const forward = this.ctx.forward as ForwardProduce;
    const sent = [...(plan.remote as Map<number, number>)].map(async ([p, leader]) => {
      const batch = plan.prepared.get(p) as PreparedBatch;
      const at = await forward(topic, p, leader, batch, opts, plan.producerId);
      bases.set(p, { base: at.baseOffset, appendTime: at.logAppendTime });
    });
    await Promise.all(sent);
  }

  /** Each record's offset and timestamp in request order, from where each partition's batch went. */
  private answer(plan: Extract<Plan, { kind: 'append' }>, bases: Bases): ProduceColumnsResult {
    const { assigned, spread, timestamps } = plan;
    const count = assigned.length;
    const offsets = new Float64Array(count);
    const resultTimestamps = new Float64Array(count);
    // Record i of a one-partition request is at base + i; a spread one counts per partition.
    const nextInPartition = spread ? new Map<number, number>() : null;
    let at = bases.get(assigned[0] as number) as { base: number; appendTime: number };
    for (let i = 0; i < count; i++) {
      let k = i;
      if (nextInPartition !== null) {
        const p = assigned[i] as number;
        k = nextInPartition.get(p) ?? 0;
        nextInPartition.set(p, k + 1);
        at = bases.get(p) as { base: number; appendTime: number };
      }
      offsets[i] = at.base + k;
      resultTimestamps[i] = at.appendTime >= 0 ? at.appendTime : (timestamps[i] as number);
    }
    return { partitions: assigned, offsets, timestamps: resultTimestamps };
  }

  /**
   * acks=0: the answer names each record's partition and nothing the append decides. An existing
   * topic's append is synchronous and runs before the answer; a new topic's waits for its creation
   * after the answer, with its partitions pinned to the ones answered.
   */
  private answerUnacknowledged(
    topic: string,
    input: ProduceColumns,
    opts: ProduceOptions,
    plan: Plan,
  ): ProduceColumnsResult {
    const { onError } = this.ctx;
    let assigned: Int32Array;
    if (plan.kind === 'replayed') assigned = plan.result.partitions;
    else if (plan.kind === 'append') {
      assigned = plan.assigned;
      try {
        this.appendLocal(topic, plan);
        if (plan.remote !== null)
          this.forwardRemote(topic, plan, opts, new Map()).catch((err: unknown) => onError('produce acks=0', err));
      } catch (err) {
        onError('produce acks=0', err);
      }
    } else {
      assigned = plan.assigned;
      const pinned: ProduceColumns = { records: input.records, partitions: assigned };
      const done = this.createTopic(topic)
        .then(() => {
          const next = this.plan(topic, pinned, opts);
          if (next.kind === 'append') {
            this.appendLocal(topic, next);
            if (next.remote !== null) return this.forwardRemote(topic, next, opts, new Map());
          } else if (next.kind === 'new-topic') throw new UnknownTopicError(topic, 'produce');
        })
        .catch((err: unknown) => onError('produce acks=0', err))
        .finally(() => this.unacknowledged.delete(done));
      this.unacknowledged.add(done);
    }
    const unknown = new Float64Array(assigned.length).fill(-1);
    return { partitions: assigned, offsets: unknown, timestamps: unknown.slice() };
  }
}
