/**
 * Three `samsa serve` processes on a three-member etcd cluster, all on 127.0.0.1: a replicated
 * topic (RF 3, min.insync.replicas 2) takes acks=all produces through every node while the etcd
 * member that leads the raft group is killed with SIGKILL. etcd elects another leader; each node's
 * lease keep-alive, watches and controller campaign move to a surviving member; writes are
 * acknowledged again within 10 s, every node stays registered, and every acknowledged record is on
 * every replica, whose logs hold identical bytes. The killed member then returns and is healthy.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ServerProcess, startServer } from '../process/server-process.js';
import {
  type Acked,
  assertReplicasAgree,
  createReplicatedTopic,
  everyNodeLists,
  json,
  logEndOffsets as logEndOffsetsOf,
  producer as producerOf,
  stopCleanly,
  partitionView as viewOf,
} from './cluster-fixture.js';
import { type EtcdCluster, needsEtcd, startEtcdCluster, until } from './etcd-fixture.js';

const TOPIC = 'etcd-failover';
const PARTITIONS = 3;
const NODES = [1, 2, 3];
/** The issue's bound: lease TTL plus election, from the kill to writes acknowledged again. */
const WRITES_BACK_WITHIN_MS = 10_000;
/** How long every node has to list all three brokers again after the kill. */
const REGISTERED_WITHIN_MS = 15_000;
/** Producing goes on this long after the kill, well past a lease TTL (3 s), so a lost lease would show. */
const PRODUCE_AFTER_KILL_MS = 8_000;

let etcd: EtcdCluster;
let root: string;
const servers = new Map<number, ServerProcess>();

const partitionView = (via: ServerProcess, clusterId: string, p: number) => viewOf(via, clusterId, TOPIC, p);
const everyNodeListsThreeBrokers = (clusterId: string, timeoutMs: number) =>
  everyNodeLists(
    NODES.map((id) => servers.get(id) as ServerProcess),
    clusterId,
    NODES,
    timeoutMs,
  );

