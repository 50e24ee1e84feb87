/**
 * The users file (`--users-file`): who may authenticate, on the HTTP edge (Basic, API keys) and the
 * Kafka listener (SASL/PLAIN, SCRAM-SHA-256/512). JSON, written by `samsa users ...`, readable by
 * hand:
 *
 *   { "version": 1,
 *     "users": { "alice": { "password": { "algorithm": "scrypt", "N": 32768, "r": 8, "p": 1,
 *                                         "salt": "<base64>", "hash": "<base64>" },
 *                           "scram": { "SCRAM-SHA-256": { "salt", "iterations", "storedKey", "serverKey" },
 *                                      "SCRAM-SHA-512": { ... } } } },
 *     "apiKeys": [ { "principal": "User:alice", "sha256": "<hex>", "createdAt": "<ISO time>" } ] }
 *
 * Nothing in it is a secret a client could send back: hashes, SCRAM keys and key digests only. It
 * is still written with mode 0600, since its hashes can be attacked offline.
 */
import { chmod, readFile, stat } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../storage/atomic-file.js';
import { apiKeyDigest, newApiKey } from './api-key.js';
import { hashPassword, isBase64, type PasswordHash, passwordHashProblem } from './password-hash.js';
import { type Principal, parsePrincipal, principalText, userPrincipal } from './principal.js';
import {
  MAX_SCRAM_ITERATIONS,
  SCRAM_ITERATIONS,
  SCRAM_MECHANISMS,
  type ScramCredential,
  type ScramMechanism,
  scramCredential,
} from './scram-credential.js';

export interface UserEntry {
  password: PasswordHash;
  scram: Partial<Record<ScramMechanism, ScramCredential>>;
}

export interface ApiKeyEntry {
  principal: string;
  /** hex SHA-256 of the key */
  sha256: string;
  createdAt: string;
}

export interface UsersFile {
  version: 1;
  users: Record<string, UserEntry>;
  apiKeys: ApiKeyEntry[];
}

/** Bounds on what the server reads: a users file is small; anything near these is a mistake. */
export const MAX_USERS_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_USER_NAME_LENGTH = 255;
export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export class UsersFileError extends Error {}

export function emptyUsersFile(): UsersFile {
  return { version: 1, users: {}, apiKeys: [] };
}

/**
 * Names are what `User:<name>` carries into ACLs and logs: printable, no `:` or `,` (SCRAM's
 * attribute separators; `=` must be escaped there), and not ANONYMOUS, the principal of no credentials.
 */
export function userNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > MAX_USER_NAME_LENGTH) return `must be 1 to ${MAX_USER_NAME_LENGTH} characters`;
  if (!/^[A-Za-z0-9._@+-]+$/.test(name)) return 'may hold only letters, digits and . _ @ + -';
  if (name === 'ANONYMOUS') return 'ANONYMOUS is the principal of requests without credentials';
  return null;
}

export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `must be at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > MAX_PASSWORD_LENGTH) return `must be at most ${MAX_PASSWORD_LENGTH} characters`;
  return null;
}

export async function readUsersFile(path: string): Promise<UsersFile> {
  let text: string;
  try {
    const info = await stat(path);
    if (info.size > MAX_USERS_FILE_BYTES) throw new UsersFileError(`${path} is over ${MAX_USERS_FILE_BYTES} bytes`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof UsersFileError) throw err;
    throw new UsersFileError(`cannot read users file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsersFileError(`users file ${path} is not JSON: ${(err as Error).message}`);
  }
  return checkUsersFile(json, path);
}

/** `samsa users add` on a file that does not exist yet starts an empty one. */
export async function readUsersFileOrEmpty(path: string): Promise<UsersFile> {
  try {
    await stat(path);
  } catch {
    return emptyUsersFile();
  }
  return readUsersFile(path);
}

export async function writeUsersFile(path: string, file: UsersFile): Promise<void> {
  await writeFileAtomicAsync(path, `${JSON.stringify(file, null, 2)}\n`);
  await chmod(path, 0o600);
}

/** Adds or replaces `name`, computing its scrypt hash and both SCRAM credentials from `password`. */
export async function addUser(file: UsersFile, name: string, password: string): Promise<UsersFile> {
  const nameProblem = userNameProblem(name);
  if (nameProblem) throw new UsersFileError(`user name ${nameProblem}`);
  const pwProblem = passwordProblem(password);
  if (pwProblem) throw new UsersFileError(`password ${pwProblem}`);
  const [hash, sha256, sha512] = await Promise.all([
    hashPassword(password),
    scramCredential('SCRAM-SHA-256', password, SCRAM_ITERATIONS),
    scramCredential('SCRAM-SHA-512', password, SCRAM_ITERATIONS),
  ]);
  return {
    ...file,
    users: { ...file.users, [name]: { password: hash, scram: { 'SCRAM-SHA-256': sha256, 'SCRAM-SHA-512': sha512 } } },
  };
}

