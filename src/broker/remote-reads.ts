/**
 * Client reads of partitions this node holds no replica of (cluster mode with more nodes than a
 * topic's replication factor). A REST consumer instance or SSE stream lives on one node and may be
 * assigned any partition; its reads of the others go to their leaders here, while the consumer's
 * own read path stays the synchronous one it uses for local partitions.
 *
 * Design: per remote partition, a few read windows (one per distinct reader position, as two
 * consumers in different groups read at different offsets). A window is a run of stored batches
 * from the reader's position onwards, below the leader's high watermark, filled ahead of the reader
 * by one long-polling read loop per leader (one request for all the windows that leader serves,
 * over the peer client's own lane). A reader takes what its window holds and waits for more like it
 * waits on a local partition. Records below the high watermark are committed, so a window stays
 * valid when leadership moves; the loop simply asks the new leader.
 *
 * Until the first answer for a partition arrives its offsets are unknown: the sync calls throw
 * RemotePartitionLoadingError (a retriable 503) and waiters wake when it comes.
 *
 * Bounds: bytes per window, bytes over all windows (windows past it stop reading ahead), windows per
 * partition (the least recently used goes), remote partitions per node, and idle time (a window or
 * partition nobody read for `idleMs` is dropped, and with it the loop's work).
 */
import { OffsetOutOfRangeError, ServiceUnavailableError, UnknownPartitionError, UnknownTopicError } from '../errors.js';
import type { ReplicaFetchAnswerPartition } from '../replication/internal-protocol.js';
import type { PeerClient } from '../replication/peer-client.js';
import { forEachBatch } from '../storage/record-batch.js';
import type { PartitionOffsets } from './list-offsets.js';
import { tpKey } from './topic-partition.js';
import { WaitQueue } from './wait-queue.js';

export interface RemoteReadLimits {
  /** Most bytes one window reads ahead of its reader. */
  windowMaxBytes: number;
  /** Most bytes all windows hold together; past it, only empty windows read. */
  totalMaxBytes: number;
  windowsPerPartition: number;
  /** Most remote partitions read at once; more answer 503. */
  maxPartitions: number;
  /** A window or partition no reader touched for this long is dropped. */
  idleMs: number;
  /** How long the leader holds a read with nothing new (the loop's long-poll). */
  pollWaitMs: number;
  /** Pause after a leader could not be reached or answered an error. */
  backoffMs: number;
}

export const DEFAULT_REMOTE_READ_LIMITS: RemoteReadLimits = {
  windowMaxBytes: 4 * 1024 * 1024,
  totalMaxBytes: 64 * 1024 * 1024,
  windowsPerPartition: 8,
  maxPartitions: 10_000,
  idleMs: 30_000,
  pollWaitMs: 500,
  backoffMs: 200,
};

export interface RemoteReadsOptions {
  peers: PeerClient;
  /** The partition's leader as stored (-1: offline); throws for an unknown topic or partition. */
  leaderOf: (topic: string, partition: number) => number;
  onError: (task: string, err: unknown) => void;
  limits?: Partial<RemoteReadLimits>;
}

/** A remote partition whose offsets have not come from its leader yet (Kafka LEADER_NOT_AVAILABLE, retriable). */
export class RemotePartitionLoadingError extends ServiceUnavailableError {
  constructor(topic: string, partition: number) {
    super(`Partition ${topic}-${partition} is being read from its leader; try again.`);
  }
}

export interface RemoteRead {
  /** Whole stored batches, concatenated; empty when the window has nothing at the offset yet. */
  records: Buffer;
  offsets: PartitionOffsets;
}

interface StoredBatch {
  lastOffset: number;
  bytes: Buffer;
}

interface Window {
  /** The reader's position: batches before it are dropped. */
  from: number;
  /** The next offset the loop asks the leader for. */
  end: number;
  batches: StoredBatch[];
  bytes: number;
  lastUsedMs: number;
  /** The leader's answer for `end` (offset out of range), thrown to the reader that reaches it. */
  error: Error | null;
}

