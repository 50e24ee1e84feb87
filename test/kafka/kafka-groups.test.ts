/**
 * Consumer groups on the Kafka listener, one coordinator for Kafka clients and REST members.
 *
 * The first part speaks the group protocol byte by byte (Samsa's own codec over real TCP) to a
 * listener in this process, whose coordinator has small limits, to pin the protocol's rules:
 * KIP-394 member ids, the join phase and its rebalance timeout, leader-side assignment,
 * generations, static members (KIP-345), session expiry, and every bound.
 *
 * The second part runs real clients against a real `samsa serve`: kafkajs, kcat -G (librdkafka
 * 2.0.2), kafka-python 2.0.2 and confluent-kafka (librdkafka 2.0.2) as group consumers, a group
 * mixing kafkajs and a REST v2 consumer instance, and kafkajs admin's group calls. A missing client
 * skips its test locally and fails it under CI=true (.ci/run installs them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { Broker } from '../../src/broker/broker.js';
import { encodeAssignment, encodeSubscription } from '../../src/groups/consumer-protocol.js';
import { GroupCoordinator } from '../../src/groups/group-coordinator.js';
import { kafkaApis } from '../../src/kafka/kafka-apis.js';
import { KafkaListener } from '../../src/kafka/kafka-listener.js';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import type { ServerProcess } from '../process/server-process.js';
import { type KafkaServer, startKafkaServer } from './kafka-test-clients.js';
import { RawConnection } from './raw-connection.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON_GROUP_CONSUMER = path.join(HERE, 'python-group-consumer.py');
const CLIENT_TIMEOUT_MS = 60_000;

const NONE = 0;
const ILLEGAL_GENERATION = 22;
const INCONSISTENT_GROUP_PROTOCOL = 23;
const UNKNOWN_MEMBER_ID = 25;
const INVALID_SESSION_TIMEOUT = 26;
const REBALANCE_IN_PROGRESS = 27;
const INVALID_REQUEST = 42;
const NON_EMPTY_GROUP = 68;
const MEMBER_ID_REQUIRED = 79;
const GROUP_MAX_SIZE_REACHED = 81;
const FENCED_INSTANCE_ID = 82;

/** Waits for `check` to hold (it is polled), failing with `what` after `timeoutMs`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the group protocol on the Kafka listener', () => {
  const logger = pino({ level: 'silent' });
  let dir: string;
  let broker: Broker;
  let coordinator: GroupCoordinator;
  let listener: KafkaListener;
  let port: number;
  const connections: RawConnection[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-groups-'));
    broker = await Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: {} });
    await broker.start();
    coordinator = new GroupCoordinator(broker, {
      sessionCheckIntervalMs: 20,
      onError: (task, err) => assert.fail(`${task}: ${String(err)}`),
      minSessionTimeoutMs: 100,
      maxSessionTimeoutMs: 60_000,
      maxMembersPerGroup: 3,
      maxMemberMetadataBytes: 1024,
      maxPendingMembersPerGroup: 2,
    });
    await coordinator.start();
    await broker.createTopic('t', { partitions: 2 });
    listener = new KafkaListener({
      ...kafkaApis({ broker, coordinator, logger, advertisedListener: null }),
      logger,
    });
    port = (await listener.listen(0, '127.0.0.1')).port;
  });

  after(async () => {
    for (const c of connections) c.close();
    await listener.close();
    await coordinator.stop();
    await broker.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function connect(): RawConnection {
    const c = new RawConnection(port);
    connections.push(c);
    return c;
  }

  const subscription = encodeSubscription(['t'], []);

  function join(c: RawConnection, group: string, memberId: string, extra: Message = {}, version = 5) {
    return c.call(API_KEYS.JoinGroup, version, {
      groupId: group,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription }],
      reason: null,
      ...extra,
    });
  }

  /** A first join of a dynamic member: MEMBER_ID_REQUIRED, then the join with the id it got. */
  async function joinNew(c: RawConnection, group: string, extra: Message = {}): Promise<Message> {
    const first = await join(c, group, '', extra);
    assert.equal(first.errorCode, MEMBER_ID_REQUIRED);
    assert.match(first.memberId as string, /^test-/);
    return join(c, group, first.memberId as string, extra);
  }

  function sync(c: RawConnection, group: string, memberId: string, generationId: number, assignments: Message[] = []) {
    return c.call(API_KEYS.SyncGroup, 3, {
      groupId: group,
      generationId,
      memberId,
      groupInstanceId: null,
      assignments,
    });
  }

  function heartbeat(c: RawConnection, group: string, memberId: string, generationId: number, instance = null) {
    return c.call(API_KEYS.Heartbeat, 3, { groupId: group, generationId, memberId, groupInstanceId: instance });
  }

  async function describe1(c: RawConnection, group: string): Promise<Message> {
    const answer = await c.call(API_KEYS.DescribeGroups, 3, { groups: [group], includeAuthorizedOperations: false });
    return (answer.groups as Message[])[0] as Message;
  }

  it('a first join gets a member id, the leader gets every member metadata and hands out assignments, and a join makes the others rejoin', async () => {
    const a = connect();
    const b = connect();
    const joinedA = await joinNew(a, 'g1');
    assert.equal(joinedA.errorCode, NONE);
    assert.equal(joinedA.generationId, 1);
    assert.equal(joinedA.protocolName, 'range');
    assert.equal(joinedA.leader, joinedA.memberId);
    assert.deepEqual(joinedA.members, [{ memberId: joinedA.memberId, groupInstanceId: null, metadata: subscription }]);
    const idA = joinedA.memberId as string;
    const both = encodeAssignment([
      { topic: 't', partition: 0 },
      { topic: 't', partition: 1 },
    ]);
    const syncedA = await sync(a, 'g1', idA, 1, [{ memberId: idA, assignment: both }]);
    assert.deepEqual(
      { errorCode: syncedA.errorCode, assignment: syncedA.assignment },
      { errorCode: 0, assignment: both },
    );
    assert.equal((await heartbeat(a, 'g1', idA, 1)).errorCode, NONE);

    // A second member's join waits for the first to rejoin, which Heartbeat tells it to do.
    const first = await join(b, 'g1', '');
    const joiningB = join(b, 'g1', first.memberId as string);
    assert.equal((await heartbeat(a, 'g1', idA, 1)).errorCode, REBALANCE_IN_PROGRESS);
    assert.equal((await describe1(a, 'g1')).groupState, 'PreparingRebalance');
    const [rejoinedA, joinedB] = await Promise.all([join(a, 'g1', idA), joiningB]);
    const idB = joinedB.memberId as string;
    assert.deepEqual(
      [rejoinedA.generationId, joinedB.generationId, rejoinedA.leader, joinedB.leader],
      [2, 2, idA, idA],
    );
    assert.deepEqual((rejoinedA.members as Message[]).map((m) => m.memberId).sort(), [idA, idB].sort());
    assert.deepEqual(joinedB.members, [], 'only the leader sees the members');

    // The follower's SyncGroup waits for the leader's, then gets what the leader gave it.
    const onlyP1 = encodeAssignment([{ topic: 't', partition: 1 }]);
    const syncingB = sync(b, 'g1', idB, 2);
    const syncedA2 = await sync(a, 'g1', idA, 2, [
      { memberId: idA, assignment: encodeAssignment([{ topic: 't', partition: 0 }]) },
      { memberId: idB, assignment: onlyP1 },
    ]);
    assert.equal(syncedA2.errorCode, NONE);
    assert.deepEqual((await syncingB).assignment, onlyP1);
    const described = await describe1(a, 'g1');
    assert.equal(described.groupState, 'Stable');
    assert.deepEqual(
      (described.members as Message[]).find((m) => m.memberId === idB)?.memberAssignment,
      onlyP1,
      'DescribeGroups shows the assignment the leader sent',
    );

    assert.equal((await heartbeat(a, 'g1', idA, 1)).errorCode, ILLEGAL_GENERATION);
    assert.equal((await heartbeat(a, 'g1', 'nobody', 2)).errorCode, UNKNOWN_MEMBER_ID);
    assert.equal((await sync(a, 'g1', idA, 1)).errorCode, ILLEGAL_GENERATION);

    // The leader leaves; the other member leads the next generation alone.
    const left = await a.call(API_KEYS.LeaveGroup, 3, {
      groupId: 'g1',
      members: [{ memberId: idA, groupInstanceId: null }],
    });
    assert.deepEqual(left.members, [{ memberId: idA, groupInstanceId: null, errorCode: 0 }]);
    assert.equal((await heartbeat(b, 'g1', idB, 2)).errorCode, REBALANCE_IN_PROGRESS);
    const alone = await join(b, 'g1', idB);
    assert.deepEqual([alone.generationId, alone.leader], [3, idB]);
    assert.equal((await heartbeat(a, 'g1', idA, 3)).errorCode, UNKNOWN_MEMBER_ID);
  });

  it('the join phase goes on without a member that does not rejoin within its rebalance timeout, and a silent member expires', async () => {
    const a = connect();
    const b = connect();
    const timeouts = { sessionTimeoutMs: 300, rebalanceTimeoutMs: 300 };
    const joinedA = await joinNew(a, 'g2', timeouts);
    const idA = joinedA.memberId as string;
    await sync(a, 'g2', idA, 1, [{ memberId: idA, assignment: encodeAssignment([{ topic: 't', partition: 0 }]) }]);
    // A keeps its session alive but never rejoins: B's join completes without it.
    const beat = setInterval(() => void heartbeat(a, 'g2', idA, 1).catch(() => {}), 50);
    try {
      const joinedB = await joinNew(b, 'g2', timeouts);
      assert.equal(joinedB.generationId, 2);
      assert.deepEqual(
        (joinedB.members as Message[]).map((m) => m.memberId),
        [joinedB.memberId],
      );
      assert.equal((await heartbeat(a, 'g2', idA, 1)).errorCode, UNKNOWN_MEMBER_ID);
    } finally {
      clearInterval(beat);
    }
    // B never syncs nor heartbeats: it expires after its session timeout and the group is empty.
    await eventually('the silent member to expire', async () => (await describe1(a, 'g2')).groupState === 'Empty');
  });

  it('refuses sessions outside the bounds, protocols the group does not share, and stale or fenced members', async () => {
    const c = connect();
    assert.equal((await join(c, 'g3', '', { sessionTimeoutMs: 50 })).errorCode, INVALID_SESSION_TIMEOUT);
    assert.equal((await join(c, 'g3', '', { sessionTimeoutMs: 60_001 })).errorCode, INVALID_SESSION_TIMEOUT);
    const joined = await joinNew(c, 'g3');
    const id = joined.memberId as string;
    await sync(c, 'g3', id, 1, [{ memberId: id, assignment: encodeAssignment([]) }]);
    const other = connect();
    assert.equal(
      (await join(other, 'g3', '', { protocols: [{ name: 'cooperative-sticky', metadata: subscription }] })).errorCode,
      INCONSISTENT_GROUP_PROTOCOL,
    );
    assert.equal((await join(other, 'g3', '', { protocolType: 'connect' })).errorCode, INCONSISTENT_GROUP_PROTOCOL);
    assert.equal((await join(other, 'g3', 'made-up')).errorCode, UNKNOWN_MEMBER_ID);

    // Offsets: a member commits with its generation; a stale one or a stranger is refused.
    const commit = (memberId: string, generation: number, instance: string | null = null) =>
      c.call(API_KEYS.OffsetCommit, 8, {
        groupId: 'g3',
        generationIdOrMemberEpoch: generation,
        memberId,
        groupInstanceId: instance,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 4n, committedMetadata: null }] }],
      });
    const codeOf = (answer: Message) =>
      (((answer.topics as Message[])[0] as Message).partitions as Message[])[0]?.errorCode;
    assert.equal(codeOf(await commit(id, 0)), ILLEGAL_GENERATION);
    assert.equal(codeOf(await commit('stranger', 1)), UNKNOWN_MEMBER_ID);
    assert.equal(codeOf(await commit('', -1)), NON_EMPTY_GROUP);
    assert.equal(codeOf(await commit(id, 1)), NONE);
    const fetched = await c.call(API_KEYS.OffsetFetch, 8, {
      groups: [
        { groupId: 'g3', topics: [{ name: 't', partitionIndexes: [0, 1] }] },
        { groupId: 'nobody-here', topics: null },
      ],
      requireStable: false,
    });
    assert.deepEqual(
      (fetched.groups as Message[]).map((g) => ({
        groupId: g.groupId,
        errorCode: g.errorCode,
        offsets: (g.topics as Message[]).flatMap((t) => (t.partitions as Message[]).map((p) => p.committedOffset)),
      })),
      [
        { groupId: 'g3', errorCode: 0, offsets: [4n, -1n] },
        { groupId: 'nobody-here', errorCode: 0, offsets: [] },
      ],
    );

    // KIP-345: a static member joins without MEMBER_ID_REQUIRED; its restart fences the old member id.
    const s1 = await join(other, 'g3-static', '', { groupInstanceId: 'static-1' });
    assert.equal(s1.errorCode, NONE);
    const s2 = await join(connect(), 'g3-static', '', { groupInstanceId: 'static-1' });
    assert.equal(s2.errorCode, NONE);
    assert.notEqual(s2.memberId, s1.memberId);
    const fenced = await other.call(API_KEYS.Heartbeat, 3, {
      groupId: 'g3-static',
      generationId: s2.generationId,
      memberId: s1.memberId,
      groupInstanceId: 'static-1',
    });
    assert.equal(fenced.errorCode, FENCED_INSTANCE_ID);
    const staticCommit = await c.call(API_KEYS.OffsetCommit, 7, {
      groupId: 'g3-static',
      generationIdOrMemberEpoch: s2.generationId,
      memberId: s1.memberId,
      groupInstanceId: 'static-1',
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }],
    });
    assert.equal(codeOf(staticCommit), FENCED_INSTANCE_ID);
    const left = await other.call(API_KEYS.LeaveGroup, 4, {
      groupId: 'g3-static',
      members: [
        { memberId: s1.memberId, groupInstanceId: 'static-1', reason: null },
        { memberId: '', groupInstanceId: 'static-1', reason: null },
      ],
    });
    assert.deepEqual(
      (left.members as Message[]).map((m) => m.errorCode),
      [FENCED_INSTANCE_ID, NONE],
    );
  });

  it('keeps its limits: metadata bytes per member, member ids waiting for their join, members per group', async () => {
    const c = connect();
    const big = await join(c, 'g4', '', { protocols: [{ name: 'range', metadata: Buffer.alloc(1025) }] });
    assert.equal(big.errorCode, INVALID_REQUEST);
    const tooMany = await join(c, 'g4', '', {
      protocols: Array.from({ length: 33 }, (_, i) => ({ name: `p${i}`, metadata: Buffer.alloc(0) })),
    });
    assert.equal(tooMany.errorCode, INVALID_REQUEST);
    // Two member ids may wait for their join; a third is refused until one is used.
    const pending = [await join(c, 'g4', ''), await join(c, 'g4', '')];
    assert.deepEqual(
      pending.map((p) => p.errorCode),
      [MEMBER_ID_REQUIRED, MEMBER_ID_REQUIRED],
    );
    assert.equal((await join(c, 'g4', '')).errorCode, GROUP_MAX_SIZE_REACHED);
    // Three members fill the group: one joined, two waiting for it to rejoin (static members need no pending id).
    const [m0, m1, m2] = [connect(), connect(), connect()];
    const joined0 = await join(m0, 'g4', '', { groupInstanceId: 'i0' });
    assert.equal(joined0.errorCode, NONE);
    const waiting = [join(m1, 'g4', '', { groupInstanceId: 'i1' }), join(m2, 'g4', '', { groupInstanceId: 'i2' })];
    await eventually('three members', async () => ((await describe1(c, 'g4')).members as Message[]).length === 3);
    assert.equal((await join(connect(), 'g4', '', { groupInstanceId: 'i3' })).errorCode, GROUP_MAX_SIZE_REACHED);
    assert.equal((await join(c, 'g4', pending[0]?.memberId as string)).errorCode, GROUP_MAX_SIZE_REACHED);
    const rejoined = await join(m0, 'g4', joined0.memberId as string, { groupInstanceId: 'i0' });
    assert.deepEqual(
      [rejoined, ...(await Promise.all(waiting))].map((a) => [a.errorCode, a.generationId]),
      [
        [NONE, 2],
        [NONE, 2],
        [NONE, 2],
      ],
    );
  });

  it('serves JoinGroup, SyncGroup, Heartbeat and LeaveGroup v0, which librdkafka before 2.11 needs advertised', async () => {
    const c = connect();
    const joined = await c.call(API_KEYS.JoinGroup, 0, {
      groupId: 'g5',
      sessionTimeoutMs: 10_000,
      memberId: '',
      protocolType: 'consumer',
      protocols: [{ name: 'roundrobin', metadata: subscription }],
    });
    assert.equal(joined.errorCode, NONE, 'v0 has no MEMBER_ID_REQUIRED');
    const id = joined.memberId as string;
    const mine = encodeAssignment([{ topic: 't', partition: 0 }]);
    const synced = await c.call(API_KEYS.SyncGroup, 0, {
      groupId: 'g5',
      generationId: joined.generationId,
      memberId: id,
      assignments: [{ memberId: id, assignment: mine }],
    });
    assert.deepEqual(synced.assignment, mine);
    const beat = await c.call(API_KEYS.Heartbeat, 0, {
      groupId: 'g5',
      generationId: joined.generationId,
      memberId: id,
    });
    assert.equal(beat.errorCode, NONE);
    const left = await c.call(API_KEYS.LeaveGroup, 0, { groupId: 'g5', memberId: id });
    assert.equal(left.errorCode, NONE);
    assert.equal((await describe1(c, 'g5')).groupState, 'Empty');
    const listed = await c.call(API_KEYS.ListGroups, 4, { statesFilter: ['empty'] });
    assert.ok((listed.groups as Message[]).some((g) => g.groupId === 'g5' && g.groupState === 'Empty'));
    const deleted = await c.call(API_KEYS.DeleteGroups, 2, { groupsNames: ['g5', 'never-was'] });
    assert.deepEqual(deleted.results, [
      { groupId: 'g5', errorCode: 0 },
      { groupId: 'never-was', errorCode: 69 },
    ]);
    assert.equal((await describe1(c, 'g5')).groupState, 'Dead');
  });
});

