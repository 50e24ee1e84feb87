/**
 * Kafka clients against a three-node cluster (real etcd, three `samsa serve` processes, each with
 * its Kafka listener on a loopback port): Metadata through any one node lists every node with its
 * own Kafka port and the partitions' real leaders, so kcat and kafkajs given one bootstrap address
 * send each partition's requests to its leader; a node that does not lead a partition (or
 * coordinate a group) says so, so clients go to the right one; an acks=all producer survives
 * kill -9 of a leader (retrying through the new one) without losing an acknowledged record; and
 * FindCoordinator names the leader of the group's `__consumer_offsets` partition.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { partitionForGroup } from '../../src/groups/offsets-topic-format.js';
import { API_KEYS, APIS, type Api, responseHeaderVersion } from '../../src/kafka/protocol/apis.js';
import { decodeAt, type Message } from '../../src/kafka/protocol/codec.js';
import { ResponseHeader } from '../../src/kafka/protocol/messages/headers.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';
import { requestFrame } from '../kafka/request-frame.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';
import { createReplicatedTopic, everyNodeLists, isRunning, json, partitionView } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const NODES = [1, 2, 3];
const TOPIC = 'kafka-rf3';
const PARTITIONS = 3;
const GROUP = 'kafka-cluster-group';
const CLIENT_TIMEOUT_MS = 60_000;

const KCAT_MISSING =
  spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0 ? null : 'kcat is not installed (apt-get install kcat)';
if (KCAT_MISSING && process.env.CI === 'true') throw new Error(`${KCAT_MISSING}; .ci/run installs it`);
const needs = (): { skip: string | false } => {
  const etcd = needsEtcd();
  return etcd.skip ? etcd : { skip: KCAT_MISSING ?? false };
};

let etcd: EtcdServer;
let root: string;
let clusterId: string;
const servers = new Map<number, ServerProcess>();

const node = (id: number) => servers.get(id) as ServerProcess;
const kafkaAddress = (id: number) => `127.0.0.1:${node(id).kafkaPort}`;

function kcat(args: string[]): string {
  const result = spawnSync('kcat', args, { timeout: CLIENT_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, `kcat ${args.join(' ')}: ${result.stderr?.toString()}`);
  return result.stdout.toString();
}

interface KcatMetadata {
  controllerid: number;
  brokers: { id: number; name: string }[];
  topics: { topic: string; partitions: { partition: number; leader: number; replicas: { id: number }[] }[] }[];
}

/** Every record of the topic, read with kcat through `via` (no group: it assigns every partition). */
function kcatRead(via: number): Map<string, { partition: number; offset: number }> {
  const out = kcat(['-b', kafkaAddress(via), '-C', '-t', TOPIC, '-o', 'beginning', '-e', '-q', '-J']);
  const read = new Map<string, { partition: number; offset: number }>();
  for (const line of out.split('\n').filter((l) => l.trim() !== '')) {
    const r = JSON.parse(line) as { partition: number; offset: number; payload: string };
    read.set(r.payload, { partition: r.partition, offset: r.offset });
  }
  return read;
}

/** One connection speaking the Kafka protocol by hand, for the answers no client library shows. */
class KafkaConnection {
  readonly #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #correlationId = 0;
  readonly #waiting: Array<(frame: Buffer) => void> = [];

  constructor(port: number) {
    this.#socket = net.connect(port, '127.0.0.1');
    this.#socket.on('error', () => {});
    this.#socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4 && this.#buffer.length >= 4 + this.#buffer.readInt32BE(0)) {
        const size = this.#buffer.readInt32BE(0);
        const frame = this.#buffer.subarray(4, 4 + size);
        this.#buffer = this.#buffer.subarray(4 + size);
        this.#waiting.shift()?.(frame);
      }
    });
  }

  async call(apiKey: number, version: number, body: Message): Promise<Message> {
    const api = APIS.get(apiKey) as Api;
    const correlationId = ++this.#correlationId;
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.#waiting.push(resolve);
      this.#socket.once('close', () => reject(new Error('connection closed')));
      this.#socket.write(requestFrame(apiKey, version, correlationId, body));
    });
    const { value: header, end } = decodeAt(frame, 0, ResponseHeader, responseHeaderVersion(api, version));
    assert.equal(header.correlationId, correlationId);
    return decodeAt(frame, end, api.response, version).value;
  }

  close(): void {
    this.#socket.destroy();
  }
}

