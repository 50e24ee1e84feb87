/**
 * The README's examples run as printed: every shell command of README.md, in order, in one bash
 * session (so `CID=$(...)` carries over), against a real `samsa serve` on a fresh data directory,
 * with `localhost:8082` replaced by the real address in commands and in the shown outputs. Each
 * command must exit 0 (curl's 28, "timed out", counts as success for a command that sets
 * `--max-time`: that is how a stream example ends) and print what the README shows after it; a
 * command shown without output must not answer with an error body. The conventions are in
 * test/readme-examples.ts. Also: every link in README.md and docs/ points at a file inside the
 * repository.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, startServer } from './process/server-process.js';
import { altered, extractShellExamples, mismatch, type ReadmeExample } from './readme-examples.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = path.join(ROOT, 'README.md');
const README_ADDRESS = 'localhost:8082';
/** The Kafka listener's address in commands, and as Metadata shows it (the address kcat reached). */
const README_KAFKA_ADDRESSES = ['localhost:9092', '127.0.0.1:9092'];
/** Generous: the slowest example is a 2 s stream, and the machine may be busy. */
const COMMAND_TIMEOUT_MS = 20_000;
const CURL_TIMED_OUT = 28;

test('the README has shell examples, and each one shows its output or none', () => {
  const examples = extractShellExamples(fs.readFileSync(README, 'utf8'));
  const run = examples.filter((e) => !e.setup);
  assert.ok(run.length >= 10, `only ${run.length} runnable commands found in README.md`);
  assert.ok(
    examples.some((e) => e.setup && e.command.includes('npm ci && npm start')),
    'the README shows how to start the server',
  );
  for (const e of examples.filter((x) => x.setup)) {
    assert.equal(e.expected, undefined, `README.md:${e.line}: a setup command is not run, so it cannot show output`);
  }
});

test('every shell example of the README answers as the README shows, on a fresh server', async (t) => {
  for (const tool of ['bash', 'curl', 'jq', 'kcat']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
    assert.ok(found, `${tool} is needed by the README examples (CI installs it in .ci/run)`);
  }
  const examples = extractShellExamples(fs.readFileSync(README, 'utf8')).filter((e) => !e.setup);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-readme-'));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-readme-sh-'));
  t.after(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(workDir, { recursive: true, force: true });
  });
  const server = await startServer(dataDir, ['--kafka-port', String(await freePort())]);
  t.after(async () => {
    server.child.kill('SIGTERM');
    await server.exited;
  });
  const address = new URL(server.baseUrl).host;
  const kafkaAddress = `127.0.0.1:${server.kafkaPort}`;
  const real = (text: string) =>
    README_KAFKA_ADDRESSES.reduce(
      (t, shown) => t.replaceAll(shown, kafkaAddress),
      text.replaceAll(README_ADDRESS, address),
    );
  const shell = new ShellSession(workDir);
  t.after(() => shell.close());

  for (const example of examples) {
    const command = real(example.command);
    const result = await shell.run(command, COMMAND_TIMEOUT_MS);
    const where = `README.md:${example.line}: ${example.command.split('\n')[0]}`;
    const timedOutOnPurpose = result.exitCode === CURL_TIMED_OUT && command.includes('--max-time');
    assert.ok(
      result.exitCode === 0 || timedOutOnPurpose,
      `${where}\n  exited ${result.exitCode}\n  stdout: ${result.stdout}\n  stderr: ${result.stderr}`,
    );
    if (example.expected === undefined) {
      assert.ok(!isErrorBody(result.stdout), `${where}\n  answered an error: ${result.stdout}`);
      continue;
    }
    const expected = example.expected.map(real);
    const why = mismatch(expected, result.stdout);
    assert.equal(why, undefined, `${where}\n  ${why}`);
    assertPinsSomething(example, expected, result.stdout, where);
  }
});

test('every link in README.md and docs/ points at a file inside the repository', () => {
  const docsDir = path.join(ROOT, 'docs');
  const files = [README, ...fs.readdirSync(docsDir).map((f) => path.join(docsDir, f))].filter((f) => f.endsWith('.md'));
  assert.ok(files.length > 1, 'docs/ holds the long documentation');
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (target === undefined || /^(https?:|mailto:|#)/.test(target)) continue;
      const resolved = path.resolve(path.dirname(file), target.split('#')[0] ?? '');
      const name = path.relative(ROOT, file);
      assert.ok(
        resolved.startsWith(`${ROOT}${path.sep}`) && !resolved.includes(`${path.sep}node_modules${path.sep}`),
        `${name} links outside the repository: ${target}`,
      );
      assert.ok(fs.existsSync(resolved), `${name} links to a missing file: ${target}`);
    }
  }
});

/** The shown output must pin something: with one shown value changed, it no longer matches. */
function assertPinsSomething(example: ReadmeExample, expected: string[], actual: string, where: string): void {
  const changed = altered(expected);
  assert.ok(changed !== undefined, `${where}\n  the shown output is all "<any>": it would match anything`);
  assert.notEqual(
    mismatch(changed, actual),
    undefined,
    `${where}\n  a changed output still matched (line ${example.line})`,
  );
}

/** Samsa's error shape with a failing code; v3 delivery reports carry `"error_code":200`. */
function isErrorBody(stdout: string): boolean {
  try {
    const body = JSON.parse(stdout) as { error_code?: unknown };
    return typeof body.error_code === 'number' && body.error_code >= 400;
  } catch {
    return false;
  }
}

/**
 * One bash process the commands are written to, like a terminal: each runs in the shell itself (a
 * `{ }` group, not a subshell, so variables stay set), with its output in files, followed by a
 * marker line carrying its exit code.
 */
class ShellSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';
  private count = 0;

  constructor(private readonly workDir: string) {
    // Its own process group, so closing it also ends a command still running.
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd: workDir, detached: true });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.output += d;
    });
  }

  async run(command: string, timeoutMs: number): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const n = this.count++;
    const out = path.join(this.workDir, `out.${n}`);
    const err = path.join(this.workDir, `err.${n}`);
    const marker = `__readme_command_done__ ${n} `;
    this.child.stdin.write(`{\n${command}\n} >'${out}' 2>'${err}' </dev/null; printf '\\n${marker}%d\\n' $?\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.output.indexOf(marker);
      if (at !== -1) {
        const end = this.output.indexOf('\n', at);
        if (end !== -1) {
          const exitCode = Number(this.output.slice(at + marker.length, end));
          this.output = this.output.slice(end + 1);
          return { exitCode, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
        }
      }
      if (this.child.exitCode !== null) throw new Error(`bash exited (${this.child.exitCode}) during: ${command}`);
      if (Date.now() > deadline) throw new Error(`no answer within ${timeoutMs} ms: ${command}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
