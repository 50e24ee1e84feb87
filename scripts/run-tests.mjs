#!/usr/bin/env node
// The runner behind `npm test`. Node 20's --test takes no globs, so this finds every
// test/**/*.test.ts (or those under the folders/files given: `npm test -- test/storage`) and runs
// them in one `node --import tsx --test --test-concurrency=1` process, one file at a time because
// tests bind ports and spawn servers. Arguments starting with `--` pass through to node
// (`npm test -- --test-name-pattern=base64`). The exit code is node's.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const args = process.argv.slice(2);
const nodeFlags = args.filter((arg) => arg.startsWith('--'));
const targets = args.filter((arg) => !arg.startsWith('--'));

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      collect(join(path, entry.name), out);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

const files = [];
for (const target of targets.length > 0 ? targets : ['test']) {
  const path = resolve(process.cwd(), target);
  if (!existsSync(path)) {
    console.error(`run-tests: no such file or folder: ${target}`);
    process.exit(2);
  }
  collect(path, files);
}
// A run with nothing to run is a mistake (a wrong folder, a renamed suffix), never a green build.
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${targets.join(', ') || 'test'}`);
  process.exit(1);
}

const unique = [...new Set(files)].sort().map((file) => relative(root, file));
const result = spawnSync(
  process.execPath,
  // A test that hangs fails after 3 minutes instead of holding CI for its whole budget (a failing
  // message-less assert.ok can hang under tsx while node quotes the transpiled source).
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=180000', ...nodeFlags, ...unique],
  { cwd: root, stdio: 'inherit' },
);
if (result.error) {
  console.error(`run-tests: ${result.error.message}`);
  process.exit(1);
}
// Killed by a signal: report failure the way a shell would (128 + signal number is not portable; 1 is).
process.exit(result.status ?? 1);
