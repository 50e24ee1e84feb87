/**
 * What a partition's leader knows of its followers (Kafka's Partition + Replica state on the
 * leader): each follower's log end offset, learnt from the offset it fetches from, and when it was
 * last caught up. From these follow the high watermark (the smallest log end offset in the ISR),
 * which followers fall out of the ISR (not caught up for `replica.lag.time.max.ms`) and which come
 * back (caught up to the high watermark and into the current leader epoch).
 */

export interface ReplicaTrackerOptions {
  leaderId: number;
  replicas: readonly number[];
  isr: readonly number[];
  /** Kafka's `replica.lag.time.max.ms`: a follower not caught up for this long leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /** When this node became leader: every follower counts as caught up then (Kafka resets the clocks too). */
  nowMs: number;
}

/** One follower's lag behind this leader, as of a moment (replica lag metrics). */
export interface ReplicaLag {
  replicaId: number;
  /**
   * The leader's log end offset minus the follower's, as its last fetch showed it; null until the
   * follower first fetches from this leader (its log end offset is unknown until then).
   */
  lagRecords: number | null;
  /**
   * Time since the follower was last caught up (Kafka's lastCaughtUpTimeMs): 0 while it holds the
   * leader's log end; a follower not caught up since this node took the leadership counts from then.
   */
  lagMs: number;
}

interface FollowerState {
  logEndOffset: number;
  lastCaughtUpTimeMs: number;
  /** The leader's log end offset and the time of this follower's previous fetch. */
  lastFetchLeaderLogEndOffset: number;
  lastFetchTimeMs: number;
}

export class ReplicaTracker {
  readonly leaderId: number;
  private isrSet: Set<number>;
  private readonly followers = new Map<number, FollowerState>();
  private readonly lagMaxMs: number;
  /** When this node took the leadership: the earliest a follower can have been caught up with it. */
  private readonly leaderSinceMs: number;

  constructor(opts: ReplicaTrackerOptions) {
    if (!opts.replicas.includes(opts.leaderId)) throw new RangeError(`leader ${opts.leaderId} is not a replica`);
    this.leaderId = opts.leaderId;
    this.isrSet = new Set(opts.isr);
    this.lagMaxMs = opts.replicaLagTimeMaxMs;
    this.leaderSinceMs = opts.nowMs;
    this.setReplicas(opts.replicas, opts.nowMs);
  }

  /**
   * The replica list as the metadata store now holds it: a replica a reassignment adds is tracked
   * from now on (not caught up, so it joins the ISR only once it is), one it removes is forgotten.
   */
  setReplicas(replicas: readonly number[], nowMs: number): void {
    for (const r of [...this.followers.keys()]) if (!replicas.includes(r)) this.followers.delete(r);
    for (const r of replicas) {
      if (r === this.leaderId || this.followers.has(r)) continue;
      this.followers.set(r, {
        logEndOffset: -1,
        lastCaughtUpTimeMs: this.isrSet.has(r) ? nowMs : 0,
        lastFetchLeaderLogEndOffset: -1,
        lastFetchTimeMs: nowMs,
      });
    }
  }

  get isr(): number[] {
    return [...this.isrSet];
  }

  /** The ISR as the metadata store now holds it (after this leader's own change, or the controller's). */
  setIsr(isr: readonly number[]): void {
    this.isrSet = new Set(isr);
  }

  /**
   * A follower fetched from `fetchOffset`, so it holds everything below it. It is caught up when it
   * asked for the leader's log end, or for the log end of its previous fetch (then it was caught
   * up at that fetch's time): Kafka's rule, which keeps a follower of a busy partition in the ISR.
   */
  onFollowerFetch(replicaId: number, fetchOffset: number, leaderLogEndOffset: number, nowMs: number): void {
    const f = this.followers.get(replicaId);
    if (!f) return;
    if (fetchOffset >= leaderLogEndOffset) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, nowMs);
    else if (fetchOffset >= f.lastFetchLeaderLogEndOffset)
      f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.logEndOffset = fetchOffset;
    f.lastFetchLeaderLogEndOffset = leaderLogEndOffset;
    f.lastFetchTimeMs = nowMs;
  }

  /** The smallest log end offset over the ISR; a follower not heard from yet holds it at -1. */
  highWatermark(leaderLogEndOffset: number): number {
    let hw = leaderLogEndOffset;
    for (const r of this.isrSet) {
      if (r === this.leaderId) continue;
      const f = this.followers.get(r);
      hw = Math.min(hw, f ? f.logEndOffset : -1);
    }
    return hw;
  }

  /** Followers in the ISR that have not been caught up for `replica.lag.time.max.ms`. */
  laggingInSync(nowMs: number): number[] {
    const out: number[] = [];
    for (const r of this.isrSet) {
      const f = this.followers.get(r);
      if (f && nowMs - f.lastCaughtUpTimeMs > this.lagMaxMs) out.push(r);
    }
    return out;
  }

  /**
   * Followers outside the ISR that may join it: they hold everything up to the high watermark and
   * reached the current leader epoch's start offset (Kafka's isFollowerInSync), so a follower that
   * still has to truncate a previous leader's tail does not count.
   */
  caughtUpOutOfSync(highWatermark: number, leaderEpochStartOffset: number): number[] {
    const out: number[] = [];
    for (const [r, f] of this.followers) {
      if (this.isrSet.has(r)) continue;
      if (f.logEndOffset >= highWatermark && f.logEndOffset >= leaderEpochStartOffset) out.push(r);
    }
    return out;
  }

  /** A follower's log end offset as last reported, or -1 (replica lag metrics). */
  followerLogEndOffset(replicaId: number): number {
    return this.followers.get(replicaId)?.logEndOffset ?? -1;
  }

  /** Every follower's lag behind `leaderLogEndOffset` at `nowMs`, in records and in time. */
  replicaLag(leaderLogEndOffset: number, nowMs: number): ReplicaLag[] {
    const out: ReplicaLag[] = [];
    for (const [replicaId, f] of this.followers) {
      const known = f.logEndOffset >= 0;
      const caughtUp = known && f.logEndOffset >= leaderLogEndOffset;
      out.push({
        replicaId,
        lagRecords: known ? Math.max(0, leaderLogEndOffset - f.logEndOffset) : null,
        lagMs: caughtUp ? 0 : Math.max(0, nowMs - Math.max(f.lastCaughtUpTimeMs, this.leaderSinceMs)),
      });
    }
    return out;
  }
}
