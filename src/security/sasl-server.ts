/**
 * The server side of one SASL exchange on a Kafka connection, whatever the mechanism: PLAIN
 * (RFC 4616, one message `authzid NUL user NUL password`, checked against the users file's scrypt
 * hash), SCRAM-SHA-256/512 (scram-server.ts), or OAUTHBEARER (RFC 7628, KIP-255: a bearer token,
 * a JWT or an API key, checked as `Authorization: Bearer` is over HTTP). The Kafka listener feeds it the client's tokens,
 * from SaslAuthenticate requests or raw frames (KIP-152), until it is complete.
 */
import { AuthenticationFailedError } from '../errors.js';
import { type Principal, userPrincipal } from './principal.js';
import type { ScramCredential, ScramMechanism } from './scram-credential.js';
import { ScramServer } from './scram-server.js';

export interface SaslServer {
  readonly mechanism: string;
  /** The answer to the client's next token; AuthenticationFailedError ends the exchange. */
  evaluate(token: Buffer): Promise<Buffer>;
  /** The authenticated principal once the exchange succeeded; undefined before. */
  readonly principal: Principal | undefined;
}

/** Longest PLAIN message: three fields of at most a few hundred bytes each. */
const MAX_PLAIN_BYTES = 4096;

export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN';
  principal: Principal | undefined;
  #used = false;

  constructor(private readonly verify: (user: string, password: string) => Promise<Principal>) {}

  async evaluate(token: Buffer): Promise<Buffer> {
    if (this.#used) throw new AuthenticationFailedError('SASL/PLAIN takes one message.');
    this.#used = true;
    if (token.length > MAX_PLAIN_BYTES) throw new AuthenticationFailedError('SASL/PLAIN message too long.');
    const parts = token.toString('utf8').split('\0');
    if (parts.length !== 3)
      throw new AuthenticationFailedError('Invalid SASL/PLAIN message: expected authzid NUL user NUL password.');
    const [authzid, user, password] = parts as [string, string, string];
    // Kafka's PlainSaslServer: an authorization id, when given, must be the user itself.
    if (authzid !== '' && authzid !== user)
      throw new AuthenticationFailedError('SASL/PLAIN: an authorization id other than the user name is not supported.');
    this.principal = await this.verify(user, password);
    return Buffer.alloc(0);
  }
}

/** Longest OAUTHBEARER message: a JWT of a few KiB in a little framing. */
const MAX_OAUTHBEARER_BYTES = 16 * 1024;

export class OAuthBearerServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER';
  principal: Principal | undefined;
  #used = false;

  constructor(private readonly verify: (token: string) => Promise<Principal>) {}

  async evaluate(message: Buffer): Promise<Buffer> {
    if (this.#used) throw new AuthenticationFailedError('SASL/OAUTHBEARER takes one message.');
    this.#used = true;
    if (message.length > MAX_OAUTHBEARER_BYTES)
      throw new AuthenticationFailedError('SASL/OAUTHBEARER message too long.');
    // gs2-header "n,[a=authzid]," then key=value pairs, each ended by 0x01, and a final 0x01.
    const text = message.toString('utf8');
    const SEP = String.fromCharCode(1);
    const headerEnd = text.indexOf(',', 2);
    if (!text.startsWith('n,') || headerEnd === -1 || text[headerEnd + 1] !== SEP || !text.endsWith(SEP + SEP))
      throw new AuthenticationFailedError('Invalid SASL/OAUTHBEARER message.');
    const authzField = text.slice(2, headerEnd);
    if (authzField !== '' && !authzField.startsWith('a='))
      throw new AuthenticationFailedError('Invalid SASL/OAUTHBEARER message.');
    const auth = text
      .slice(headerEnd + 2, -2)
      .split(SEP)
      .find((kv) => kv.startsWith('auth='))
      ?.slice('auth='.length);
    const token = auth !== undefined && /^bearer /i.test(auth) ? auth.slice('bearer '.length).trim() : '';
    if (token === '') throw new AuthenticationFailedError('SASL/OAUTHBEARER message without auth=Bearer <token>.');
    const principal = await this.verify(token);
    const authzid = authzField === '' ? undefined : authzField.slice(2);
    if (authzid !== undefined && authzid !== '' && authzid !== principal.name)
      throw new AuthenticationFailedError('SASL/OAUTHBEARER: an authorization id other than the token’s principal.');
    this.principal = principal;
    return Buffer.alloc(0);
  }
}

export class ScramSaslServer implements SaslServer {
  readonly #scram: ScramServer;
  principal: Principal | undefined;

  constructor(
    readonly mechanism: ScramMechanism,
    lookup: (user: string) => ScramCredential | undefined,
  ) {
    this.#scram = new ScramServer(mechanism, lookup);
  }

  async evaluate(token: Buffer): Promise<Buffer> {
    const answer = this.#scram.evaluate(token);
    if (this.#scram.complete) this.principal = userPrincipal(this.#scram.user);
    return answer;
  }
}
