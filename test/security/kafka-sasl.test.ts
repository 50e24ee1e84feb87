/**
 * SASL on the Kafka listener, against a `samsa serve` process with a users file: kcat (librdkafka)
 * and kafkajs with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, good and bad passwords; kafkajs with
 * OAUTHBEARER (a JWT, an API key); a connection
 * that has not authenticated gets only ApiVersions and the SASL APIs; a v0 handshake followed by a
 * bare token (clients before KIP-152); and no password in the logs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { SignJWT } from 'jose';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import { KCAT, need, RawConnection, run } from '../kafka/kafka-test-clients.js';
import { requestFrame } from '../kafka/request-frame.js';
import { ALICE_PASSWORD, AUDIENCE, type AuthServer, ISSUER, JWT_SECRET, startAuthServer } from './auth-fixture.js';

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
const SASL_AUTHENTICATION_FAILED = 58;
let auth: AuthServer;
let broker: string;

before(async () => {
  auth = await startAuthServer('kafka-sasl', { kafka: true });
  broker = `127.0.0.1:${auth.kafkaPort}`;
});
after(async () => {
  await auth?.stop();
});

function kcatSasl(mechanism: string, password: string): string[] {
  return [
    '-b',
    broker,
    '-X',
    'security.protocol=SASL_PLAINTEXT',
    '-X',
    `sasl.mechanisms=${mechanism}`,
    '-X',
    'sasl.username=alice',
    '-X',
    `sasl.password=${password}`,
  ];
}

test('kcat produces and consumes with SASL/PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512', (t) => {
  if (!need(t, KCAT, 'kcat')) return;
  for (const mechanism of MECHANISMS) {
    run(KCAT, [...kcatSasl(mechanism, ALICE_PASSWORD), '-P', '-t', 'kcat-sasl'], `via ${mechanism}\n`);
  }
  const consumed = run(KCAT, [
    ...kcatSasl('SCRAM-SHA-512', ALICE_PASSWORD),
    '-C',
    '-t',
    'kcat-sasl',
    '-o',
    'beginning',
    '-e',
    '-q',
  ])
    .toString('utf8')
    .trim()
    .split('\n');
  assert.deepEqual(
    consumed,
    MECHANISMS.map((m) => `via ${m}`),
  );
});

test('kcat with a wrong password fails with the broker’s authentication error', (t) => {
  if (!need(t, KCAT, 'kcat')) return;
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
    const result = spawnSync(KCAT, [...kcatSasl(mechanism, 'not-the-password'), '-L', '-m', '2'], { timeout: 20_000 });
    assert.notEqual(result.status, 0, mechanism);
    assert.match(
      result.stderr.toString(),
      /SASL authentication error: (Invalid user name or password|Authentication failed)/,
      mechanism,
    );
  }
});

test('kafkajs connects with PLAIN and SCRAM, and a wrong password is refused', async () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    const kafka = new Kafka({
      brokers: [broker],
      clientId: 'samsa-sasl-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism, username: 'alice', password: ALICE_PASSWORD } as SASLOptions,
    });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const [answer] = await producer.send({ topic: 'kafkajs-sasl', messages: [{ value: mechanism }] });
    assert.equal(answer?.errorCode, 0);
    await producer.disconnect();

    const wrong = new Kafka({
      brokers: [broker],
      clientId: 'samsa-sasl-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism, username: 'alice', password: 'not-the-password' } as SASLOptions,
    });
    const admin = wrong.admin();
    await assert.rejects(admin.connect(), (err: Error) => {
      assert.match(`${err.name} ${err.message}`, /SASL|[Aa]uthentication/, mechanism);
      return true;
    });
    await admin.disconnect();
  }
});

test('kafkajs authenticates with OAUTHBEARER: a JWT or an API key; an expired JWT is refused', async () => {
  const key = new TextEncoder().encode(JWT_SECRET);
  const jwt = await new SignJWT({ sub: 'svc-orders' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime('5m')
    .sign(key);
  const expired = await new SignJWT({ sub: 'svc-orders' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(key);
  const client = (token: string) =>
    new Kafka({
      brokers: [broker],
      clientId: 'samsa-oauth-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
    });
  for (const token of [jwt, auth.aliceKey]) {
    const admin = client(token).admin();
    await admin.connect();
    assert.ok((await admin.listTopics()).length >= 0);
    await admin.disconnect();
  }
  const refused = client(expired).admin();
  await assert.rejects(refused.connect(), /expired|SASL|[Aa]uthentication/);
  await refused.disconnect();
});

test('before authenticating, a connection gets ApiVersions; any other request closes it', async () => {
  const conn = new RawConnection(auth.kafkaPort as number);
  const versions = await conn.call(API_KEYS.ApiVersions, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
  const keys = (versions.apiKeys as Array<{ apiKey: number }>).map((k) => k.apiKey);
  assert.ok(keys.includes(API_KEYS.SaslHandshake) && keys.includes(API_KEYS.SaslAuthenticate));
  await assert.rejects(conn.call(API_KEYS.Metadata, 1, { topics: null }), /connection closed/);
  conn.close();
});

test('SaslHandshake names the mechanisms; a failed SaslAuthenticate answers 58 and closes the connection', async () => {
  const conn = new RawConnection(auth.kafkaPort as number);
  const unknown = await conn.call(API_KEYS.SaslHandshake, 1, { mechanism: 'GSSAPI' });
  assert.equal(unknown.errorCode, 33); // UNSUPPORTED_SASL_MECHANISM
  assert.deepEqual(unknown.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']);
  conn.close();

  const bad = new RawConnection(auth.kafkaPort as number);
  assert.equal((await bad.call(API_KEYS.SaslHandshake, 1, { mechanism: 'PLAIN' })).errorCode, 0);
  const answer = await bad.call(API_KEYS.SaslAuthenticate, 2, { authBytes: Buffer.from('\0alice\0wrong-password') });
  assert.equal(answer.errorCode, SASL_AUTHENTICATION_FAILED);
  assert.match(String(answer.errorMessage), /Invalid user name or password/);
  await assert.rejects(bad.call(API_KEYS.Metadata, 1, { topics: null }), /connection closed/);
  bad.close();

  const good = new RawConnection(auth.kafkaPort as number);
  await good.call(API_KEYS.SaslHandshake, 1, { mechanism: 'PLAIN' });
  const ok = await good.call(API_KEYS.SaslAuthenticate, 1, { authBytes: Buffer.from(`\0alice\0${ALICE_PASSWORD}`) });
  assert.equal(ok.errorCode, 0);
  const metadata = await good.call(API_KEYS.Metadata, 1, { topics: null });
  assert.ok(Array.isArray(metadata.brokers));
  good.close();
});

/** Reads one size-prefixed frame from the socket. */
function readFrame(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 4 && buffer.length >= 4 + buffer.readInt32BE(0)) {
        socket.off('data', onData);
        resolve(buffer.subarray(4, 4 + buffer.readInt32BE(0)));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error('connection closed')));
  });
}