class RemotePartition {
  offsets: PartitionOffsets | null = null;
  windows: Window[] = [];
  lastUsedMs = Date.now();
  readonly changed = new WaitQueue();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
}

const EMPTY = Buffer.alloc(0);

export class RemoteReads {
  private readonly limits: RemoteReadLimits;
  private readonly partitions = new Map<string, RemotePartition>();
  /** Leader id → the abort of its loop's request in flight (present while the loop runs). */
  private readonly loops = new Map<number, AbortController | null>();
  private totalBytes = 0;
  private stopped = false;

  constructor(private readonly opts: RemoteReadsOptions) {
    this.limits = { ...DEFAULT_REMOTE_READ_LIMITS, ...opts.limits };
  }

  /** The partition's offsets as its leader last answered; throws RemotePartitionLoadingError before the first answer. */
  offsets(topic: string, partition: number): PartitionOffsets {
    const rp = this.partitionOf(topic, partition);
    if (rp.offsets === null) throw new RemotePartitionLoadingError(topic, partition);
    return rp.offsets;
  }

  /**
   * What the reader at `offset` may take now, up to `maxBytes` (one whole batch even over it when
   * `minOneBatch`). A position no window covers gets one, which the loop starts to fill.
   */
  read(topic: string, partition: number, offset: number, maxBytes: number, minOneBatch: boolean): RemoteRead {
    const rp = this.partitionOf(topic, partition);
    const offsets = rp.offsets;
    if (offsets === null) throw new RemotePartitionLoadingError(topic, partition);
    const now = Date.now();
    const w = rp.windows.find((x) => offset >= x.from && offset <= x.end);
    if (!w) {
      if (offset < offsets.logStartOffset)
        throw new OffsetOutOfRangeError(offset, offsets.logStartOffset, offsets.highWatermark);
      this.openWindow(rp, offset, now);
      return { records: EMPTY, offsets };
    }
    w.lastUsedMs = now;
    // The reader moved on: what it passed is not needed again.
    let drop = 0;
    while (drop < w.batches.length && (w.batches[drop] as StoredBatch).lastOffset < offset) drop++;
    if (drop > 0) {
      const freed = w.batches.splice(0, drop).reduce((n, b) => n + b.bytes.length, 0);
      w.bytes -= freed;
      this.totalBytes -= freed;
      this.wakeLoop(this.leaderOrNull(rp));
    }
    w.from = offset;
    if (w.batches.length === 0 && w.error !== null && offset === w.end) {
      const err = w.error;
      rp.windows.splice(rp.windows.indexOf(w), 1);
      throw err;
    }
    const taken: Buffer[] = [];
    let size = 0;
    for (const b of w.batches) {
      if (size + b.bytes.length > maxBytes && (size > 0 || !minOneBatch)) break;
      taken.push(b.bytes);
      size += b.bytes.length;
    }
    return { records: taken.length === 1 ? (taken[0] as Buffer) : Buffer.concat(taken, size), offsets };
  }

  /**
   * Resolves when a window holds records at or past `offset` (or the partition's offsets first
   * arrive, for a reader without a position yet), after `timeoutMs`, or on `signal`.
   */
  waitForData(
    topic: string,
    partition: number,
    offset: number,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const rp = this.partitionOf(topic, partition);
    if (rp.offsets === null) return rp.changed.wait(timeoutMs, signal);
    const w = rp.windows.find((x) => offset >= x.from && offset <= x.end);
    const last = w?.batches[w.batches.length - 1];
    if ((last !== undefined && last.lastOffset >= offset) || (w?.error && offset === w.end)) return Promise.resolve();
    return rp.changed.wait(timeoutMs, signal);
  }

