/**
 * SCRAM credentials (RFC 5802, SCRAM-SHA-256 by RFC 7677, SCRAM-SHA-512 as Kafka adds it, KIP-84):
 * what a server keeps to check a SCRAM client without knowing the password. StoredKey proves the
 * client (H(ClientKey)); ServerKey lets the server prove itself back. Both are computed once, when
 * a user is added, from PBKDF2 over the password with a random salt.
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';

export const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type ScramMechanism = (typeof SCRAM_MECHANISMS)[number];

/** Kafka's minimum (and kafka-configs.sh's default) iteration count; clients may refuse fewer. */
export const SCRAM_ITERATIONS = 4096;
/** Kafka's upper bound on iterations: a higher count would let a users file stall every login. */
export const MAX_SCRAM_ITERATIONS = 16_384;
const SALT_BYTES = 32;

export interface ScramCredential {
  /** base64 */
  salt: string;
  iterations: number;
  /** base64 of H(HMAC(SaltedPassword, "Client Key")) */
  storedKey: string;
  /** base64 of HMAC(SaltedPassword, "Server Key") */
  serverKey: string;
}

export function digestOf(mechanism: ScramMechanism): 'sha256' | 'sha512' {
  return mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
}

export async function scramCredential(
  mechanism: ScramMechanism,
  password: string,
  iterations = SCRAM_ITERATIONS,
): Promise<ScramCredential> {
  const digest = digestOf(mechanism);
  const salt = randomBytes(SALT_BYTES);
  const keyBytes = digest === 'sha256' ? 32 : 64;
  // RFC 5802 asks for SASLprep; Kafka's clients send the password's UTF-8 as given, and so do we.
  const salted = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(password, 'utf8'), salt, iterations, keyBytes, digest, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
  const clientKey = hmac(digest, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: createHash(digest).update(clientKey).digest('base64'),
    serverKey: hmac(digest, salted, 'Server Key').toString('base64'),
  };
}

export function hmac(digest: 'sha256' | 'sha512', key: Buffer, text: string | Buffer): Buffer {
  return createHmac(digest, key).update(text).digest();
}
