/**
 * TLS on both listeners, over real sockets with certificates made by openssl at test time: HTTPS
 * with curl and undici, mutual TLS (required: no or a foreign certificate is refused at the
 * handshake; requested: none is anonymous), the certificate's subject as the principal, kcat over
 * SSL, a SIGHUP reload that new connections see while open ones (keep-alive, an SSE stream) go on,
 * and bad files at start and at reload.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { Client, request } from 'undici';
import { KCAT, need, run } from '../kafka/kafka-test-clients.js';
import { freePort, refusedStart, type ServerProcess, startServer } from '../process/server-process.js';
import { makePki, type Pki } from './certificates.js';
import { curl, logLines, needOpenssl, tlsAgent, until } from './tls-fixture.js';

const V2_JSON = 'application/vnd.kafka.json.v2+json';

function tmp(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `samsa-tls-${name}-`));
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
}

/** The certificate a fresh TLS connection to `port` is served (SHA-256 fingerprint). */
async function servedFingerprint(port: number, ca: string): Promise<string> {
  const socket = tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(ca) });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(fs.readFileSync(certFile)).fingerprint256;
}

const kcatSsl = (pki: Pki, port: number, client?: { cert: string; key: string }) => [
  '-b',
  `127.0.0.1:${port}`,
  '-X',
  'security.protocol=ssl',
  '-X',
  `ssl.ca.location=${pki.caCert}`,
  ...(client ? ['-X', `ssl.certificate.location=${client.cert}`, '-X', `ssl.key.location=${client.key}`] : []),
];

test('client certificates required: HTTPS and Kafka over TLS, the subject as principal, strangers refused', async (t) => {
  if (!needOpenssl(t) || !need(t, KCAT, 'kcat')) return;
  const pki = makePki(tmp('pki'));
  const alice = pki.client('alice', '/O=Samsa test/OU=eng/CN=alice');
  const aliceAgent = tlsAgent(pki.caCert, alice);
  const server = await startServer(
    tmp('data'),
    [
      '--tls-cert',
      pki.serverCert,
      '--tls-key',
      pki.serverKey,
      '--tls-client-ca',
      pki.caCert,
      '--kafka-port',
      String(await freePort()),
    ],
    20_000,
    { dispatcher: aliceAgent },
  );
  const { baseUrl } = server;
  const kafkaPort = server.kafkaPort as number;
  try {
    // curl with the CA and alice's certificate produces; the request line names her principal.
    const produced = curl([
      '--cacert',
      pki.caCert,
      '--cert',
      alice.cert,
      '--key',
      alice.key,
      '-X',
      'POST',
      `${baseUrl}/topics/secure`,
      '-H',
      `Content-Type: ${V2_JSON}`,
      '-d',
      '{"records":[{"key":"k1","value":{"n":1}}]}',
    ]);
    assert.equal(produced.status, 0, produced.stderr);
    assert.equal(JSON.parse(produced.stdout).offsets[0].offset, 0);
    const line = await until('the produce request line', () =>
      logLines(server.stdout(), 'request').find((l) => l.route === '/topics/{topic}' && l.method === 'POST'),
    );
    assert.equal(line.principal, 'User:CN=alice,OU=eng,O=Samsa test');

    // undici with the same certificate reads it back through a v2 consumer.
    const offsets = await request(`${baseUrl}/topics/secure/partitions/0/offsets`, { dispatcher: aliceAgent });
    assert.deepEqual(await offsets.body.json(), { beginning_offset: 0, end_offset: 1 });

    // No client certificate: the handshake is refused (curl and undici alike).
    const anonymous = curl(['--cacert', pki.caCert, `${baseUrl}/healthz`]);
    assert.notEqual(anonymous.status, 0, 'a client without a certificate got an answer');
    await assert.rejects(request(`${baseUrl}/healthz`, { dispatcher: tlsAgent(pki.caCert) }));

    // A certificate another CA signed: refused as well.
    const foreign = curl([
      '--cacert',
      pki.caCert,
      '--cert',
      pki.foreignClient.cert,
      '--key',
      pki.foreignClient.key,
      `${baseUrl}/healthz`,
    ]);
    assert.notEqual(foreign.status, 0, 'a client with a foreign certificate got an answer');
    // Plain HTTP to the HTTPS port gets no answer either.
    assert.notEqual(curl([`${baseUrl.replace('https:', 'http:')}/healthz`]).status, 0);

    // kcat over SSL with alice's certificate produces and consumes.
    run(KCAT as string, [...kcatSsl(pki, kafkaPort, alice), '-P', '-t', 'secure', '-K:'], 'k2:from-kcat\n');
    const consumed = run(KCAT as string, [
      ...kcatSsl(pki, kafkaPort, alice),
      '-C',
      '-t',
      'secure',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%k=%s\n',
    ]).toString();
    assert.deepEqual(consumed.trim().split('\n'), ['"k1"={"n":1}', 'k2=from-kcat']);
    // Without a certificate kcat cannot get metadata.
    await assert.rejects(
      async () => run(KCAT as string, [...kcatSsl(pki, kafkaPort), '-L', '-m', '3']),
      /exited 1/,
      'kcat without a certificate was served',
    );
  } finally {
    await stop(server);
  }
});

