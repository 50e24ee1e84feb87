import { InvalidPayloadError } from '../errors.js';

/**
 * What a JSON value in a request may be, to be stored as its JSON text and given back the same.
 *
 * - Nesting at most MAX_JSON_DEPTH deep. JSON.parse takes any depth, but JSON.stringify recurses:
 *   a value nested about 4000 deep overflowed the stack inside a request handler (a 500), and one
 *   stored deeper than that could not be rendered for a consumer later.
 * - No number beyond a double: JSON.parse reads `1e400` (or 400 digits) as Infinity, and
 *   JSON.stringify writes Infinity as `null`, which would change the value without a word.
 */

/** Jackson's default nesting limit, which the Confluent REST Proxy parses with. */
export const MAX_JSON_DEPTH = 1000;

/**
 * Text shorter than this cannot hold a value nested deeper than MAX_JSON_DEPTH (each level takes two
 * characters), so callers skip the walk below for it unless the text holds a `null`, where
 * Infinity may have been written.
 */
export const DEEP_JSON_MIN_CHARS = 2 * MAX_JSON_DEPTH;

/**
 * What is wrong with a parsed JSON value, as "<field><path> <problem>", or null when nothing is.
 * Stops descending below MAX_JSON_DEPTH, so it never recurses deeper than that itself, and builds
 * the path only for a value it refuses.
 */
export function jsonValueProblem(value: unknown, field: string): string | null {
  const found = findProblem(value, 0, true);
  if (found === null) return null;
  const path = found.path.reverse().map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`));
  const where = `${field}${path.join('')}`;
  return found.kind === 'number'
    ? `${where} holds a number too large to store exactly as JSON.`
    : `${where} is nested more than ${MAX_JSON_DEPTH} levels deep.`;
}

interface Found {
  kind: 'number' | 'depth';
  /** From the value found up to the top, filled in as the walk returns. */
  path: (string | number)[];
}

/** The first problem in `value` at `depth`: nesting, and non-finite numbers when `numbers`. */
function findProblem(value: unknown, depth: number, numbers: boolean): Found | null {
  if (typeof value === 'number') return !numbers || Number.isFinite(value) ? null : { kind: 'number', path: [] };
  if (value === null || typeof value !== 'object') return null;
  if (depth >= MAX_JSON_DEPTH) return { kind: 'depth', path: [] };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findProblem(value[i], depth + 1, numbers);
      if (found !== null) {
        found.path.push(i);
        return found;
      }
    }
    return null;
  }
  for (const key in value) {
    const found = findProblem((value as Record<string, unknown>)[key], depth + 1, numbers);
    if (found !== null) {
      found.path.push(key);
      return found;
    }
  }
  return null;
}

/**
 * JSON.stringify of a parsed value from a request, refused (422, 42206) when it could not be stored
 * exactly: `problemOf` says why (jsonValueProblem over the value, or over each of its elements).
 * The walk runs only when the text could hide a problem, or when stringify itself overflowed.
 */
export function storableJsonText(value: unknown, problemOf: () => string | null): string {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    const problem = problemOf();
    throw problem === null ? err : new InvalidPayloadError(problem);
  }
  if (text.length >= DEEP_JSON_MIN_CHARS || text.includes('null')) {
    const problem = problemOf();
    if (problem !== null) throw new InvalidPayloadError(problem);
  }
  return text;
}

/** Whether `value` nests arrays or objects more than MAX_JSON_DEPTH deep (stops looking below that). */
export function nestedTooDeep(value: unknown): boolean {
  return findProblem(value, 0, false) !== null;
}