async function withConnection<T>(id: number, body: (conn: KafkaConnection) => Promise<T>): Promise<T> {
  const conn = new KafkaConnection(node(id).kafkaPort as number);
  try {
    return await body(conn);
  } finally {
    conn.close();
  }
}

/** Each partition's leader, once every partition has one with a full ISR. */
async function leaders(via: ServerProcess, topic = TOPIC, partitions = PARTITIONS): Promise<number[]> {
  return until(`${topic}'s leaders with full ISRs`, async () => {
    const views = await Promise.all(
      Array.from({ length: partitions }, (_, p) => partitionView(via, clusterId, topic, p).catch(() => undefined)),
    );
    return views.every((v) => v && v.leader >= 0 && v.isr.length === 3) ? views.map((v) => v?.leader ?? -1) : undefined;
  });
}

function producerOf(bootstrap: number): Producer {
  const kafka = new Kafka({
    brokers: [kafkaAddress(bootstrap)],
    clientId: 'kafka-cluster-test',
    logLevel: logLevel.NOTHING,
    // A failover takes the dead node's lease (3 s here) and an election: retry well past that.
    retry: { retries: 40, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
  return kafka.producer({ allowAutoTopicCreation: false });
}

interface Acked {
  partition: number;
  offset: number;
}

/** Sends `count` records of `prefix` to `partition`, acks=all, one request; returns them by value. */
async function send(producer: Producer, partition: number, prefix: string, count: number): Promise<Map<string, Acked>> {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  const [meta] = await producer.send({
    topic: TOPIC,
    acks: -1,
    timeout: 10_000,
    messages: values.map((value) => ({ partition, value })),
  });
  assert.ok(meta && meta.errorCode === 0, `send to partition ${partition}: ${JSON.stringify(meta)}`);
  const base = Number(meta.baseOffset);
  return new Map(values.map((v, i) => [v, { partition, offset: base + i }]));
}

function assertEveryAckedRead(acked: ReadonlyMap<string, Acked>, read: ReadonlyMap<string, Acked>): void {
  const lost = [...acked].filter(([value, at]) => {
    const got = read.get(value);
    return got?.partition !== at.partition || got.offset !== at.offset;
  });
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged records missing or moved`);
}

before(async () => {
  if (needs().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-cluster-'));
  await Promise.all(
    NODES.map(async (id) => {
      const args = [
        '--node-id',
        String(id),
        '--etcd',
        etcd.endpoint,
        '--cluster-name',
        'kafka-cluster-test',
        '--kafka-port',
        String(await freePort()),
        // A dead node's lease goes after 3 s, so the failover takes seconds, not Kafka's 9 s.
        '--broker.session.timeout.ms',
        '3000',
        '--replica.lag.time.max.ms',
        '5000',
      ];
      servers.set(id, await startServer(path.join(root, `node-${id}`), args, 60_000));
    }),
  );
  clusterId = (await json(`${node(1).baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
  await everyNodeLists([...servers.values()], clusterId, NODES);
  await createReplicatedTopic(node(1), clusterId, TOPIC, PARTITIONS);
  await leaders(node(1));
});

after(async () => {
  for (const s of servers.values()) if (isRunning(s)) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  'kcat -L through one node lists all three brokers with their Kafka ports, the controller and the real leaders',
  needs(),
  async () => {
    const expected = await leaders(node(1));
    const brokers = NODES.map((id) => ({ id, name: kafkaAddress(id) }));
    // Every node answers alike, each listing the others at the Kafka listener they registered.
    const controllers = new Set<number>();
    for (const via of NODES) {
      const meta = JSON.parse(kcat(['-b', kafkaAddress(via), '-L', '-J', '-t', TOPIC])) as KcatMetadata;
      assert.deepEqual(
        [...meta.brokers].sort((a, b) => a.id - b.id),
        brokers,
      );
      const topic = meta.topics.find((t) => t.topic === TOPIC);
      assert.deepEqual(
        topic?.partitions.map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas.length })),
        expected.map((leader, partition) => ({ partition, leader, replicas: 3 })),
        `partition leaders through node ${via}`,
      );
      controllers.add(meta.controllerid);
    }
    assert.equal(controllers.size, 1, `one controller, whichever node is asked: ${[...controllers]}`);
    const controller = [...controllers][0] as number;
    assert.ok(NODES.includes(controller), 'the controller is a live node');
    // REST v3 names the same controller through every node.
    for (const via of NODES) {
      const { body } = await json(`${node(via).baseUrl}/v3/clusters/${clusterId}`);
      assert.match(
        body.controller.related as string,
        new RegExp(`/brokers/${controller}$`),
        `v3 controller via ${via}`,
      );
    }
  },
);

test(
  'a node that does not lead a partition, or coordinate a group, says so: NOT_LEADER_OR_FOLLOWER, NOT_COORDINATOR',
  needs(),
  async () => {
    const [leader] = await leaders(node(1));
    const follower = NODES.find((id) => id !== leader) as number;
    const batch = encodeRecordBatch(
      [{ key: null, value: Buffer.from('to a follower'), headers: [], timestamp: Date.now() }],
      {
        baseOffset: 0,
      },
    );
    await withConnection(follower, async (conn) => {
      const produced = await conn.call(API_KEYS.Produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }],
      });
      const fetched = await conn.call(API_KEYS.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 5000,
        minBytes: 1,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
      const listed = await conn.call(API_KEYS.ListOffsets, 5, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
      });
      const first = (answer: Message, list: string, partitions: string) =>
        ((answer[list] as Message[])[0] as Message)[partitions] as Message[];
      assert.deepEqual(
        {
          produce: first(produced, 'responses', 'partitionResponses')[0]?.errorCode,
          fetch: first(fetched, 'responses', 'partitions')[0]?.errorCode,
          listOffsets: first(listed, 'topics', 'partitions')[0]?.errorCode,
        },
        { produce: 6, fetch: 6, listOffsets: 6 },
      );
    });

    const offsetsPartition = partitionForGroup(GROUP, 50);
    const coordinator = (await partitionView(node(1), clusterId, '__consumer_offsets', offsetsPartition)).leader;
    const other = NODES.find((id) => id !== coordinator) as number;
    await withConnection(other, async (conn) => {
      const commit = await conn.call(API_KEYS.OffsetCommit, 2, {
        groupId: GROUP,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        retentionTimeMs: -1,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }],
      });
      const fetch = await conn.call(API_KEYS.OffsetFetch, 3, {
        groupId: GROUP,
        topics: [{ name: TOPIC, partitionIndexes: [0] }],
      });
      assert.deepEqual(
        {
          commit: (((commit.topics as Message[])[0] as Message).partitions as Message[])[0]?.errorCode,
          fetch: fetch.errorCode,
        },
        { commit: 16, fetch: 16 },
      );
    });
  },
);

