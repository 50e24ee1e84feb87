/**
 * Replica lag on a real cluster (etcd and three `samsa serve` processes on 127.0.0.1): a follower
 * paused with SIGSTOP while the leader takes writes shows on the leader's /metrics as records
 * behind and as seconds since it was last caught up, growing; once it runs again both return to 0.
 * Only the node leading a partition reports its followers' lag, and a node that no longer leads it
 * drops those series.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseExposition } from '../metrics/exposition.js';
import { type ServerProcess, startServer } from '../process/server-process.js';
import { json, partitionView as viewOf } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const TOPIC = 'lagging';
const NODES = [1, 2, 3];
/** Longer than any pause below, so neither the ISR nor a lease changes while a follower is stopped. */
const REPLICA_LAG_TIME_MAX_MS = 10_000;
const SESSION_TIMEOUT_MS = 10_000;

let etcd: EtcdServer;
let root: string;
const servers = new Map<number, ServerProcess>();

function startNode(nodeId: number): Promise<ServerProcess> {
  const args = [
    '--node-id',
    String(nodeId),
    '--etcd',
    etcd.endpoint,
    '--cluster-name',
    'replica-lag-test',
    '--broker.session.timeout.ms',
    String(SESSION_TIMEOUT_MS),
    '--replica.lag.time.max.ms',
    String(REPLICA_LAG_TIME_MAX_MS),
  ];
  return startServer(path.join(root, `node-${nodeId}`), args, 60_000).then((server) => {
    servers.set(nodeId, server);
    return server;
  });
}

function node(id: number): ServerProcess {
  return servers.get(id) as ServerProcess;
}

const partitionView = (via: ServerProcess, clusterId: string) => viewOf(via, clusterId, TOPIC, 0);

/** The replica lag a node's /metrics reports for partition 0 of the topic, by replica id. */
async function replicaLag(
  server: ServerProcess,
): Promise<{ records: Map<number, number>; seconds: Map<number, number> }> {
  const m = parseExposition(await (await fetch(`${server.baseUrl}/metrics`)).text());
  const byReplica = (family: string) =>
    new Map(m.find(family, { topic: TOPIC, partition: '0' }).map((s) => [Number(s.labels.replica), s.value]));
  return { records: byReplica('samsa_replica_lag_records'), seconds: byReplica('samsa_replica_lag_seconds') };
}

/** `records` records, acks=1, straight to `leader` (a paused follower cannot hold an acks=1 write back). */
async function produce(leader: ServerProcess, records: number): Promise<void> {
  const res = await json(`${leader.baseUrl}/topics/${TOPIC}/partitions/0?acks=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
    body: JSON.stringify({ records: Array.from({ length: records }, (_, i) => ({ value: { i } })) }),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** Every follower of `leaderId` caught up on the leader's /metrics (records and seconds 0), and no series for the leader itself. */
function allCaughtUp(leaderId: number) {
  return async () => {
    const lag = await replicaLag(node(leaderId));
    const followers = NODES.filter((id) => id !== leaderId);
    const zero = (m: Map<number, number>) =>
      m.size === followers.length && followers.every((id) => m.get(id) === 0) && !m.has(leaderId);
    return zero(lag.records) && zero(lag.seconds) ? true : undefined;
  };
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-replica-lag-'));
});

after(async () => {
  // SIGKILL ends a stopped process too.
  for (const s of servers.values())
    if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  "a follower paused with SIGSTOP shows on the leader's /metrics as records and growing seconds behind, and returns to 0 when it runs again",
  needsEtcd(),
  async () => {
    // Started together: __consumer_offsets waits for three live nodes before it is created.
    await Promise.all(NODES.map((id) => startNode(id)));
    const first = node(1);
    const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    const created = await json(`${first.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic_name: TOPIC, partitions_count: 1, replication_factor: 3 }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const leaderId = await until('a leader with a full ISR', async () => {
      const v = await partitionView(first, clusterId).catch(() => undefined);
      return v && v.leader >= 0 && v.isr.length === 3 ? v.leader : undefined;
    });
    const leader = node(leaderId);
    const [pausedId, otherId] = NODES.filter((id) => id !== leaderId) as [number, number];
    const paused = node(pausedId);

    await produce(leader, 5);
    await until('both followers caught up on the leader', allCaughtUp(leaderId));
    // Followers report nobody's lag for a partition they do not lead.
    for (const id of [pausedId, otherId]) {
      const lag = await replicaLag(node(id));
      assert.equal(lag.records.size + lag.seconds.size, 0, `node ${id} follows: no replica lag series`);
    }

    paused.child.kill('SIGSTOP');
    try {
      // Its fetch waited at the old log end offset: it has none of these 20 records.
      for (let i = 0; i < 4; i++) await produce(leader, 5);
      const during = await until(`node ${otherId} caught up while ${pausedId} is paused`, async () => {
        const lag = await replicaLag(leader);
        return lag.records.get(otherId) === 0 && lag.seconds.get(otherId) === 0 ? lag : undefined;
      });
      assert.equal(during.records.get(pausedId), 20, 'records behind: the ones written while it is paused');
      const firstSeconds = during.seconds.get(pausedId) as number;
      assert.ok(firstSeconds > 0, `lag seconds ${firstSeconds} while paused`);
      await new Promise((r) => setTimeout(r, 1_000));
      const later = await replicaLag(leader);
      assert.equal(later.records.get(pausedId), 20);
      const laterSeconds = later.seconds.get(pausedId) as number;
      assert.ok(
        laterSeconds >= firstSeconds + 0.9,
        `lag seconds grow with the pause: ${firstSeconds} → ${laterSeconds}`,
      );
      assert.ok(laterSeconds < REPLICA_LAG_TIME_MAX_MS / 1000, `${laterSeconds} s`);
    } finally {
      paused.child.kill('SIGCONT');
    }
    await until(`node ${pausedId} caught up again after SIGCONT`, allCaughtUp(leaderId));
    assert.deepEqual((await partitionView(first, clusterId)).isr, NODES, 'the pause was too short to leave the ISR');

    // Leadership moves away (SIGTERM hands it over) and back (the preferred replica returns):
    // the interim leader reports its followers' lag only while it leads.
    leader.child.kill('SIGTERM');
    assert.equal(await leader.exited, 0, leader.stderr());
    const interimId = await until('another leader', async () => {
      const v = await partitionView(node(otherId), clusterId).catch(() => undefined);
      return v && v.leader >= 0 && v.leader !== leaderId ? v.leader : undefined;
    });
    const interimFollower = NODES.find((id) => id !== leaderId && id !== interimId) as number;
    await until(`the interim leader ${interimId} reporting its live follower`, async () => {
      const lag = await replicaLag(node(interimId));
      return lag.records.get(interimFollower) === 0 && lag.seconds.has(leaderId) ? true : undefined;
    });
    await startNode(leaderId);
    await until(
      `node ${leaderId} leading again`,
      async () => ((await partitionView(node(otherId), clusterId)).leader === leaderId ? true : undefined),
      20_000,
    );
    await until(`node ${leaderId}'s followers caught up`, allCaughtUp(leaderId));
    await until(`node ${interimId} dropping its replica lag series`, async () => {
      const lag = await replicaLag(node(interimId));
      return lag.records.size + lag.seconds.size === 0 ? true : undefined;
    });
  },
);
