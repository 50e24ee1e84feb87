import type { TopicPartition } from '../broker/topic-partition.js';
import { WaitQueue } from '../broker/wait-queue.js';

/** Kafka's classic group states. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** A member subscribes to a list of topics or to every topic matching a pattern. */
export type Subscription = { kind: 'topics'; topics: readonly string[] } | { kind: 'pattern'; pattern: RegExp };

/** One entry of a JoinGroup's protocol list: a name (an assignor, for `consumer` groups) and its metadata. */
export interface JoinProtocol {
  name: string;
  metadata: Buffer;
}

/** What a Kafka member's JoinGroup is answered with once the join phase ends. */
export interface JoinResult {
  memberId: string;
  generation: number;
  protocolType: string | null;
  protocol: string | null;
  leaderId: string;
  /** Every member's metadata for the chosen protocol, for the leader only (empty for the others). */
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface Member {
  readonly memberId: string;
  /**
   * `rest`: a REST consumer instance or SSE stream of this process, whose assignment the
   * coordinator (or a Kafka leader) computes and which joins and syncs in one step (`sync`).
   * `kafka`: a Kafka client on the listener, speaking JoinGroup/SyncGroup itself.
   */
  readonly kind: 'rest' | 'kafka';
  readonly clientId: string;
  clientHost: string;
  /** `group.instance.id` (KIP-345 static membership), Kafka members only. */
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  /** How long the join phase waits for this member to rejoin (Kafka's max.poll.interval.ms). */
  rebalanceTimeoutMs: number;
  /**
   * The protocols the member takes part in, in its order of preference. A REST member's carry
   * no metadata: the coordinator encodes its subscription when a Kafka leader needs it.
   */
  protocols: JoinProtocol[];
  subscription: Subscription;
  lastSeenMs: number;
  /** Requests of this member waiting inside the coordinator; the reaper never expires it meanwhile. */
  inFlight: number;
  /** Partitions assigned in `generation`; readable once `synced`. */
  assignment: TopicPartition[];
  /** A Kafka member's assignment of `generation` as the bytes SyncGroup hands out. */
  assignmentBytes: Buffer;
  /** The last assignment it read from, the sticky assignor's input. */
  owned: TopicPartition[];
  /** Generation of `assignment`. */
  generation: number;
  /** Has given up its partitions (REST) or sent its JoinGroup (Kafka) for the rebalance in progress. */
  rejoined: boolean;
  /** Has received its assignment of the current generation (and may read it). */
  synced: boolean;
  /** A Kafka member's JoinGroup waiting for the join phase to end. */
  awaitingJoin: ((result: JoinResult | Error) => void) | null;
  /** A Kafka follower's SyncGroup waiting for the leader's assignments. */
  awaitingSync: ((result: Buffer | Error) => void) | null;
}

/**
 * One consumer group (Kafka's GroupMetadata): members, generation, state, leader and the chosen
 * protocol. Mutated only by the GroupCoordinator; `changed()` wakes every waiter after any
 * transition, and waiters re-check the state themselves.
 */
export class ConsumerGroup {
  state: GroupState = 'Empty';
  generation = 0;
  protocolType: string | null = null;
  protocol: string | null = null;
  leaderId: string | null = null;
  /** The members of this generation have their assignments (the leader's SyncGroup came, or Samsa assigned). */
  assignmentsReady = false;
  /** When the join phase stops waiting for Kafka members that have not rejoined (PreparingRebalance). */
  rebalanceDeadlineMs = 0;
  readonly members = new Map<string, Member>();
  /** KIP-394: member ids handed out with MEMBER_ID_REQUIRED, not yet joined, with when they lapse. */
  readonly pendingMembers = new Map<string, number>();
  /** KIP-345: group.instance.id → member id of the static members. */
  readonly staticMembers = new Map<string, string>();
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
