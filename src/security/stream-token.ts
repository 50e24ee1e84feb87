/**
 * Stream tokens: what a browser passes as `?access_token=` to open an SSE stream, since
 * EventSource cannot send an Authorization header. A token names one principal and an expiry and
 * is signed with HMAC-SHA256: with the cluster secret in cluster mode (so any node accepts what
 * another issued, behind a load balancer), else with a random key per process (tokens die with the
 * process, which is fine for minutes-long tokens). Stateless: nothing to store or expire.
 *
 * Why not a cookie: a cookie is sent by the browser on every request to the origin, from any page
 * that makes one, so a page on another site could make requests that carry it (CSRF), and it stays
 * valid as long as the session. A token in the URL is given only to the page that asked for it,
 * for minutes, and accepted only on the SSE GET routes, which change nothing.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationFailedError } from '../errors.js';
import { type Principal, parsePrincipal, principalText } from './principal.js';

export const DEFAULT_STREAM_TOKEN_TTL_MS = 5 * 60_000;
export const MAX_STREAM_TOKEN_TTL_MS = 60 * 60_000;
const PREFIX = 'st1';
const MAX_TOKEN_LENGTH = 2048;

export interface IssuedStreamToken {
  token: string;
  expiresAtMs: number;
}

export class StreamTokenSigner {
  readonly #key: Buffer;

  /** `secret`: the cluster secret; absent, a random key of this process. */
  constructor(secret?: string) {
    this.#key =
      secret === undefined
        ? randomBytes(32)
        : createHmac('sha256', 'samsa stream token key').update(secret, 'utf8').digest();
  }

  issue(principal: Principal, ttlMs: number, nowMs = Date.now()): IssuedStreamToken {
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_STREAM_TOKEN_TTL_MS)
      throw new RangeError(`ttlMs must be 1 to ${MAX_STREAM_TOKEN_TTL_MS}`);
    const expiresAtMs = nowMs + ttlMs;
    const payload = Buffer.from(JSON.stringify({ p: principalText(principal), exp: expiresAtMs })).toString(
      'base64url',
    );
    return { token: `${PREFIX}.${payload}.${this.#mac(payload)}`, expiresAtMs };
  }

  /** The principal a valid, unexpired token names; AuthenticationFailedError otherwise. */
  verify(token: string, nowMs = Date.now()): Principal {
    const invalid = () => new AuthenticationFailedError('Invalid stream token.');
    if (token.length > MAX_TOKEN_LENGTH) throw invalid();
    const [prefix, payload, mac, ...rest] = token.split('.');
    if (prefix !== PREFIX || payload === undefined || mac === undefined || rest.length > 0) throw invalid();
    const expected = Buffer.from(this.#mac(payload), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: { p?: unknown; exp?: unknown };
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    const principal = typeof claims.p === 'string' ? parsePrincipal(claims.p) : undefined;
    if (principal === undefined || typeof claims.exp !== 'number') throw invalid();
    if (claims.exp <= nowMs) throw new AuthenticationFailedError('Stream token expired; ask for a new one.');
    return principal;
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload, 'utf8').digest('base64url');
  }
}
