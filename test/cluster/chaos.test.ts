/**
 * Several rounds of faults under load (real etcd, three `samsa serve` processes): acks=all
 * producers and a REST consumer group that commits after every poll run through whichever nodes
 * are up, while the leader of a partition is killed with `kill -9` and restarted, or paused with
 * SIGSTOP past its lease and resumed. Afterwards every acknowledged record is in every replica at
 * its acknowledged offset, the replicas' logs are byte-identical, writes were accepted again
 * within 10 s of each fault, and the group, resuming from its commits through each coordinator
 * move, read every acknowledged record.
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
  isRunning,
  json,
  logEndOffsets,
  partitionView,
  producer,
  stopCleanly,
} from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const TOPIC = 'chaos';
const PARTITIONS = 2;
const NODES = [1, 2, 3];
const GROUP = 'chaos-readers';
const V2 = 'application/vnd.kafka.v2+json';
/** The promise: writes are accepted again within this long after a leader fails (lease TTL plus election). */
const RECOVERY_MS = 10_000;

let etcd: EtcdServer;
let root: string;
const servers = new Map<number, ServerProcess>();

function dataDir(id: number): string {
  return path.join(root, `node-${id}`);
}

async function startNode(id: number): Promise<void> {
  const args = [
    '--node-id',
    String(id),
    '--etcd',
    etcd.endpoint,
    '--cluster-name',
    'chaos-test',
    '--broker.session.timeout.ms',
    '3000',
    '--replica.lag.time.max.ms',
    '5000',
    '--log.segment.bytes',
    '65536',
  ];
  servers.set(id, await startServer(dataDir(id), args, 60_000));
}

/** Nodes that run and are not paused. */
const paused = new Set<number>();
function serving(): ServerProcess[] {
  return NODES.filter((id) => !paused.has(id))
    .map((id) => servers.get(id))
    .filter((s): s is ServerProcess => s !== undefined && isRunning(s));
}

interface Consumed {
  partition: number;
  offset: number;
  value: string;
}

/**
 * One group member at a time, polled and committed through the serving nodes in turn. When its
 * instance is gone (its coordinator's node died or lost the group: 40403) a new one is created
 * and resumes from the commits; a call cut by a fault is retried.
 */