test('client certificates requested: none is anonymous, a good one names the principal, a foreign one is refused', async (t) => {
  if (!needOpenssl(t) || !need(t, KCAT, 'kcat')) return;
  const pki = makePki(tmp('pki'));
  const bob = pki.client('bob', '/O=Samsa test/OU=ops/CN=bob');
  const server = await startServer(
    tmp('data'),
    [
      '--tls-cert',
      pki.serverCert,
      '--tls-key',
      pki.serverKey,
      '--tls-client-ca',
      pki.caCert,
      '--tls-client-auth',
      'requested',
      // Kafka's mapping rule syntax: the CN alone, lower-cased.
      '--tls-principal-mapping-rules',
      'RULE:^CN=([^,]+),OU=ops,.*$/$1/L,DEFAULT',
      '--kafka-port',
      String(await freePort()),
    ],
    20_000,
    { dispatcher: tlsAgent(pki.caCert) },
  );
  try {
    const anonymous = curl([
      '--cacert',
      pki.caCert,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `${server.baseUrl}/v3/clusters`,
    ]);
    assert.equal(anonymous.stdout, '200', anonymous.stderr);
    const named = curl([
      '--cacert',
      pki.caCert,
      '--cert',
      bob.cert,
      '--key',
      bob.key,
      '-o',
      '/dev/null',
      `${server.baseUrl}/brokers`,
    ]);
    assert.equal(named.status, 0, named.stderr);
    const lines = await until('both request lines', () => {
      const got = logLines(server.stdout(), 'request').filter((l) => l.url === '/v3/clusters' || l.url === '/brokers');
      return got.length === 2 ? got : undefined;
    });
    assert.deepEqual(
      lines.map((l) => [l.url, l.principal]),
      [
        ['/v3/clusters', 'User:ANONYMOUS'],
        ['/brokers', 'User:bob'],
      ],
    );
    const foreign = curl([
      '--cacert',
      pki.caCert,
      '--cert',
      pki.foreignClient.cert,
      '--key',
      pki.foreignClient.key,
      `${server.baseUrl}/healthz`,
    ]);
    assert.notEqual(foreign.status, 0, 'a client with a foreign certificate got an answer');
    await until('the refusal in the log', () => logLines(server.stdout(), 'tls.client_refused')[0]);
    // kcat without a certificate is served (anonymous).
    const metadata = run(KCAT as string, [...kcatSsl(pki, server.kafkaPort as number), '-L', '-m', '10']).toString();
    assert.match(metadata, /1 brokers:/);
  } finally {
    await stop(server);
  }
});

