import { MetadataConflictError, type MetadataStore } from './metadata-store.js';
import { electLeader, type LeaderElectionOptions } from './partition-leader-election.js';
import { completeReassignment } from './partition-reassignment.js';

export interface ControllerOptions extends LeaderElectionOptions {
  store: MetadataStore;
  /** The live node ids right now (the node registry's view). */
  liveNodes: () => Promise<ReadonlySet<number>>;
  /** How often the controller re-checks every partition even without a membership change. */
  reconcileIntervalMs?: number;
  /** Where a failed pass is reported; the next pass retries. */
  onError?: (err: unknown) => void;
}

export interface ReconcileReport {
  /** Partitions whose state this pass changed, as `topic-partition`. */
  changed: string[];
  /** Partitions left without a leader (no live in-sync replica). */
  offline: string[];
}

const DEFAULT_RECONCILE_INTERVAL_MS = 1_000;

/**
 * The active controller's work (Kafka's KafkaController / QuorumController, on etcd): bring every
 * partition's leader and ISR in line with the live nodes, and complete the reassignments whose added
 * replicas are all in sync (partition-reassignment.ts), one compare-and-swap per partition. A lost
 * swap means a leader changed the ISR meanwhile; the next pass reads again. Runs only while
 * this node holds the controller office (ControllerElection): `start` on election, `stop` on loss.
 */
export class Controller {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ReconcileReport> | null = null;
  private stopped = true;

  constructor(private readonly opts: ControllerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** A pass now (membership changed); joins the pass in progress if there is one. */
  reconcileNow(): Promise<ReconcileReport> {
    this.running ??= this.reconcile().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.reconcileNow().then(
        () => this.schedule(this.opts.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS),
        (err: unknown) => {
          this.opts.onError?.(err);
          this.schedule(this.opts.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS);
        },
      );
    }, delayMs);
  }

  private async reconcile(): Promise<ReconcileReport> {
    const live = await this.opts.liveNodes();
    const report: ReconcileReport = { changed: [], offline: [] };
    for (const topic of await this.opts.store.listTopics()) {
      for (let p = 0; p < topic.partitionStates.length; p++) {
        const state = topic.partitionStates[p];
        if (!state) continue;
        // Leaders and ISR first (a dead adding replica leaves the ISR), then a move that is ready
        // completes (KIP-455): both in this one swap.
        const elected = electLeader(state, live, this.opts);
        const next =
          completeReassignment(elected ? { ...elected, version: state.version } : state, live, this.opts) ?? elected;
        const name = `${topic.name}-${p}`;
        if ((next?.leader ?? state.leader) < 0) report.offline.push(name);
        if (next === null) continue;
        try {
          await this.opts.store.updatePartitionState(topic.name, p, next, state.version);
          report.changed.push(name);
        } catch (err) {
          if (!(err instanceof MetadataConflictError)) throw err;
        }
      }
    }
    return report;
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
