/**
 * HTTP authentication over real sockets against a `samsa serve` process with a users file, an
 * HS256 secret and a JWKS file: Basic, API keys, JWTs (HS256, RS256, ES256, and each way a JWT can
 * be wrong), the 401 answer, what stays open (probes), stream tokens on the SSE route, reloading the
 * users file while running, and that no credential reaches the logs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SignJWT, UnsecuredJWT } from 'jose';
import { addUser, readUsersFile, writeUsersFile } from '../../src/security/users-file.js';
import {
  ALICE_PASSWORD,
  AUDIENCE,
  type AuthServer,
  BOB_PASSWORD,
  basic,
  ISSUER,
  JWT_SECRET,
  startAuthServer,
} from './auth-fixture.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';
let auth: AuthServer;
/** Tokens handed to the server during the tests: checked against the logs at the end. */
const used: string[] = [];

before(async () => {
  auth = await startAuthServer('http-auth');
  const produced = await call('POST', '/topics/orders', basic('alice', ALICE_PASSWORD), {
    records: [{ value: { n: 1 } }, { value: { n: 2 } }],
  });
  assert.equal(produced.status, 200, JSON.stringify(produced.body));
});
after(async () => {
  await auth?.stop();
});

async function call(
  method: string,
  path: string,
  authorization?: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  if (authorization?.startsWith('Bearer ')) used.push(authorization.slice(7));
  const res = await fetch(`${auth.server.baseUrl}${path}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body !== undefined ? { 'content-type': path.startsWith('/topics/') ? JSON_V2 : 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), headers: res.headers };
}

function assert401(answer: { status: number; body: unknown; headers: Headers }, message: RegExp): void {
  assert.equal(answer.status, 401, JSON.stringify(answer.body));
  const body = answer.body as { error_code: number; message: string };
  assert.equal(body.error_code, 40101);
  assert.match(body.message, message);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /Basic realm="samsa"/);
  assert.match(challenge, /Bearer realm="samsa"/);
}

async function hs256(claims: Record<string, unknown>, secret = JWT_SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));
}

test('a request without credentials answers 401/40101 with WWW-Authenticate for Basic and Bearer', async () => {
  assert401(await call('GET', '/topics'), /Authentication required/);
  assert401(await call('GET', '/v3/clusters'), /Authentication required/);
  // An unknown route too: the route space is not shown to strangers.
  assert401(await call('GET', '/no/such/route'), /Authentication required/);
});

test('probes stay open for orchestrators; /metrics needs credentials like the API', async () => {
  assert.equal((await call('GET', '/healthz')).status, 200);
  assert.equal((await call('GET', '/readyz')).status, 200);
  assert401(await call('GET', '/metrics'), /Authentication required/);
  const scraped = await fetch(`${auth.server.baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${auth.aliceKey}` },
  });
  assert.equal(scraped.status, 200);
  assert.match(await scraped.text(), /samsa_/);
});

test('HTTP Basic: the right password passes; a wrong one or an unknown user answers 401', async () => {
  const good = await call('GET', '/topics', basic('alice', ALICE_PASSWORD));
  assert.equal(good.status, 200);
  assert.deepEqual(good.body, ['orders']);
  assert.equal((await call('GET', '/topics', basic('bob', BOB_PASSWORD))).status, 200);
  assert401(await call('GET', '/topics', basic('alice', BOB_PASSWORD)), /Invalid user name or password/);
  assert401(await call('GET', '/topics', basic('mallory', ALICE_PASSWORD)), /Invalid user name or password/);
  assert401(await call('GET', '/topics', 'Basic !!!notbase64'), /Invalid Basic credentials/);
  assert401(await call('GET', '/topics', 'Digest username="alice"'), /Unsupported authorization scheme/);
});

test('a flood of wrong passwords is refused beyond 32 checks at once; the server keeps serving', async () => {
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => call('GET', '/topics', basic('alice', `wrong-password-${i}`))),
  );
  const messages = answers.map((a) => (a.body as { message: string }).message);
  assert.ok(
    answers.every((a) => a.status === 401),
    'every one is a 401',
  );
  assert.ok(messages.includes('Too many password checks in progress; retry shortly.'), 'some were refused unchecked');
  assert.ok(messages.includes('Invalid user name or password.'), 'the first ones were checked');
  assert.equal((await call('GET', '/topics', basic('alice', ALICE_PASSWORD))).status, 200);
});

test('an API key from the users file is a bearer token; an unknown one answers 401', async () => {
  assert.equal((await call('GET', '/topics', `Bearer ${auth.aliceKey}`)).status, 200);
  assert401(await call('GET', '/topics', `Bearer ${auth.aliceKey.slice(0, -2)}xx`), /Invalid API key/);
});

test('a JWT signed with the HS256 secret passes; its sub is the principal', async () => {
  const token = await hs256({ sub: 'carol' });
  const answer = await call('POST', '/stream-tokens', `Bearer ${token}`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal((answer.body as { principal: string }).principal, 'User:carol');
});

test('RS256 and ES256 JWTs verify against the keys of the JWKS file', async () => {
  for (const [alg, key, kid] of [
    ['RS256', auth.rsaKey, 'rsa-1'],
    ['ES256', auth.ecKey, 'ec-1'],
  ] as const) {
    const token = await new SignJWT({ sub: `svc-${alg}` })
      .setProtectedHeader({ alg, kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('1m')
      .sign(key);
    const answer = await call('POST', '/stream-tokens', `Bearer ${token}`);
    assert.equal(answer.status, 200, `${alg}: ${JSON.stringify(answer.body)}`);
    assert.equal((answer.body as { principal: string }).principal, `User:svc-${alg}`);
  }
});

test('JWTs that are expired, not yet valid, for another audience or issuer, badly signed or unsigned answer 401', async () => {
  const now = Math.floor(Date.now() / 1000);
  const expired = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(now - 60) // beyond the 1 s of clock skew the server allows
    .sign(new TextEncoder().encode(JWT_SECRET));
  assert401(await call('GET', '/topics', `Bearer ${expired}`), /expired/);
  const early = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setNotBefore(now + 600)
    .setExpirationTime(now + 1200)
    .sign(new TextEncoder().encode(JWT_SECRET));
  assert401(await call('GET', '/topics', `Bearer ${early}`), /not valid yet/);
  const wrongAudience = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience('another-service')
    .setExpirationTime('1m')
    .sign(new TextEncoder().encode(JWT_SECRET));
  assert401(await call('GET', '/topics', `Bearer ${wrongAudience}`), /wrong audience/);
  const wrongIssuer = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('https://evil.example')
    .setAudience(AUDIENCE)
    .setExpirationTime('1m')
    .sign(new TextEncoder().encode(JWT_SECRET));
  assert401(await call('GET', '/topics', `Bearer ${wrongIssuer}`), /wrong issuer/);
  const wrongSecret = await hs256({ sub: 'carol' }, 'not-the-secret-but-just-as-long-0123456789');
  assert401(await call('GET', '/topics', `Bearer ${wrongSecret}`), /signature verification failed/);
  // The same claims with the signature of another token: tampering is a bad signature too.
  const good = await hs256({ sub: 'carol' });
  const forged = `${(await hs256({ sub: 'admin' })).split('.').slice(0, 2).join('.')}.${good.split('.')[2]}`;
  assert401(await call('GET', '/topics', `Bearer ${forged}`), /signature verification failed/);
  const unsigned = new UnsecuredJWT({ sub: 'admin' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime('1m')
    .encode();
  assert401(await call('GET', '/topics', `Bearer ${unsigned}`), /algorithm is not allowed/);
  const noExpiry = await new SignJWT({ sub: 'carol' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .sign(new TextEncoder().encode(JWT_SECRET));
  assert401(await call('GET', '/topics', `Bearer ${noExpiry}`), /no expiry|exp/);
});

async function streamToken(ttlMs?: number): Promise<string> {
  const answer = await call(
    'POST',
    '/stream-tokens',
    basic('alice', ALICE_PASSWORD),
    ttlMs === undefined ? undefined : { ttl_ms: ttlMs },
  );
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { access_token: string; principal: string; expires_in_ms: number; token_type: string };
  assert.equal(body.principal, 'User:alice');
  assert.equal(body.token_type, 'stream');
  assert.equal(body.expires_in_ms, ttlMs ?? 300_000);
  used.push(body.access_token);
  return body.access_token;
}

/** Opens the SSE stream with `?access_token=` and reads until the first record, or the error answer. */
async function openStream(token: string): Promise<{ status: number; text: string }> {
  const controller = new AbortController();
  const res = await fetch(
    `${auth.server.baseUrl}/topics/orders/stream?from=earliest&access_token=${encodeURIComponent(token)}`,
    { signal: controller.signal },
  );
  if (res.status !== 200) return { status: res.status, text: await res.text() };
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (!text.includes('event: record')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
  }
  controller.abort();
  return { status: 200, text };
}

test('a stream token opens the SSE stream as its principal, with no Authorization header', async () => {
  const token = await streamToken();
  const opened = await openStream(token);
  assert.equal(opened.status, 200);
  assert.match(opened.text, /event: record/);
  assert.match(opened.text, /"offset":0/);
  // Without one, the stream is refused like any route.
  const refused = await fetch(`${auth.server.baseUrl}/topics/orders/stream`);
  assert.equal(refused.status, 401);
});

test('a stream token that expired, was tampered with, or is used outside the SSE route answers 401', async () => {
  const shortLived = await streamToken(1000);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await openStream(shortLived);
  assert.equal(expired.status, 401);
  assert.match(expired.text, /expired/);

  const token = await streamToken();
  const [prefix, payload, mac] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const otherPayload = Buffer.from(JSON.stringify({ ...claims, p: 'User:bob' })).toString('base64url');
  for (const tampered of [
    `${prefix}.${otherPayload}.${mac}`,
    `${prefix}.${payload}.${mac.slice(0, -2)}AA`,
    'nonsense',
  ]) {
    const answer = await openStream(tampered);
    assert.equal(answer.status, 401, tampered);
    assert.match(answer.text, /Invalid stream token/);
  }

  // A URL token reads a stream; it is no key to the rest of the API.
  const elsewhere = await fetch(`${auth.server.baseUrl}/topics?access_token=${token}`);
  assert.equal(elsewhere.status, 401);
  assert.match(await elsewhere.text(), /accepted only by GET \/topics\/\{topic\}\/stream/);
  const produce = await fetch(`${auth.server.baseUrl}/topics/orders?access_token=${token}`, {
    method: 'POST',
    headers: { 'content-type': JSON_V2 },
    body: JSON.stringify({ records: [{ value: 1 }] }),
  });
  assert.equal(produce.status, 401);
});

test('a stream token lifetime beyond one hour is refused', async () => {
  const answer = await call('POST', '/stream-tokens', basic('alice', ALICE_PASSWORD), { ttl_ms: 3_600_001 });
  assert.equal(answer.status, 422, JSON.stringify(answer.body));
});

test('a user added to the users file while the server runs can authenticate without a restart', async () => {
  assert401(await call('GET', '/topics', basic('dave', 'dave-password-1')), /Invalid user name or password/);
  await writeUsersFile(auth.usersFile, await addUser(await readUsersFile(auth.usersFile), 'dave', 'dave-password-1'));
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline) {
    status = (await call('GET', '/topics', basic('dave', 'dave-password-1'))).status;
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 200, 'the change was picked up');
  // And SIGHUP reloads too, after the file changes back.
  const { users, ...rest } = await readUsersFile(auth.usersFile);
  const { dave: _dave, ...others } = users;
  await writeUsersFile(auth.usersFile, { ...rest, users: others });
  auth.server.child.kill('SIGHUP');
  const until = Date.now() + 5000;
  while (Date.now() < until && status === 200) {
    status = (await call('GET', '/topics', basic('dave', 'dave-password-1'))).status;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(status, 401, 'the removed user is refused');
});

test('no password, API key, JWT or stream token appears in the logs; the principal does', async () => {
  const logs = auth.server.stdout() + auth.server.stderr();
  assert.match(logs, /"principal":"User:alice"/);
  assert.match(logs, /access_token=\[REDACTED\]/);
  for (const secret of [...auth.secrets(), ...used]) {
    assert.ok(!logs.includes(secret), `a credential leaked into the logs: ${secret.slice(0, 12)}...`);
  }
});
