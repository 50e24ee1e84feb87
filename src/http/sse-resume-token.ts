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

function pushVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

export function encodeResumeToken(positions: ReadonlyMap<number, number>): string {
  const bytes: number[] = [VERSION];
  pushVarint(bytes, positions.size);
  for (const [partition, offset] of [...positions].sort((a, b) => a[0] - b[0])) {
    pushVarint(bytes, partition);
    pushVarint(bytes, offset);
  }
  return Buffer.from(bytes).toString('base64url');
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
