/**
 * The start-up rule (no authentication beyond loopback unless --allow-anonymous says so) and the
 * `samsa users` command, as real child processes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/cli.ts')] as const;
/** No SAMSA_* from the environment running the tests may decide for these processes. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SAMSA_')));

function samsa(args: string[], input?: string) {
  const [node, ...pre] = CLI;
  return spawnSync(node, [...pre, ...args], { cwd: ROOT, input, env: ENV, timeout: 30_000, encoding: 'utf8' });
}

test('serve on a non-loopback host without authentication refuses to start, naming the way out', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-refuse-'));
  try {
    const result = samsa(['serve', '--host', '0.0.0.0', '--port', '0', '--kafka-port', '0', '--data-dir', dataDir]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /refusing to listen on 0\.0\.0\.0 without authentication/);
    assert.match(result.stderr, /--users-file/);
    assert.match(result.stderr, /--allow-anonymous/);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with --allow-anonymous it starts on 0.0.0.0 and warns that anyone may connect', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-anon-'));
  const [node, ...pre] = CLI;
  const child = spawn(
    node,
    [
      ...pre,
      'serve',
      '--host',
      '0.0.0.0',
      '--allow-anonymous',
      '--port',
      '0',
      '--kafka-port',
      '0',
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 20_000;
    while (!/"event":"listening"/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /"event":"listening"[^\n]*"host":"0\.0\.0\.0"/);
    assert.match(out, /"level":"warn"[^\n]*"event":"anonymous_access"/);
    const port = Number(/"event":"listening"[^\n]*"port":(\d+)/.exec(out)?.[1]);
    // Anonymous means no credentials needed at all.
    assert.equal((await fetch(`http://127.0.0.1:${port}/topics`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('samsa users add writes an scrypt hash and SCRAM credentials, never the password', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-users-'));
  const file = path.join(dir, 'users.json');
  try {
    const password = 'a-long-enough-password';
    const added = samsa(['users', 'add', 'alice', '--password-stdin', '--users-file', file], `${password}\n`);
    assert.equal(added.status, 0, added.stderr);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(!text.includes(password), 'the password is not in the file');
    assert.ok(!text.includes(Buffer.from(password).toString('base64')), 'nor its base64');
    const doc = JSON.parse(text);
    assert.equal(doc.users.alice.password.algorithm, 'scrypt');
    assert.ok(doc.users.alice.password.N >= 16_384);
    for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const c = doc.users.alice.scram[mechanism];
      assert.ok(c.iterations >= 4096 && c.salt && c.storedKey && c.serverKey, mechanism);
    }
    assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'only its owner may read it');

    const keyed = samsa(['users', 'add-key', 'alice', '--users-file', file]);
    assert.equal(keyed.status, 0, keyed.stderr);
    const key = keyed.stdout.trim();
    assert.match(key, /^samsa_[A-Za-z0-9_-]{43}$/);
    const withKey = fs.readFileSync(file, 'utf8');
    assert.ok(!withKey.includes(key), 'the key itself is shown once, not stored');
    assert.ok(withKey.includes(createHash('sha256').update(key).digest('hex')), 'its SHA-256 is stored');

    const short = samsa(['users', 'add', 'bob', '--password-stdin', '--users-file', file], 'short\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /password must be at least 8 characters/);

    const removed = samsa(['users', 'remove', 'alice', '--users-file', file]);
    assert.equal(removed.status, 0, removed.stderr);
    const after = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(after.users, {});
    assert.deepEqual(after.apiKeys, [], 'her keys went with her');

    const noFile = samsa(['users', 'add', 'carol', '--password-stdin'], 'whatever-password\n');
    assert.equal(noFile.status, 2);
    assert.match(noFile.stderr, /no users file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve refuses a users file it cannot read, and a JWT secret too short to be safe', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-badusers-'));
  try {
    const file = path.join(dir, 'users.json');
    fs.writeFileSync(file, '{"version":1,"users":{"alice":{"password":"plain-text"}}}');
    const bad = samsa([
      'serve',
      '--port',
      '0',
      '--kafka-port',
      '0',
      '--data-dir',
      path.join(dir, 'd'),
      '--users-file',
      file,
    ]);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /users\.alice\.password must be an object/);
    const short = samsa([
      'serve',
      '--port',
      '0',
      '--kafka-port',
      '0',
      '--data-dir',
      path.join(dir, 'd'),
      '--jwt-secret',
      'short',
    ]);
    assert.equal(short.status, 2, short.stderr);
    assert.match(short.stderr, /--jwt-secret must be at least 32 bytes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