async function groupReader(consumed: Consumed[], state: { stop: boolean; instances: number }): Promise<void> {
  let name: string | null = null;
  let attempts = 0;
  for (let n = 0; !state.stop; n++) {
    const nodes = serving();
    const via = nodes[n % Math.max(1, nodes.length)];
    try {
      if (!via) throw new Error('no node serving');
      if (name === null) {
        // A new name each attempt: a create whose answer a fault cut may have made the last one.
        const candidate = `reader-${++attempts}`;
        const created = await json(`${via.baseUrl}/consumers/${GROUP}`, {
          method: 'POST',
          headers: { 'content-type': V2 },
          body: JSON.stringify({
            name: candidate,
            format: 'json',
            'auto.offset.reset': 'earliest',
            'auto.commit.enable': 'false',
            // A member this reader lost track of (a fault cut the answer to its subscribe) holds
            // partitions until its session ends: keep that short.
            'session.timeout.ms': '5000',
          }),
        });
        if (created.status !== 200) throw new Error(`create ${created.status}`);
        const sub = await json(`${via.baseUrl}/consumers/${GROUP}/instances/${candidate}/subscription`, {
          method: 'POST',
          headers: { 'content-type': V2 },
          body: JSON.stringify({ topics: [TOPIC] }),
        });
        if (sub.status !== 204) throw new Error(`subscribe ${sub.status}`);
        name = candidate;
        state.instances++;
      }
      const base = `${via.baseUrl}/consumers/${GROUP}/instances/${name}`;
      let polled: Awaited<ReturnType<typeof json>>;
      try {
        polled = await json(`${base}/records?timeout=500`, { headers: { accept: V2 } });
      } catch (err) {
        // A poll answer a fault cut moved the instance past records this reader never saw, as a
        // lost answer does in Kafka's REST proxy: a REST client then resumes from its commits, so
        // the reader drops this member (best effort) and a new one starts from the commits.
        const gone = name;
        name = null;
        await json(`${via.baseUrl}/consumers/${GROUP}/instances/${gone}`, {
          method: 'DELETE',
          signal: AbortSignal.timeout(2000),
        }).catch(() => undefined);
        throw err;
      }
      if (polled.status === 404) {
        name = null; // gone with its coordinator: a new member resumes from the commits
        continue;
      }
      if (polled.status !== 200) throw new Error(`poll ${polled.status}`);
      const got = polled.body as { partition: number; offset: number; value: unknown }[];
      if (got.length === 0) continue;
      for (const r of got) consumed.push({ partition: r.partition, offset: r.offset, value: JSON.stringify(r.value) });
      // Exactly what arrived is committed (not the instance's positions). A failed commit is read
      // again: at least once.
      const last = new Map<number, number>();
      for (const r of got) last.set(r.partition, Math.max(r.offset, last.get(r.partition) ?? -1));
      const committed = await json(`${base}/offsets`, {
        method: 'POST',
        headers: { 'content-type': V2 },
        body: JSON.stringify({
          offsets: [...last].map(([partition, offset]) => ({ topic: TOPIC, partition, offset })),
        }),
      });
      if (committed.status === 404) name = null;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-chaos-'));
  await Promise.all(NODES.map((id) => startNode(id)));
});

/** The test's load loops, stopped by `after` too, so a failed assertion leaves no loop running. */
const loops: { stop: boolean }[] = [];

after(async () => {
  for (const loop of loops) loop.stop = true;
  for (const id of paused) servers.get(id)?.child.kill('SIGCONT');
  for (const s of servers.values()) if (isRunning(s)) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  'kill -9 and SIGSTOP of leaders, round after round, lose no acknowledged record; writes resume within 10 s; the group reads everything',
  needsEtcd(),
  async () => {
    const first = servers.get(1) as ServerProcess;
    const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    await everyNodeLists(serving(), clusterId, NODES);
    await createReplicatedTopic(first, clusterId, TOPIC, PARTITIONS);
    const fullIsr = () =>
      until(
        'every replica in sync',
        async () => {
          const via = serving()[0] as ServerProcess;
          for (let p = 0; p < PARTITIONS; p++) {
            const v = await partitionView(via, clusterId, TOPIC, p);
            if (v.leader < 0 || v.isr.length !== 3) return undefined;
          }
          return true;
        },
        45_000,
      );
    await fullIsr();

    const acked: Acked[] = [];
    const consumed: Consumed[] = [];
    const load = { stop: false, failed: 0 };
    const reading = { stop: false, instances: 0 };
    loops.push(load, reading);
    const producers = Array.from({ length: 4 }, (_, i) => producer(i, TOPIC, PARTITIONS, serving, acked, load));
    const reader = groupReader(consumed, reading);
    await until('records acknowledged and read', async () =>
      acked.length >= 100 && consumed.length >= 50 ? true : undefined,
    );

    const rounds: { fault: 'SIGKILL' | 'SIGSTOP'; partition: number }[] = [
      { fault: 'SIGKILL', partition: 0 },
      { fault: 'SIGSTOP', partition: 1 },
      { fault: 'SIGKILL', partition: 1 },
    ];
    const recoveries: number[] = [];
    for (const round of rounds) {
      const victim = (await partitionView(serving()[0] as ServerProcess, clusterId, TOPIC, round.partition)).leader;
      assert.ok(victim > 0, `partition ${round.partition} has a leader`);
      const s = servers.get(victim) as ServerProcess;
      const faultAt = Date.now();
      if (round.fault === 'SIGKILL') {
        s.child.kill('SIGKILL');
        await s.exited;
      } else {
        paused.add(victim);
        s.child.kill('SIGSTOP');
      }
      // A write sent after the fault to the victim's partition is acknowledged, by another leader.
      const resumed = await until(
        `writes to partition ${round.partition} after the ${round.fault} of node ${victim}`,
        async () => acked.find((a) => a.partition === round.partition && a.sentAtMs > faultAt),
        30_000,
      );
      recoveries.push(resumed.ackedAtMs - faultAt);
      if (round.fault === 'SIGKILL') {
        await startNode(victim);
      } else {
        // Well past its lease: it must come back as a follower, not take writes as a stale leader.
        await new Promise((r) => setTimeout(r, Math.max(0, faultAt + 6_000 - Date.now())));
        s.child.kill('SIGCONT');
        paused.delete(victim);
      }
      await fullIsr();
    }

    const ackedBefore = acked.length;
    await until('more writes after the last round', async () => (acked.length >= ackedBefore + 50 ? true : undefined));
    load.stop = true;
    await Promise.all(producers);
    const unread = () => {
      const read = new Set(consumed.map((c) => `${c.partition}:${c.offset}`));
      return acked.filter((a) => !read.has(`${a.partition}:${a.offset}`));
    };
    await until(
      'the group to have read every acknowledged record',
      async () => (unread().length === 0 ? true : undefined),
      40_000,
    ).catch((err: Error) => {
      const left = unread();
      throw new Error(
        `${err.message}: ${left.length} unread, first ${JSON.stringify(left.slice(0, 3))}; ${reading.instances} instances`,
      );
    });
    reading.stop = true;
    await reader;

    for (const [i, ms] of recoveries.entries())
      assert.ok(ms <= RECOVERY_MS, `round ${i + 1} (${rounds[i]?.fault}): writes resumed after ${ms} ms`);

    // Quiet: every replica reaches the same log end; then the stored logs are compared.
    await until('every replica at the same log end', async () => {
      const ends = await Promise.all(
        NODES.map(async (id) => (await logEndOffsets(servers.get(id) as ServerProcess, TOPIC)).join()),
      );
      return ends.every((e) => e === ends[0] && e !== '') ? true : undefined;
    });
    await stopCleanly(NODES.map((id) => servers.get(id) as ServerProcess));
    for (let p = 0; p < PARTITIONS; p++) {
      const stored = assertReplicasAgree({
        dataDirOf: dataDir,
        nodes: NODES,
        topic: TOPIC,
        partition: p,
        acked,
        dense: true,
      });
      // What the group read is what is stored there.
      const misread = consumed.filter((c) => c.partition === p && stored.get(c.offset) !== c.value);
      assert.deepEqual(misread.slice(0, 5), [], `partition ${p}: the group read records that are not stored`);
    }
    assert.ok(reading.instances >= 1);
    console.log(
      `chaos: ${acked.length} acknowledged, ${load.failed} failed, ${consumed.length} read by ${reading.instances} instances, writes resumed after ${recoveries.join(', ')} ms`,
    );
  },
);
