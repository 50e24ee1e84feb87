import { randomUUID } from 'node:crypto';
import { type Broker, CONSUMER_OFFSETS_TOPIC, isInternalTopic, type TopicChange } from '../broker/broker.js';
import type { TopicPartition } from '../broker/topic-partition.js';
import { GroupStateError, InvalidGroupIdError, ServiceUnavailableError, UnknownGroupError } from '../errors.js';
import { KAFKA_ERRORS, type KafkaError } from '../kafka-errors.js';
import { BackgroundTask } from '../storage/background-task.js';
import type { MemberSubscription } from './assignor.js';
import { ASSIGNORS, assignorFor, assignorOfProtocol, protocolsOfAssignors } from './assignors.js';
import {
  ConsumerGroup,
  type GroupState,
  type JoinProtocol,
  type JoinResult,
  type Member,
  type Subscription,
} from './consumer-group.js';
import {
  CONSUMER_PROTOCOL_TYPE,
  decodeAssignment,
  decodeSubscription,
  encodeAssignment,
  encodeSubscription,
} from './consumer-protocol.js';
import { type CommittedOffset, GroupMetadataManager, type OffsetToCommit } from './group-metadata-manager.js';

export type { JoinProtocol, JoinResult } from './consumer-group.js';

/** A REST member's join (consumer instances and SSE group streams). */
export interface JoinOptions {
  clientId: string;
  sessionTimeoutMs: number;
  /** Assignor names in order of preference (`range`, `roundrobin`, `sticky`). */
  assignors: readonly string[];
  subscription: Subscription;
}

/** A JoinGroup of a Kafka client, as the listener read it. */
export interface KafkaJoinRequest {
  /** Empty on a first join. */
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  /** -1 (JoinGroup v0): the session timeout. */
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: JoinProtocol[];
  /** KIP-394 (JoinGroup v4+): a first join without a member id is answered with one, to join again with. */
  requireKnownMemberId: boolean;
}

/** A JoinGroup's answer: the join phase's outcome, or (KIP-394) the member id to join again with. */
export type KafkaJoinAnswer = ({ kind: 'joined' } & JoinResult) | { kind: 'member-id-required'; memberId: string };

export interface KafkaSyncRequest {
  memberId: string;
  groupInstanceId: string | null;
  generation: number;
  /** SyncGroup v5+ names the protocol it expects; null before. */
  protocolType: string | null;
  protocolName: string | null;
  /** The leader's assignments (empty from the other members). */
  assignments: { memberId: string; assignment: Buffer }[];
}

/** A SyncGroup's answer: the member's assignment, and the protocol it is in (SyncGroup v5+ says). */
export interface SyncAnswer {
  assignment: Buffer;
  protocolType: string | null;
  protocol: string | null;
}

export interface MemberAssignment {
  generation: number;
  partitions: readonly TopicPartition[];
}

export interface MemberDescription {
  memberId: string;
  kind: 'rest' | 'kafka';
  clientId: string;
  clientHost: string;
  groupInstanceId: string | null;
  assignment: TopicPartition[];
  /** The member's metadata for the group's protocol (a REST member's subscription, encoded as a Kafka member's). */
  metadata: Buffer;
  /** The member's assignment as SyncGroup hands it out. */
  assignmentBytes: Buffer;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  /** `consumer` for every group with REST members; '' for a group that never had a member. */
  protocolType: string;
  protocol: string | null;
  generation: number;
  leaderId: string | null;
  members: MemberDescription[];
  /** No member uses group management: offsets only (standalone consumers, or none at all). */
  isSimple: boolean;
  rebalances: number;
}

export interface CoordinatorOptions {
  /** How often expired members (and overdue join phases) are looked for. */
  sessionCheckIntervalMs: number;
  onError: (task: string, err: unknown) => void;
  /** Kafka's group.min.session.timeout.ms: the shortest session a Kafka client may ask for. */
  minSessionTimeoutMs?: number;
  /** Kafka's group.max.session.timeout.ms. */
  maxSessionTimeoutMs?: number;
  /** Kafka's group.max.size: members (REST and Kafka) per group. */
  maxMembersPerGroup?: number;
  /** JoinGroup metadata bytes one member may send (all its protocols together). */
  maxMemberMetadataBytes?: number;
  /** Member ids handed out with MEMBER_ID_REQUIRED and not yet used, per group. */
  maxPendingMembersPerGroup?: number;
}

