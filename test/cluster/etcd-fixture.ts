/**
 * A real etcd server (Debian's etcd-server, etcd 3.4) on loopback ports picked free, with its data
 * in a temp dir: what the cluster tests talk to. Where etcd is not installed the tests that need it
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
