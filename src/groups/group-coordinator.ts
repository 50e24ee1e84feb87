import { randomUUID } from 'node:crypto';
import { type Broker, CONSUMER_OFFSETS_TOPIC, isInternalTopic, type TopicChange } from '../broker/broker.js';
import type { TopicPartition } from '../broker/topic-partition.js';
import { GroupStateError, InvalidGroupIdError, ServiceUnavailableError, UnknownGroupError } from '../errors.js';
import { KAFKA_ERRORS } from '../kafka-errors.js';
import { BackgroundTask } from '../storage/background-task.js';
import type { MemberSubscription } from './assignor.js';
import { ASSIGNORS, assignorFor } from './assignors.js';
import { ConsumerGroup, type GroupState, type Member, type Subscription } from './consumer-group.js';
import { type CommittedOffset, GroupMetadataManager, type OffsetToCommit } from './group-metadata-manager.js';

export interface JoinOptions {
  clientId: string;
  sessionTimeoutMs: number;
  /** Assignor names in order of preference (`range`, `roundrobin`, `sticky`). */
  assignors: readonly string[];
  subscription: Subscription;
}

export interface MemberAssignment {
  generation: number;
  partitions: readonly TopicPartition[];
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: 'consumer';
  protocol: string | null;
  generation: number;
  members: { memberId: string; clientId: string; assignment: TopicPartition[] }[];
  /** No member uses group management: offsets only (standalone consumers, or none at all). */
  isSimple: boolean;
  rebalances: number;
}

export interface CoordinatorOptions {
  /** How often expired members are looked for. */
  sessionCheckIntervalMs: number;
  onError: (task: string, err: unknown) => void;
}

/** Kafka refuses empty group ids for group management; a bound keeps keys short. */
const MAX_GROUP_ID_LENGTH = 249;

