/**
 * `npm run bench -- replication`: what replication costs a producer. v2 binary produce, 100
 * records of 100 bytes per request, over 8 and then 32 keep-alive connections (each case's peak is
 * the better of the two), against a three-node cluster (a real etcd, three `samsa serve`
 * processes, a topic with replication factor 3 and min.insync.replicas 2, every request sent to the
 * partition's leader) with acks=1 and acks=all; beside it the same load against one embedded
 * single node (`samsa serve` without etcd), measured in the same run: the limit the cluster is
 * compared to. Beside the throughput, each server's CPU time per million records. Then each case
 * again at half its peak rate, paced (requests sent on a fixed schedule, latency counted from the
 * scheduled send so a stall is not hidden), for the latency a producer sees below saturation: p50
 * and p99. Needs Debian's etcd-server (`etcd` on the PATH).
 * Environment: BENCH_SECONDS (per case, default 3); BENCH_CONNECTIONS (the levels, default `8,32`);
 * BENCH_SERVER_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), passed to node for every server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdAvailable, freePort, startEtcd } from '../test/cluster/etcd-fixture.js';
import { printTable } from './markdown-table.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/**
 * The connection counts each case runs at; its peak is the best of them. Eight keep a single node
 * busy, but an acks=all request waits a replication round trip, so a cluster needs more requests in
 * flight to reach its peak (as a Kafka client pipelines several batches per connection).
 */
const CONNECTION_LEVELS = (process.env.BENCH_CONNECTIONS ?? '8,32').split(',').map(Number);
const RECORDS_PER_REQUEST = 100;
const VALUE_BYTES = 100;
const TOPIC = 'bench';

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function spawnQuiet(cmd: string, args: string[]): ChildProcess {
  return spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function startNode(dir: string, port: number, extra: string[]): Promise<ChildProcess> {
  const serverArgs = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter((a) => a.length > 0);
  const child = spawnQuiet(process.execPath, [
    ...serverArgs,
    '--import',
    'tsx',
    'src/cli.ts',
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dir,
    '--log-level',
    'error',
    // Several nodes share the machine: the Kafka listener (9092 by default) stays off.
    '--kafka-port',
    '0',
    ...extra,
  ]);
  await waitFor(`http://127.0.0.1:${port}/readyz`);
  return child;
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
    ),
  );
}

const body = JSON.stringify({
  records: Array.from({ length: RECORDS_PER_REQUEST }, () => ({
    value: Buffer.alloc(VALUE_BYTES, 'x').toString('base64'),
  })),
});

