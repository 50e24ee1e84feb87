import type { EpochEndOffset } from '../storage/leader-epoch-file-cache.js';
import { truncationStep } from './follower-truncation.js';
import type { ReplicaFetchAnswerPartition } from './internal-protocol.js';
import type { PeerClient } from './peer-client.js';

/** What a follower's fetcher needs of one local partition log (storage's PartitionLog has all of it). */
export interface FollowerLog {
  readonly logEndOffset: number;
  readonly logStartOffset: number;
  readonly highWatermark: number;
  readonly leaderEpochCache: { readonly latestEpoch: number };
  appendAsFollower(records: Buffer): { sizeBytes: number };
  truncateTo(offset: number): boolean;
  truncateFullyAndStartAt(offset: number): void;
  advanceLogStartOffset(offset: number): number;
  endOffsetForEpoch(epoch: number): EpochEndOffset;
}

/** One partition this node follows: from whom, in which epoch, into which log. */
export interface FollowedPartition {
  topic: string;
  partition: number;
  leaderId: number;
  leaderEpoch: number;
  log: FollowerLog;
  /** After an append or a high watermark change: the broker moves the HW and wakes readers. */
  onProgress: (leaderHighWatermark: number) => void;
}

export interface ReplicaFetcherOptions {
  peers: PeerClient;
  /** Kafka's replica.fetch.wait.max.ms: how long the leader holds a fetch that finds nothing. */
  fetchWaitMaxMs: number;
  /** Kafka's replica.fetch.max.bytes, per partition and per request. */
  fetchMaxBytes: number;
  /** Pause after a failed fetch before the next one (Kafka's replica.fetch.backoff.ms). */
  fetchBackoffMs: number;
  onError: (task: string, err: unknown) => void;
}

interface Followed extends FollowedPartition {
  /** False until the divergent tail (if any) has been cut, by leader epoch, since this follow began. */
  truncated: boolean;
  /**
   * A fetch was answered that this leader does not lead in this epoch (it has not seen the
   * metadata yet, or has moved on): fetch it again at this time (Date.now() ms), after
   * `fetchBackoffMs`, or sooner when the metadata names a leader again. 0: fetch now.
   */
  retryAtMs: number;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/** Consecutive failed fetches from one leader between two reports of them. */
const FAILURES_BETWEEN_REPORTS = 30;

/** Most rounds of the epoch exchange for one partition (KIP-279 needs one per diverging epoch). */
const MAX_TRUNCATION_ROUNDS = 16;

/**
 * The follower side of replication (Kafka's ReplicaFetcherManager and fetcher threads): one fetch
 * loop per leader node, each fetching every partition this node follows from that leader in one
 * long-polling request. Before a partition's first fetch from a new leader, its divergent tail is
 * truncated by leader epoch (KIP-101/279). Batches are appended exactly as the leader stored
 * them; the high watermark comes from the answer.
 */
export class ReplicaFetcher {
  private readonly byLeader = new Map<number, Map<string, Followed>>();
  private readonly loops = new Map<number, Promise<void>>();
  private readonly aborts = new Map<number, AbortController>();
  private stopped = false;

  constructor(private readonly opts: ReplicaFetcherOptions) {}

  /** Starts (or moves) following a partition; a new leader or epoch starts with a truncation check. */
  follow(p: FollowedPartition): void {
    if (this.stopped) return;
    const k = key(p.topic, p.partition);
    for (const [leader, set] of this.byLeader) {
      const old = set.get(k);
      if (!old) continue;
      if (leader === p.leaderId && old.leaderEpoch === p.leaderEpoch && old.retryAtMs === 0) return;
      set.delete(k);
    }
    let set = this.byLeader.get(p.leaderId);
    if (!set) {
      set = new Map();
      this.byLeader.set(p.leaderId, set);
    }
    set.set(k, { ...p, truncated: false, retryAtMs: 0 });
    this.ensureLoop(p.leaderId);
  }

  unfollow(topic: string, partition: number): void {
    const k = key(topic, partition);
    for (const set of this.byLeader.values()) set.delete(k);
  }

  private ensureLoop(leaderId: number): void {
    if (this.loops.has(leaderId)) return;
    const abort = new AbortController();
    this.aborts.set(leaderId, abort);
    const loop = this.run(leaderId, abort.signal).finally(() => {
      this.loops.delete(leaderId);
      this.aborts.delete(leaderId);
      // A follow() that came while the loop was ending.
      if (!this.stopped && (this.byLeader.get(leaderId)?.size ?? 0) > 0) this.ensureLoop(leaderId);
    });
    this.loops.set(leaderId, loop);
  }