function kcatBinary(): string | null {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0 ? 'kcat' : null;
}

/** The system interpreter with `module` importable (Debian's python3-kafka, python3-confluent-kafka). */
function pythonWith(module: string): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

const KCAT = kcatBinary();
const PYTHON_KAFKA = pythonWith('kafka');
const PYTHON_CONFLUENT = pythonWith('confluent_kafka');

/** Skips a test when a client is missing, except under CI, where a missing client is a failure. */
function need(t: TestContext, tool: string | null, name: string): tool is string {
  if (tool !== null) return true;
  const message = `${name} is not installed (Debian: apt-get install kcat python3-kafka python3-confluent-kafka; .ci/run installs them)`;
  if (process.env.CI === 'true') assert.fail(message);
  t.skip(message);
  return false;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw result.error;
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} exited ${result.status}\n${result.stdout?.toString()}\n${result.stderr?.toString()}`,
  );
  return result.stdout.toString();
}

const V2 = 'application/vnd.kafka.v2+json';
const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

/** A kafkajs group consumer that remembers its latest assignment and every record it was handed. */
interface Member {
  consumer: Consumer;
  assigned: number[];
  seen: Array<{ partition: number; offset: number; value: string }>;
}

describe('Kafka clients in consumer groups against samsa serve', () => {
  let server: ServerProcess;
  let brokerAddress: string;
  let clusterId: string;
  let kafka: Kafka;

  let running: KafkaServer;

  before(async () => {
    running = await startKafkaServer('kafka-group-clients');
    ({ server, clusterId } = running);
    brokerAddress = running.broker;
    kafka = new Kafka({ brokers: [brokerAddress], clientId: 'group-test', logLevel: logLevel.NOTHING });
  });

  after(() => running.stop());

  async function createTopic(name: string, partitions: number): Promise<void> {
    const res = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic_name: name, partitions_count: partitions }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  /** `perPartition` records into each partition, values `<tag>-p<partition>-<i>`. */
  async function produce(topic: string, partitions: number[], perPartition: number, tag: string): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: partitions.flatMap((partition) =>
          Array.from({ length: perPartition }, (_, i) => ({ partition, value: `${tag}-p${partition}-${i}` })),
        ),
      });
    } finally {
      await producer.disconnect();
    }
  }

  async function committedOffset(group: string, topic: string, partition: number): Promise<number | null> {
    const res = await fetch(
      `${server.baseUrl}/v3/clusters/${clusterId}/consumer-groups/${group}/lags/${topic}/partitions/${partition}`,
    );
    const text = await res.text();
    if (res.status === 404) return null;
    assert.equal(res.status, 200, text);
    return (JSON.parse(text) as { current_offset: number }).current_offset;
  }

  async function startMember(
    group: string,
    topic: string,
    opts: { autoCommit: boolean } = { autoCommit: false },
  ): Promise<Member> {
    // A short fetch wait: kafkajs looks at its heartbeat (and so at a rebalance) between fetches.
    const consumer = kafka.consumer({
      groupId: group,
      heartbeatInterval: 200,
      sessionTimeout: 6000,
      maxWaitTimeInMs: 200,
    });
    const member: Member = { consumer, assigned: [], seen: [] };
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      member.assigned = [...(e.payload.memberAssignment[topic] ?? [])].sort((x, y) => x - y);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: opts.autoCommit,
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        member.seen.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
      },
    });
    return member;
  }

  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

  it('kafkajs: a group of two rebalances on a join, on partition growth and on a leave; seek and commit work, and the v3 lag route sees the commit', async () => {
    await createTopic('kjs-group', 2);
    await produce('kjs-group', [0, 1], 2, 'first');
    const a = await startMember('kjs-g', 'kjs-group');
    const b = { member: null as Member | null };
    try {
      await eventually('a to own both partitions', () => sorted(a.assigned).join() === '0,1');
      await eventually('a to read the 4 records', () => a.seen.length >= 4);
      b.member = await startMember('kjs-g', 'kjs-group');
      const split = () => sorted([...a.assigned, ...(b.member?.assigned ?? [])]).join();
      await eventually('a join to split the partitions', () => a.assigned.length === 1 && split() === '0,1');
      const grown = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics/kjs-group`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ partitions_count: 4 }),
      });
      assert.equal(grown.status, 200, await grown.text());
      await eventually('the new partitions to be assigned', () => a.assigned.length === 2 && split() === '0,1,2,3');
      await b.member.consumer.disconnect();
      b.member = null;
      await eventually('a leave to hand a every partition', () => a.assigned.join() === '0,1,2,3');

      // Seek: partition 0 is read again from offset 1.
      const before = a.seen.filter((r) => r.partition === 0 && r.offset === 1).length;
      a.consumer.seek({ topic: 'kjs-group', partition: 0, offset: '1' });
      await eventually(
        'the seek to re-read offset 1',
        () => a.seen.filter((r) => r.partition === 0 && r.offset === 1).length > before,
      );
      await a.consumer.commitOffsets([{ topic: 'kjs-group', partition: 0, offset: '2' }]);
      assert.equal(await committedOffset('kjs-g', 'kjs-group', 0), 2);
      const fetched = await kafka.admin();
      await fetched.connect();
      try {
        const offsets = await fetched.fetchOffsets({ groupId: 'kjs-g', topics: ['kjs-group'] });
        assert.equal(offsets[0]?.partitions.find((p) => p.partition === 0)?.offset, '2');
      } finally {
        await fetched.disconnect();
      }
    } finally {
      await b.member?.consumer.disconnect();
      await a.consumer.disconnect();
    }
  });

  it('kcat -G (librdkafka 2.0.2) consumes as a group member, commits, and a second run starts from the commits', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('kcat-group', 2);
      await produce('kcat-group', [0, 1], 3, 'kc');
      const consume = () =>
        run(KCAT as string, [
          '-b',
          brokerAddress,
          '-G',
          'kcat-g',
          'kcat-group',
          '-X',
          'auto.offset.reset=earliest',
          '-e',
          '-q',
          '-f',
          '%p:%o:%s\n',
        ])
          .split('\n')
          .filter((l) => l !== '')
          .sort();
      assert.deepEqual(consume(), [
        '0:0:kc-p0-0',
        '0:1:kc-p0-1',
        '0:2:kc-p0-2',
        '1:0:kc-p1-0',
        '1:1:kc-p1-1',
        '1:2:kc-p1-2',
      ]);
      assert.deepEqual(
        [await committedOffset('kcat-g', 'kcat-group', 0), await committedOffset('kcat-g', 'kcat-group', 1)],
        [3, 3],
      );
      await produce('kcat-group', [1], 1, 'again');
      assert.deepEqual(consume(), ['1:3:again-p1-0']);
    })();
  });

  /** A REST v2 consumer instance that polls (and commits what it read) until stopped, as an HTTP client would. */
  async function startRestMember(group: string, name: string, topic: string) {
    const base = `${server.baseUrl}/consumers/${group}/instances/${name}`;
    const post = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': V2 }, body: JSON.stringify(body) });
    const created = await post(`${server.baseUrl}/consumers/${group}`, {
      name,
      format: 'binary',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    assert.equal(created.status, 200, await created.text());
    assert.equal((await post(`${base}/subscription`, { topics: [topic] })).status, 204);
    const seen: Array<{ partition: number; offset: number; value: string }> = [];
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const res = await fetch(`${base}/records?timeout=300`, { headers: { Accept: BINARY_V2 } });
        assert.equal(res.status, 200);
        const records = (await res.json()) as Array<{ partition: number; offset: number; value: string }>;
        for (const r of records)
          seen.push({ partition: r.partition, offset: r.offset, value: Buffer.from(r.value, 'base64').toString() });
        if (records.length > 0) assert.equal((await post(`${base}/offsets`, {})).status, 200);
      }
    })();
    return {
      seen,
      async assigned(): Promise<number[]> {
        const res = await fetch(`${base}/assignments`, { headers: { Accept: V2 } });
        const body = (await res.json()) as { partitions: Array<{ partition: number }> };
        return sorted(body.partitions.map((p) => p.partition));
      },
      async stop(): Promise<void> {
        stopped = true;
        await loop;
        await fetch(base, { method: 'DELETE', headers: { 'Content-Type': V2 } });
      },
    };
  }

  it('a kafkajs member and a REST v2 consumer instance share a group: they split its partitions, and each takes over from the commits of the other', async () => {
    await createTopic('mixed', 2);
    await produce('mixed', [0, 1], 3, 'one');
    const k1 = await startMember('mixed-g', 'mixed', { autoCommit: true });
    let k2: Member | null = null;
    let rest: Awaited<ReturnType<typeof startRestMember>> | null = null;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(
        'kafkajs to read and commit everything',
        async () =>
          k1.seen.length === 6 &&
          (await committedOffset('mixed-g', 'mixed', 0)) === 3 &&
          (await committedOffset('mixed-g', 'mixed', 1)) === 3,
      );
      // The kafkajs member leads: its SyncGroup assigns the REST member, which reads the leader's assignment.
      rest = await startRestMember('mixed-g', 'r', 'mixed');
      const r = rest;
      await eventually('a split between kafkajs and the REST member', async () => {
        const mine = await r.assigned();
        return k1.assigned.length === 1 && mine.length === 1 && sorted([...k1.assigned, ...mine]).join() === '0,1';
      });
      const described = (await admin.describeGroups(['mixed-g'])).groups[0];
      assert.equal(described?.state, 'Stable');
      assert.equal(described?.protocol, 'RoundRobinAssigner');
      assert.deepEqual(described?.members.map((m) => m.clientId).sort(), ['group-test', 'r']);
      await produce('mixed', [0, 1], 2, 'two');
      await eventually('each side to read the records of its partition', () => {
        const values = [...k1.seen, ...r.seen].map((x) => x.value);
        return values.filter((v) => v.startsWith('two')).length === 4;
      });
      assert.ok(
        k1.seen.filter((x) => x.value.startsWith('two')).every((x) => x.partition === k1.assigned[0]),
        'kafkajs read only its own partition',
      );

      // kafkajs leaves: the REST member gets both partitions and goes on from kafkajs's commits.
      await k1.consumer.disconnect();
      await eventually('the REST member to own both partitions', async () => (await r.assigned()).join() === '0,1');
      await produce('mixed', [0, 1], 1, 'three');
      await eventually(
        'the REST member to read both',
        () => r.seen.filter((x) => x.value.startsWith('three')).length === 2,
      );

      // A new kafkajs member: now the REST member leads, so Samsa assigns and encodes kafkajs's share.
      k2 = await startMember('mixed-g', 'mixed', { autoCommit: true });
      const second = k2;
      await eventually('a second split', async () => {
        const mine = await r.assigned();
        return (
          second.assigned.length === 1 && mine.length === 1 && sorted([...second.assigned, ...mine]).join() === '0,1'
        );
      });
      await produce('mixed', [0, 1], 1, 'four');
      await eventually(
        'both to read theirs',
        () => [...second.seen, ...r.seen].filter((x) => x.value.startsWith('four')).length === 2,
      );
      // Every record was read once, by one member or the other: nothing skipped, nothing read twice.
      const all = [...k1.seen, ...second.seen, ...r.seen].map((x) => `${x.partition}:${x.offset}`).sort();
      assert.deepEqual(all, [0, 1].flatMap((p) => Array.from({ length: 7 }, (_, o) => `${p}:${o}`)).sort());
      assert.ok(!r.seen.some((x) => x.value.startsWith('one')), 'the REST member started from the commits');
    } finally {
      await k2?.consumer.disconnect();
      await rest?.stop();
      await k1.consumer.disconnect();
      await admin.disconnect();
    }
  });

  it('kafkajs admin describes, lists and deletes groups', async () => {
    await createTopic('admin-topic', 2);
    const member = await startMember('admin-g', 'admin-topic');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually('the member to own both partitions', () => member.assigned.join() === '0,1');
      const [group] = (await admin.describeGroups(['admin-g'])).groups;
      assert.equal(group?.state, 'Stable');
      assert.equal(group?.protocolType, 'consumer');
      assert.equal(group?.protocol, 'RoundRobinAssigner');
      assert.equal(group?.members.length, 1);
      assert.equal(group?.members[0]?.clientHost, '/127.0.0.1');
      const { groups } = await admin.listGroups();
      assert.ok(groups.some((g) => g.groupId === 'admin-g' && g.protocolType === 'consumer'));
      await assert.rejects(admin.deleteGroups(['admin-g']), (err: { groups?: Array<{ errorCode: number }> }) => {
        assert.equal(err.groups?.[0]?.errorCode, NON_EMPTY_GROUP);
        return true;
      });
      await member.consumer.disconnect();
      assert.equal((await admin.describeGroups(['admin-g'])).groups[0]?.state, 'Empty');
      assert.deepEqual(await admin.deleteGroups(['admin-g']), [{ groupId: 'admin-g', errorCode: 0 }]);
      assert.equal((await admin.describeGroups(['admin-g'])).groups[0]?.state, 'Dead');
      const v3 = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/consumer-groups/admin-g`);
      assert.equal(v3.status, 404);
    } finally {
      await member.consumer.disconnect();
      await admin.disconnect();
    }
  });

  for (const [client, python] of [
    ['kafka-python', PYTHON_KAFKA],
    ['confluent-kafka', PYTHON_CONFLUENT],
  ] as const) {
    it(`${client} consumes with a group_id (subscribe), commits, and sees its commits`, (t) => {
      if (!need(t, python, client === 'kafka-python' ? 'python3-kafka' : 'python3-confluent-kafka')) return;
      return (async () => {
        const topic = `${client}-group`;
        await createTopic(topic, 2);
        await produce(topic, [0, 1], 2, 'py');
        const answer = JSON.parse(
          run(
            python as string,
            [PYTHON_GROUP_CONSUMER],
            JSON.stringify({ client, bootstrap: brokerAddress, group: `${client}-g`, topic, count: 4 }),
          ),
        ) as {
          records: Array<{ partition: number; offset: number; value: string }>;
          committed: Record<string, number>;
        };
        assert.deepEqual(answer.records.map((r) => `${r.partition}:${r.offset}:${r.value}`).sort(), [
          '0:0:py-p0-0',
          '0:1:py-p0-1',
          '1:0:py-p1-0',
          '1:1:py-p1-1',
        ]);
        assert.deepEqual(answer.committed, { 0: 2, 1: 2 });
        assert.equal(await committedOffset(`${client}-g`, topic, 1), 2);
      })();
    });
  }
});
