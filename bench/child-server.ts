/**
 * A benchmark's server in its own process, so the load generator never shares its event loop:
 * the bench file re-runs itself with `--serve <args>`, and that child prints `{"port":N}` once it
 * listens. BENCH_SERVER_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) profiles the server.
 * Over an IPC channel the parent can ask the child for its CPU time (`cpuMicros`), so a bench can
 * report what a record costs the server, whatever share of the two cores the scheduler gave it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChildServer {
  child: ChildProcess;
  port: number;
}

export async function startChild(benchFile: string, serveArgs: string[]): Promise<ChildServer> {
  const serverArgs = (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter((a) => a.length > 0);
  const child = spawn(process.execPath, [...serverArgs, '--import', 'tsx', benchFile, '--serve', ...serveArgs], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /"port":(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${serveArgs.join(' ') || 'bench'} server exited with ${code}`)));
  });
  return { child, port };
}

/** User + system CPU time the child has used so far, in microseconds. */
export function cpuMicros(server: ChildServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (typeof m === 'object' && m !== null && 'cpuMicros' in m) {
        server.child.off('message', onMessage);
        resolve(Number((m as { cpuMicros: number }).cpuMicros));
      }
    };
    server.child.on('message', onMessage);
    server.child.send('cpu', (err) => {
      if (err) reject(err);
    });
  });
}

export async function stopChild(server: ChildServer): Promise<void> {
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

/** The child side: listen on loopback and tell the parent the port. */
export function announce(server: http.Server): void {
  server.keepAliveTimeout = 60_000;
  process.on('message', (m) => {
    if (m !== 'cpu') return;
    const { user, system } = process.cpuUsage();
    process.send?.({ cpuMicros: user + system });
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  });
}

/** One POST on a keep-alive agent; rejects unless the answer is 200. The body is drained. */
export function post(
  agent: http.Agent,
  port: number,
  urlPath: string,
  contentType: string,
  body: Buffer,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        method: 'POST',
        agent,
        headers: { 'content-type': contentType, 'content-length': body.length },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${urlPath}`));
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