/** Kafka refuses empty group ids for group management; a bound keeps keys short. */
const MAX_GROUP_ID_LENGTH = 249;
const DEFAULT_MIN_SESSION_TIMEOUT_MS = 6_000;
const DEFAULT_MAX_SESSION_TIMEOUT_MS = 1_800_000;
const DEFAULT_MAX_MEMBERS_PER_GROUP = 1_000;
const DEFAULT_MAX_MEMBER_METADATA_BYTES = 1024 * 1024;
const DEFAULT_MAX_PENDING_MEMBERS_PER_GROUP = 1_000;
/** Protocols one JoinGroup may offer (clients offer one to three). */
const MAX_PROTOCOLS_PER_MEMBER = 32;
const EMPTY = Buffer.alloc(0);

/**
 * The group coordinator (Kafka's GroupCoordinator, classic protocol, eager rebalancing) for two
 * kinds of members in the same groups: REST consumer instances and SSE streams of this process,
 * and Kafka clients on the listener.
 *
 * - A trigger (join, leave, expiry, subscription change, a new topic matching a pattern,
 *   partition growth) moves the group to PreparingRebalance. Every member must rejoin: a REST
 *   member gives its partitions up (`sync` calls its `revoke` callback, where it commits; one that
 *   owns nothing counts as rejoined at once); a Kafka member sends JoinGroup (it learns of the
 *   rebalance from Heartbeat's REBALANCE_IN_PROGRESS), which waits. Kafka members that do not
 *   rejoin within the rebalance timeout are removed; REST members leave by session timeout.
 * - When every member has rejoined, the generation goes up, a protocol every member supports is
 *   chosen, and a leader is named (the previous one if it is still here, else the oldest member).
 *   A REST leader means Samsa runs the assignor for everyone, encoding Kafka members' assignments
 *   in the consumer protocol. A Kafka leader gets every member's metadata (REST members' as
 *   ConsumerProtocolSubscription) in its JoinGroup answer and sends the assignments in SyncGroup;
 *   REST members' are decoded from it. Until then the group is CompletingRebalance and members
 *   wait; once each member has picked its assignment up, Stable.
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
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private readonly maxMembersPerGroup: number;
  private readonly maxMemberMetadataBytes: number;
  private readonly maxPendingMembersPerGroup: number;

  constructor(
    private readonly broker: Broker,
    private readonly opts: CoordinatorOptions,
  ) {
    this.offsets = new GroupMetadataManager(broker);
    this.minSessionTimeoutMs = opts.minSessionTimeoutMs ?? DEFAULT_MIN_SESSION_TIMEOUT_MS;
    this.maxSessionTimeoutMs = opts.maxSessionTimeoutMs ?? DEFAULT_MAX_SESSION_TIMEOUT_MS;
    this.maxMembersPerGroup = opts.maxMembersPerGroup ?? DEFAULT_MAX_MEMBERS_PER_GROUP;
    this.maxMemberMetadataBytes = opts.maxMemberMetadataBytes ?? DEFAULT_MAX_MEMBER_METADATA_BYTES;
    this.maxPendingMembersPerGroup = opts.maxPendingMembersPerGroup ?? DEFAULT_MAX_PENDING_MEMBERS_PER_GROUP;
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
    const stopping = new ServiceUnavailableError(
      'The group coordinator is shutting down.',
      KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE,
    );
    for (const group of this.groups.values()) {
      this.failWaiters(group, stopping);
      group.changed();
    }
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
      const stored = this.offsets.storedGroup(groupId);
      group.generation = stored?.generation ?? 0;
      group.protocol = stored?.protocol ?? null;
      group.protocolType = stored?.protocolType || null;
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
    const moved = new ServiceUnavailableError(
      `This node no longer coordinates the groups of ${CONSUMER_OFFSETS_TOPIC}-${p}.`,
      KAFKA_ERRORS.NOT_COORDINATOR,
    );
    for (const [groupId, group] of this.groups) {
      if (this.offsets.partitionOf(groupId) !== p) continue;
      group.state = 'Dead';
      this.failWaiters(group, moved);
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

  /**
   * A Kafka member named by a request, with KIP-345's fencing: a static member's instance id must
   * map to the member id it came with (a newer instance of it took over otherwise).
   */
  private kafkaMemberOf(group: ConsumerGroup, memberId: string, groupInstanceId: string | null): Member {
    if (groupInstanceId !== null) {
      const current = group.staticMembers.get(groupInstanceId);
      if (current !== undefined && current !== memberId)
        throw new GroupStateError(
          'FENCED_INSTANCE_ID',
          `instance ${groupInstanceId} of group ${group.groupId} is member ${current} now, not ${memberId}`,
        );
    }
    const m = this.memberOf(group, memberId);
    if (m.kind !== 'kafka') throw new GroupStateError('UNKNOWN_MEMBER_ID', `member ${memberId} is not a Kafka client`);
    return m;
  }

  private checkGroupSize(group: ConsumerGroup): void {
    if (group.members.size >= this.maxMembersPerGroup)
      throw new GroupStateError(
        'GROUP_MAX_SIZE_REACHED',
        `group ${group.groupId} has ${group.members.size} members, the most it may have (group.max.size)`,
      );
  }

  /**
   * Whether a member offering `names` of `protocolType` has a protocol in common with every other
   * member of the group (a rejoining member's own old protocols do not count).
   */
  private fitsProtocols(group: ConsumerGroup, protocolType: string, names: readonly string[], self?: Member): boolean {
    const others = group.memberList.filter((m) => m !== self);
    if (others.length === 0) return true;
    if (group.protocolType !== null && group.protocolType !== protocolType) return false;
    return this.chooseProtocol(others.map(protocolNames).concat([[...names]])) !== null;
  }

  private newMember(
    kind: 'rest' | 'kafka',
    memberId: string,
    fields: Pick<Member, 'clientId' | 'clientHost' | 'groupInstanceId' | 'sessionTimeoutMs' | 'rebalanceTimeoutMs'> &
      Pick<Member, 'protocols' | 'subscription'>,
  ): Member {
    return {
      memberId,
      kind,
      ...fields,
      lastSeenMs: Date.now(),
      inFlight: 0,
      assignment: [],
      assignmentBytes: EMPTY,
      owned: [],
      generation: -1,
      rejoined: true,
      synced: false,
      awaitingJoin: null,
      awaitingSync: null,
    };
  }

  /** Adds a REST member with a subscription and starts a rebalance. Returns its member id. */
  joinGroup(groupId: string, opts: JoinOptions): string {
    this.validateGroupId(groupId);
    for (const a of opts.assignors)
      if (!ASSIGNORS.has(a)) throw new InvalidGroupIdError(`Unknown partition assignment strategy: ${a}`);
    const group = this.groupOf(groupId, true);
    const protocols = protocolsOfAssignors(opts.assignors).map((name) => ({ name, metadata: EMPTY }));
    if (
      !this.fitsProtocols(
        group,
        CONSUMER_PROTOCOL_TYPE,
        protocols.map((p) => p.name),
      )
    ) {
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        `group ${groupId} has no protocol in common with ${opts.assignors.join(', ')} (its protocol type is ${group.protocolType})`,
      );
    }
    this.checkGroupSize(group);
    const memberId = `${opts.clientId}-${randomUUID()}`;
    if (group.members.size === 0) group.protocolType = CONSUMER_PROTOCOL_TYPE;
    group.members.set(
      memberId,
      this.newMember('rest', memberId, {
        clientId: opts.clientId,
        clientHost: '',
        groupInstanceId: null,
        sessionTimeoutMs: opts.sessionTimeoutMs,
        rebalanceTimeoutMs: opts.sessionTimeoutMs,
        protocols,
        subscription: opts.subscription,
      }),
    );
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
    const m = group?.members.get(memberId);
    if (!group || !m) return;
    this.removeMember(group, m);
    this.triggerRebalance(group);
  }

  /**
   * A REST member's way to its partitions, called before every read (it is also its heartbeat).
   * If a rebalance is in progress and the member still reads partitions, `revoke` runs first
   * (commit positions there), and the member gives them up. Then it waits, up to `timeoutMs`,
   * for the generation's assignment (Samsa's, or a Kafka leader's). Null means no assignment yet:
   * read nothing.
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
        if (
          (group.state === 'CompletingRebalance' || group.state === 'Stable') &&
          m.generation === group.generation &&
          group.assignmentsReady
        ) {
          if (!m.synced) this.markSynced(group, m);
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

  // ---- the Kafka protocol's members ----

  /**
   * JoinGroup (Kafka's handleJoinGroup). Waits, up to the rebalance timeout, until the join phase
   * ends (`signal`: the client went away), and answers with the new generation; the leader's
   * answer lists every member's metadata.
   */
  async handleJoinGroup(groupId: string, req: KafkaJoinRequest, signal?: AbortSignal): Promise<KafkaJoinAnswer> {
    this.validateGroupId(groupId);
    if (req.sessionTimeoutMs < this.minSessionTimeoutMs || req.sessionTimeoutMs > this.maxSessionTimeoutMs)
      throw new GroupStateError(
        'INVALID_SESSION_TIMEOUT',
        `session timeout ${req.sessionTimeoutMs} ms is outside ${this.minSessionTimeoutMs}..${this.maxSessionTimeoutMs} ms (group.min/max.session.timeout.ms)`,
      );
    if (req.protocolType === '' || req.protocols.length === 0)
      throw new GroupStateError('INCONSISTENT_GROUP_PROTOCOL', 'a JoinGroup must name a protocol type and protocols');
    if (req.protocols.length > MAX_PROTOCOLS_PER_MEMBER)
      throw new GroupStateError('INVALID_REQUEST', `at most ${MAX_PROTOCOLS_PER_MEMBER} protocols per member`);
    const metadataBytes = req.protocols.reduce((n, p) => n + p.metadata.length, 0);
    if (metadataBytes > this.maxMemberMetadataBytes)
      throw new GroupStateError(
        'INVALID_REQUEST',
        `protocol metadata of ${metadataBytes} bytes is over the ${this.maxMemberMetadataBytes} bytes a member may send`,
      );
    const group = this.groupOf(groupId, true);
    if (group.state === 'Dead')
      throw new ServiceUnavailableError(`group ${groupId} is being removed`, KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE);
    const names = req.protocols.map((p) => p.name);
    const known = req.memberId === '' ? undefined : group.members.get(req.memberId);
    if (!this.fitsProtocols(group, req.protocolType, names, known))
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        `group ${groupId} (protocol type ${group.protocolType}) has no protocol in common with ${names.join(', ')}`,
      );
    const rebalanceTimeoutMs = Math.min(
      req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      this.maxSessionTimeoutMs,
    );
    const fields = {
      clientId: req.clientId,
      clientHost: req.clientHost,
      groupInstanceId: req.groupInstanceId,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocols: req.protocols,
      subscription: subscriptionOf(req.protocolType, req.protocols),
    };

    if (req.memberId === '') {
      const staticId = req.groupInstanceId === null ? undefined : group.staticMembers.get(req.groupInstanceId);
      const old = staticId === undefined ? undefined : group.members.get(staticId);
      if (old) return this.replaceStaticMember(group, old, fields, signal);
      if (req.groupInstanceId === null && req.requireKnownMemberId) {
        this.checkGroupSize(group);
        if (group.pendingMembers.size >= this.maxPendingMembersPerGroup)
          throw new GroupStateError(
            'GROUP_MAX_SIZE_REACHED',
            `group ${groupId} has ${group.pendingMembers.size} member ids waiting for their join`,
          );
        const memberId = `${req.clientId}-${randomUUID()}`;
        group.pendingMembers.set(memberId, Date.now() + req.sessionTimeoutMs);
        return { kind: 'member-id-required', memberId };
      }
      return this.addKafkaMember(group, `${req.clientId}-${randomUUID()}`, req.protocolType, fields, signal);
    }
    if (group.pendingMembers.delete(req.memberId))
      return this.addKafkaMember(group, req.memberId, req.protocolType, fields, signal);
    const m = this.kafkaMemberOf(group, req.memberId, req.groupInstanceId);
    const same = sameProtocols(m.protocols, req.protocols);
    Object.assign(m, fields, { lastSeenMs: Date.now() });
    const current = m.generation === group.generation;
    if (group.state === 'CompletingRebalance' && same && current) return this.joined(group, m);
    if (group.state === 'Stable' && same && current && m.memberId !== group.leaderId) return this.joined(group, m);
    return this.awaitJoin(group, m, group.state !== 'PreparingRebalance' || !same, signal);
  }

  private addKafkaMember(
    group: ConsumerGroup,
    memberId: string,
    protocolType: string,
    fields: Parameters<GroupCoordinator['newMember']>[2],
    signal?: AbortSignal,
  ): Promise<KafkaJoinAnswer> {
    this.checkGroupSize(group);
    const m = this.newMember('kafka', memberId, fields);
    if (group.members.size === 0) group.protocolType = protocolType;
    group.members.set(memberId, m);
    if (m.groupInstanceId !== null) group.staticMembers.set(m.groupInstanceId, memberId);
    return this.awaitJoin(group, m, true, signal);
  }

  /**
   * KIP-345: a static member restarted (a first join with a known instance id). It takes the old
   * member's place under a new member id; the old one is fenced. In a Stable group with the same
   * protocols it keeps its assignment without a rebalance, unless it leads the group.
   */
  private replaceStaticMember(
    group: ConsumerGroup,
    old: Member,
    fields: Parameters<GroupCoordinator['newMember']>[2],
    signal?: AbortSignal,
  ): Promise<KafkaJoinAnswer> | KafkaJoinAnswer {
    const fenced = new GroupStateError(
      'FENCED_INSTANCE_ID',
      `instance ${old.groupInstanceId} of group ${group.groupId} joined again as a new member`,
    );
    old.awaitingJoin?.(fenced);
    old.awaitingSync?.(fenced);
    const memberId = `${fields.clientId}-${randomUUID()}`;
    const same = sameProtocols(old.protocols, fields.protocols);
    const m: Member = {
      ...old,
      ...fields,
      memberId,
      lastSeenMs: Date.now(),
      inFlight: 0,
      awaitingJoin: null,
      awaitingSync: null,
    };
    group.members.delete(old.memberId);
    group.members.set(memberId, m);
    group.staticMembers.set(fields.groupInstanceId as string, memberId);
    const wasLeader = group.leaderId === old.memberId;
    if (wasLeader) group.leaderId = memberId;
    if (group.state === 'Stable' && same && !wasLeader && old.generation === group.generation)
      return this.joined(group, m);
    return this.awaitJoin(group, m, group.state !== 'PreparingRebalance', signal);
  }

  /**
   * The member's JoinGroup waits for the end of the join phase. `trigger`: its join starts a
   * rebalance (a new member, changed protocols, a leader's rejoin); else it joins the one in
   * progress.
   */
  private async awaitJoin(
    group: ConsumerGroup,
    m: Member,
    trigger: boolean,
    signal?: AbortSignal,
  ): Promise<KafkaJoinAnswer> {
    m.awaitingJoin?.(new GroupStateError('UNKNOWN_MEMBER_ID', 'the member sent another JoinGroup'));
    let settle: (r: JoinResult | Error) => void = () => {};
    const answer = new Promise<JoinResult | Error>((resolve) => {
      settle = resolve;
    });
    m.awaitingJoin = settle;
    m.inFlight++;
    try {
      if (trigger) this.triggerRebalance(group);
      m.rejoined = true;
      group.rebalanceDeadlineMs = Math.max(group.rebalanceDeadlineMs, Date.now() + m.rebalanceTimeoutMs);
      this.maybeCompleteRebalance(group);
      // The reaper ends the join phase at its deadline; this bound only guards against a lost wake-up.
      const outcome = await settleWithin(answer, m.rebalanceTimeoutMs + 2 * this.opts.sessionCheckIntervalMs, signal);
      if (outcome === 'timeout')
        throw new GroupStateError('REBALANCE_IN_PROGRESS', `group ${group.groupId} is still rebalancing`);
      if (outcome === 'aborted')
        throw new ServiceUnavailableError('the client went away', KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE);
      if (outcome instanceof Error) throw outcome;
      return { kind: 'joined', ...outcome };
    } finally {
      if (m.awaitingJoin === settle) m.awaitingJoin = null;
      m.inFlight--;
      m.lastSeenMs = Date.now();
    }
  }

  /** The JoinGroup answer of `m` for the group's current generation. */
  private joined(group: ConsumerGroup, m: Member): KafkaJoinAnswer {
    return { kind: 'joined', ...this.joinResult(group, m) };
  }

  private joinResult(group: ConsumerGroup, m: Member): JoinResult {
    const leaderId = group.leaderId ?? '';
    const topics = this.broker.listTopics();
    return {
      memberId: m.memberId,
      generation: group.generation,
      protocolType: group.protocolType,
      protocol: group.protocol,
      leaderId,
      members:
        m.memberId === leaderId
          ? group.memberList.map((x) => ({
              memberId: x.memberId,
              groupInstanceId: x.groupInstanceId,
              metadata: this.metadataOf(x, group.protocol, topics),
            }))
          : [],
    };
  }

  /** A member's metadata for `protocol`: a Kafka member's as it sent it, a REST member's subscription encoded. */
  private metadataOf(m: Member, protocol: string | null, existingTopics: readonly string[]): Buffer {
    if (m.kind === 'rest') return encodeSubscription(this.topicsOf(m.subscription, existingTopics), m.owned);
    return (m.protocols.find((p) => p.name === protocol) ?? m.protocols[0])?.metadata ?? EMPTY;
  }

  /**
   * SyncGroup (Kafka's handleSyncGroup): the leader's request carries every member's assignment;
   * each member's answer is its own, once there is one.
   */
  async handleSyncGroup(groupId: string, req: KafkaSyncRequest, signal?: AbortSignal): Promise<SyncAnswer> {
    this.ensureCoordinator(groupId);
    const group = this.groups.get(groupId);
    if (!group) throw new GroupStateError('UNKNOWN_MEMBER_ID', `group ${groupId} has no members`);
    const m = this.kafkaMemberOf(group, req.memberId, req.groupInstanceId);
    if (req.generation !== group.generation)
      throw new GroupStateError(
        'ILLEGAL_GENERATION',
        `generation ${req.generation} of group ${groupId} is over (now ${group.generation})`,
      );
    if (
      (req.protocolType !== null && req.protocolType !== group.protocolType) ||
      (req.protocolName !== null && req.protocolName !== group.protocol)
    )
      throw new GroupStateError(
        'INCONSISTENT_GROUP_PROTOCOL',
        `group ${groupId} uses ${group.protocolType}/${group.protocol}, not ${req.protocolType}/${req.protocolName}`,
      );
    m.lastSeenMs = Date.now();
    if (group.state === 'PreparingRebalance')
      throw new GroupStateError('REBALANCE_IN_PROGRESS', `group ${groupId} is rebalancing`);
    if (group.state !== 'CompletingRebalance' && group.state !== 'Stable')
      throw new GroupStateError('UNKNOWN_MEMBER_ID', `group ${groupId} is ${group.state}`);
    if (!group.assignmentsReady && m.memberId === group.leaderId) this.applyLeaderAssignments(group, req.assignments);
    const answered = (assignment: Buffer): SyncAnswer => ({
      assignment,
      protocolType: group.protocolType,
      protocol: group.protocol,
    });
    if (group.assignmentsReady) {
      this.markSynced(group, m);
      return answered(m.assignmentBytes);
    }
    let settle: (r: Buffer | Error) => void = () => {};
    const answer = new Promise<Buffer | Error>((resolve) => {
      settle = resolve;
    });
    m.awaitingSync?.(new GroupStateError('REBALANCE_IN_PROGRESS', 'the member sent another SyncGroup'));
    m.awaitingSync = settle;
    m.inFlight++;
    try {
      const outcome = await settleWithin(answer, m.rebalanceTimeoutMs, signal);
      if (outcome === 'timeout' || outcome === 'aborted')
        throw new GroupStateError('REBALANCE_IN_PROGRESS', `the leader of group ${groupId} has not sent assignments`);
      if (outcome instanceof Error) throw outcome;
      this.markSynced(group, m);
      return answered(outcome);
    } finally {
      if (m.awaitingSync === settle) m.awaitingSync = null;
      m.inFlight--;
      m.lastSeenMs = Date.now();
    }
  }

  /** The Kafka leader's assignments: Kafka members keep the bytes, REST members read them as consumer protocol. */
  private applyLeaderAssignments(group: ConsumerGroup, assignments: KafkaSyncRequest['assignments']): void {
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    const consumer = group.protocolType === CONSUMER_PROTOCOL_TYPE;
    for (const m of group.members.values()) {
      const bytes = byMember.get(m.memberId) ?? EMPTY;
      m.assignmentBytes = bytes;
      m.assignment = consumer ? decodedOrNone(bytes) : [];
    }
    group.assignmentsReady = true;
    for (const m of group.members.values()) m.awaitingSync?.(m.assignmentBytes);
    group.changed();
  }

  private markSynced(group: ConsumerGroup, m: Member): void {
    if (m.synced) return;
    m.synced = true;
    m.owned = m.assignment;
    if (group.state === 'CompletingRebalance' && group.memberList.every((x) => x.synced)) {
      group.state = 'Stable';
      group.changed();
    }
  }

  /** Heartbeat (Kafka's handleHeartbeat): keeps the member alive, and tells it when to rejoin. */
  handleHeartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generation: number): void {
    this.ensureCoordinator(groupId);
    const group = this.groups.get(groupId);
    if (!group) throw new GroupStateError('UNKNOWN_MEMBER_ID', `group ${groupId} has no members`);
    const m = this.kafkaMemberOf(group, memberId, groupInstanceId);
    if (generation !== group.generation)
      throw new GroupStateError(
        'ILLEGAL_GENERATION',
        `generation ${generation} of group ${groupId} is over (now ${group.generation})`,
      );
    m.lastSeenMs = Date.now();
    if (group.state === 'PreparingRebalance')
      throw new GroupStateError('REBALANCE_IN_PROGRESS', `group ${groupId} is rebalancing`);
  }

  /**
   * LeaveGroup (Kafka's handleLeaveGroup): each member named by member id or (KIP-345, v3+) by
   * instance id leaves at once; the answer per member is null or its error.
   */
  handleLeaveGroup(
    groupId: string,
    leaving: readonly { memberId: string; groupInstanceId: string | null }[],
  ): (KafkaError | null)[] {
    this.ensureCoordinator(groupId);
    const group = this.groups.get(groupId);
    let removed = false;
    const answers = leaving.map(({ memberId, groupInstanceId }) => {
      if (!group) return KAFKA_ERRORS.UNKNOWN_MEMBER_ID;
      const id = groupInstanceId === null ? memberId : group.staticMembers.get(groupInstanceId);
      if (id === undefined) return KAFKA_ERRORS.UNKNOWN_MEMBER_ID;
      if (groupInstanceId !== null && memberId !== '' && memberId !== id) return KAFKA_ERRORS.FENCED_INSTANCE_ID;
      const m = group.members.get(id);
      if (m?.kind !== 'kafka') return KAFKA_ERRORS.UNKNOWN_MEMBER_ID;
      this.removeMember(group, m);
      removed = true;
      return null;
    });
    if (group && removed) this.triggerRebalance(group);
    return answers;
  }

  private removeMember(group: ConsumerGroup, m: Member): void {
    group.members.delete(m.memberId);
    if (m.groupInstanceId !== null && group.staticMembers.get(m.groupInstanceId) === m.memberId)
      group.staticMembers.delete(m.groupInstanceId);
    if (group.leaderId === m.memberId) group.leaderId = null;
    const gone = new GroupStateError('UNKNOWN_MEMBER_ID', `member ${m.memberId} left group ${group.groupId}`);
    m.awaitingJoin?.(gone);
    m.awaitingSync?.(gone);
  }

  private failWaiters(group: ConsumerGroup, err: Error): void {
    for (const m of group.members.values()) {
      m.awaitingJoin?.(err);
      m.awaitingSync?.(err);
    }
  }

  private triggerRebalance(group: ConsumerGroup): void {
    if (group.state === 'Dead') return;
    if (group.state !== 'PreparingRebalance') {
      // Kafka's rule: followers waiting for the leader's assignments rejoin instead.
      const rebalancing = new GroupStateError('REBALANCE_IN_PROGRESS', `group ${group.groupId} is rebalancing`);
      for (const m of group.members.values()) m.awaitingSync?.(rebalancing);
      let timeoutMs = 0;
      for (const m of group.members.values())
        if (m.kind === 'kafka') timeoutMs = Math.max(timeoutMs, m.rebalanceTimeoutMs);
      group.rebalanceDeadlineMs = Date.now() + timeoutMs;
    }
    group.state = 'PreparingRebalance';
    for (const m of group.members.values()) {
      if (m.kind === 'kafka') {
        // A Kafka member rejoins by sending JoinGroup; one that is waiting in it has.
        m.rejoined = m.awaitingJoin !== null;
        m.synced = false;
        continue;
      }
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

  /** Kafka's choice: the protocol every member supports that most members prefer. */
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

  /** The join phase ends once every member has rejoined: a new generation, its protocol, leader and (maybe) assignments. */
  private maybeCompleteRebalance(group: ConsumerGroup): void {
    if (group.state !== 'PreparingRebalance') return;
    const members = group.memberList;
    if (!members.every((m) => m.rejoined)) return;
    group.generation++;
    group.rebalances++;
    group.assignmentsReady = false;
    if (members.length === 0) {
      group.state = 'Empty';
      group.protocol = null;
      group.leaderId = null;
    } else {
      group.protocol = this.chooseProtocol(members.map(protocolNames)) ?? (members[0]?.protocols[0]?.name as string);
      if (group.leaderId === null || !group.members.has(group.leaderId))
        group.leaderId = (members[0] as Member).memberId;
      for (const m of members) {
        m.generation = group.generation;
        m.synced = false;
        m.assignment = [];
        m.assignmentBytes = EMPTY;
      }
      group.state = 'CompletingRebalance';
      if (group.members.get(group.leaderId)?.kind === 'rest') this.assign(group);
      for (const m of members) {
        const answer = m.awaitingJoin;
        if (answer) {
          m.awaitingJoin = null;
          answer(this.joinResult(group, m));
        }
      }
    }
    try {
      this.offsets.storeGroup(group.groupId, group.generation, group.protocolType ?? '', group.protocol);
    } catch (err) {
      // The record only lets an empty group's generation outlive a restart; the rebalance stands
      // without it (a node whose lease is not confirmed, or that is leaving, cannot write it).
      this.opts.onError('group record', err);
    }
    group.changed();
  }

  /** Samsa runs the group's assignor (its leader is a REST member) for every member, Kafka ones included. */
  private assign(group: ConsumerGroup): void {
    const members = group.memberList;
    const existing = this.broker.listTopics();
    const partitionsPerTopic = new Map<string, number>();
    const subscriptions: MemberSubscription[] = members.map((m) => {
      const topics = this.topicsOf(m.kind === 'rest' ? m.subscription : this.kafkaSubscription(m, group), existing);
      for (const t of topics) {
        if (!partitionsPerTopic.has(t) && existing.includes(t))
          partitionsPerTopic.set(t, this.broker.describeTopic(t).partitions.length);
      }
      const s: MemberSubscription = { memberId: m.memberId, topics, owned: m.owned };
      if (m.groupInstanceId !== null) s.groupInstanceId = m.groupInstanceId;
      return s;
    });
    const assignor = assignorOfProtocol(group.protocol ?? '') ?? assignorFor(group.protocol ?? '');
    const assignment = assignor.assign(subscriptions, partitionsPerTopic);
    for (const m of members) {
      m.assignment = assignment.get(m.memberId) ?? [];
      if (m.kind === 'kafka') m.assignmentBytes = encodeAssignment(m.assignment);
    }
    group.assignmentsReady = true;
  }

  /** A Kafka member's subscription for the group's protocol (its metadata, read as ConsumerProtocolSubscription). */
  private kafkaSubscription(m: Member, group: ConsumerGroup): Subscription {
    const metadata = m.protocols.find((p) => p.name === group.protocol)?.metadata;
    if (metadata === undefined) return m.subscription;
    return subscriptionOf(CONSUMER_PROTOCOL_TYPE, [{ name: group.protocol as string, metadata }]);
  }

  /**
   * The reaper: members silent for longer than their session timeout leave the group; a join
   * phase past its deadline goes on without the Kafka members that did not rejoin; member ids
   * handed out with MEMBER_ID_REQUIRED and never used lapse.
   */
  expireMembers(now: number): void {
    for (const group of this.groups.values()) {
      for (const [memberId, lapsesAtMs] of group.pendingMembers)
        if (now > lapsesAtMs) group.pendingMembers.delete(memberId);
      let expired = false;
      for (const m of [...group.members.values()]) {
        if (m.inFlight === 0 && now - m.lastSeenMs > m.sessionTimeoutMs) {
          this.removeMember(group, m);
          expired = true;
        }
      }
      if (expired) this.triggerRebalance(group);
      if (group.state === 'PreparingRebalance' && now >= group.rebalanceDeadlineMs) {
        let dropped = false;
        for (const m of [...group.members.values()]) {
          if (m.kind === 'kafka' && !m.rejoined) {
            this.removeMember(group, m);
            dropped = true;
          }
        }
        if (dropped) this.maybeCompleteRebalance(group);
      }
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
   * one, ILLEGAL_GENERATION; a static member's instance id must still be its own,
   * FENCED_INSTANCE_ID); a standalone consumer (no member id) may commit only while no member
   * uses group management, as in Kafka.
   */
  commitOffsets(
    groupId: string,
    member: { memberId: string; generation: number; groupInstanceId?: string | null } | null,
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
      const instanceId = member.groupInstanceId ?? null;
      const m =
        instanceId === null
          ? this.memberOf(group, member.memberId)
          : this.kafkaMemberOf(group, member.memberId, instanceId);
      if (member.generation !== group.generation || m.generation !== group.generation) {
        throw new GroupStateError(
          'ILLEGAL_GENERATION',
          `generation ${member.generation} of group ${groupId} is over (now ${group.generation})`,
        );
      }
      if (group.state === 'CompletingRebalance' && !m.synced) {
        throw new GroupStateError('REBALANCE_IN_PROGRESS', `group ${groupId} is rebalancing`);
      }
      m.lastSeenMs = Date.now();
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
    const topics = this.broker.listTopics();
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocol: group.protocol,
      generation: group.generation,
      leaderId: group.leaderId,
      members: group.memberList.map((m) => ({
        memberId: m.memberId,
        kind: m.kind,
        clientId: m.clientId,
        clientHost: m.clientHost,
        groupInstanceId: m.groupInstanceId,
        assignment: [...m.assignment],
        metadata: this.metadataOf(m, group.protocol, topics),
        assignmentBytes: m.kind === 'kafka' ? m.assignmentBytes : encodeAssignment(m.assignment),
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

function protocolNames(m: Member): string[] {
  return m.protocols.map((p) => p.name);
}

function sameProtocols(a: readonly JoinProtocol[], b: readonly JoinProtocol[]): boolean {
  return (
    a.length === b.length && a.every((p, i) => p.name === b[i]?.name && p.metadata.equals(b[i]?.metadata ?? EMPTY))
  );
}

/** The topics a Kafka member subscribes to, from its first protocol's metadata (none when it is not `consumer`'s). */
function subscriptionOf(protocolType: string, protocols: readonly JoinProtocol[]): Subscription {
  const first = protocols[0];
  if (protocolType !== CONSUMER_PROTOCOL_TYPE || first === undefined) return { kind: 'topics', topics: [] };
  try {
    return { kind: 'topics', topics: decodeSubscription(first.metadata).topics };
  } catch {
    return { kind: 'topics', topics: [] };
  }
}

/** A leader's assignment for a member, read as ConsumerProtocolAssignment; nothing when it is not one. */
function decodedOrNone(bytes: Buffer): TopicPartition[] {
  try {
    return decodeAssignment(bytes);
  } catch {
    return [];
  }
}

/** Waits for `promise` at most `timeoutMs`, or until `signal` aborts. */
async function settleWithin<T>(
  promise: Promise<T>,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<T | 'timeout' | 'aborted'> {
  if (signal?.aborted) return 'aborted';
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      }),
      new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
