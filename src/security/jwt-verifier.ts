/**
 * Bearer JWTs (RFC 7519) from an identity provider, verified with `jose`: HS256 against a shared
 * secret (`--jwt-secret`), RS256 and ES256 against the public keys of a JWKS file
 * (`--jwt-jwks-file`, re-read on reload). The header's `alg` must be one of those the configured
 * keys allow, so `alg: none` and an RS256 key used as an HMAC secret are both refused; `exp` is
 * required (a token valid forever is a password that cannot be changed); `nbf`, `iss` and `aud`
 * are checked when configured, with `--jwt-clock-skew-ms` of tolerance. The principal is
 * `User:<claim>`, the claim `sub` unless `--jwt-principal-claim` names another.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { AuthenticationFailedError } from '../errors.js';
import { type Principal, userPrincipal } from './principal.js';

export interface JwtOptions {
  /** HS256 shared secret; empty: none. */
  secret: string;
  /** Path of a JWKS file (`{"keys":[...]}`) of RS256/ES256 public keys; empty: none. */
  jwksFile: string;
  issuer: string;
  audience: string;
  clockSkewMs: number;
  principalClaim: string;
}

/** A JWT larger than this is refused unread (headers of a few KiB are normal). */
const MAX_TOKEN_LENGTH = 16 * 1024;
const MAX_JWKS_FILE_BYTES = 1024 * 1024;
const MAX_PRINCIPAL_LENGTH = 255;
/**
 * A token verified once is remembered (by its SHA-256) until it expires, at most this long, so a
 * client sending the same JWT on every request pays one signature check, not one per request.
 * Bounded in entries; cleared when the keys are reloaded.
 */
const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
const MAX_VERIFIED_TOKENS = 10_000;
/** HS256 with a short secret is guessable offline from any one token (RFC 7518 §3.2: at least the hash size). */
export const MIN_JWT_SECRET_BYTES = 32;

export class JwtVerifier {
  #jwks: JWTVerifyGetKey | null = null;
  readonly #secret: Uint8Array | null;
  readonly #verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  readonly #options: JwtOptions;

  private constructor(options: JwtOptions) {
    this.#options = options;
    this.#secret = options.secret === '' ? null : new TextEncoder().encode(options.secret);
  }

  /** Reads the JWKS file, if any; throws an Error naming the file when it is unusable. */
  static async create(options: JwtOptions): Promise<JwtVerifier> {
    if (options.secret !== '' && Buffer.byteLength(options.secret) < MIN_JWT_SECRET_BYTES)
      throw new Error(`--jwt-secret must be at least ${MIN_JWT_SECRET_BYTES} bytes`);
    const verifier = new JwtVerifier(options);
    await verifier.reload();
    return verifier;
  }

  /** Re-reads the JWKS file (key rotation); on failure the keys in use stay. */
  async reload(): Promise<void> {
    if (this.#options.jwksFile === '') return;
    this.#jwks = createLocalJWKSet(await readJwks(this.#options.jwksFile));
    // A key removed from the file must stop admitting the tokens it signed.
    this.#verified.clear();
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationFailedError('Bearer token is too long.');
    const digest = createHash('sha256').update(token).digest('base64');
    const now = Date.now();
    const cached = this.#verified.get(digest);
    if (cached !== undefined && cached.expiresAtMs > now) return cached.principal;
    const { principal, expSeconds } = await this.#verifyToken(token);
    // Remembered until its exp (plus the tolerated skew, as a fresh check would allow), at most the TTL.
    const expiresAtMs = Math.min(expSeconds * 1000 + this.#options.clockSkewMs, now + VERIFIED_TOKEN_TTL_MS);
    if (this.#verified.size >= MAX_VERIFIED_TOKENS) this.#verified.clear();
    this.#verified.set(digest, { principal, expiresAtMs });
    return principal;
  }

  async #verifyToken(token: string): Promise<{ principal: Principal; expSeconds: number }> {
    const algorithms = [...(this.#secret ? ['HS256'] : []), ...(this.#jwks ? ['RS256', 'ES256'] : [])];
    const options: JWTVerifyOptions = {
      algorithms,
      clockTolerance: Math.round(this.#options.clockSkewMs / 1000),
      requiredClaims: ['exp'],
      ...(this.#options.issuer === '' ? {} : { issuer: this.#options.issuer }),
      ...(this.#options.audience === '' ? {} : { audience: this.#options.audience }),
    };
    const secret = this.#secret;
    const jwks = this.#jwks;
    const getKey: JWTVerifyGetKey = async (header, input) => {
      if (header.alg === 'HS256' && secret) return secret;
      if (header.alg !== 'HS256' && jwks) return jwks(header, input);
      throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
    };
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, getKey, options));
    } catch (err) {
      throw new AuthenticationFailedError(`Bearer token rejected: ${reasonOf(err)}`);
    }
    const name = payload[this.#options.principalClaim];
    if (typeof name !== 'string' || name === '' || name.length > MAX_PRINCIPAL_LENGTH || name === 'ANONYMOUS')
      throw new AuthenticationFailedError(
        `Bearer token rejected: claim '${this.#options.principalClaim}' must be a principal name (1 to ${MAX_PRINCIPAL_LENGTH} characters).`,
      );
    return { principal: userPrincipal(name), expSeconds: payload.exp as number };
  }
}

async function readJwks(path: string): Promise<JSONWebKeySet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read JWKS file ${path}: ${(err as Error).message}`);
  }
  if (text.length > MAX_JWKS_FILE_BYTES) throw new Error(`JWKS file ${path} is over ${MAX_JWKS_FILE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`JWKS file ${path} is not JSON: ${(err as Error).message}`);
  }
  const keys = (json as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`JWKS file ${path} must be {"keys":[...]} with a key`);
  for (const key of keys as Array<Record<string, unknown>>) {
    // A private key in the file would mean whoever can read it can mint tokens: refuse it outright.
    if (typeof key !== 'object' || key === null || 'd' in key)
      throw new Error(`JWKS file ${path} must hold public keys only`);
  }
  return json as JSONWebKeySet;
}

/** What to tell the client: jose's codes, in words, without echoing the token. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'expired.';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'not valid yet.';
    if (err.claim === 'iss') return 'wrong issuer.';
    if (err.claim === 'aud') return 'wrong audience.';
    if (err.claim === 'exp') return 'it has no expiry (exp).';
    return `claim '${err.claim}' is invalid.`;
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'its algorithm is not allowed.';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed.';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the JWKS file matches it.';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'it is not a valid JWT.';
  return 'it cannot be verified.';
}
