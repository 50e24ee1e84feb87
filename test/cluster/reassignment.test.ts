/**
 * Four `samsa serve` processes and a real etcd: a replicated topic (RF 3, min.insync.replicas 2)
 * takes acks=all writes through every node the whole time while
 *
 * 1. one partition is reassigned to another replica set (its leader among the replicas removed): the
 *    added node catches up and joins the ISR, the controller completes the move and the leadership
 *    moves, the removed node deletes its copy, and the new replicas hold the leader's bytes;
 * 2. a node is drained with `samsa reassign --drain --wait` (a spawned CLI): afterwards no partition
 *    lists it and its partition directories are gone, so SIGKILL of it loses nothing and writes go on.
 *
 * In the end every acknowledged record reads back through every remaining node at its offset.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ServerProcess, startServer } from '../process/server-process.js';
import {
  type Acked,
  createReplicatedTopic,
  everyNodeLists,
  isRunning,
  json,
  logEndOffsets as logEndOffsetsOf,
  producer,
  storedBytes as storedBytesIn,
} from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOPIC = 'moving';
const PARTITIONS = 2;
const NODES = [1, 2, 3, 4];

let etcd: EtcdServer;
let root: string;
const servers = new Map<number, ServerProcess>();

const server = (id: number) => servers.get(id) as ServerProcess;
const alive = isRunning;
const logEndOffsets = (s: ServerProcess) => logEndOffsetsOf(s, TOPIC);
const storedBytes = (nodeId: number, p: number) => storedBytesIn(path.join(root, `node-${nodeId}`), TOPIC, p);

/** The partition's replicas in list order, its leader and ISR, as `via` describes them (v3 replicas). */
async function replicasOf(via: ServerProcess, clusterId: string, p: number) {
  const { body } = await json(`${via.baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions/${p}/replicas`);
  const data = body.data as { broker_id: number; is_leader: boolean; is_in_sync: boolean }[];
  return {
    replicas: data.map((r) => r.broker_id),
    leader: data.find((r) => r.is_leader)?.broker_id ?? -1,
    isr: data.filter((r) => r.is_in_sync).map((r) => r.broker_id),
  };
}

/** The partition directories of `topic` (or of every topic) on one node's disk. */
function partitionDirs(nodeId: number, topic?: string): string[] {
  return fs
    .readdirSync(path.join(root, `node-${nodeId}`), { withFileTypes: true })
    .filter((e) => e.isDirectory() && /-\d+$/.test(e.name) && (topic === undefined || e.name.startsWith(`${topic}-`)))
    .map((e) => e.name);
}

/** Every record of one partition from offset 0, read through `via` by a v2 consumer with a manual assignment. */
async function readThrough(via: ServerProcess, p: number, count: number): Promise<Map<number, string>> {
  const V2 = 'application/vnd.kafka.v2+json';
  const group = `check-${p}-${Date.now()}`;
  const created = await json(`${via.baseUrl}/consumers/${group}`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ name: 'reader', format: 'json', 'auto.offset.reset': 'earliest' }),
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const base = `${via.baseUrl}/consumers/${group}/instances/reader`;
  const partitions = JSON.stringify({ partitions: [{ topic: TOPIC, partition: p }] });
  const post = (suffix: string) =>
    json(`${base}${suffix}`, { method: 'POST', headers: { 'content-type': V2 }, body: partitions });
  assert.equal((await post('/assignments')).status, 204);
  assert.equal((await post('/positions/beginning')).status, 204);
  const out = new Map<number, string>();
  await until(
    `${count} records of ${TOPIC}-${p} through ${via.baseUrl}`,
    async () => {
      const got = await json(`${base}/records?timeout=200&max_bytes=1048576`, {
        headers: { accept: 'application/vnd.kafka.json.v2+json' },
      });
      assert.equal(got.status, 200, JSON.stringify(got.body));
      for (const r of got.body as { offset: number; value: unknown }[]) out.set(r.offset, JSON.stringify(r.value));
      return out.size >= count ? true : undefined;
    },
    20_000,
  );
  await fetch(base, { method: 'DELETE' });
  return out;
}

/** `samsa reassign ...` as a child process: its exit code and output. */
function samsaReassign(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'reassign', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-reassign-'));
});

