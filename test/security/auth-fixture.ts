/**
 * A `samsa serve` child process with authentication on: a users file (alice with a password and an
 * API key, bob with a password), an HS256 JWT secret and a JWKS file of one RS256 and one ES256
 * public key, all made at test time. Tests sign their own JWTs with the private halves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import { addApiKey, addUser, emptyUsersFile, writeUsersFile } from '../../src/security/users-file.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

export const ALICE_PASSWORD = 'alice-correct-horse';
export const BOB_PASSWORD = 'bob-battery-staple';
export const JWT_SECRET = 'jwt-secret-for-tests-0123456789abcdef';
export const ISSUER = 'https://idp.example';
export const AUDIENCE = 'samsa';

export interface AuthServer {
  server: ServerProcess;
  dir: string;
  usersFile: string;
  aliceKey: string;
  rsaKey: CryptoKey;
  ecKey: CryptoKey;
  kafkaPort?: number;
  /** Every secret the test handed the server or its clients: none may appear in the logs. */
  secrets(): string[];
  stop(): Promise<void>;
}

export async function startAuthServer(name: string, opts: { kafka?: boolean } = {}): Promise<AuthServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `samsa-${name}-`));
  const usersFile = path.join(dir, 'users.json');
  let users = await addUser(emptyUsersFile(), 'alice', ALICE_PASSWORD);
  users = await addUser(users, 'bob', BOB_PASSWORD);
  const withKey = addApiKey(users, 'alice');
  await writeUsersFile(usersFile, withKey.file);

  const rsa = await generateKeyPair('RS256');
  const ec = await generateKeyPair('ES256');
  const jwksFile = path.join(dir, 'jwks.json');
  const keys = [
    { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
    { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
  ];
  fs.writeFileSync(jwksFile, JSON.stringify({ keys }));

  const extra = [
    '--users-file',
    usersFile,
    '--jwt-secret',
    JWT_SECRET,
    '--jwt-jwks-file',
    jwksFile,
    '--jwt-issuer',
    ISSUER,
    '--jwt-audience',
    AUDIENCE,
    '--jwt-clock-skew-ms',
    '1000',
    ...(opts.kafka ? ['--kafka-port', String(await freePort())] : []),
  ];
  const server = await startServer(path.join(dir, 'data'), extra);
  return {
    server,
    dir,
    usersFile,
    aliceKey: withKey.key,
    rsaKey: rsa.privateKey,
    ecKey: ec.privateKey,
    ...(server.kafkaPort !== undefined ? { kafkaPort: server.kafkaPort } : {}),
    secrets: () => [ALICE_PASSWORD, BOB_PASSWORD, JWT_SECRET, withKey.key],
    stop: async () => {
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
