/**
 * Password hashes for HTTP Basic and SASL/PLAIN: scrypt (RFC 7914) with a random salt per user, so
 * that a leaked users file costs an attacker a slow, memory-hard guess per password per user, never
 * a lookup. The parameters are stored beside each hash, so raising them later keeps old entries
 * verifiable. Never the password itself.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * N = 2^15, r = 8, p = 1: OWASP's recommended minimum for scrypt; about 32 MiB of memory and some
 * tens of milliseconds per hash. A verified password is cached (see authenticator.ts), so a client
 * sending Basic credentials on every request does not pay this each time.
 */
export const SCRYPT_PARAMETERS = Object.freeze({ N: 32_768, r: 8, p: 1 });
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Bounds what a crafted users file can make one verification cost (memory is 128 · N · r bytes). */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;

export interface PasswordHash {
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
  /** base64, the derived key */
  hash: string;
}

export async function hashPassword(password: string): Promise<PasswordHash> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, SCRYPT_PARAMETERS);
  return { algorithm: 'scrypt', ...SCRYPT_PARAMETERS, salt: salt.toString('base64'), hash: key.toString('base64') };
}

/** True when `password` is the one `stored` was made from; constant time in the comparison. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await derive(password, Buffer.from(stored.salt, 'base64'), expected.length, stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** The reason `value` is not a usable PasswordHash, or null when it is. */
export function passwordHashProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'must be an object';
  const h = value as Record<string, unknown>;
  if (h.algorithm !== 'scrypt') return 'algorithm must be "scrypt"';
  const { N, r, p } = h;
  if (!Number.isInteger(N) || (N as number) < 2 || (N as number) > MAX_N || ((N as number) & ((N as number) - 1)) !== 0)
    return `N must be a power of two up to ${MAX_N}`;
  if (!Number.isInteger(r) || (r as number) < 1 || (r as number) > MAX_R) return `r must be 1 to ${MAX_R}`;
  if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > MAX_P) return `p must be 1 to ${MAX_P}`;
  if (!isBase64(h.salt, 8)) return 'salt must be base64 of at least 8 bytes';
  if (!isBase64(h.hash, 16)) return 'hash must be base64 of at least 16 bytes';
  return null;
}

export function isBase64(value: unknown, minBytes: number): value is string {
  return (
    typeof value === 'string' &&
    /^[A-Za-z0-9+/]*={0,2}$/.test(value) &&
    Buffer.from(value, 'base64').length >= minBytes &&
    value.length <= 1024
  );
}

function derive(password: string, salt: Buffer, keyBytes: number, params: { N: number; r: number; p: number }) {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r + 1024 };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, keyBytes, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