after(async () => {
  for (const s of servers.values()) if (alive(s)) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  'a partition moves to other nodes and a node is drained while acks=all writes go on; nothing acknowledged is lost',
  needsEtcd(),
  async () => {
    await Promise.all(
      NODES.map(async (id) => {
        const args = [
          '--node-id',
          String(id),
          '--etcd',
          etcd.endpoint,
          '--cluster-name',
          'reassignment-test',
          '--broker.session.timeout.ms',
          '3000',
          '--replica.lag.time.max.ms',
          '5000',
          '--log.segment.bytes',
          '65536',
        ];
        servers.set(id, await startServer(path.join(root, `node-${id}`), args, 60_000));
      }),
    );
    const first = server(1);
    const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    const v3 = (s: ServerProcess, suffix: string) => `${s.baseUrl}/v3/clusters/${clusterId}${suffix}`;
    await everyNodeLists([...servers.values()], clusterId, NODES);
    await createReplicatedTopic(first, clusterId, TOPIC, PARTITIONS);
    for (let p = 0; p < PARTITIONS; p++) {
      await until(`${TOPIC}-${p} fully in sync`, async () => {
        const v = await replicasOf(first, clusterId, p).catch(() => undefined);
        return v && v.isr.length === 3 ? true : undefined;
      });
    }

    // Writes before the move, and then all the time, through every live node (forwarded to leaders).
    const acked: Acked[] = [];
    const state = { stop: false, failed: 0 };
    const live = () => [...servers.values()].filter(alive);
    const producers = Array.from({ length: 4 }, (_, i) => producer(i, TOPIC, PARTITIONS, live, acked, state));
    await until('100 acknowledged records before the move', async () => (acked.length >= 100 ? true : undefined));

    // 1. Partition 0 moves off its preferred leader onto the node that held none of it.
    const before0 = await replicasOf(first, clusterId, 0);
    const [removed, b, c] = before0.replicas as [number, number, number];
    const added = NODES.find((id) => !before0.replicas.includes(id)) as number;
    const target = [added, b, c];
    const via = server(b);
    const patched = await json(v3(via, `/topics/${TOPIC}/partitions/0/reassignment`), {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replicas: target }),
    });
    assert.equal(patched.status, 202, JSON.stringify(patched.body));
    const expected = {
      kind: 'KafkaReassignment',
      metadata: {
        self: v3(via, `/topics/${TOPIC}/partitions/0/reassignment`),
        resource_name: `crn:///kafka=${clusterId}/topic=${TOPIC}/partition=0`,
      },
      cluster_id: clusterId,
      topic_name: TOPIC,
      partition_id: 0,
      adding_replicas: [added],
      removing_replicas: [removed],
      replicas: { related: v3(via, `/topics/${TOPIC}/partitions/0/replicas`) },
    };
    assert.deepEqual(patched.body, expected);
    const inProgress = await json(v3(via, `/topics/${TOPIC}/partitions/0/reassignment`));
    if (inProgress.status === 200) {
      assert.deepEqual(inProgress.body, expected);
      const all = await json(v3(via, '/topics/-/partitions/-/reassignment'));
      assert.ok(
        all.body.data.some((r: { topic_name: string }) => r.topic_name === TOPIC),
        JSON.stringify(all.body),
      );
    } else {
      assert.equal(inProgress.status, 404, 'the move completed already');
    }

    for (const id of NODES) {
      await until(
        `node ${id} to see ${TOPIC}-0 on [${target}] with its leader moved`,
        async () => {
          const gone = (await json(v3(server(id), `/topics/${TOPIC}/partitions/0/reassignment`))).status === 404;
          const v = await replicasOf(server(id), clusterId, 0);
          return gone && v.replicas.join() === target.join() && v.leader !== removed ? v : undefined;
        },
        20_000,
      );
    }
    // The removed node stopped and deleted its copy.
    await until(`node ${removed} to delete ${TOPIC}-0`, async () =>
      partitionDirs(removed, TOPIC).includes(`${TOPIC}-0`) ? undefined : true,
    );
    // Lists that cannot be: a broker that is not live, a repeated id; and a cancel with nothing moving.
    const reassignment = v3(via, `/topics/${TOPIC}/partitions/0/reassignment`);
    const patch = (body: string) =>
      json(reassignment, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body });
    const dead = await patch(JSON.stringify({ replicas: [added, 99] }));
    assert.deepEqual([dead.status, dead.body.error_code], [400, 40002], JSON.stringify(dead.body));
    assert.match(dead.body.message, /broker 99 is not a live broker of this cluster \(live: 1, 2, 3, 4\)/);
    const twice = await patch(JSON.stringify({ replicas: [added, added] }));
    assert.deepEqual([twice.status, twice.body.error_code], [422, 422], JSON.stringify(twice.body));
    const cancel = await json(reassignment, { method: 'DELETE' });
    assert.deepEqual([cancel.status, cancel.body.error_code], [404, 404], JSON.stringify(cancel.body));
    const ackedAtMove = acked.length;
    await until('writes acknowledged after the move', async () =>
      acked.filter((a) => a.partition === 0).length > 0 && acked.length >= ackedAtMove + 100 ? true : undefined,
    );

    // 2. Drain the leader of partition 1 with the CLI while the writes go on.
    const drained = (await replicasOf(first, clusterId, 1)).leader;
    const bootstrap = server(NODES.find((id) => id !== drained) as number);
    const cli = await samsaReassign([
      '--bootstrap',
      bootstrap.baseUrl,
      '--drain',
      String(drained),
      '--wait',
      '--timeout-ms',
      '30000',
    ]);
    assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
    assert.match(cli.stdout, new RegExp(`draining node ${drained}: \\d+ partition\\(s\\) to move`));
    assert.match(cli.stdout, new RegExp(`${TOPIC}-1: \\[[\\d,]+\\] -> \\[[\\d,]+\\]`));
    assert.match(cli.stdout, new RegExp(`node ${drained} holds no replica`));
    const rest = NODES.filter((id) => id !== drained);
    for (const id of rest) {
      await until(`node ${id} to see nothing on node ${drained}`, async () => {
        const hosted = await json(v3(server(id), `/brokers/${drained}/partition-replicas`));
        if (hosted.status !== 200 || hosted.body.data.length > 0) return undefined;
        for (let p = 0; p < PARTITIONS; p++) {
          if ((await replicasOf(server(id), clusterId, p)).replicas.includes(drained)) return undefined;
        }
        return true;
      });
    }
    await until(`node ${drained} to delete every partition copy`, async () =>
      partitionDirs(drained).length === 0 ? true : undefined,
    );
    const ackedAtKill = acked.length;
    server(drained).child.kill('SIGKILL');
    assert.equal(await server(drained).exited, 'SIGKILL');
    await until(
      'writes acknowledged after the drained node was killed',
      async () => (acked.length >= ackedAtKill + 100 ? true : undefined),
      20_000,
    );
    state.stop = true;
    await Promise.all(producers);

    // Quiet now: every replica reaches the same log end, and holds the same bytes.
    await until('every remaining replica at the same log end offset', async () => {
      const ends = await Promise.all(rest.map((id) => logEndOffsets(server(id))));
      const same = ends.every((e) => JSON.stringify(e) === JSON.stringify(ends[0]));
      return same && (ends[0]?.length ?? 0) === PARTITIONS ? true : undefined;
    });
    for (let p = 0; p < PARTITIONS; p++) {
      const { replicas, isr } = await replicasOf(server(rest[0] as number), clusterId, p);
      assert.deepEqual([...replicas].sort(), rest, `${TOPIC}-${p} lives on the remaining nodes`);
      assert.equal(isr.length, 3, `${TOPIC}-${p} fully in sync`);
      const bytes = rest.map((id) => storedBytes(id, p));
      for (const [i, got] of bytes.entries()) {
        assert.ok(
          got.equals(bytes[0] as Buffer),
          `${TOPIC}-${p}: node ${rest[i]}'s log differs from node ${rest[0]}'s`,
        );
      }
      const mine = acked.filter((a) => a.partition === p);
      const highest = Math.max(...mine.map((a) => a.offset));
      for (const id of rest) {
        const read = await readThrough(server(id), p, highest + 1);
        const lost = mine.filter((a) => read.get(a.offset) !== a.value);
        assert.deepEqual(lost, [], `${TOPIC}-${p} through node ${id}: acknowledged records missing or changed`);
      }
    }
  },
);