function poster(port: number, acks: string, agent: http.Agent): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/topics/${TOPIC}/partitions/0?acks=${acks}`,
          agent,
          headers: { 'content-type': 'application/vnd.kafka.binary.v2+json' },
        },
        (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux);
    // after "pid (comm) " they are the 12th and 13th.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

interface Measured {
  connections: number;
  recordsPerSecond: number;
  /** Server CPU per million records acknowledged, in seconds, for each process measured (leader first). */
  cpuPerMillion: number[];
}

/**
 * Records per second acknowledged on `port` (its partition 0) at `acks`, over SECONDS, and what
 * they cost each of `servers` in CPU: the part of the figure the scheduler's share of two cores
 * does not move.
 */
async function load(port: number, acks: string, servers: ChildProcess[], connections: number): Promise<Measured> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const post = poster(port, acks, agent);
  // Warm-up, then the measured window.
  const warmUntil = Date.now() + 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < warmUntil) await post();
    }),
  );
  let requests = 0;
  const cpuBefore = servers.map((c) => cpuSeconds(c.pid));
  const started = performance.now();
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < until) {
        await post();
        requests++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const records = requests * RECORDS_PER_REQUEST;
  const cpuPerMillion = servers.map((c, i) => ((cpuSeconds(c.pid) - (cpuBefore[i] as number)) * 1e6) / records);
  agent.destroy();
  return { connections, recordsPerSecond: records / seconds, cpuPerMillion };
}

/** The best of `load` over CONNECTION_LEVELS. */
async function peak(port: number, acks: string, servers: ChildProcess[]): Promise<Measured> {
  let best: Measured | undefined;
  for (const connections of CONNECTION_LEVELS) {
    const m = await load(port, acks, servers, connections);
    if (best === undefined || m.recordsPerSecond > best.recordsPerSecond) best = m;
  }
  return best as Measured;
}

/** The paced schedule's warm-up, not counted in its latencies. */
const PACED_WARM_UP_MS = 1_000;

/** Most requests of the paced run in flight at once; past it, sends queue (and their wait counts). */
const PACED_MAX_IN_FLIGHT = 64;

interface Latency {
  p50Ms: number;
  p99Ms: number;
}

/**
 * `recordsPerSecond` offered on a fixed schedule for SECONDS: each request's latency runs from
 * the moment it was due, so a slow answer that delays the next send counts against both.
 */
async function paced(port: number, acks: string, recordsPerSecond: number): Promise<Latency> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: PACED_MAX_IN_FLIGHT });
  const post = poster(port, acks, agent);
  const intervalMs = (1000 * RECORDS_PER_REQUEST) / recordsPerSecond;
  // The schedule's first second warms up (connections opened, as load() warms up) and is not counted.
  const warmUp = Math.floor(PACED_WARM_UP_MS / intervalMs);
  const total = warmUp + Math.max(1, Math.floor((SECONDS * 1000) / intervalMs));
  const latencies: number[] = [];
  const start = performance.now() + 50;
  let next = 0;
  await Promise.all(
    Array.from({ length: PACED_MAX_IN_FLIGHT }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const due = start + i * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await post();
        if (i >= warmUp) latencies.push(performance.now() - due);
      }
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function createTopic(port: number, replicationFactor: number): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  const cluster = ((await (await fetch(`${base}/v3/clusters`)).json()) as { data: { cluster_id: string }[] }).data[0];
  const res = await fetch(`${base}/v3/clusters/${cluster?.cluster_id}/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      topic_name: TOPIC,
      partitions_count: 1,
      replication_factor: replicationFactor,
      configs: [{ name: 'min.insync.replicas', value: String(Math.min(2, replicationFactor)) }],
    }),
  });
  if (res.status !== 201) throw new Error(`create topic: ${res.status} ${await res.text()}`);
}