/**
 * The group coordinator (Kafka's GroupCoordinator, classic protocol, eager rebalancing), run
 * inside the broker process because every member is a REST consumer instance living here.
 * The assignor runs here too (as in KIP-848), so join and sync happen in one step per member:
 *
 * - A trigger (join, leave, expiry, subscription change, a new topic matching a pattern,
 *   partition growth) moves the group to PreparingRebalance. Every member that reads
 *   partitions must give them up (`sync` calls its `revoke` callback, where it commits) before
 *   anything is reassigned; a member that owns nothing counts as rejoined at once.
 * - When every member has rejoined, the assignor runs, the generation goes up, and the group is
 *   CompletingRebalance until each member has picked up its assignment, then Stable.
 * - A member that stops calling is removed after its session timeout, which completes (or
 *   starts) a rebalance without it.
 *
 * So within a generation each partition has one reader, and a new owner starts from the
 * offset the previous owner committed while revoking.
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  readonly offsets: GroupMetadataManager;
  private readonly reaper: BackgroundTask;
  private unsubscribe: (() => void)[] = [];
  private started = false;
  /** The `__consumer_offsets` partitions this node leads and has loaded: it coordinates their groups. */
  private readonly coordinated = new Set<number>();
  private readonly lostListeners = new Set<(groups: readonly string[]) => void>();

  constructor(
    private readonly broker: Broker,
    private readonly opts: CoordinatorOptions,
  ) {
    this.offsets = new GroupMetadataManager(broker);
    this.reaper = new BackgroundTask(
      'group-session-reaper',
      opts.sessionCheckIntervalMs,
      () => this.expireMembers(Date.now()),
      opts.onError,
    );
  }

  /**
   * Creates `__consumer_offsets` if needed, loads the partitions of it this node leads (each
   * partition's committed offsets and groups), then starts the reaper. From then on, leading
   * another offsets partition loads it, and losing one drops its groups (see `onGroupsLost`).
   */
  async start(): Promise<void> {
    this.unsubscribe.push(
      this.broker.onLeadershipChange((change) => {
        if (change.topic !== CONSUMER_OFFSETS_TOPIC || !this.started) return;
        try {
          if (change.leading) this.takeOver(change.partition);
          else this.giveUp(change.partition);
        } catch (err) {
          // Not the metadata refresh's failure: the partition stays uncoordinated here (calls answer
          // NOT_COORDINATOR) until its next leadership change.
          this.opts.onError(`coordinator of ${CONSUMER_OFFSETS_TOPIC}-${change.partition}`, err);
        }
      }),
    );
    await this.offsets.ensureTopic();
    const count = this.broker.describeTopic(CONSUMER_OFFSETS_TOPIC).partitions.length;
    for (let p = 0; p < count; p++) if (this.broker.leads(CONSUMER_OFFSETS_TOPIC, p)) this.takeOver(p);
    this.unsubscribe.push(this.broker.onTopicChange((change) => this.onTopicChange(change)));
    this.reaper.start();
    this.started = true;
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    await this.reaper.stop();
    for (const group of this.groups.values()) group.changed();
  }

  /** Calls `listener` with the groups this node stops coordinating (their offsets partition moved away). */
  onGroupsLost(listener: (groups: readonly string[]) => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** This node leads offsets partition `p` now: its groups are loaded and coordinated here. */
  private takeOver(p: number): void {
    if (this.coordinated.has(p)) return;
    this.offsets.loadPartition(p);
    for (const groupId of this.offsets.knownGroups()) {
      if (this.offsets.partitionOf(groupId) !== p) continue;
      const group = this.groupOf(groupId, true);
      group.generation = this.offsets.storedGroup(groupId)?.generation ?? 0;
      group.protocol = this.offsets.storedGroup(groupId)?.protocol ?? null;
    }
    this.coordinated.add(p);
  }

  /**
   * Another node leads offsets partition `p` now: its groups end here (members rejoin there, as
   * Kafka members do after NOT_COORDINATOR), and their cached offsets go.
   */
  private giveUp(p: number): void {
    if (!this.coordinated.delete(p)) return;
    const lost: string[] = [];
    for (const [groupId, group] of this.groups) {
      if (this.offsets.partitionOf(groupId) !== p) continue;
      group.state = 'Dead';
      group.changed();
      this.groups.delete(groupId);
      lost.push(groupId);
    }
    this.offsets.dropPartition(p);
    if (lost.length > 0) for (const listener of [...this.lostListeners]) listener(lost);
  }

  /** The node that coordinates `groupId`: the leader of its offsets partition (-1: offline). */
  coordinatorOf(groupId: string): number {
    return this.broker.leaderOf(CONSUMER_OFFSETS_TOPIC, this.offsets.partitionOf(groupId));
  }

  /** Group operations wait for the offsets to be loaded, and happen on the group's coordinator only. */
  private ensureCoordinator(groupId: string): void {
    if (!this.started)
      throw new ServiceUnavailableError(
        'The group coordinator is loading committed offsets.',
        KAFKA_ERRORS.COORDINATOR_LOAD_IN_PROGRESS,
      );
    if (!this.coordinated.has(this.offsets.partitionOf(groupId)))
      throw new ServiceUnavailableError(
        `This node is not the coordinator of group ${groupId} (the leader of its ${CONSUMER_OFFSETS_TOPIC} partition is).`,
        KAFKA_ERRORS.NOT_COORDINATOR,
      );
  }

  private validateGroupId(groupId: string): void {
    if (groupId.length === 0) throw new InvalidGroupIdError('Group id must not be empty.');
    if (groupId.length > MAX_GROUP_ID_LENGTH)
      throw new InvalidGroupIdError(`Group id is longer than ${MAX_GROUP_ID_LENGTH} characters.`);
    this.ensureCoordinator(groupId);
  }

  private groupOf(groupId: string, create: boolean): ConsumerGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      if (!create) throw new UnknownGroupError(groupId);
      group = new ConsumerGroup(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private memberOf(group: ConsumerGroup, memberId: string): Member {
    const m = group.members.get(memberId);
    if (!m) throw new GroupStateError('UNKNOWN_MEMBER_ID', `member ${memberId} is not in group ${group.groupId}`);
    return m;
  }

  /** Adds a member with a subscription and starts a rebalance. Returns its member id. */
  joinGroup(groupId: string, opts: JoinOptions): string {
    this.validateGroupId(groupId);
    for (const a of opts.assignors)
      if (!ASSIGNORS.has(a)) throw new InvalidGroupIdError(`Unknown partition assignment strategy: ${a}`);
    const group = this.groupOf(groupId, true);
    if (
      group.members.size > 0 &&
      this.chooseProtocol([...group.members.values()].map((m) => m.assignors).concat([opts.assignors])) === null
    ) {
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        `group ${groupId} has no assignor in common with ${opts.assignors.join(', ')}`,
      );
    }
    const memberId = `${opts.clientId}-${randomUUID()}`;
    group.members.set(memberId, {
      memberId,
      clientId: opts.clientId,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      assignors: [...opts.assignors],
      subscription: opts.subscription,
      lastSeenMs: Date.now(),
      inFlight: 0,
      assignment: [],
      owned: [],
      generation: -1,
      rejoined: true,
      synced: false,
    });
    this.triggerRebalance(group);
    return memberId;
  }

  /** A new subscription for a member: a rebalance, as a JoinGroup with new metadata would start. */
  updateSubscription(groupId: string, memberId: string, subscription: Subscription): void {
    const group = this.groupOf(groupId, false);
    const m = this.memberOf(group, memberId);
    m.subscription = subscription;
    m.lastSeenMs = Date.now();
    this.triggerRebalance(group);
  }

  /** Removes a member at once (LeaveGroup). Unknown members are ignored. */
  leaveGroup(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (!group?.members.delete(memberId)) return;
    this.triggerRebalance(group);
  }

  /**
   * A member's way to its partitions, called before every read (it is also its heartbeat).
   * If a rebalance is in progress and the member still reads partitions, `revoke` runs first
   * (commit positions there), and the member gives them up. Then it waits, up to `timeoutMs`,
   * for the generation's assignment. Null means no assignment yet: read nothing.
   */
  async sync(
    groupId: string,
    memberId: string,
    timeoutMs: number,
    revoke: (owned: readonly TopicPartition[], generation: number) => void,
    signal?: AbortSignal,
  ): Promise<MemberAssignment | null> {
    const group = this.groupOf(groupId, false);
    const deadline = Date.now() + timeoutMs;
    let m = this.memberOf(group, memberId);
    m.inFlight++;
    try {
      for (;;) {
        m = this.memberOf(group, memberId);
        m.lastSeenMs = Date.now();
        if (group.state === 'PreparingRebalance' && !m.rejoined) {
          if (m.synced && m.assignment.length > 0) revoke(m.assignment, m.generation);
          m.assignment = [];
          m.synced = false;
          m.rejoined = true;
          this.maybeCompleteRebalance(group);
        }
        if ((group.state === 'CompletingRebalance' || group.state === 'Stable') && m.generation === group.generation) {
          if (!m.synced) {
            m.synced = true;
            m.owned = m.assignment;
            if (group.state === 'CompletingRebalance' && group.memberList.every((x) => x.synced)) {
              group.state = 'Stable';
              group.changed();
            }
          }
          return { generation: group.generation, partitions: m.assignment };
        }
        const left = deadline - Date.now();
        if (left <= 0 || signal?.aborted) return null;
        await group.waitForChange(left, signal);
      }
    } finally {
      m.inFlight--;
      m.lastSeenMs = Date.now();
    }
  }

  /** Resolves on the group's next transition or after `timeoutMs` (readers wait on data or this). */
  waitForGroupChange(groupId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const group = this.groups.get(groupId);
    return group ? group.waitForChange(timeoutMs, signal) : Promise.resolve();
  }

  /** Keeps a member alive without reading (any REST call of its instance). */
  heartbeat(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    const m = group?.members.get(memberId);
    if (m) m.lastSeenMs = Date.now();
  }

  isMember(groupId: string, memberId: string): boolean {
    return this.groups.get(groupId)?.members.has(memberId) ?? false;
  }

  /**
   * Whether `memberId` may still read its assignment of `generation`: false as soon as a
   * rebalance starts, so a reader checks before it hands records out and never delivers
   * what the next owner will read again.
   */
  owns(groupId: string, memberId: string, generation: number): boolean {
    const group = this.groups.get(groupId);
    const m = group?.members.get(memberId);
    if (!group || !m) return false;
    return (
      m.synced && m.generation === generation && group.generation === generation && group.state !== 'PreparingRebalance'
    );
  }

  private triggerRebalance(group: ConsumerGroup): void {
    if (group.state === 'Dead') return;
    group.state = 'PreparingRebalance';
    for (const m of group.members.values()) {
      // A member that reads nothing (no assignment, or one it has not picked up) has nothing to give up.
      const reading = m.synced && m.assignment.length > 0;
      m.rejoined = !reading;
      if (!reading) {
        m.assignment = [];
        m.synced = false;
      }
    }
    this.maybeCompleteRebalance(group);
    group.changed();
  }

  /** Kafka's choice: the assignor every member supports that most members prefer. */
  private chooseProtocol(preferences: readonly (readonly string[])[]): string | null {
    const common = (preferences[0] ?? []).filter((a) => preferences.every((p) => p.includes(a)));
    if (common.length === 0) return null;
    const votes = new Map(common.map((a) => [a, 0]));
    for (const p of preferences) {
      const first = p.find((a) => votes.has(a)) as string;
      votes.set(first, (votes.get(first) ?? 0) + 1);
    }
    return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  }

  private topicsOf(subscription: Subscription, existing: readonly string[]): string[] {
    if (subscription.kind === 'topics') return [...subscription.topics];
    return existing.filter((t) => subscription.pattern.test(t));
  }

  private maybeCompleteRebalance(group: ConsumerGroup): void {
    if (group.state !== 'PreparingRebalance') return;
    const members = group.memberList;
    if (!members.every((m) => m.rejoined)) return;
    group.generation++;
    group.rebalances++;
    if (members.length === 0) {
      group.state = 'Empty';
      group.protocol = null;
    } else {
      const protocol = this.chooseProtocol(members.map((m) => m.assignors)) ?? 'range';
      const existing = this.broker.listTopics();
      const partitionsPerTopic = new Map<string, number>();
      const subscriptions: MemberSubscription[] = members.map((m) => {
        const topics = this.topicsOf(m.subscription, existing);
        for (const t of topics) {
          if (!partitionsPerTopic.has(t) && existing.includes(t))
            partitionsPerTopic.set(t, this.broker.describeTopic(t).partitions.length);
        }
        return { memberId: m.memberId, topics, owned: m.owned };
      });
      const assignment = assignorFor(protocol).assign(subscriptions, partitionsPerTopic);
      for (const m of members) {
        m.assignment = assignment.get(m.memberId) ?? [];
        m.generation = group.generation;
        m.synced = false;
      }
      group.protocol = protocol;
      group.state = 'CompletingRebalance';
    }
    try {
      this.offsets.storeGroup(group.groupId, group.generation, group.protocol);
    } catch (err) {
      // The record only lets an empty group's generation outlive a restart; the rebalance stands
      // without it (a node whose lease is not confirmed, or that is leaving, cannot write it).
      this.opts.onError('group record', err);
    }
    group.changed();
  }

  /** The reaper: members silent for longer than their session timeout leave the group. */
  expireMembers(now: number): void {
    for (const group of this.groups.values()) {
      let expired = false;
      for (const m of [...group.members.values()]) {
        if (m.inFlight === 0 && now - m.lastSeenMs > m.sessionTimeoutMs) {
          group.members.delete(m.memberId);
          expired = true;
        }
      }
      if (expired) this.triggerRebalance(group);
    }
  }

  private onTopicChange(change: TopicChange): void {
    if (isInternalTopic(change.topic)) return;
    if (change.kind === 'deleted') this.offsets.deleteTopicOffsets(change.topic);
    for (const group of this.groups.values()) {
      const affected = group.memberList.some((m) =>
        m.subscription.kind === 'topics'
          ? m.subscription.topics.includes(change.topic)
          : m.subscription.pattern.test(change.topic),
      );
      if (affected) this.triggerRebalance(group);
    }
  }

  /**
   * Commits offsets for a group. A member commits with its generation (Kafka refuses a stale
   * one, ILLEGAL_GENERATION); a standalone consumer (no member id) may commit only while no
   * member uses group management, as in Kafka.
   */
  commitOffsets(
    groupId: string,
    member: { memberId: string; generation: number } | null,
    entries: readonly OffsetToCommit[],
  ): void {
    this.validateGroupId(groupId);
    const group = this.groupOf(groupId, true);
    if (member === null) {
      if (group.members.size > 0) {
        throw new GroupStateError(
          'NON_EMPTY_GROUP',
          `group ${groupId} has active members; a consumer without group management cannot commit for it`,
        );
      }
    } else {
      const m = this.memberOf(group, member.memberId);
      if (member.generation !== group.generation || m.generation !== group.generation) {
        throw new GroupStateError(
          'ILLEGAL_GENERATION',
          `generation ${member.generation} of group ${groupId} is over (now ${group.generation})`,
        );
      }
      if (group.state === 'CompletingRebalance' && !m.synced) {
        throw new GroupStateError('REBALANCE_IN_PROGRESS', `group ${groupId} is rebalancing`);
      }
    }
    if (entries.length > 0) this.offsets.commit(groupId, entries);
  }

  /** Resolves once the group's commits so far are replicated to the ISR of their offsets partition. */
  waitForCommits(groupId: string, timeoutMs: number): Promise<void> {
    return this.offsets.waitForReplication(groupId, timeoutMs);
  }

  committedOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    this.ensureCoordinator(groupId);
    return this.offsets.committedOffset(groupId, topic, partition);
  }

  committed(groupId: string): ReadonlyMap<string, CommittedOffset> {
    this.ensureCoordinator(groupId);
    return this.offsets.committed(groupId);
  }

  listGroups(): string[] {
    return [...this.groups.keys()].sort();
  }

  describeGroup(groupId: string): GroupDescription {
    if (!this.groups.has(groupId)) this.ensureCoordinator(groupId);
    const group = this.groupOf(groupId, false);
    return {
      groupId,
      state: group.state,
      protocolType: 'consumer',
      protocol: group.protocol,
      generation: group.generation,
      members: group.memberList.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        assignment: [...m.assignment],
      })),
      isSimple: group.members.size === 0,
      rebalances: group.rebalances,
    };
  }

  /** Resets committed offsets of a group that has no members (admin). */
  resetOffsets(groupId: string, entries: readonly OffsetToCommit[]): void {
    this.validateGroupId(groupId);
    const group = this.groupOf(groupId, true);
    if (group.members.size > 0)
      throw new GroupStateError(
        'NON_EMPTY_GROUP',
        `group ${groupId} has active members; stop them before resetting offsets`,
      );
    this.offsets.commit(groupId, entries);
  }

  /** Deletes a group with no members, and its committed offsets. */
  deleteGroup(groupId: string): void {
    this.ensureCoordinator(groupId);
    const group = this.groupOf(groupId, false);
    if (group.members.size > 0) throw new GroupStateError('NON_EMPTY_GROUP', `group ${groupId} has active members`);
    this.offsets.deleteGroup(groupId);
    group.state = 'Dead';
    group.changed();
    this.groups.delete(groupId);
  }
}
