/**
 * Static API keys: long random secrets a service sends as `Authorization: Bearer <key>`. Only a
 * SHA-256 of each key is stored (a key has 256 random bits, so a fast hash is enough: there is no
 * dictionary to guess from); the key itself is printed once, when it is created.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Marks a bearer token as an API key rather than a JWT, and makes a leaked key easy to grep for. */
export const API_KEY_PREFIX = 'samsa_';
const KEY_BYTES = 32;

export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(KEY_BYTES).toString('base64url')}`;
}

export function apiKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function looksLikeApiKey(token: string): boolean {
  return token.startsWith(API_KEY_PREFIX);
}
