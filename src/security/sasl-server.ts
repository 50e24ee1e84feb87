/**
 * The server side of one SASL exchange on a Kafka connection, whatever the mechanism: PLAIN
 * (RFC 4616, one message `authzid NUL user NUL password`, checked against the users file's scrypt
 * hash) or SCRAM-SHA-256/512 (scram-server.ts). The Kafka listener feeds it the client's tokens,
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
