import { setMaxListeners } from 'node:events';
import type { Broker } from '../broker/broker.js';
import type { FetchedPartition } from '../broker/fetch.js';
import { type DecodedRecord, forEachFetchedBatch, type RecordCursor } from '../broker/fetched-records.js';
import { RemotePartitionLoadingError } from '../broker/remote-reads.js';
import { splitTpKey, type TopicPartition, tpKey } from '../broker/topic-partition.js';
import {
  GroupStateError,
  KafkaStorageError,
  NoOffsetForPartitionError,
  OffsetOutOfRangeError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../errors.js';
import type { Subscription } from '../groups/consumer-group.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import { DecodedBatchCache } from './decoded-batch-cache.js';

export type EmbeddedFormat = 'binary' | 'json' | 'string';
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none';

export interface ConsumerInstanceConfig {
  format: EmbeddedFormat;
  autoOffsetReset: OffsetResetPolicy;
  autoCommitEnable: boolean;
  autoCommitIntervalMs: number;
  /** Return once this many bytes are gathered; <= 0 means as soon as there is any record. */
  fetchMinBytes: number;
  /** The longest a records request waits (`consumer.request.timeout.ms`). */
  requestTimeoutMs: number;
  /** Most key+value bytes one response holds (at least one record is always returned). */
  maxResponseBytes: number;
  sessionTimeoutMs: number;
  assignors: string[];
  /** Records younger than this are held back (`consumer.delay.ms`). */
  delayMs: number;
  /** Idle time after which the instance is closed (`consumer.instance.timeout.ms`). */
  instanceTimeoutMs: number;
}

export interface ConsumedRecord extends DecodedRecord {
  topic: string;
  partition: number;
  /**
   * The decoded record this one was read from, shared by every reader of the node (see
   * DecodedBatchCache): edges key per-record work on it, such as SSE's rendered text.
   */
  source?: DecodedRecord;
}

export interface PollOptions {
  /** Wait at most this long (only shortens the instance's request timeout); <= 0: the instance's. */
  timeoutMs: number;
  /** Byte cap for this response; <= 0: the instance's cap. */
  maxBytes: number;
  /** Ends the wait early (the client went away): the poll returns what it has, usually nothing. */
  signal?: AbortSignal;
  /** Return (empty) as soon as the group hands out a new generation, so the caller can tell the client. */
  returnOnRebalance?: boolean;
}

/**
 * The reason passed when a wait is settled: abort() without one builds a DOMException every
 * time, a measurable cost when a hundred streams wake per batch.
 */
const WAIT_SETTLED = 'settled';

/** Bytes read from a partition log per fetch while gathering a response. */
const FETCH_CHUNK_BYTES = 1024 * 1024;
/** Kafka's `offsets.commit.timeout.ms`: how long a commit waits for the offsets partition's followers. */
const OFFSETS_COMMIT_TIMEOUT_MS = 5_000;

/**
 * What one poll returned from one partition: the records of `records` (stored batches, as fetched)
 * from `fromOffset` up to, not including, `nextOffset`, which is the partition's position after it.
 */
export interface ConsumedRun {
  topic: string;
  partition: number;
  records: Buffer;
  fromOffset: number;
  nextOffset: number;
  /** Records in the run. */
  count: number;
  /** Their key and value bytes. */
  sizeBytes: number;
}

/**
 * Calls `visit` for each record of `run`, in order, with a cursor over its stored bytes (see
 * broker/fetched-records.ts); `visit` returns false to stop.
 */
export function forEachRecordOfRun(run: ConsumedRun, visit: (record: RecordCursor) => boolean | undefined): void {
  const { fromOffset, nextOffset } = run;
  forEachFetchedBatch(run.records, (batch) => {
    if (batch.baseOffset >= nextOffset) return false;
    return batch.forEachRecord(fromOffset, (r) => (r.offset >= nextOffset ? false : visit(r)));
  });
}

/**
 * A REST consumer instance (Confluent v2 semantics): a group member (subscribe) or a
 * standalone consumer (assign), with its read positions. Positions advance only past records a
 * response actually returned; an empty-body commit commits exactly those.
 */
export class ConsumerInstance {
  private mode: 'none' | 'subscribe' | 'assign' = 'none';
  private subscription: Subscription | null = null;
  private manual: TopicPartition[] = [];
  private memberId: string | null = null;
  private generation = -1;
  /** Next offset to hand out, per `topic\0partition`. */
  private readonly positions = new Map<string, number>();
  /** Positions as last committed, to skip auto-commits that would change nothing. */
  private readonly committedPositions = new Map<string, number>();
  /** Rotates the partition read first, so one busy partition cannot starve the others. */
  private nextPartitionIndex = 0;
  /** Serialises calls: an instance holds at most one response in the making. */
  private queue: Promise<unknown> = Promise.resolve();
  lastUsedMs = Date.now();
  lastAutoCommitMs = Date.now();
  closed = false;

  constructor(
    readonly group: string,
    readonly name: string,
    readonly config: ConsumerInstanceConfig,
    private readonly broker: Broker,
    private readonly coordinator: GroupCoordinator,
    private readonly decoded: DecodedBatchCache = new DecodedBatchCache(),
  ) {}

  /** Runs `fn` after every earlier call of this instance has finished. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Every API call of the instance counts as a heartbeat of its member. */
  touch(): void {
    this.lastUsedMs = Date.now();
    if (this.memberId !== null) this.coordinator.heartbeat(this.group, this.memberId);
  }

  subscribe(subscription: Subscription): void {
    if (this.mode === 'assign')
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        'Subscription to topics, partitions and pattern are mutually exclusive',
      );
    this.mode = 'subscribe';
    this.subscription = subscription;
    if (this.memberId !== null && this.coordinator.isMember(this.group, this.memberId)) {
      this.coordinator.updateSubscription(this.group, this.memberId, subscription);
    } else this.join();
  }

  private join(): void {
    this.positions.clear();
    this.memberId = this.coordinator.joinGroup(this.group, {
      clientId: this.name,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      assignors: this.config.assignors,
      subscription: this.subscription as Subscription,
    });
    this.generation = -1;
  }

  unsubscribe(): void {
    if (this.memberId !== null) this.coordinator.leaveGroup(this.group, this.memberId);
    this.memberId = null;
    this.mode = 'none';
    this.subscription = null;
    this.manual = [];
    this.positions.clear();
  }

  currentSubscription(): { topics: string[]; pattern: string | null } {
    if (this.subscription?.kind === 'topics') return { topics: [...this.subscription.topics], pattern: null };
    if (this.subscription?.kind === 'pattern') return { topics: [], pattern: this.subscription.pattern.source };
    return { topics: [], pattern: null };
  }

  assign(partitions: readonly TopicPartition[]): void {
    if (this.mode === 'subscribe')
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        'Subscription to topics, partitions and pattern are mutually exclusive',
      );
    for (const tp of partitions) this.broker.describeTopic(tp.topic); // unknown topics fail here
    this.mode = partitions.length > 0 ? 'assign' : 'none';
    const keep = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
    for (const k of [...this.positions.keys()]) if (!keep.has(k)) this.positions.delete(k);
    this.manual = partitions.map((tp) => ({ topic: tp.topic, partition: tp.partition }));
  }

  /** Partitions the instance reads now: its manual assignment or its group assignment. */
  assignments(): TopicPartition[] {
    if (this.mode === 'assign') return [...this.manual];
    if (this.mode === 'subscribe' && this.memberId !== null) {
      const desc = this.coordinator.describeGroup(this.group);
      return desc.members.find((m) => m.memberId === this.memberId)?.assignment ?? [];
    }
    return [];
  }

  /** The generation of the group assignment being read (-1 without one). */
  get currentGeneration(): number {
    return this.generation;
  }

  /** Next offset to hand out for each partition of `topic` that has a position. */
  positionsOf(topic: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const [k, offset] of this.positions) {
      const tp = splitTpKey(k);
      if (tp.topic === topic) out.set(tp.partition, offset);
    }
    return out;
  }

  /**
   * Finds the partitions to read: the manual assignment, or the group's (revoking and
   * rejoining as the coordinator requires). Null means "nothing to read yet".
   */
  private async currentPartitions(deadline: number, signal?: AbortSignal): Promise<TopicPartition[] | null> {
    if (this.mode === 'assign') return this.manual;
    if (this.mode !== 'subscribe') {
      throw new GroupStateError(
        'UNKNOWN_MEMBER_ID',
        'Consumer is not subscribed to any topics or assigned any partitions',
      );
    }
    for (;;) {
      if (this.closed) return null;
      if (this.memberId === null || !this.coordinator.isMember(this.group, this.memberId)) this.join();
      try {
        const a = await this.coordinator.sync(
          this.group,
          this.memberId as string,
          Math.max(0, deadline - Date.now()),
          (owned, generation) => this.revoke(owned, generation),
          signal,
        );
        if (a === null) return null;
        if (a.generation !== this.generation) {
          this.generation = a.generation;
          const keep = new Set(a.partitions.map((tp) => tpKey(tp.topic, tp.partition)));
          for (const k of [...this.positions.keys()]) if (!keep.has(k)) this.positions.delete(k);
        }
        return [...a.partitions];
      } catch (err) {
        // Expired from the group while idle: join again as a new member (Kafka clients do the same).
        if (err instanceof GroupStateError && err.reason === 'UNKNOWN_MEMBER_ID') {
          this.memberId = null;
          continue;
        }
        throw err;
      }
    }
  }

  /** Giving partitions up in a rebalance: auto-commit what was returned, forget the positions. */
  private revoke(owned: readonly TopicPartition[], generation: number): void {
    if (this.config.autoCommitEnable && this.memberId !== null) {
      const entries = owned
        .map((tp) => ({ tp, offset: this.positions.get(tpKey(tp.topic, tp.partition)) }))
        .filter(
          (e) => e.offset !== undefined && e.offset !== this.committedPositions.get(tpKey(e.tp.topic, e.tp.partition)),
        )
        .map((e) => ({ topic: e.tp.topic, partition: e.tp.partition, offset: e.offset as number }));
      if (entries.length > 0) {
        this.coordinator.commitOffsets(this.group, { memberId: this.memberId, generation }, entries);
        for (const e of entries) this.committedPositions.set(tpKey(e.topic, e.partition), e.offset);
      }
    }
    for (const tp of owned) this.positions.delete(tpKey(tp.topic, tp.partition));
  }

  /** The position of a partition without one: committed offset, else `auto.offset.reset`. */
  private initialPosition(tp: TopicPartition): number {
    const committed = this.coordinator.committedOffset(this.group, tp.topic, tp.partition);
    const offsets = this.broker.readableOffsets(tp.topic, tp.partition);
    if (
      committed !== undefined &&
      committed.offset >= offsets.logStartOffset &&
      committed.offset <= offsets.highWatermark
    )
      return committed.offset;
    return this.resetPosition(tp, offsets);
  }

  private resetPosition(tp: TopicPartition, offsets: { logStartOffset: number; highWatermark: number }): number {
    if (this.config.autoOffsetReset === 'earliest') return offsets.logStartOffset;
    if (this.config.autoOffsetReset === 'latest') return offsets.highWatermark;
    throw new NoOffsetForPartitionError(tp.topic, tp.partition);
  }

  /**
   * Gathers records from the assigned partitions: returns as soon as any record is available
   * (or `fetch.min.bytes` is met), else when the wait ends. Never more than the byte cap except
   * that one record always fits; positions advance only past what is returned.
   */
  async poll(opts: PollOptions): Promise<ConsumedRecord[]> {
    return this.recordsOf(await this.pollRuns(opts));
  }

  /**
   * The same poll, answered as runs of stored batches: an edge that writes records straight from
   * their bytes walks them (forEachRecordOfRun) without an object per record.
   */
  async pollRuns(opts: PollOptions): Promise<ConsumedRun[]> {
    const waitMs =
      opts.timeoutMs > 0 ? Math.min(opts.timeoutMs, this.config.requestTimeoutMs) : this.config.requestTimeoutMs;
    const maxBytes =
      opts.maxBytes > 0 ? Math.min(opts.maxBytes, this.config.maxResponseBytes) : this.config.maxResponseBytes;
    const deadline = Date.now() + waitMs;
    const startGeneration = this.generation;
    for (;;) {
      // Deleted (or expired) while this poll waited: a closed instance reads nothing and never rejoins.
      if (opts.signal?.aborted || this.closed) return [];
      const partitions = await this.currentPartitions(deadline, opts.signal);
      if (partitions === null) return [];
      // A stream reports a new assignment at once rather than when its wait ends.
      if (opts.returnOnRebalance && this.generation !== startGeneration) return [];
      const generation = this.generation;
      const gathered = this.gather(partitions, maxBytes);
      const stillOwned =
        this.mode !== 'subscribe' || this.coordinator.owns(this.group, this.memberId as string, generation);
      if (!stillOwned) continue; // a rebalance began: drop what was read, revoke on the next lap
      const now = Date.now();
      if (gathered.runs.length > 0 && (gathered.bytes >= this.config.fetchMinBytes || now >= deadline)) {
        for (const [k, next] of gathered.nextPositions) this.positions.set(k, next);
        this.countDelivered(gathered.runs);
        return gathered.runs;
      }
      if (now >= deadline) return [];
      await this.waitForRecords(
        partitions,
        gathered.wakeAtMs === null ? deadline : Math.min(deadline, gathered.wakeAtMs),
        opts.signal,
      );
    }
  }

  /** The records of `runs` as objects, decoded once per batch for every reader of the node (DecodedBatchCache). */
  private recordsOf(runs: readonly ConsumedRun[]): ConsumedRecord[] {
    const out: ConsumedRecord[] = [];
    for (const run of runs) {
      const { topic, partition, fromOffset, nextOffset } = run;
      forEachFetchedBatch(run.records, (batch) => {
        if (batch.baseOffset >= nextOffset) return false;
        if (batch.lastOffset < fromOffset) return true;
        for (const r of this.decoded.records(topic, partition, batch)) {
          if (r.offset < fromOffset) continue;
          if (r.offset >= nextOffset) return false;
          // Spelled out: an object spread per record costs more than the rest of this loop.
          out.push({
            topic,
            partition,
            offset: r.offset,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
            source: r,
          });
        }
        return true;
      });
    }
    return out;
  }

  /** Per-topic traffic totals, one broker call per topic rather than per record. */
  private countDelivered(runs: readonly ConsumedRun[]): void {
    let topic: string | null = null;
    let count = 0;
    let bytes = 0;
    for (const run of runs) {
      if (run.topic !== topic) {
        if (topic !== null) this.broker.recordDelivered(topic, count, bytes);
        topic = run.topic;
        count = 0;
        bytes = 0;
      }
      count += run.count;
      bytes += run.sizeBytes;
    }
    if (topic !== null) this.broker.recordDelivered(topic, count, bytes);
  }

  /** One pass over the partitions, from the current positions, within the byte cap. */
  private gather(
    partitions: readonly TopicPartition[],
    maxBytes: number,
  ): { runs: ConsumedRun[]; bytes: number; nextPositions: Map<string, number>; wakeAtMs: number | null } {
    const runs: ConsumedRun[] = [];
    const nextPositions = new Map<string, number>();
    let bytes = 0;
    let records = 0;
    let wakeAtMs: number | null = null;
    const delayMs = this.config.delayMs;
    const holdBackAfter = delayMs > 0 ? Date.now() - delayMs : Number.POSITIVE_INFINITY;
    const count = partitions.length;
    const start = count > 0 ? this.nextPartitionIndex % count : 0;
    this.nextPartitionIndex++;
    let full = false;
    for (let i = 0; i < count && !full; i++) {
      const tp = partitions[(start + i) % count] as TopicPartition;
      const k = tpKey(tp.topic, tp.partition);
      let position = this.positions.get(k);
      if (position === undefined) {
        try {
          position = this.initialPosition(tp);
        } catch (err) {
          // A deleted topic or a partition that is not there (manual assignment): nothing to read.
          // A partition read from its leader on another node: nothing until the leader answered.
          if (
            err instanceof UnknownTopicError ||
            err instanceof UnknownPartitionError ||
            err instanceof RemotePartitionLoadingError
          )
            continue;
          throw err;
        }
        this.positions.set(k, position);
      }
      let fetchFrom = position;
      let done = false;
      while (!done && !full) {
        // Stored bytes hold at least the key and value bytes counted against maxBytes, so reading
        // what the answer has left never reads more than it may hold (one whole batch always comes).
        const wantBytes = Math.min(FETCH_CHUNK_BYTES, Math.max(1, maxBytes - bytes));
        let fetched: FetchedPartition;
        try {
          fetched = this.broker.readPartitions({
            partitions: [{ topic: tp.topic, partition: tp.partition, offset: fetchFrom, maxBytes: wantBytes }],
            maxBytes: wantBytes,
            isolation: 'high_watermark',
          }).partitions[0] as FetchedPartition;
        } catch (err) {
          if (err instanceof UnknownTopicError || err instanceof UnknownPartitionError) break;
          throw err;
        }
        const err = fetched.error;
        if (err instanceof OffsetOutOfRangeError) {
          // Retention removed what this position pointed at: reset, as Kafka consumers do.
          const reset = this.resetPosition(tp, fetched);
          this.positions.set(k, reset);
          position = reset;
          fetchFrom = reset;
          continue;
        }
        if (
          err instanceof UnknownTopicError ||
          err instanceof UnknownPartitionError ||
          err instanceof RemotePartitionLoadingError
        )
          break;
        if (err !== null) throw err;
        const chunk = fetched.records;
        if (chunk.length === 0) break;
        const run: ConsumedRun = {
          topic: tp.topic,
          partition: tp.partition,
          records: chunk,
          fromOffset: fetchFrom,
          nextOffset: fetchFrom,
          count: 0,
          sizeBytes: 0,
        };
        forEachFetchedBatch(chunk, (batch) => {
          const more = batch.forEachRecord(fetchFrom, (r) => {
            if (r.timestamp > holdBackAfter) {
              const wake = r.timestamp + delayMs;
              wakeAtMs = wakeAtMs === null ? wake : Math.min(wakeAtMs, wake);
              done = true;
              return false;
            }
            const size = r.sizeBytes;
            if (records > 0 && bytes + size > maxBytes) {
              full = true;
              return false;
            }
            records++;
            bytes += size;
            run.count++;
            run.sizeBytes += size;
            run.nextOffset = r.offset + 1;
            return true;
          });
          if (!more) return false;
          fetchFrom = batch.lastOffset + 1;
          return true;
        });
        if (run.count > 0) {
          runs.push(run);
          nextPositions.set(k, run.nextOffset);
        }
        if (bytes >= maxBytes) full = true;
      }
    }
    return { runs, bytes, nextPositions, wakeAtMs };
  }

  /**
   * Waits for new data in any assigned partition, a group change, `untilMs` or `signal`. The waits
   * that lose the race are cancelled: a waiter left on an idle partition would hold its timer and
   * closure until its timeout, one per idle partition per wake-up of a busy one.
   */
  private async waitForRecords(
    partitions: readonly TopicPartition[],
    untilMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    if (signal?.aborted) return;
    const left = Math.max(0, untilMs - Date.now());
    const settled = new AbortController();
    // One listener per partition waited on, by design: not the leak node warns about past 10.
    setMaxListeners(partitions.length + 2, settled.signal);
    const onAbort = () => settled.abort(WAIT_SETTLED);
    signal?.addEventListener('abort', onAbort, { once: true });
    const waits: Promise<void>[] = [];
    for (const tp of partitions) {
      let position = this.positions.get(tpKey(tp.topic, tp.partition));
      if (position === undefined) {
        // No position yet: a remote partition gets one when its leader first answers (offset -1).
        if (this.broker.hostsPartition(tp.topic, tp.partition)) continue;
        position = -1;
      }
      try {
        waits.push(this.broker.waitForData(tp.topic, tp.partition, position, left, settled.signal));
      } catch {
        // the topic was deleted; the group change below wakes us
      }
    }
    if (this.mode === 'subscribe') waits.push(this.coordinator.waitForGroupChange(this.group, left, settled.signal));
    if (waits.length === 0) {
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          settled.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
        }),
      );
    }
    // An abort of `signal` resolves every wait above through `settled`.
    try {
      await Promise.race(waits);
    } finally {
      settled.abort(WAIT_SETTLED);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Hands back records a poll returned that the caller could not deliver after all (the HTTP edge
   * met one it cannot render): each partition's position goes back to its first such record, so
   * they are read again and none is skipped. Must run right after the poll, before any other call.
   */
  rewind(undelivered: readonly { topic: string; partition: number; offset: number }[]): void {
    const seen = new Set<string>();
    for (const r of undelivered) {
      const k = tpKey(r.topic, r.partition);
      if (seen.has(k)) continue;
      seen.add(k);
      if (this.positions.has(k)) this.positions.set(k, r.offset);
    }
  }

  /**
   * Commits offsets. With entries, each commits `offset + 1` (Confluent's rule: clients name the
   * last record they processed). Without, the positions of what was returned.
   */
  commit(entries?: readonly { topic: string; partition: number; offset: number; metadata?: string }[]): void {
    const toCommit = entries
      ? entries.map((e) => ({ topic: e.topic, partition: e.partition, offset: e.offset + 1, metadata: e.metadata }))
      : [...this.positions].map(([k, offset]) => ({ ...splitTpKey(k), offset }));
    if (toCommit.length === 0) return;
    const member =
      this.mode === 'subscribe' && this.memberId !== null
        ? { memberId: this.memberId, generation: this.generation }
        : null;
    this.coordinator.commitOffsets(this.group, member, toCommit);
    for (const e of toCommit) this.committedPositions.set(tpKey(e.topic, e.partition), e.offset);
  }

  /**
   * `commit`, answered once the commit is replicated to the in-sync replicas of its offsets
   * partition (Kafka writes commits with acks=all, within offsets.commit.timeout.ms), so a
   * commit the client saw succeed survives the loss of the coordinator's node.
   */
  async commitReplicated(
    entries?: readonly { topic: string; partition: number; offset: number; metadata?: string }[],
  ): Promise<void> {
    this.commit(entries);
    await this.coordinator.waitForCommits(this.group, OFFSETS_COMMIT_TIMEOUT_MS);
  }

  /** The auto-commit loop's call: commits returned positions that changed since the last commit. */
  autoCommit(): void {
    if (!this.config.autoCommitEnable || this.closed) return;
    const changed = [...this.positions].filter(([k, v]) => this.committedPositions.get(k) !== v);
    if (changed.length === 0) return;
    try {
      this.commit();
    } catch (err) {
      // A rebalance or generation change refuses it; the revoke path commits instead. A full or
      // read-only disk refuses it too: the next interval commits the positions again.
      if (!(err instanceof GroupStateError) && !(err instanceof KafkaStorageError)) throw err;
    }
  }

  committed(
    partitions: readonly TopicPartition[],
  ): { topic: string; partition: number; offset: number; metadata: string }[] {
    const out: { topic: string; partition: number; offset: number; metadata: string }[] = [];
    for (const tp of partitions) {
      const c = this.coordinator.committedOffset(this.group, tp.topic, tp.partition);
      if (c) out.push({ topic: tp.topic, partition: tp.partition, offset: c.offset, metadata: c.metadata });
    }
    return out;
  }

  private requireReadable(tp: TopicPartition): void {
    const readable =
      this.mode === 'assign'
        ? this.manual.some((m) => m.topic === tp.topic && m.partition === tp.partition)
        : this.assignments().some((m) => m.topic === tp.topic && m.partition === tp.partition);
    if (!readable)
      throw new GroupStateError('UNKNOWN_MEMBER_ID', `No current assignment for partition ${tp.topic}-${tp.partition}`);
  }

  /**
   * Moves the position, within the partition's offsets. Async: a partition with no replica on this
   * node learns its offsets from its leader (callers hold `exclusive`, so no read interleaves).
   */
  async seek(tp: TopicPartition, offset: number): Promise<void> {
    this.requireReadable(tp);
    const { logStartOffset, highWatermark } = await this.broker.loadReadableOffsets(tp.topic, tp.partition);
    this.positions.set(tpKey(tp.topic, tp.partition), Math.min(Math.max(offset, logStartOffset), highWatermark));
  }

  async seekToBeginning(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) await this.seek(tp, Number.MIN_SAFE_INTEGER);
  }

  async seekToEnd(tps: readonly TopicPartition[]): Promise<void> {
    for (const tp of tps) await this.seek(tp, Number.MAX_SAFE_INTEGER);
  }

  /** Seeks to the first record at or after `timestamp`, or to the end when there is none. */
  async seekToTimestamp(tp: TopicPartition, timestamp: number): Promise<void> {
    this.requireReadable(tp);
    const found = await this.broker.findOffsetForTimestamp(tp.topic, tp.partition, timestamp);
    await this.seek(tp, found?.offset ?? Number.MAX_SAFE_INTEGER);
  }

  /**
   * The group's coordinator moved to another node: this instance ends without committing or
   * leaving (its group no longer lives here); its next call finds it gone.
   */
  abandon(): void {
    this.closed = true;
    this.memberId = null;
  }

  /** Commits (with auto-commit) and leaves the group at once. */
  close(): void {
    if (this.closed) return;
    try {
      this.autoCommit();
    } finally {
      this.closed = true;
      if (this.memberId !== null) this.coordinator.leaveGroup(this.group, this.memberId);
      this.memberId = null;
    }
  }
}
