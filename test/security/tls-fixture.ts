/** What the TLS tests share: the openssl check, undici agents with a CA and client certificate, curl. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { TestContext } from 'node:test';
import { Agent } from 'undici';

/** Skips a test when openssl is missing, except under CI, where that is a failure (.ci/run installs it). */
export function needOpenssl(t: TestContext): boolean {
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0) return true;
  const message = 'openssl is not installed (Debian: apt-get install openssl; .ci/run installs it)';
  if (process.env.CI === 'true') assert.fail(message);
  t.skip(message);
  return false;
}

/** An undici dispatcher trusting `ca`, showing the client certificate when one is given. */
export function tlsAgent(ca: string, client?: { cert: string; key: string }): Agent {
  return new Agent({
    connect: {
      ca: fs.readFileSync(ca),
      ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
    },
  });
}

export function curl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON log lines of a server's output with `event`. */
// biome-ignore lint/suspicious/noExplicitAny: log lines of several shapes, read field by field
export function logLines(output: string, event: string): any[] {
  return output
    .split('\n')
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l));
}

export async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
