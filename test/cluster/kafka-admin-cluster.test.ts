/**
 * The Kafka admin APIs on a three-node cluster (real etcd, three `samsa serve` processes): topics
 * created, grown and reconfigured through a node that is not the controller reach every node's
 * REST routes; DeleteRecords on a partition's leader moves the log start offset of every replica
 * (followers take it from their fetch answers); a node that does not lead the partition answers
 * NOT_LEADER_OR_FOLLOWER; DescribeCluster through any node lists all three and one controller.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { RawConnection } from '../kafka/raw-connection.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';
import { everyNodeLists, isRunning, json, partitionView } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const NODES = [1, 2, 3];
const TOPIC = 'kafka-admin-rf3';
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

let etcd: EtcdServer;
let root: string;
let clusterId: string;
const servers = new Map<number, ServerProcess>();
const node = (id: number) => servers.get(id) as ServerProcess;
const kafkaAddress = (id: number) => `127.0.0.1:${node(id).kafkaPort}`;

function adminThrough(id: number) {
  return new Kafka({
    brokers: [kafkaAddress(id)],
    clientId: 'kafka-admin-cluster-test',
    logLevel: logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 1_000 },
  });
}

async function withConnection<T>(id: number, body: (conn: RawConnection) => Promise<T>): Promise<T> {
  const conn = new RawConnection(node(id).kafkaPort as number);
  try {
    return await body(conn);
  } finally {
    conn.close();
  }
}

/** The log start offset a node's /metrics reports for its replica of `topic`-`partition`. */
async function logStartOffset(id: number, partition: number): Promise<number | undefined> {
  const text = await (await fetch(`${node(id).baseUrl}/metrics`)).text();
  const line = new RegExp(
    `^samsa_partition_log_start_offset\\{topic="${TOPIC}",partition="${partition}"\\} (\\d+)$`,
    'm',
  );
  const m = line.exec(text);
  return m ? Number(m[1]) : undefined;
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-admin-cluster-'));
  await Promise.all(
    NODES.map(async (id) => {
      const args = ['--node-id', String(id), '--etcd', etcd.endpoint, '--cluster-name', 'kafka-admin-cluster'];
      args.push('--kafka-port', String(await freePort()));
      servers.set(id, await startServer(path.join(root, `node-${id}`), args, 60_000));
    }),
  );
  clusterId = (await json(`${node(1).baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
  await everyNodeLists([...servers.values()], clusterId, NODES);
});

after(async () => {
  for (const s of servers.values()) if (isRunning(s)) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('DescribeCluster through any node lists the three brokers and the one controller', needsEtcd(), async () => {
  const controllers = new Set<number>();
  for (const id of NODES) {
    const answer = await withConnection(id, (conn) =>
      conn.call(API_KEYS.DescribeCluster, 0, { includeClusterAuthorizedOperations: false }),
    );
    assert.equal(answer.errorCode, 0);
    assert.equal(answer.clusterId, clusterId);
    assert.deepEqual(
      (answer.brokers as Message[]).map((b) => [b.brokerId, `${b.host}:${b.port}`]).sort(),
      NODES.map((n) => [n, kafkaAddress(n)]),
    );
    controllers.add(answer.controllerId as number);
  }
  assert.equal(controllers.size, 1);
  assert.ok(NODES.includes([...controllers][0] as number));
});

test(
  'topics created, grown and reconfigured through a node that is not the controller reach every node',
  needsEtcd(),
  async () => {
    const described = await withConnection(1, (conn) =>
      conn.call(API_KEYS.DescribeCluster, 0, { includeClusterAuthorizedOperations: false }),
    );
    const controller = described.controllerId as number;
    const via = NODES.find((n) => n !== controller) as number;
    const admin = adminThrough(via).admin();
    await admin.connect();
    try {
      assert.equal(
        await admin.createTopics({
          topics: [
            {
              topic: TOPIC,
              numPartitions: 2,
              replicationFactor: 3,
              configEntries: [{ name: 'min.insync.replicas', value: '2' }],
            },
          ],
        }),
        true,
      );
      await admin.createPartitions({ topicPartitions: [{ topic: TOPIC, count: 3 }] });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: TOPIC_RESOURCE,
            name: TOPIC,
            configEntries: [
              { name: 'min.insync.replicas', value: '2' },
              { name: 'retention.ms', value: '3600000' },
            ],
          },
        ],
      });
      for (const id of NODES) {
        await until(`node ${id} to see 3 partitions and retention.ms 3600000`, async () => {
          const partitions = await json(`${node(id).baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions`);
          const retention = await json(
            `${node(id).baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/configs/retention.ms`,
          );
          return partitions.body?.data?.length === 3 && retention.body?.value === '3600000' ? true : undefined;
        });
      }
    } finally {
      await admin.disconnect();
    }
  },
);

test(
  'DeleteRecords on the leader moves every replica’s log start offset; another node says NOT_LEADER_OR_FOLLOWER',
  needsEtcd(),
  async () => {
    const { leader } = await until('partition 0 with a leader and a full ISR', async () => {
      const view = await partitionView(node(1), clusterId, TOPIC, 0).catch(() => undefined);
      return view && view.leader > 0 && view.isr.length === 3 ? view : undefined;
    });
    const kafka = adminThrough(leader);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `r${i}` })),
      });
    } finally {
      await producer.disconnect();
    }
    const other = NODES.find((n) => n !== leader) as number;
    const refused = await withConnection(other, (conn) =>
      conn.call(API_KEYS.DeleteRecords, 1, {
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 6n }] }],
        timeoutMs: 5000,
      }),
    );
    const refusedPartition = ((refused.topics as Message[])[0]?.partitions as Message[] | undefined)?.[0];
    assert.equal(refusedPartition?.errorCode, 6, 'NOT_LEADER_OR_FOLLOWER');

    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.fetchTopicMetadata({ topics: [TOPIC] });
      await admin.deleteTopicRecords({ topic: TOPIC, partitions: [{ partition: 0, offset: '6' }] });
      const offsets = await admin.fetchTopicOffsets(TOPIC);
      assert.equal(offsets.find((o) => o.partition === 0)?.low, '6');
    } finally {
      await admin.disconnect();
    }
    for (const id of NODES) {
      await until(`node ${id}'s replica of partition 0 to start at 6`, async () =>
        (await logStartOffset(id, 0)) === 6 ? true : undefined,
      );
    }
  },
);