test(
  'FindCoordinator 0–4 through every node names the leader of the group’s __consumer_offsets partition and its Kafka port',
  needs(),
  async () => {
    const offsetsPartition = partitionForGroup(GROUP, 50);
    const coordinator = await until('the offsets partition to have a leader', async () => {
      const v = await partitionView(node(1), clusterId, '__consumer_offsets', offsetsPartition).catch(() => undefined);
      return v && v.leader >= 0 ? v.leader : undefined;
    });
    const expected = { nodeId: coordinator, host: '127.0.0.1', port: node(coordinator).kafkaPort, errorCode: 0 };
    for (const via of NODES) {
      await withConnection(via, async (conn) => {
        for (const version of [0, 1, 2, 3]) {
          const answer = await conn.call(API_KEYS.FindCoordinator, version, { key: GROUP, keyType: 0 });
          assert.deepEqual(
            { nodeId: answer.nodeId, host: answer.host, port: answer.port, errorCode: answer.errorCode },
            expected,
            `FindCoordinator v${version} through node ${via}`,
          );
        }
        // v4 (KIP-699): many groups in one request, each answered on its own.
        const other = 'another-group';
        const otherCoordinator = (
          await partitionView(node(1), clusterId, '__consumer_offsets', partitionForGroup(other, 50))
        ).leader;
        const batched = await conn.call(API_KEYS.FindCoordinator, 4, { keyType: 0, coordinatorKeys: [GROUP, other] });
        assert.deepEqual(
          (batched.coordinators as Message[]).map((c) => ({
            key: c.key,
            nodeId: c.nodeId,
            port: c.port,
            errorCode: c.errorCode,
          })),
          [
            { key: GROUP, nodeId: coordinator, port: node(coordinator).kafkaPort, errorCode: 0 },
            { key: other, nodeId: otherCoordinator, port: node(otherCoordinator).kafkaPort, errorCode: 0 },
          ],
        );
      });
    }
  },
);