/** Removes the user and every API key of theirs; false when there was no such user or key. */
export function removeUser(file: UsersFile, name: string): { file: UsersFile; removed: boolean } {
  const principal = principalText(userPrincipal(name));
  const users = { ...file.users };
  const had = name in users;
  delete users[name];
  const apiKeys = file.apiKeys.filter((k) => k.principal !== principal);
  return { file: { ...file, users, apiKeys }, removed: had || apiKeys.length !== file.apiKeys.length };
}

/** A new API key for `User:<name>`; the key is returned once and only its digest is kept. */
export function addApiKey(file: UsersFile, name: string, now = new Date()): { file: UsersFile; key: string } {
  const nameProblem = userNameProblem(name);
  if (nameProblem) throw new UsersFileError(`user name ${nameProblem}`);
  const key = newApiKey();
  const entry: ApiKeyEntry = {
    principal: principalText(userPrincipal(name)),
    sha256: apiKeyDigest(key),
    createdAt: now.toISOString(),
  };
  return { file: { ...file, apiKeys: [...file.apiKeys, entry] }, key };
}

function checkUsersFile(json: unknown, path: string): UsersFile {
  const fail = (where: string, problem: string): never => {
    throw new UsersFileError(`users file ${path}: ${where} ${problem}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return fail('the document', 'must be an object');
  const doc = json as Record<string, unknown>;
  if (doc.version !== 1) fail('version', 'must be 1');
  const users = doc.users ?? {};
  if (typeof users !== 'object' || users === null || Array.isArray(users)) fail('users', 'must be an object');
  const out = emptyUsersFile();
  for (const [name, value] of Object.entries(users as Record<string, unknown>)) {
    const problem = userNameProblem(name);
    if (problem) fail(`user name '${name.slice(0, 64)}'`, problem);
    if (typeof value !== 'object' || value === null) fail(`users.${name}`, 'must be an object');
    const entry = value as Record<string, unknown>;
    const hashProblem = passwordHashProblem(entry.password);
    if (hashProblem) fail(`users.${name}.password`, hashProblem);
    const scram: Partial<Record<ScramMechanism, ScramCredential>> = {};
    const given = (entry.scram ?? {}) as Record<string, unknown>;
    if (typeof given !== 'object' || given === null) fail(`users.${name}.scram`, 'must be an object');
    for (const mechanism of SCRAM_MECHANISMS) {
      const c = given[mechanism] as Record<string, unknown> | undefined;
      if (c === undefined) continue;
      const where = `users.${name}.scram.${mechanism}`;
      if (typeof c !== 'object' || c === null) fail(where, 'must be an object');
      if (!isBase64(c.salt, 8)) fail(`${where}.salt`, 'must be base64 of at least 8 bytes');
      if (!Number.isInteger(c.iterations) || (c.iterations as number) < SCRAM_ITERATIONS)
        fail(`${where}.iterations`, `must be an integer from ${SCRAM_ITERATIONS}`);
      if ((c.iterations as number) > MAX_SCRAM_ITERATIONS)
        fail(`${where}.iterations`, `must be at most ${MAX_SCRAM_ITERATIONS}`);
      if (!isBase64(c.storedKey, 32)) fail(`${where}.storedKey`, 'must be base64 of at least 32 bytes');
      if (!isBase64(c.serverKey, 32)) fail(`${where}.serverKey`, 'must be base64 of at least 32 bytes');
      scram[mechanism] = c as unknown as ScramCredential;
    }
    out.users[name] = { password: entry.password as PasswordHash, scram };
  }
  const keys = doc.apiKeys ?? [];
  if (!Array.isArray(keys)) fail('apiKeys', 'must be an array');
  (keys as unknown[]).forEach((k, i) => {
    const key = k as Record<string, unknown>;
    if (typeof key !== 'object' || key === null) fail(`apiKeys[${i}]`, 'must be an object');
    const principal = typeof key.principal === 'string' ? parsePrincipal(key.principal) : undefined;
    if (principal === undefined || userNameProblem(principal.name) !== null)
      fail(`apiKeys[${i}].principal`, 'must be User:<name> with a valid name');
    if (typeof key.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(key.sha256))
      fail(`apiKeys[${i}].sha256`, 'must be 64 lowercase hex digits');
    out.apiKeys.push({
      principal: key.principal as string,
      sha256: key.sha256 as string,
      createdAt: typeof key.createdAt === 'string' ? key.createdAt : '',
    });
  });
  return out;
}

/** The principal named by an API key entry (checked when the file was read). */
export function apiKeyPrincipal(entry: ApiKeyEntry): Principal {
  return parsePrincipal(entry.principal) as Principal;
}
