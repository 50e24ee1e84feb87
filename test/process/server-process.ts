/**
 * `samsa serve` as a real child process on 127.0.0.1 with an OS-chosen port, read from its
 * `listening` log line, for tests that need signals and crashes (kill -9). The Kafka listener is
 * off (`--kafka-port 0`, so servers started side by side do not compete for 9092) unless the
 * test passes `--kafka-port` itself (freePort() finds one); its port is then `kafkaPort`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Dispatcher, fetch as undiciFetch } from 'undici';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  /** The Kafka listener's port, when the test turned it on. */
  kafkaPort?: number;
  /** Everything the process wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** A server started with TLS: what its readiness probe (and the test's calls) connect with. */
  dispatcher?: Dispatcher;
}

/**
 * `samsa serve` on 127.0.0.1 with an OS-chosen port and `dataDir`, the Kafka listener off unless
 * `extraArgs` names `--kafka-port`, and no `SAMSA_*` setting of the test's own environment.
 */
function spawnServe(
  dataDir: string,
  extraArgs: readonly string[],
  stdio: ['ignore', 'pipe' | 'ignore', 'pipe'],
): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(ROOT, 'src/cli.ts'),
      'serve',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...(extraArgs.some((a) => a === '--kafka-port' || a.startsWith('--kafka-port=')) ? [] : ['--kafka-port', '0']),
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      stdio,
      env: { ...process.env, SAMSA_PORT: '', SAMSA_HOST: '', SAMSA_DATA_DIR: '', SAMSA_KAFKA_PORT: '' },
    },
  );
}

/** Runs `samsa serve` expecting it to refuse to start: resolves with its exit code and stderr. */
export async function refusedStart(
  dataDir: string,
  extraArgs: readonly string[],
): Promise<{ code: number | null; stderr: string }> {
  const child = spawnServe(dataDir, extraArgs, ['ignore', 'ignore', 'pipe']);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stderr };
}

export async function startServer(
  dataDir: string,
  extraArgs: string[] = [],
  startupTimeoutMs = 20_000,
  /** For `--tls-cert` servers: an undici dispatcher trusting their CA (and showing a client certificate if needed). */
  tls?: { dispatcher: Dispatcher },
): Promise<ServerProcess> {
  const child = spawnServe(dataDir, extraArgs, ['ignore', 'pipe', 'pipe']);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not listen within ${startupTimeoutMs} ms\n${out}\n${err}`)),
      startupTimeoutMs,
    );
    const check = () => {
      const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening\n${out}\n${err}`));
    });
  });
  const kafka = /"event":"kafka_listening"[^\n]*"port":(\d+)/.exec(out);
  const server: ServerProcess = {
    child,
    baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    ...(kafka ? { kafkaPort: Number(kafka[1]) } : {}),
    ...(tls ? { dispatcher: tls.dispatcher } : {}),
    stdout: () => out,
    stderr: () => err,
    exited,
  };
  await waitReady(server, startupTimeoutMs);
  return server;
}

/** Polls /readyz until it answers 200. */
export async function waitReady(server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = server.dispatcher
        ? await undiciFetch(`${server.baseUrl}/readyz`, { dispatcher: server.dispatcher })
        : await fetch(`${server.baseUrl}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline)
      throw new Error(`server not ready within ${timeoutMs} ms\n${server.stdout()}\n${server.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A TCP port free on 127.0.0.1 just now (the OS picks it; it is released before returning). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