test('after a v0 SaslHandshake the PLAIN token travels as a bare frame (clients before KIP-152)', async () => {
  const socket = net.connect(auth.kafkaPort as number, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(requestFrame(API_KEYS.SaslHandshake, 0, 1, { mechanism: 'PLAIN' }));
  await readFrame(socket);
  const token = Buffer.from(`\0alice\0${ALICE_PASSWORD}`);
  const size = Buffer.alloc(4);
  size.writeInt32BE(token.length);
  socket.write(Buffer.concat([size, token]));
  const answer = await readFrame(socket);
  assert.equal(answer.length, 0, 'PLAIN answers an empty token');
  // Authenticated: an ordinary request is served now.
  socket.write(requestFrame(API_KEYS.Metadata, 1, 2, { topics: null }));
  const metadata = await readFrame(socket);
  assert.equal(metadata.readInt32BE(0), 2, 'the Metadata answer carries its correlation id');
  socket.destroy();
});

test('no Kafka client’s password appears in the logs', () => {
  const logs = auth.server.stdout() + auth.server.stderr();
  assert.match(logs, /kafka\.sasl\.failed/);
  for (const secret of [...auth.secrets(), 'not-the-password', 'wrong-password']) {
    assert.ok(!logs.includes(secret), `a credential leaked into the logs: ${secret.slice(0, 6)}...`);
  }
});