  /** Drops what is kept for a partition (it is hosted here now, or its topic was deleted). */
  forget(topic: string, partition: number): void {
    const key = tpKey(topic, partition);
    const rp = this.partitions.get(key);
    if (!rp) return;
    this.partitions.delete(key);
    this.release(rp.windows);
    rp.changed.wakeAll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const abort of this.loops.values()) abort?.abort();
    for (const rp of this.partitions.values()) rp.changed.wakeAll();
    this.partitions.clear();
    this.totalBytes = 0;
  }

  private partitionOf(topic: string, partition: number): RemotePartition {
    const key = tpKey(topic, partition);
    let rp = this.partitions.get(key);
    if (!rp) {
      if (this.stopped) throw new ServiceUnavailableError('The broker is shutting down.');
      if (this.partitions.size >= this.limits.maxPartitions)
        throw new ServiceUnavailableError(
          `This node already reads ${this.limits.maxPartitions} partitions from other nodes; try another node.`,
        );
      const leader = this.opts.leaderOf(topic, partition); // throws for an unknown partition
      rp = new RemotePartition(topic, partition);
      this.partitions.set(key, rp);
      this.ensureLoop(leader);
    }
    rp.lastUsedMs = Date.now();
    return rp;
  }

  private openWindow(rp: RemotePartition, offset: number, now: number): void {
    if (rp.windows.length >= this.limits.windowsPerPartition) {
      const oldest = rp.windows.reduce((a, b) => (a.lastUsedMs <= b.lastUsedMs ? a : b));
      rp.windows.splice(rp.windows.indexOf(oldest), 1);
      this.release([oldest]);
    }
    rp.windows.push({ from: offset, end: offset, batches: [], bytes: 0, lastUsedMs: now, error: null });
    // A loop holding a long-poll for other windows asks again at once, with this one.
    this.wakeLoop(this.leaderOrNull(rp));
  }

  private release(windows: readonly Window[]): void {
    for (const w of windows) this.totalBytes -= w.bytes;
  }

  private leaderOrNull(rp: RemotePartition): number | null {
    try {
      return this.opts.leaderOf(rp.topic, rp.partition);
    } catch {
      return null;
    }
  }

  private ensureLoop(leaderId: number): void {
    if (leaderId < 0 || this.loops.has(leaderId) || this.stopped) return;
    this.loops.set(leaderId, null);
    this.runLoop(leaderId).catch((err) => this.opts.onError(`remote reads from node ${leaderId}`, err));
  }

  private wakeLoop(leaderId: number | null): void {
    if (leaderId === null) return;
    const abort = this.loops.get(leaderId);
    if (abort) abort.abort();
    else this.ensureLoop(leaderId);
  }

  /** Drops windows and partitions no reader touched for `idleMs`. */
  private dropIdle(now: number): void {
    for (const [key, rp] of this.partitions) {
      if (now - rp.lastUsedMs > this.limits.idleMs) {
        this.partitions.delete(key);
        this.release(rp.windows);
        rp.changed.wakeAll();
        continue;
      }
      const idle = rp.windows.filter((w) => now - w.lastUsedMs > this.limits.idleMs);
      if (idle.length > 0) {
        rp.windows = rp.windows.filter((w) => !idle.includes(w));
        this.release(idle);
      }
    }
  }

  /** What the loop for `leaderId` asks next: each partition it leads, with a window or for its offsets only. */
  private work(leaderId: number): { rp: RemotePartition; w: Window | null }[] {
    const out: { rp: RemotePartition; w: Window | null }[] = [];
    for (const [key, rp] of this.partitions) {
      let leader: number;
      try {
        leader = this.opts.leaderOf(rp.topic, rp.partition);
      } catch (err) {
        if (!(err instanceof UnknownTopicError || err instanceof UnknownPartitionError)) throw err;
        this.partitions.delete(key);
        this.release(rp.windows);
        rp.changed.wakeAll();
        continue;
      }
      if (leader !== leaderId) {
        this.ensureLoop(leader);
        continue;
      }
      const reading = rp.windows.filter(
        (w) =>
          w.error === null &&
          (w.batches.length === 0 ||
            (w.bytes < this.limits.windowMaxBytes && this.totalBytes < this.limits.totalMaxBytes)),
      );
      if (rp.offsets === null || reading.length === 0) out.push({ rp, w: null });
      for (const w of reading) out.push({ rp, w });
    }
    return out;
  }

  private async runLoop(leaderId: number): Promise<void> {
    try {
      while (!this.stopped) {
        this.dropIdle(Date.now());
        const work = this.work(leaderId);
        if (work.length === 0) return;
        const loading = work.some((x) => x.rp.offsets === null);
        const reads = work.some((x) => x.w !== null);
        const abort = new AbortController();
        this.loops.set(leaderId, abort);
        let pauseMs = 0;
        try {
          const { answer, records } = await this.opts.peers.read(
            leaderId,
            {
              // A partition waiting for its first offsets gets them at once.
              maxWaitMs: loading ? 0 : this.limits.pollWaitMs,
              minBytes: 1,
              maxBytes: this.limits.windowMaxBytes * 4,
              partitions: work.map(({ rp, w }) => ({
                topic: rp.topic,
                partition: rp.partition,
                fetchOffset: w === null ? -1 : w.end,
                maxBytes: this.limits.windowMaxBytes,
              })),
            },
            abort.signal,
          );
          if (this.apply(work, answer.partitions, records)) pauseMs = this.limits.backoffMs;
          // Offsets only: the leader answers at once, so the loop paces itself.
          else if (!reads) pauseMs = this.limits.pollWaitMs;
        } catch {
          // Woken for a new window: ask again at once. Otherwise the leader is away or moving.
          if (!abort.signal.aborted) pauseMs = this.limits.backoffMs;
        }
        if (pauseMs > 0) await this.pause(leaderId, pauseMs);
      }
    } finally {
      this.loops.delete(leaderId);
    }
  }

  /** Sleeps `ms`, or less when a new window wakes the loop. */
  private pause(leaderId: number, ms: number): Promise<void> {
    const abort = new AbortController();
    this.loops.set(leaderId, abort);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /** Takes a leader's answer into the windows; true when any partition answered an error (the leader moved). */
  private apply(
    work: readonly { rp: RemotePartition; w: Window | null }[],
    answers: readonly ReplicaFetchAnswerPartition[],
    records: Buffer,
  ): boolean {
    let pos = 0;
    let failed = false;
    for (let i = 0; i < work.length; i++) {
      const { rp, w } = work[i] as { rp: RemotePartition; w: Window | null };
      const a = answers[i];
      if (!a || a.topic !== rp.topic || a.partition !== rp.partition) return true;
      const chunk = records.subarray(pos, pos + a.sizeBytes);
      pos += a.sizeBytes;
      if (this.partitions.get(tpKey(rp.topic, rp.partition)) !== rp) continue; // dropped meanwhile
      let changed = false;
      if (a.error === 'OFFSET_OUT_OF_RANGE' && w) {
        w.error = new OffsetOutOfRangeError(w.end, a.logStartOffset, a.highWatermark);
        changed = true;
      } else if (a.error !== null) {
        failed = true;
        continue;
      }
      const old = rp.offsets;
      if (old?.highWatermark !== a.highWatermark || old.logStartOffset !== a.logStartOffset) {
        rp.offsets = {
          logStartOffset: a.logStartOffset,
          highWatermark: a.highWatermark,
          logEndOffset: a.highWatermark,
        };
        changed = true;
      }
      if (w && chunk.length > 0 && rp.windows.includes(w)) {
        // A copy, so the answer's buffer is freed once every window has moved past its batches.
        forEachBatch(Buffer.from(chunk), (header, batch) => {
          if (header.lastOffset < w.end) return;
          w.batches.push({ lastOffset: header.lastOffset, bytes: batch });
          w.end = header.lastOffset + 1;
          w.bytes += batch.length;
          this.totalBytes += batch.length;
          changed = true;
        });
      }
      if (changed) rp.changed.wakeAll();
    }
    return failed;
  }
}
