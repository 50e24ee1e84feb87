import type { TopicPartition } from '../broker/topic-partition.js';
import { WaitQueue } from '../broker/wait-queue.js';

/** Kafka's classic group states. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** A member subscribes to a list of topics or to every topic matching a pattern. */
export type Subscription = { kind: 'topics'; topics: readonly string[] } | { kind: 'pattern'; pattern: RegExp };

export interface Member {
  readonly memberId: string;
  readonly clientId: string;
  readonly sessionTimeoutMs: number;
  /** Assignors the member supports, in its order of preference. */
  readonly assignors: readonly string[];
  subscription: Subscription;
  lastSeenMs: number;
  /** Requests of this member waiting inside the coordinator; the reaper never expires it meanwhile. */
  inFlight: number;
  /** Partitions assigned in `generation`; readable once `synced`. */
  assignment: TopicPartition[];
  /** The last assignment it read from, the sticky assignor's input. */
  owned: TopicPartition[];
  /** Generation of `assignment`. */
  generation: number;
  /** Has given up its partitions for the rebalance in progress. */
  rejoined: boolean;
  /** Has received its assignment of the current generation (and may read it). */
  synced: boolean;
}

/**
 * One consumer group (Kafka's GroupMetadata): members, generation, state and the chosen
 * protocol. Mutated only by the GroupCoordinator; `changed()` wakes every waiter after any
 * transition, and waiters re-check the state themselves.
 */
export class ConsumerGroup {
  state: GroupState = 'Empty';
  generation = 0;
  protocol: string | null = null;
  readonly members = new Map<string, Member>();
  rebalances = 0;
  private readonly waiters = new WaitQueue();

  constructor(readonly groupId: string) {}

  changed(): void {
    this.waiters.wakeAll();
  }

  /** Resolves on the next transition or after `timeoutMs`. */
  waitForChange(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.waiters.wait(timeoutMs, signal);
  }

  /** Subscribers that matter for assignment: members with any subscription. */
  get memberList(): Member[] {
    return [...this.members.values()];
  }
}