test(
  'kafkajs produces acks=all through one bootstrap address; kcat reads every record, each at its acknowledged offset',
  needs(),
  async () => {
    const producer = producerOf(1);
    await producer.connect();
    const acked = new Map<string, Acked>();
    try {
      for (let n = 0; n < 60; n++) {
        for (const [v, at] of await send(producer, n % PARTITIONS, `steady-${n}`, 10)) acked.set(v, at);
      }
    } finally {
      await producer.disconnect();
    }
    assert.equal(acked.size, 600);
    // Every partition got its records, whichever node leads it.
    assert.deepEqual(new Set([...acked.values()].map((a) => a.partition)), new Set([0, 1, 2]));
    for (const via of NODES) assertEveryAckedRead(acked, kcatRead(via));
  },
);

test(
  'kill -9 of a partition leader: the kafkajs producer retries through the new leader and no acknowledged record is lost',
  needs(),
  async () => {
    const before = await leaders(node(1));
    // The victim leads a partition and is not the producer's bootstrap node.
    const victimPartition = before.findIndex((leader) => leader !== 1);
    assert.ok(victimPartition >= 0, `some partition is led by a node other than 1: ${before}`);
    const victim = before[victimPartition] as number;
    const producer = producerOf(1);
    await producer.connect();
    const acked = new Map<string, Acked>();
    const ackedAfterKill = new Set<number>();
    let killed = false;
    const state = { stop: false, failures: [] as string[] };
    try {
      const loops = Array.from({ length: PARTITIONS }, async (_, partition) => {
        for (let n = 0; !state.stop; n++) {
          try {
            const got = await send(producer, partition, `failover-${partition}-${n}`, 5);
            for (const [v, at] of got) acked.set(v, at);
            if (killed) ackedAfterKill.add(partition);
          } catch (err) {
            // Retries ran out: not acknowledged, which is allowed; the next send tries again.
            state.failures.push(String((err as Error).message));
          }
        }
      });
      await until('records acknowledged before the kill', async () => (acked.size >= 150 ? true : undefined), 30_000);
      node(victim).child.kill('SIGKILL');
      await node(victim).exited;
      killed = true;
      await until(
        'every partition, the victim’s included, to take acks=all records again',
        async () => (ackedAfterKill.size === PARTITIONS ? true : undefined),
        CLIENT_TIMEOUT_MS,
      );
      state.stop = true;
      await Promise.all(loops);
    } finally {
      state.stop = true;
      await producer.disconnect();
    }
    const survivors = NODES.filter((id) => id !== victim);
    const after = await until('a new leader for the victim’s partition', async () => {
      const v = await partitionView(node(survivors[0] as number), clusterId, TOPIC, victimPartition).catch(
        () => undefined,
      );
      return v && v.leader >= 0 && v.leader !== victim ? v.leader : undefined;
    });
    assert.ok(survivors.includes(after));
    for (const via of survivors) assertEveryAckedRead(acked, kcatRead(via));
  },
);