/** The node id leading partition 0, from the v3 replicas of any node. */
async function leaderOf(port: number): Promise<number> {
  const base = `http://127.0.0.1:${port}`;
  const cluster = ((await (await fetch(`${base}/v3/clusters`)).json()) as { data: { cluster_id: string }[] }).data[0];
  for (;;) {
    const res = await fetch(`${base}/v3/clusters/${cluster?.cluster_id}/topics/${TOPIC}/partitions/0/replicas`);
    const replicas = ((await res.json()) as { data?: { broker_id: number; is_leader: boolean }[] }).data ?? [];
    const leader = replicas.find((r) => r.is_leader);
    if (leader) return leader.broker_id;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runReplicationBench(): Promise<void> {
  if (!etcdAvailable()) {
    console.log('replication: etcd is not installed (apt-get install etcd-server); nothing measured');
    return;
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-repl-'));
  const children: ChildProcess[] = [];
  let stopEtcd = async () => {};
  try {
    // The limit: one embedded node, the same load, acks=1 and acks=all (which it answers at once).
    const singlePort = await freePort();
    const single = await startNode(path.join(root, 'single'), singlePort, []);
    await createTopic(singlePort, 1);
    const singleAcks1 = await peak(singlePort, '1', [single]);
    const singleAcksAll = await peak(singlePort, 'all', [single]);
    const singleLat1 = await paced(singlePort, '1', singleAcks1.recordsPerSecond / 2);
    const singleLatAll = await paced(singlePort, 'all', singleAcksAll.recordsPerSecond / 2);
    await stop([single]);

    // A real etcd on loopback, as the cluster tests start it.
    const etcd = await startEtcd();
    stopEtcd = () => etcd.stop();
    const { endpoint } = etcd;
    const ports = await Promise.all([1, 2, 3].map(() => freePort()));
    const nodes = await Promise.all(
      ports.map((port, i) =>
        startNode(path.join(root, `node-${i + 1}`), port, ['--node-id', String(i + 1), '--etcd', endpoint]),
      ),
    );
    children.push(...nodes);
    await createTopic(ports[0] as number, 3);
    const leaderIndex = (await leaderOf(ports[0] as number)) - 1;
    const leaderPort = ports[leaderIndex] as number;
    // The leader first, then its two followers.
    const servers = [nodes[leaderIndex] as ChildProcess, ...nodes.filter((_, i) => i !== leaderIndex)];
    const clusterAcks1 = await peak(leaderPort, '1', servers);
    const clusterAcksAll = await peak(leaderPort, 'all', servers);
    const clusterLat1 = await paced(leaderPort, '1', clusterAcks1.recordsPerSecond / 2);
    const clusterLatAll = await paced(leaderPort, 'all', clusterAcksAll.recordsPerSecond / 2);

    const fmt = (m: Measured) =>
      `${Math.round(m.recordsPerSecond).toLocaleString('en-US')} rec/s (${m.connections} conns)`;
    const ratio = (m: Measured, limit: Measured) =>
      `${Math.round((100 * m.recordsPerSecond) / limit.recordsPerSecond)}%`;
    const cpu = (m: Measured) => m.cpuPerMillion.map((s) => s.toFixed(2)).join(' + ');
    const cpuRatio = (m: Measured, limit: Measured) =>
      `${Math.round((100 * (limit.cpuPerMillion[0] as number)) / (m.cpuPerMillion[0] as number))}%`;
    console.log(
      `v2 binary produce, ${RECORDS_PER_REQUEST} records x ${VALUE_BYTES} B per request, peak over ${CONNECTION_LEVELS.join(' and ')} connections, ${SECONDS} s per case, to the leader`,
    );
    printTable(
      ['acks', 'single node (limit)', '3 nodes, RF 3, min ISR 2', 'ratio'],
      [
        ['1', fmt(singleAcks1), fmt(clusterAcks1), ratio(clusterAcks1, singleAcks1)],
        ['all', fmt(singleAcksAll), fmt(clusterAcksAll), ratio(clusterAcksAll, singleAcksAll)],
      ],
    );
    // Throughput moves with the share of the two cores each process gets; CPU per record does not.
    // The leader is the bottleneck (its one JavaScript thread): the ratio of the single node's CPU
    // per record to the leader's is the throughput ratio the cluster would reach with a core per node.
    console.log('\nserver CPU seconds per million records (cluster: leader + follower + follower)');
    printTable(
      ['acks', 'single node', '3 nodes, RF 3, min ISR 2', 'single / leader'],
      [
        ['1', cpu(singleAcks1), cpu(clusterAcks1), cpuRatio(clusterAcks1, singleAcks1)],
        ['all', cpu(singleAcksAll), cpu(clusterAcksAll), cpuRatio(clusterAcksAll, singleAcksAll)],
      ],
    );
    const lat = (l: Latency) => `p50 ${l.p50Ms.toFixed(1)} ms, p99 ${l.p99Ms.toFixed(1)} ms`;
    console.log("\nlatency at half of each case's peak rate, paced (goal for acks=all, 3 nodes: p99 < 50 ms)");
    printTable(
      ['acks', 'single node', '3 nodes, RF 3, min ISR 2'],
      [
        ['1', lat(singleLat1), lat(clusterLat1)],
        ['all', lat(singleLatAll), lat(clusterLatAll)],
      ],
    );
  } finally {
    await stop(children);
    await stopEtcd();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
