import { BadRequestError } from '../errors.js';

/**
 * The `id:` of every SSE event: the next offset of every partition of the stream, so a
 * reconnect with `Last-Event-ID` resumes exactly after the last event the client saw.
 *
 * A token is bound to the stream that issued it: its topic (a 32-bit FNV-1a tag of the name, enough
 * to catch a token pasted into the wrong stream, not a secret) and how the stream chose its
 * partitions. Without that binding a token from topic A sent to topic B would seek B's partitions
 * to A's offsets and start every other partition at the end, silently.
 *
 * Compact and URL-safe (it may travel as `?lastEventId=`): base64url of one byte (format 2 in the
 * low nibble, the selection in the high one), the 4-byte topic tag, then unsigned LEB128 varints:
 * partition count, then (partition, offset) pairs. Format 1, before the binding, had only the
 * format byte and the varints; it is still read (see checkResumeToken).
 */
const FORMAT_UNBOUND = 1;
const FORMAT_BOUND = 2;
/** A token longer than this is refused before decoding (bounds the work per request). */
export const MAX_RESUME_TOKEN_CHARS = 16 * 1024;

/**
 * How the issuing stream chose its partitions: named ones (`partitions=`), all of the topic's, or
 * the group's assignment (whose positions a group stream never seeks to: it resumes from commits).
 */
export type StreamSelection = 'named' | 'all' | 'group';
const SELECTION_CODES: Record<StreamSelection, number> = { named: 0, all: 1, group: 2 };
const SELECTIONS: readonly StreamSelection[] = ['named', 'all', 'group'];

/** What a stream writes at the head of each of its tokens, computed once per stream. */
export interface ResumeScope {
  readonly topicTag: number;
  readonly selection: StreamSelection;
  readonly header: Buffer;
}

/** FNV-1a, 32 bits, over the topic name's UTF-8 bytes. */
function topicTagOf(topic: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(topic, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}

export function resumeScope(topic: string, selection: StreamSelection): ResumeScope {
  const topicTag = topicTagOf(topic);
  const header = Buffer.alloc(5);
  header[0] = FORMAT_BOUND | (SELECTION_CODES[selection] << 4);
  header.writeUInt32BE(topicTag, 1);
  return { topicTag, selection, header };
}

/** Scratch space for encoding, grown when a stream has many partitions (one token at a time). */
let scratch = Buffer.allocUnsafe(256);

function putVarint(pos: number, n: number): number {
  let v = n;
  if (v < 0x80000000) {
    while (v >= 0x80) {
      scratch[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
  } else {
    while (v >= 0x80) {
      scratch[pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
  }
  scratch[pos++] = v;
  return pos;
}

function isSorted(keys: Iterable<number>): boolean {
  let previous = -1;
  for (const k of keys) {
    if (k < previous) return false;
    previous = k;
  }
  return true;
}

/**
 * Written once per event per stream, so it avoids the obvious allocations: the scope's header and
 * the varints go into one scratch buffer (at most 8 bytes each for offsets below 2^53), and the pairs
 * are only sorted when the map is not already in partition order (it is, as streams fill it).
 */
export function encodeResumeToken(scope: ResumeScope, positions: ReadonlyMap<number, number>): string {
  const need = scope.header.length + 6 + positions.size * 13;
  if (scratch.length < need) scratch = Buffer.allocUnsafe(need * 2);
  let pos = scope.header.copy(scratch, 0);
  pos = putVarint(pos, positions.size);
  if (isSorted(positions.keys())) {
    for (const [partition, offset] of positions) pos = putVarint(putVarint(pos, partition), offset);
  } else {
    for (const [partition, offset] of [...positions].sort((a, b) => a[0] - b[0]))
      pos = putVarint(putVarint(pos, partition), offset);
  }
  return scratch.toString('base64url', 0, pos);
}

/** A decoded token: its binding (null in format 1) and the next offset of each partition it names. */
export interface ResumeToken {
  scope: Pick<ResumeScope, 'topicTag' | 'selection'> | null;
  positions: Map<number, number>;
}

export function decodeResumeToken(token: string): ResumeToken {
  const fail = (): never => {
    throw new BadRequestError('Last-Event-ID is not a resume token this server issued.');
  };
  if (token.length === 0 || token.length > MAX_RESUME_TOKEN_CHARS || !/^[A-Za-z0-9_-]+$/.test(token)) fail();
  const bytes = Buffer.from(token, 'base64url');
  let pos = 0;
  const next = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= bytes.length) fail();
      const b = bytes[pos++] as number;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    return fail();
  };
  const first = bytes[pos++];
  let scope: ResumeToken['scope'] = null;
  if (first !== FORMAT_UNBOUND) {
    const selection = first !== undefined && (first & 0x0f) === FORMAT_BOUND ? SELECTIONS[first >> 4] : undefined;
    if (selection === undefined || bytes.length < 5) return fail();
    scope = { topicTag: bytes.readUInt32BE(1), selection };
    pos = 5;
  }
  const count = next();
  const positions = new Map<number, number>();
  for (let i = 0; i < count; i++) positions.set(next(), next());
  if (pos !== bytes.length || !Number.isSafeInteger(count)) fail();
  return { scope, positions };
}

function listOf(partitions: Iterable<number>): string {
  return [...partitions].sort((a, b) => a - b).join(',');
}

/**
 * The positions to resume at, when `token` may resume the stream of `topic` over `partitions`
 * chosen as `selection`; else a 400 saying whose token it is. The rules:
 * - another topic's token: refused;
 * - a group stream resumes from the group's committed offsets, so its token's positions are never
 *   sought to: a group stream takes any token of its topic, and a stream without a group refuses a
 *   group stream's token (its positions cover only the partitions the group had assigned);
 * - a stream over all partitions takes a token of an earlier such stream whose partitions are among
 *   its own: partitions added since start as `from` says, as a Kafka consumer's do;
 * - otherwise the token must name exactly the stream's partitions.
 * Format 1 tokens name no topic: they are taken when they name exactly the stream's partitions (a
 * browser that reconnects across the upgrade resumes), and refused otherwise.
 */
export function checkResumeToken(
  token: ResumeToken,
  topic: string,
  selection: StreamSelection,
  partitions: readonly number[],
): Map<number, number> {
  const refuse = (why: string): never => {
    throw new BadRequestError(`Last-Event-ID ${why}; open this stream without it (or with from, offset or timestamp).`);
  };
  const { scope, positions } = token;
  const theirs = listOf(positions.keys());
  if (scope !== null && scope.topicTag !== topicTagOf(topic))
    refuse(`belongs to a stream of another topic, not '${topic}'`);
  if (selection === 'group') return positions;
  if (scope?.selection === 'group') {
    refuse(`belongs to a group stream of '${topic}', which resumes from the group's committed offsets`);
  }
  const mine = new Set(partitions);
  const subset = [...positions.keys()].every((p) => mine.has(p));
  if (scope !== null && scope.selection === 'all' && selection === 'all' && subset) return positions;
  if (subset && positions.size === mine.size) return positions;
  const over = `partitions ${theirs || '(none)'}`;
  return refuse(
    scope === null
      ? `is an older token, bound to no topic, over ${over}, not ${listOf(mine)}`
      : `belongs to a stream over ${over} of '${topic}', not ${listOf(mine)}`,
  );
}
