/**
 * Who a request is, for both edges: the one object that checks credentials against the users file
 * (Basic, API keys, SASL/PLAIN and SCRAM), JWTs and stream tokens, and that reloads the users file
 * and the JWKS file on demand (SIGHUP, or the users file changing) without a restart. Authentication
 * is on when a users file or a JWT key is configured; off, every request is `User:ANONYMOUS`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { AuthenticationFailedError } from '../errors.js';
import { apiKeyDigest, looksLikeApiKey } from './api-key.js';
import { type JwtOptions, JwtVerifier } from './jwt-verifier.js';
import { hashPassword, type PasswordHash, verifyPassword } from './password-hash.js';
import { type Principal, userPrincipal } from './principal.js';
import { OAuthBearerServer, PlainServer, type SaslServer, ScramSaslServer } from './sasl-server.js';
import { SCRAM_MECHANISMS, type ScramMechanism } from './scram-credential.js';
import { type IssuedStreamToken, StreamTokenSigner } from './stream-token.js';
import { apiKeyPrincipal, readUsersFile, type UsersFile } from './users-file.js';

export interface AuthenticatorOptions {
  /** Path of the users file; empty: none. */
  usersFile: string;
  jwt: JwtOptions;
  /** Cluster mode: stream tokens are signed with a key derived from it, so every node accepts them. */
  clusterSecret?: string;
}

/** What the users file offers the Kafka listener; OAUTHBEARER comes with any bearer token (JWT or API key). */
const PASSWORD_MECHANISMS = ['PLAIN', ...SCRAM_MECHANISMS] as const;
const OAUTHBEARER = 'OAUTHBEARER';

/**
 * A password checked once is remembered (as an HMAC under a random key of this process, never the
 * password) for this long, so Basic on every request costs one scrypt per user per period, not one
 * per request. Bounded in entries; cleared on reload, so a removed user or changed password takes
 * effect at once.
 */
const VERIFIED_PASSWORD_TTL_MS = 10 * 60_000;
const MAX_VERIFIED_PASSWORDS = 10_000;
/**
 * Most scrypt checks queued at once (each takes ~32 MiB and tens of ms on libuv's pool): a flood of
 * wrong passwords is refused at once beyond this, instead of queueing memory and time without bound.
 */
const MAX_PENDING_PASSWORD_CHECKS = 32;

export class Authenticator {
  #users: UsersFile | null = null;
  #apiKeys = new Map<string, Principal>();
  readonly #verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  readonly #cacheKey = randomBytes(32);
  readonly #jwt: JwtVerifier | null;
  readonly #signer: StreamTokenSigner;
  readonly #options: AuthenticatorOptions;
  /** Verified against for unknown users, so a wrong name takes as long as a wrong password. */
  #decoy: PasswordHash | null = null;
  #pendingPasswordChecks = 0;

  private constructor(options: AuthenticatorOptions, jwt: JwtVerifier | null) {
    this.#options = options;
    this.#jwt = jwt;
    this.#signer = new StreamTokenSigner(options.clusterSecret);
  }

  static async create(options: AuthenticatorOptions): Promise<Authenticator> {
    const { jwt } = options;
    const verifier = jwt.secret !== '' || jwt.jwksFile !== '' ? await JwtVerifier.create(jwt) : null;
    const authenticator = new Authenticator(options, verifier);
    await authenticator.reload();
    return authenticator;
  }

  /** An authenticator with nothing configured: everyone is ANONYMOUS. */
  static disabled(): Authenticator {
    return new Authenticator(
      {
        usersFile: '',
        jwt: { secret: '', jwksFile: '', issuer: '', audience: '', clockSkewMs: 0, principalClaim: 'sub' },
      },
      null,
    );
  }

  get enabled(): boolean {
    return this.#options.usersFile !== '' || this.#jwt !== null;
  }

  /** The HTTP schemes a 401 offers in `WWW-Authenticate`. */
  get httpSchemes(): readonly ('Basic' | 'Bearer')[] {
    if (!this.enabled) return [];
    return this.#options.usersFile !== '' ? ['Basic', 'Bearer'] : ['Bearer'];
  }

