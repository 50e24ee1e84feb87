/**
 * An idempotent Kafka producer across a leader failover: three `samsa serve` processes on one etcd,
 * a partition with replication factor 3. The producer writes through the leader's Kafka listener,
 * the leader is killed with SIGKILL, and the new leader (a former follower) knows the producer from
 * the batches it replicated: retries of the last batches get their first offsets, a gap is refused,
 * and the next batch follows on.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { initProducerId, produceOne, producerBatch } from '../kafka/producer-requests.js';
import { RawConnection } from '../kafka/raw-connection.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';
import { createReplicatedTopic, everyNodeLists, json, partitionView } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const TOPIC = 'idempotent-failover';
const NODES = [1, 2, 3];
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
/** Retriable: the ISR is below min.insync.replicas for a moment after the failover (a follower re-joining the new leader). */
const NOT_ENOUGH_REPLICAS = 19;

let etcd: EtcdServer | undefined;
let root: string;
const servers = new Map<number, ServerProcess>();

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idempotent-failover-'));
});

after(async () => {
  for (const s of servers.values()) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await Promise.all([...servers.values()].map((s) => s.exited));
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

async function startNode(nodeId: number): Promise<ServerProcess> {
  const server = await startServer(
    path.join(root, `node-${nodeId}`),
    [
      '--node-id',
      String(nodeId),
      '--etcd',
      (etcd as EtcdServer).endpoint,
      '--cluster-name',
      'idempotent-failover-test',
      '--kafka-port',
      String(await freePort()),
      // A dead node's lease goes after 3 s, as in replication.test.ts.
      '--broker.session.timeout.ms',
      '3000',
      '--replica.lag.time.max.ms',
      '5000',
    ],
    60_000,
  );
  servers.set(nodeId, server);
  return server;
}

test('the new leader after kill -9 of the old one knows the idempotent producer', needsEtcd(), async () => {
  await Promise.all(NODES.map((id) => startNode(id)));
  const first = servers.get(1) as ServerProcess;
  const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
  await everyNodeLists([...servers.values()], clusterId, NODES);
  await createReplicatedTopic(first, clusterId, TOPIC, 1);
  const view = await until('a full ISR', async () => {
    const v = await partitionView(first, clusterId, TOPIC, 0).catch(() => undefined);
    return v && v.leader > 0 && v.isr.length === 3 ? v : undefined;
  });
  const oldLeader = servers.get(view.leader) as ServerProcess;
  // The leader serves the topic once it has read it from the store (the view came through node 1).
  await until('the leader to know the topic and lead it', async () => {
    const v = await partitionView(oldLeader, clusterId, TOPIC, 0).catch(() => undefined);
    return v && v.leader === view.leader && v.isr.length === 3 ? true : undefined;
  });

  let conn = new RawConnection(oldLeader.kafkaPort as number);
  let producerId: number;
  try {
    producerId = Number((await initProducerId(conn, 4)).producerId);
    // acks=-1: every in-sync follower has each batch before it is answered.
    for (let seq = 0; seq < 6; seq++) {
      const p = await produceOne(conn, TOPIC, producerBatch(producerId, 0, seq, [`r${seq}`]));
      assert.deepEqual([p.errorCode, p.baseOffset], [0, BigInt(seq)], String(p.errorMessage));
    }
  } finally {
    conn.close();
  }

  oldLeader.child.kill('SIGKILL');
  await oldLeader.exited;
  const survivor = [...servers.entries()].find(([id]) => id !== view.leader)?.[1] as ServerProcess;
  const newLeaderId = await until(
    'a new leader',
    async () => {
      const v = await partitionView(survivor, clusterId, TOPIC, 0).catch(() => undefined);
      return v && v.leader > 0 && v.leader !== view.leader ? v.leader : undefined;
    },
    30_000,
  );
  const newLeader = servers.get(newLeaderId) as ServerProcess;
  conn = new RawConnection(newLeader.kafkaPort as number);
  try {
    // As a client does: NOT_ENOUGH_REPLICAS is retried; any other answer is the one to check.
    const send = (seq: number, value: string) =>
      until(`an answer to sequence ${seq} other than NOT_ENOUGH_REPLICAS`, async () => {
        const p = await produceOne(conn, TOPIC, producerBatch(producerId, 0, seq, [value]));
        return p.errorCode === NOT_ENOUGH_REPLICAS ? undefined : p;
      });
    const retry = await until('the new leader to take writes', async () => {
      const p = await produceOne(conn, TOPIC, producerBatch(producerId, 0, 5, ['r5']));
      return p.errorCode === 0 ? p : undefined;
    });
    assert.equal(retry.baseOffset, 5n, 'a retry of the last batch is answered with its first offset');
    const older = await send(2, 'r2');
    assert.deepEqual([older.errorCode, older.baseOffset], [0, 2n]);
    const gap = await send(9, 'gap');
    assert.equal(gap.errorCode, OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = await send(6, 'r6');
    assert.deepEqual([next.errorCode, next.baseOffset], [0, 6n]);
  } finally {
    conn.close();
  }
  const offsets = (await json(`${newLeader.baseUrl}/topics/${TOPIC}/partitions/0/offsets`)).body;
  assert.deepEqual(offsets, { beginning_offset: 0, end_offset: 7 });
});