async function startNode(nodeId: number): Promise<ServerProcess> {
  const server = await startServer(
    path.join(root, `node-${nodeId}`),
    [
      '--node-id',
      String(nodeId),
      '--etcd',
      etcd.endpoints,
      '--cluster-name',
      'etcd-failover-test',
      // A dead node's lease goes after 3 s: the same settings as replication.test.ts.
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

const logEndOffsets = (server: ServerProcess) => logEndOffsetsOf(server, TOPIC);

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcdCluster(3);
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-etcd-failover-'));
});

after(async () => {
  for (const s of servers.values()) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await Promise.all([...servers.values()].map((s) => s.exited));
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  'kill -9 of the etcd leader member: acks=all writes are acknowledged again within 10 s, every node stays registered, no acknowledged record is lost',
  needsEtcd(),
  async (t) => {
    // Started together: __consumer_offsets waits for three live nodes before it is created.
    await Promise.all(NODES.map((id) => startNode(id)));
    const first = servers.get(1) as ServerProcess;
    const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    // A node is ready before it has seen the last node join; RF 3 needs all three in its view.
    await everyNodeListsThreeBrokers(clusterId, 15_000);
    await createReplicatedTopic(first, clusterId, TOPIC, PARTITIONS);
    for (const id of NODES) {
      const via = servers.get(id) as ServerProcess;
      await until(`node ${id} to see every partition with a full ISR`, async () => {
        for (let p = 0; p < PARTITIONS; p++) {
          const view = await partitionView(via, clusterId, p).catch(() => undefined);
          if (!view || view.leader < 0 || view.isr.length !== 3) return undefined;
        }
        return true;
      });
    }

    // Six producers write through every node (forwarding to leaders) while the etcd leader dies.
    const acked: Acked[] = [];
    const state = { stop: false, failed: 0 };
    const producers = Array.from({ length: 6 }, (_, i) =>
      producerOf(i, TOPIC, PARTITIONS, () => NODES.map((id) => servers.get(id) as ServerProcess), acked, state),
    );
    await until('300 acknowledged records', async () => (acked.length >= 300 ? true : undefined), 30_000);
    const etcdLeader = await etcd.leader();
    const failedBeforeKill = state.failed;
    const killedAtMs = Date.now();
    await etcd.kill(etcdLeader);
    const ackedAtKill = acked.length;

    const newLeader = await etcd.leader();
    const etcdElectedAfterMs = Math.round(Date.now() - killedAtMs);
    assert.notEqual(newLeader, etcdLeader);
    await new Promise((r) => setTimeout(r, Math.max(0, killedAtMs + PRODUCE_AFTER_KILL_MS - Date.now())));

    // (b) Past a lease TTL after the kill, every node lists all three brokers: each registration
    // stands (or stands again), and no node left for good.
    await everyNodeListsThreeBrokers(clusterId, Math.max(0, REGISTERED_WITHIN_MS - (Date.now() - killedAtMs)));

    // (d) The killed member comes back on its data dir and rejoins: healthy, one leader for all.
    await etcd.restart(etcdLeader);
    assert.ok(await etcd.healthy(etcdLeader), 'the restarted member is healthy');
    await etcd.leader();

    state.stop = true;
    const stoppedAtMs = Date.now();
    await Promise.all(producers);
    for (const [id, s] of servers) assert.equal(s.child.exitCode, null, `node ${id} exited: ${s.stderr()}`);
    assert.ok(acked.length >= ackedAtKill + 150, `${acked.length - ackedAtKill} acknowledged after the kill`);

    // (a) No partition goes longer than the bound without acknowledging a write, from the kill to
    // the end (the stretch after its last acknowledgement counts too). The leaders fence themselves
    // (mayLead) while etcd elects its new leader and no keep-alive is confirmed, so each partition
    // has one such stretch, beginning a second or two after the kill.
    const gaps = Array.from({ length: PARTITIONS }, (_, p) => {
      const times = acked
        .filter((a) => a.partition === p)
        .map((a) => a.ackedAtMs)
        .sort((x, y) => x - y);
      times.push(stoppedAtMs);
      let longest = { gapMs: 0, endsAfterKillMs: 0 };
      for (let i = 1; i < times.length; i++) {
        const [from, to] = [times[i - 1] as number, times[i] as number];
        if (to >= killedAtMs && to - from > longest.gapMs)
          longest = { gapMs: to - from, endsAfterKillMs: to - killedAtMs };
      }
      return { gapMs: Math.round(longest.gapMs), endsAfterKillMs: Math.round(longest.endsAfterKillMs) };
    });
    t.diagnostic(
      `etcd leader killed, etcd named a new one after ${etcdElectedAfterMs} ms; longest stretch without an acknowledgement per partition ${gaps.map((g) => `${g.gapMs} ms (acknowledging again ${g.endsAfterKillMs} ms after the kill)`).join(', ')}; ` +
        `${acked.length - ackedAtKill} acknowledged and ${state.failed - failedBeforeKill} refused after the kill`,
    );
    for (const [p, g] of gaps.entries()) {
      assert.ok(g.gapMs < WRITES_BACK_WITHIN_MS, `partition ${p} acknowledged nothing for ${g.gapMs} ms`);
    }

    // (c) Quiet now: every replica reaches the same log end, then each node stops cleanly.
    await until(
      'every replica at the same log end offset',
      async () => {
        const ends = await Promise.all(NODES.map((id) => logEndOffsets(servers.get(id) as ServerProcess)));
        const same = ends.every((e) => JSON.stringify(e) === JSON.stringify(ends[0]));
        return same && (ends[0]?.length ?? 0) === PARTITIONS ? true : undefined;
      },
      20_000,
    );
    await stopCleanly(NODES.map((id) => servers.get(id) as ServerProcess));
    for (let p = 0; p < PARTITIONS; p++) {
      assertReplicasAgree({
        dataDirOf: (id) => path.join(root, `node-${id}`),
        nodes: NODES,
        topic: TOPIC,
        partition: p,
        acked,
        dense: false,
      });
    }
  },
);