  /**
   * The SASL mechanisms the Kafka listener offers: PLAIN and SCRAM with a users file, OAUTHBEARER
   * whenever authentication is on (JWTs, and the users file's API keys); none when it is off.
   */
  get saslMechanisms(): readonly string[] {
    if (!this.enabled) return [];
    return this.#options.usersFile === '' ? [OAUTHBEARER] : [...PASSWORD_MECHANISMS, OAUTHBEARER];
  }

  /**
   * Re-reads the users file and the JWKS file. When a file is broken the one in use stays and the
   * error is thrown for the caller to log, so a bad edit never locks everyone out.
   */
  async reload(): Promise<void> {
    const failures: string[] = [];
    if (this.#options.usersFile !== '') {
      try {
        const users = await readUsersFile(this.#options.usersFile);
        this.#users = users;
        this.#apiKeys = new Map(users.apiKeys.map((k) => [k.sha256, apiKeyPrincipal(k)]));
        this.#verified.clear();
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    if (this.#jwt) {
      try {
        await this.#jwt.reload();
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    if (failures.length > 0) throw new Error(failures.join('; '));
  }

  /** HTTP Basic and SASL/PLAIN. */
  async password(user: string, password: string): Promise<Principal> {
    const failed = () => new AuthenticationFailedError('Invalid user name or password.');
    if (this.#users === null) throw failed();
    const cacheKey = createHmac('sha256', this.#cacheKey).update(user).update('\0').update(password).digest('base64');
    const cached = this.#verified.get(cacheKey);
    const now = Date.now();
    if (cached !== undefined && cached.expiresAtMs > now) return cached.principal;
    const users = this.#users;
    const entry = Object.hasOwn(users.users, user) ? users.users[user] : undefined;
    if (this.#pendingPasswordChecks >= MAX_PENDING_PASSWORD_CHECKS)
      throw new AuthenticationFailedError('Too many password checks in progress; retry shortly.');
    this.#pendingPasswordChecks++;
    let matches: boolean;
    try {
      this.#decoy ??= await hashPassword(randomBytes(16).toString('hex'));
      matches = await verifyPassword(password, entry?.password ?? this.#decoy);
    } finally {
      this.#pendingPasswordChecks--;
    }
    if (entry === undefined || !matches) throw failed();
    // The file may have been reloaded while scrypt ran: answer from the file the check was made against.
    const principal = userPrincipal(user);
    if (this.#users === users) {
      if (this.#verified.size >= MAX_VERIFIED_PASSWORDS) this.#verified.clear();
      this.#verified.set(cacheKey, { principal, expiresAtMs: now + VERIFIED_PASSWORD_TTL_MS });
    }
    return principal;
  }

  /** `Authorization: Bearer`: an API key (`samsa_...`) from the users file, else a JWT. */
  async bearer(token: string): Promise<Principal> {
    if (looksLikeApiKey(token)) {
      const principal = this.#apiKeys.get(apiKeyDigest(token));
      if (principal === undefined) throw new AuthenticationFailedError('Invalid API key.');
      return principal;
    }
    if (this.#jwt === null)
      throw new AuthenticationFailedError('Invalid bearer token: JWT authentication is not configured.');
    return this.#jwt.verify(token);
  }

  streamToken(token: string): Principal {
    return this.#signer.verify(token);
  }

  issueStreamToken(principal: Principal, ttlMs: number): IssuedStreamToken {
    return this.#signer.issue(principal, ttlMs);
  }

  /** A fresh exchange for `mechanism`, or undefined when it is not offered. */
  saslServer(mechanism: string): SaslServer | undefined {
    if (!this.saslMechanisms.includes(mechanism)) return undefined;
    if (mechanism === 'PLAIN') return new PlainServer((user, password) => this.password(user, password));
    if (mechanism === OAUTHBEARER) return new OAuthBearerServer((token) => this.bearer(token));
    const scram = mechanism as ScramMechanism;
    return new ScramSaslServer(scram, (user) => {
      const users = this.#users;
      return users !== null && Object.hasOwn(users.users, user) ? users.users[user]?.scram[scram] : undefined;
    });
  }
}
