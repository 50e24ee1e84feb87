/**
 * The README's shell examples as data, and the rule that says whether a real answer matches the one
 * the README shows. Used by test/readme.test.ts; the conventions are the README's own (see its
 * "Try it" section and docs/development.md):
 *
 * - Every ```sh fence is read, in order. A command is a line that is not a comment, plus the lines
 *   after it while a line ends with `\` or `|`.
 * - The `# ` comment lines right after a command (no blank line between) are what it prints; `#` alone
 *   is an empty line of output. A comment after a blank line is prose and belongs to nothing.
 * - Commands whose program is `npm` (`npm ci && npm start`, `npm run bench`, also with `VAR=value`
 *   before it) are about the checkout, not the server, and are not run.
 * - Shown output is one JSON value (compared as JSON, key order free), or lines compared one by one,
 *   where a line of the form `<text>{json}` or `<text>[json]` compares the text and the JSON separately.
 * - `"<any>"` in JSON matches any value; `<any>` in a line of text matches any run of characters.
 */

export const ANY = '<any>';

export interface ReadmeExample {
  /** 1-based line of the README where the command starts. */
  line: number;
  command: string;
  /** The output shown after the command, one entry per line; undefined when none is shown. */
  expected?: string[];
  /** Setup run by the reader, never by the test (npm ...). */
  setup: boolean;
}

const SETUP_COMMAND = /^(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*npm\s/;

export function extractShellExamples(markdown: string): ReadmeExample[] {
  const lines = markdown.split('\n');
  const examples: ReadmeExample[] = [];
  let inShell = false;
  let current: ReadmeExample | undefined;
  let continued = false;
  // Output lines follow their command directly; a blank line or a new command closes the output.
  let collectingOutput = false;
  const finish = () => {
    if (current) examples.push(current);
    current = undefined;
    continued = false;
    collectingOutput = false;
  };
  lines.forEach((raw, index) => {
    const line = raw.trimEnd();
    if (!inShell) {
      if (/^```sh\s*$/.test(line)) inShell = true;
      return;
    }
    if (/^```\s*$/.test(line)) {
      finish();
      inShell = false;
      return;
    }
    if (continued && current) {
      current.command += `\n${line}`;
      continued = /[\\|]$/.test(line);
      collectingOutput = !continued;
      return;
    }
    if (line.trim() === '') {
      finish();
      return;
    }
    if (line.trimStart().startsWith('#')) {
      if (current && collectingOutput) {
        const text = line.trimStart().replace(/^# ?/, '');
        current.expected = [...(current.expected ?? []), text];
      }
      return;
    }
    finish();
    current = { line: index + 1, command: line, setup: SETUP_COMMAND.test(line.trimStart()), expected: undefined };
    continued = /[\\|]$/.test(line);
    collectingOutput = !continued;
  });
  if (inShell) throw new Error('README: a ```sh fence is never closed');
  return examples;
}

/** undefined when `actual` matches what the README shows, else why not. */
export function mismatch(expected: readonly string[], actual: string): string | undefined {
  const shownJson = parseJson(expected.join('\n'));
  if (shownJson.ok) {
    const got = parseJson(actual);
    if (!got.ok) return `expected JSON, got: ${actual}`;
    const where = jsonMismatch(shownJson.value, got.value, '$');
    return where === undefined ? undefined : `${where}\n  got: ${actual}`;
  }
  const got = actual.replace(/\s+$/, '').split('\n');
  const shown = [...expected];
  while (shown.length > 0 && shown[shown.length - 1] === '') shown.pop();
  for (let i = 0; i < Math.max(shown.length, got.length); i++) {
    const e = shown[i];
    const a = got[i];
    if (e === undefined) return `line ${i + 1}: not shown in the README: ${a}`;
    if (a === undefined) return `line ${i + 1}: missing, expected: ${e}`;
    const why = lineMismatch(e, a);
    if (why !== undefined) return `line ${i + 1}: ${why}`;
  }
  return undefined;
}

function lineMismatch(expected: string, actual: string): string | undefined {
  const jsonStart = expected.search(/[[{]/);
  if (jsonStart !== -1) {
    const shown = parseJson(expected.slice(jsonStart));
    if (shown.ok) {
      const prefix = expected.slice(0, jsonStart);
      if (!actual.startsWith(prefix)) return `expected ${expected}\n  got: ${actual}`;
      const got = parseJson(actual.slice(prefix.length));
      if (!got.ok) return `expected JSON after '${prefix}', got: ${actual}`;
      const where = jsonMismatch(shown.value, got.value, '$');
      return where === undefined ? undefined : `${where}\n  got: ${actual}`;
    }
  }
  const pattern = expected
    .split(ANY)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`).test(actual) ? undefined : `expected ${expected}\n  got: ${actual}`;
}

function jsonMismatch(expected: unknown, actual: unknown, path: string): string | undefined {
  if (expected === ANY) return undefined;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    if (expected.length !== actual.length) return `${path}: expected ${expected.length} items, got ${actual.length}`;
    for (let i = 0; i < expected.length; i++) {
      const where = jsonMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (where !== undefined) return where;
    }
    return undefined;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${path}: expected an object, got ${JSON.stringify(actual)}`;
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of new Set([...Object.keys(e), ...Object.keys(a)])) {
      if (!(key in e)) return `${path}.${key}: not shown in the README, got ${JSON.stringify(a[key])}`;
      if (!(key in a)) return `${path}.${key}: missing from the answer`;
      const where = jsonMismatch(e[key], a[key], `${path}.${key}`);
      if (where !== undefined) return where;
    }
    return undefined;
  }
  return Object.is(expected, actual)
    ? undefined
    : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/**
 * The shown output with one pinned value changed, so a test can check that the shown output pins
 * something (an output made only of `<any>` would match every answer). undefined when nothing is
 * pinned.
 */
export function altered(expected: readonly string[]): string[] | undefined {
  const shownJson = parseJson(expected.join('\n'));
  if (shownJson.ok) {
    const changed = alterJson(shownJson.value);
    return changed === undefined ? undefined : [JSON.stringify(changed)];
  }
  const index = expected.findIndex((line) => line.replaceAll(ANY, '').trim() !== '');
  if (index === -1) return undefined;
  return expected.map((line, i) => (i === index ? `${line}~` : line));
}

function alterJson(value: unknown): unknown {
  if (value === ANY) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const changed = alterJson(value[i]);
      if (changed !== undefined) return value.map((v, j) => (j === i ? changed : v));
    }
    // Nothing inside to change: the length is what is pinned.
    return [...value, 0];
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const changed = alterJson(v);
      if (changed !== undefined) return { ...value, [key]: changed };
    }
    // Nothing inside to change: the set of keys is what is pinned.
    return { ...value, '~': 0 };
  }
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string') return `${value}~`;
  if (typeof value === 'boolean') return !value;
  return 0; // null
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false };
  }
}
