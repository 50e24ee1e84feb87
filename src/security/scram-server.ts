/**
 * The server side of one SCRAM exchange (RFC 5802 §5), as Kafka runs it over SaslAuthenticate
 * (KIP-84): client-first → server-first → client-final → server-final. No channel binding (Kafka
 * has none: a gs2 header asking for it is refused) and no extensions (`tokenauth`, KIP-48, is not
 * supported). A failed step throws AuthenticationFailedError with a message naming no secret.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationFailedError } from '../errors.js';
import { digestOf, hmac, type ScramCredential, type ScramMechanism } from './scram-credential.js';

/** The longest SCRAM message accepted: real ones are a few hundred bytes. */
const MAX_MESSAGE_BYTES = 4096;
const SERVER_NONCE_BYTES = 24;

export type CredentialLookup = (user: string) => ScramCredential | undefined;

export class ScramServer {
  #state: 'first' | 'final' | 'done' = 'first';
  #user = '';
  #credential: ScramCredential | undefined;
  #clientFirstBare = '';
  #serverFirst = '';
  #nonce = '';
  readonly #digest: 'sha256' | 'sha512';

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: CredentialLookup,
  ) {
    this.#digest = digestOf(mechanism);
  }

  /** The authenticated user name, once `complete`. */
  get user(): string {
    return this.#user;
  }

  get complete(): boolean {
    return this.#state === 'done';
  }

  /** The answer to the client's next message. */
  evaluate(message: Buffer): Buffer {
    if (message.length > MAX_MESSAGE_BYTES) throw this.#failed('SCRAM message too long');
    const text = message.toString('utf8');
    if (this.#state === 'first') return this.#clientFirst(text);
    if (this.#state === 'final') return this.#clientFinal(text);
    throw this.#failed('SCRAM exchange already complete');
  }

  #clientFirst(text: string): Buffer {
    // gs2-header: "n," (no channel binding) or "y," (client supports it, server does not), then an
    // optional authzid "a=...", then ","; the rest is client-first-message-bare.
    const m = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
    if (!m) throw this.#failed('invalid SCRAM client-first message (channel binding is not supported)');
    const bare = m[3] as string;
    const attrs = parseAttributes(bare);
    const user = attrs.get('n');
    const clientNonce = attrs.get('r');
    if (user === undefined || clientNonce === undefined || clientNonce === '' || attrs.has('m'))
      throw this.#failed('invalid SCRAM client-first message');
    if ([...attrs.keys()].some((k) => k !== 'n' && k !== 'r')) throw this.#failed('SCRAM extensions are not supported');
    const name = decodeSaslName(user);
    const authzid = m[2] === undefined ? undefined : decodeSaslName(m[2].slice(2));
    if (authzid !== undefined && authzid !== '' && authzid !== name)
      throw this.#failed('an authorization id other than the user name is not supported');
    this.#credential = this.lookup(name);
    if (this.#credential === undefined) throw this.#failed();
    this.#user = name;
    this.#clientFirstBare = bare;
    this.#nonce = clientNonce + randomBytes(SERVER_NONCE_BYTES).toString('base64url');
    this.#serverFirst = `r=${this.#nonce},s=${this.#credential.salt},i=${this.#credential.iterations}`;
    this.#state = 'final';
    return Buffer.from(this.#serverFirst, 'utf8');
  }

  #clientFinal(text: string): Buffer {
    const credential = this.#credential as ScramCredential;
    const proofAt = text.lastIndexOf(',p=');
    if (proofAt === -1) throw this.#failed('invalid SCRAM client-final message');
    const withoutProof = text.slice(0, proofAt);
    const attrs = parseAttributes(withoutProof);
    // Kafka's ScramSaslServer checks only that the nonce ends with the server's: librdkafka sends
    // its client nonce again in front of the full nonce. The server's random part is still covered.
    const nonce = attrs.get('r');
    if (nonce === undefined || !nonce.endsWith(this.#nonce)) throw this.#failed('SCRAM nonce mismatch');
    // c= carries the gs2 header back, base64: without channel binding that is "n,," or "y,,"
    // (possibly with the authzid); it is covered by the proof through AuthMessage anyway.
    if (attrs.get('c') === undefined) throw this.#failed('invalid SCRAM client-final message');
    const proof = Buffer.from(text.slice(proofAt + 3), 'base64');
    const authMessage = `${this.#clientFirstBare},${this.#serverFirst},${withoutProof}`;
    const storedKey = Buffer.from(credential.storedKey, 'base64');
    const clientSignature = hmac(this.#digest, storedKey, authMessage);
    if (proof.length !== clientSignature.length) throw this.#failed();
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] as number) ^ (clientSignature[i] as number);
    const computed = createHash(this.#digest).update(clientKey).digest();
    if (computed.length !== storedKey.length || !timingSafeEqual(computed, storedKey)) throw this.#failed();
    this.#state = 'done';
    const serverSignature = hmac(this.#digest, Buffer.from(credential.serverKey, 'base64'), authMessage);
    return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
  }

  #failed(why?: string): AuthenticationFailedError {
    this.#state = 'done';
    this.#user = '';
    return new AuthenticationFailedError(
      why ??
        `Authentication failed during authentication due to invalid credentials with SASL mechanism ${this.mechanism}`,
    );
  }
}

/** `k=v,k=v` → map (values may hold `=`; the first `=` splits). */
function parseAttributes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) continue;
    out.set(part.slice(0, 1), part.slice(2));
  }
  return out;
}

/** RFC 5802 saslname: `=2C` is `,` and `=3D` is `=`. */
function decodeSaslName(text: string): string {
  return text.replaceAll('=2C', ',').replaceAll('=3D', '=');
}