test('SIGHUP reloads the certificate for new connections; an open keep-alive connection and an SSE stream go on', async (t) => {
  if (!needOpenssl(t)) return;
  const pki = makePki(tmp('pki'));
  const live = { cert: path.join(pki.dir, 'live.crt'), key: path.join(pki.dir, 'live.key') };
  fs.copyFileSync(pki.serverCert, live.cert);
  fs.copyFileSync(pki.serverKey, live.key);
  const agent = tlsAgent(pki.caCert);
  const server = await startServer(tmp('data'), ['--tls-cert', live.cert, '--tls-key', live.key], 20_000, {
    dispatcher: agent,
  });
  const port = Number(new URL(server.baseUrl).port);
  const keepAlive = new Client(server.baseUrl, { connect: { ca: fs.readFileSync(pki.caCert) }, pipelining: 1 });
  let connects = 0;
  keepAlive.on('connect', () => connects++);
  const produce = async (value: string) => {
    const res = await request(`${server.baseUrl}/topics/reload`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': V2_JSON },
      body: JSON.stringify({ records: [{ value }] }),
    });
    assert.equal(res.statusCode, 200, await res.body.text());
    await res.body.dump();
  };
  try {
    assert.equal(await servedFingerprint(port, pki.caCert), fingerprintOf(pki.serverCert));
    const first = await keepAlive.request({ method: 'GET', path: '/healthz' });
    assert.equal(first.statusCode, 200);
    await first.body.dump();
    await produce('before');
    const stream = await request(`${server.baseUrl}/topics/reload/stream?from=earliest`, { dispatcher: agent });
    let events = '';
    stream.body.setEncoding('utf8').on('data', (chunk: string) => {
      events += chunk;
    });
    await until('the first event', () => (events.includes('"value":"before"') ? true : undefined));

    const next = pki.reissueServer('server-2');
    fs.copyFileSync(next.cert, live.cert);
    fs.copyFileSync(next.key, live.key);
    server.child.kill('SIGHUP');
    await until('the reload', () => (logLines(server.stdout(), 'tls_reloaded').length === 1 ? true : undefined));
    assert.equal(
      await servedFingerprint(port, pki.caCert),
      fingerprintOf(next.cert),
      'new connections get the new certificate',
    );

    const second = await keepAlive.request({ method: 'GET', path: '/healthz' });
    assert.equal(second.statusCode, 200);
    await second.body.dump();
    assert.equal(connects, 1, 'the keep-alive connection was kept across the reload');
    await produce('after');
    await until('the event produced after the reload', () => (events.includes('"value":"after"') ? true : undefined));

    // A broken file at reload: logged, and the certificate in use stays.
    fs.writeFileSync(live.cert, 'not a certificate\n');
    server.child.kill('SIGHUP');
    const failed = await until('the failed reload', () => logLines(server.stderr(), 'tls_reload_failed')[0]);
    assert.match(failed.err, /holds no PEM certificate/);
    assert.equal(await servedFingerprint(port, pki.caCert), fingerprintOf(next.cert));
    assert.ok(events.includes('"value":"after"'));
    stream.body.destroy();
  } finally {
    await keepAlive.close();
    await stop(server);
  }
});

test('a bad certificate or key stops start-up with a message naming the file', async (t) => {
  if (!needOpenssl(t)) return;
  const pki = makePki(tmp('pki'));
  const other = pki.client('other', '/CN=other');
  const dataDir = tmp('data');
  const mismatch = await refusedStart(dataDir, ['--tls-cert', pki.serverCert, '--tls-key', other.key]);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /does not fit the certificate/);
  const missing = await refusedStart(dataDir, ['--tls-cert', '/nonexistent.crt', '--tls-key', pki.serverKey]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\.crt \(--tls-cert\)/);
  const half = await refusedStart(dataDir, ['--tls-cert', pki.serverCert]);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /--tls-cert and --tls-key .* go together/);
  const rules = await refusedStart(dataDir, [
    '--tls-cert',
    pki.serverCert,
    '--tls-key',
    pki.serverKey,
    '--tls-principal-mapping-rules',
    'RULE:oops',
  ]);
  assert.equal(rules.code, 2);
  assert.match(rules.stderr, /--tls-principal-mapping-rules: invalid mapping rule/);
});