  private async run(leaderId: number, signal: AbortSignal): Promise<void> {
    // A leader that is down fails every fetch until the controller moves its partitions: report
    // the first failure of a run of them, then one in FAILURES_BETWEEN_REPORTS.
    let failures = 0;
    while (!this.stopped) {
      const set = this.byLeader.get(leaderId);
      if (!set || set.size === 0) return;
      const now = Date.now();
      const active = [...set.values()].filter((f) => f.retryAtMs <= now);
      if (active.length === 0) {
        await sleep(this.opts.fetchBackoffMs, signal);
        continue;
      }
      try {
        for (const f of active) if (!f.truncated) await this.truncate(leaderId, f);
        await this.fetchOnce(
          leaderId,
          active.filter((f) => f.truncated && set.get(key(f.topic, f.partition)) === f),
          signal,
        );
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        if (failures++ % FAILURES_BETWEEN_REPORTS === 0) this.opts.onError(`replica fetch from node ${leaderId}`, err);
        await sleep(this.opts.fetchBackoffMs, signal);
      }
    }
  }

  /** Cuts what diverged from the leader (KIP-101/279): asks where this node's latest epoch ends there. */
  private async truncate(leaderId: number, f: Followed): Promise<void> {
    for (let round = 0; round < MAX_TRUNCATION_ROUNDS; round++) {
      const epoch = f.log.leaderEpochCache.latestEpoch;
      if (epoch < 0 && f.log.logEndOffset === f.log.logStartOffset) break; // nothing that could diverge
      const answer = await this.opts.peers.epochEndOffsets(
        leaderId,
        { partitions: [{ topic: f.topic, partition: f.partition, currentLeaderEpoch: f.leaderEpoch, epoch }] },
        this.opts.fetchWaitMaxMs + 10_000,
      );
      const got = answer.partitions[0];
      if (!got || got.error !== null) {
        if (got?.error === 'FENCED_LEADER_EPOCH' || got?.error === 'NOT_LEADER_OR_FOLLOWER') this.backOff(f);
        throw new Error(`epoch end offset of ${f.topic}-${f.partition}: ${got?.error ?? 'no answer'}`);
      }
      const step = truncationStep(
        f.log.logEndOffset,
        f.log.highWatermark,
        { epoch: got.epoch, endOffset: got.endOffset },
        (e) => f.log.endOffsetForEpoch(e),
      );
      if (step.offset < f.log.logEndOffset) f.log.truncateTo(step.offset);
      if (step.completed) break;
    }
    f.truncated = true;
  }

  private async fetchOnce(leaderId: number, list: Followed[], signal: AbortSignal): Promise<void> {
    if (list.length === 0) {
      await sleep(this.opts.fetchBackoffMs, signal);
      return;
    }
    const { answer, records } = await this.opts.peers.replicaFetch(
      leaderId,
      {
        maxWaitMs: this.opts.fetchWaitMaxMs,
        minBytes: 1,
        maxBytes: this.opts.fetchMaxBytes,
        partitions: list.map((f) => ({
          topic: f.topic,
          partition: f.partition,
          fetchOffset: f.log.logEndOffset,
          leaderEpoch: f.leaderEpoch,
          maxBytes: this.opts.fetchMaxBytes,
        })),
      },
      signal,
    );
    let at = 0;
    const set = this.byLeader.get(leaderId);
    for (const got of answer.partitions) {
      const bytes = records.subarray(at, at + got.sizeBytes);
      at += got.sizeBytes;
      const f = set?.get(key(got.topic, got.partition));
      // Unfollowed, or followed anew (another epoch) while the fetch was out: not ours to apply.
      if (!f || !list.includes(f)) continue;
      try {
        this.apply(f, got, bytes);
      } catch (err) {
        // An append that does not continue the log: check the tail against the leader again.
        f.truncated = false;
        this.opts.onError(`replica append ${f.topic}-${f.partition}`, err);
      }
    }
  }

  private apply(f: Followed, got: ReplicaFetchAnswerPartition, bytes: Buffer): void {
    if (got.error === 'OFFSET_OUT_OF_RANGE') {
      // Ahead of the leader: cut back to its end. Behind its log start (retention ran): start there.
      if (f.log.logEndOffset > got.logEndOffset) f.log.truncateTo(got.logEndOffset);
      else f.log.truncateFullyAndStartAt(got.logStartOffset);
      return;
    }
    if (got.error === 'NOT_LEADER_OR_FOLLOWER' || got.error === 'FENCED_LEADER_EPOCH') {
      this.backOff(f);
      return;
    }
    if (got.error !== null) throw new Error(`${got.error}: ${got.message ?? ''}`);
    f.retryAtMs = 0; // taken as the follower again
    if (bytes.length > 0) f.log.appendAsFollower(bytes);
    f.onProgress(got.highWatermark);
    // Kafka's follower takes the leader's log start offset (DeleteRecords), up to its own high watermark.
    if (got.logStartOffset > f.log.logStartOffset) {
      f.log.advanceLogStartOffset(Math.min(got.logStartOffset, f.log.highWatermark));
    }
  }

  /**
   * The leader did not take the fetch as its follower's in this epoch. Either it has not seen the
   * metadata that makes it leader yet (a new topic, an election a moment ago): asking again soon
   * succeeds, and nothing else would ask, as the metadata will not change again. Or leadership has
   * moved on: the metadata watch calls follow() with the new leader, which starts at once.
   */
  private backOff(f: Followed): void {
    f.retryAtMs = Date.now() + this.opts.fetchBackoffMs;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.aborts.values()) abort.abort();
    await Promise.allSettled([...this.loops.values()]);
    this.byLeader.clear();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
