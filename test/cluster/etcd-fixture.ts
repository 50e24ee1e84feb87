/**
 * A real etcd server (Debian's etcd-server, etcd 3.4) on loopback ports picked free, with its data
 * in a temp dir: what the cluster tests talk to; or a three-member etcd cluster (startEtcdCluster)
 * for the tests that kill its leader member. Where etcd is not installed the tests that need it
 * skip locally, and fail under CI=true (.ci/run installs it), so a CI run never passes without them.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ETCD_BINARY = process.env.SAMSA_TEST_ETCD ?? 'etcd';

export function etcdAvailable(): boolean {
  return spawnSync(ETCD_BINARY, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `{ skip }` for a test that needs etcd: a reason locally when it is missing, never under CI. */
export function needsEtcd(): { skip: string | false } {
  if (etcdAvailable()) return { skip: false };
  if (process.env.CI === 'true') throw new Error(`etcd is required under CI=true but '${ETCD_BINARY}' does not run`);
  return { skip: `'${ETCD_BINARY}' is not installed (apt-get install etcd-server)` };
}

export interface EtcdServer {
  endpoint: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startEtcd(): Promise<EtcdServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const child: ChildProcess = spawn(
    ETCD_BINARY,
    [
      '--name',
      'test',
      '--data-dir',
      dir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `test=http://127.0.0.1:${peerPort}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    log = (log + d).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${log}`);
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`etcd did not become healthy in 20 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One member of an etcd cluster, as the fixture started it (its data dir outlives a kill). */
interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dir: string;
  child: ChildProcess | null;
  exited: Promise<void>;
  log: string;
}

export interface EtcdCluster {
  /** Every member's client URL, comma-separated: what `samsa serve --etcd` takes. */
  endpoints: string;
  /** The members' client URLs, in member order. */
  members: readonly string[];
  /** The client URL of the member that leads the raft group now; fails after `timeoutMs` without one. */
  leader(timeoutMs?: number): Promise<string>;
  /** SIGKILL of one member (by client URL); resolves once the process is gone. */
  kill(clientUrl: string): Promise<void>;
  /** Starts a killed member again on its old data dir and ports; resolves once it answers /health. */
  restart(clientUrl: string): Promise<void>;
  /** Whether the member answers /health with `"health":"true"` (it is up and sees a leader). */
  healthy(clientUrl: string): Promise<boolean>;
  stop(): Promise<void>;
}

/** How long a member may take to answer /health after it starts (the first election included). */
const MEMBER_HEALTHY_TIMEOUT_MS = 20_000;

/**
 * `members` etcd processes forming one cluster on loopback (one `--initial-cluster`), each with its
 * own temp data dir, so a test can kill the raft leader and bring it back.
 */
export async function startEtcdCluster(members = 3): Promise<EtcdCluster> {
  const all: EtcdMember[] = [];
  for (let i = 0; i < members; i++) {
    all.push({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${await freePort()}`,
      peerUrl: `http://127.0.0.1:${await freePort()}`,
      dir: fs.mkdtempSync(path.join(os.tmpdir(), `samsa-etcd-m${i}-`)),
      child: null,
      exited: Promise.resolve(),
      log: '',
    });
  }
  const initialCluster = all.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const spawnMember = (m: EtcdMember) => {
    const child = spawn(
      ETCD_BINARY,
      [
        '--name',
        m.name,
        '--data-dir',
        m.dir,
        '--listen-client-urls',
        m.clientUrl,
        '--advertise-client-urls',
        m.clientUrl,
        '--listen-peer-urls',
        m.peerUrl,
        '--initial-advertise-peer-urls',
        m.peerUrl,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-token',
        `samsa-test-${process.pid}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    m.child = child;
    m.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      m.log = (m.log + d).slice(-4000);
    });
  };
  const healthy = async (clientUrl: string) => {
    try {
      const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    } catch {
      return false; // down, or not listening yet
    }
  };
  const waitHealthy = async (m: EtcdMember) => {
    const deadline = Date.now() + MEMBER_HEALTHY_TIMEOUT_MS;
    while (!(await healthy(m.clientUrl))) {
      if (m.child?.exitCode !== null) throw new Error(`etcd ${m.name} exited with ${m.child?.exitCode}: ${m.log}`);
      if (Date.now() > deadline)
        throw new Error(`etcd ${m.name} not healthy in ${MEMBER_HEALTHY_TIMEOUT_MS} ms: ${m.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const member = (clientUrl: string) => {
    const m = all.find((x) => x.clientUrl === clientUrl);
    if (!m) throw new Error(`no etcd member at ${clientUrl}`);
    return m;
  };
  const stopAll = async () => {
    for (const m of all) if (m.child?.exitCode === null && m.child.signalCode === null) m.child.kill('SIGTERM');
    await Promise.all(all.map((m) => m.exited));
    for (const m of all) fs.rmSync(m.dir, { recursive: true, force: true });
  };
  // Started together: each member waits for a quorum of its peers before the first election.
  for (const m of all) spawnMember(m);
  try {
    await Promise.all(all.map(waitHealthy));
  } catch (err) {
    for (const m of all) m.child?.kill('SIGKILL');
    await stopAll();
    throw err;
  }
  return {
    endpoints: all.map((m) => m.clientUrl).join(','),
    members: all.map((m) => m.clientUrl),
    async leader(timeoutMs = 10_000) {
      // Each member's status names the raft leader by member id, and itself in its header.
      return until(
        'an etcd leader',
        async () => {
          for (const m of all) {
            try {
              const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
                method: 'POST',
                body: '{}',
                signal: AbortSignal.timeout(1_000),
              });
              const status = (await res.json()) as { leader?: string; header?: { member_id?: string } };
              if (status.leader && status.leader !== '0' && status.leader === status.header?.member_id) {
                return m.clientUrl;
              }
            } catch {
              // this member is down: ask the next
            }
          }
          return undefined;
        },
        timeoutMs,
      );
    },
    async kill(clientUrl) {
      const m = member(clientUrl);
      m.child?.kill('SIGKILL');
      await m.exited;
    },
    async restart(clientUrl) {
      const m = member(clientUrl);
      if (m.child?.exitCode === null && m.child.signalCode === null) throw new Error(`etcd ${m.name} is running`);
      spawnMember(m);
      await waitHealthy(m);
    },
    healthy,
    stop: stopAll,
  };
}

/** Polls `probe` until it gives a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A cluster member in a child process (cluster-member.ts), so that a test can kill it with SIGKILL. */
export function startMember(endpoint: string, clusterName: string, nodeId: number, ttlSeconds: number) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster-member.ts');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', script, endpoint, clusterName, String(nodeId), String(ttlSeconds)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    said: (word: string) =>
      until(`member ${nodeId} to say ${word}`, async () => (out.includes(word) ? true : undefined)),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
