import { BadRequestError } from '../errors.js';

/**
 * The `id:` of every SSE event: the next offset of every partition of the stream, so a
 * reconnect with `Last-Event-ID` resumes exactly after the last event the client saw.
 * Compact and URL-safe (it may travel as `?lastEventId=`): base64url of a version byte, then
 * unsigned LEB128 varints: partition count, then (partition, offset) pairs.
 */
const VERSION = 1;
/** A token longer than this is refused before decoding (bounds the work per request). */
export const MAX_RESUME_TOKEN_CHARS = 16 * 1024;

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
 * Written once per event per stream, so it avoids the obvious allocations: varints go into one
 * scratch buffer (at most 8 bytes each for offsets below 2^53), and the pairs are only sorted when
 * the map is not already in partition order (it is, as streams fill it).
 */
export function encodeResumeToken(positions: ReadonlyMap<number, number>): string {
  const need = 6 + positions.size * 13;
  if (scratch.length < need) scratch = Buffer.allocUnsafe(need * 2);
  scratch[0] = VERSION;
  let pos = putVarint(1, positions.size);
  if (isSorted(positions.keys())) {
    for (const [partition, offset] of positions) pos = putVarint(putVarint(pos, partition), offset);
  } else {
    for (const [partition, offset] of [...positions].sort((a, b) => a[0] - b[0]))
      pos = putVarint(putVarint(pos, partition), offset);
  }
  return scratch.toString('base64url', 0, pos);
}

export function decodeResumeToken(token: string): Map<number, number> {
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
  if (bytes[pos++] !== VERSION) fail();
  const count = next();
  const out = new Map<number, number>();
  for (let i = 0; i < count; i++) out.set(next(), next());
  if (pos !== bytes.length || !Number.isSafeInteger(count)) fail();
  return out;
}
