/**
 * The Kafka listener over TLS hands every request of a connection the principal its verified
 * client certificate names (the full subject by default, or what a mapping rule makes of it), and
 * ANONYMOUS to a connection without one. The handler here answers ListGroups with the principal it
 * was given, so the test reads it off the wire.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import pino from 'pino';
import { type KafkaHandler, KafkaListener } from '../../src/kafka/kafka-listener.js';
import { API_KEYS, APIS, type Api, responseHeaderVersion } from '../../src/kafka/protocol/apis.js';
import { decodeAt } from '../../src/kafka/protocol/codec.js';
import { ResponseHeader } from '../../src/kafka/protocol/messages/headers.js';
import { PrincipalMappingRules } from '../../src/security/certificate-principal.js';
import { principalText } from '../../src/security/principal.js';
import { TlsMaterial } from '../../src/security/tls-material.js';
import { requestFrame } from '../kafka/request-frame.js';
import { makePki } from './certificates.js';
import { needOpenssl } from './tls-fixture.js';

const whoAmI: KafkaHandler = async (_header, _request, context) => ({
  errorCode: 0,
  groups: [{ groupId: principalText(context.principal), protocolType: 'whoami' }],
});

async function principalSeen(port: number, ca: string, client?: { cert: string; key: string }): Promise<string> {
  const socket = tls.connect({
    port,
    host: '127.0.0.1',
    ca: fs.readFileSync(ca),
    ...(client ? { cert: fs.readFileSync(client.cert), key: fs.readFileSync(client.key) } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    socket.write(requestFrame(API_KEYS.ListGroups, 0, 7, {}));
    let got = Buffer.alloc(0);
    const frame = await new Promise<Buffer>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) resolve(got.subarray(4, 4 + got.readInt32BE(0)));
      });
      socket.once('close', () => reject(new Error('closed before an answer')));
    });
    const api = APIS.get(API_KEYS.ListGroups) as Api;
    const { end } = decodeAt(frame, 0, ResponseHeader, responseHeaderVersion(api, 0));
    const body = decodeAt(frame, end, api.response, 0).value as { groups: { groupId: string }[] };
    return body.groups[0]?.groupId as string;
  } finally {
    socket.destroy();
  }
}

test('a Kafka connection acts as its client certificate’s principal, mapped by the rules', async (t) => {
  if (!needOpenssl(t)) return;
  const pki = makePki(fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-pki-')));
  const alice = pki.client('alice', '/O=Samsa test/OU=eng/CN=alice');
  const carol = pki.client('carol', '/O=Samsa test/OU=ops/CN=Carol');
  const material = TlsMaterial.load({
    certFile: pki.serverCert,
    keyFile: pki.serverKey,
    clientCaFile: pki.caCert,
    clientAuth: 'requested',
  });
  const listener = new KafkaListener({
    handlers: new Map([[API_KEYS.ListGroups, whoAmI]]),
    logger: pino({ level: 'silent' }),
    tls: {
      material,
      principalRules: PrincipalMappingRules.parse('RULE:^CN=([^,]+),OU=ops,.*$/ops-$1/L, DEFAULT'),
      handshakeTimeoutMs: 5000,
    },
  });
  const { port } = await listener.listen(0, '127.0.0.1');
  try {
    assert.equal(await principalSeen(port, pki.caCert, alice), 'User:CN=alice,OU=eng,O=Samsa test');
    assert.equal(await principalSeen(port, pki.caCert, carol), 'User:ops-carol');
    assert.equal(await principalSeen(port, pki.caCert), 'User:ANONYMOUS');
    await assert.rejects(
      principalSeen(port, pki.caCert, pki.foreignClient),
      /closed before an answer|ECONNRESET|socket/,
    );
  } finally {
    await listener.close();
  }
});

test('mapping rules follow Kafka’s ssl.principal.mapping.rules syntax', () => {
  const rules = PrincipalMappingRules.parse(
    'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?)$/$1@$2/U,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT',
  );
  assert.equal(rules.map('CN=kafka-monitor,OU=ServiceUsers,O=Acme'), 'kafka-monitor');
  assert.equal(rules.map('CN=duke,OU=JavaSoft,O=Sun'), 'DUKE@JAVASOFT');
  assert.equal(rules.map('O=Sun,CN=Duke'), 'duke');
  assert.equal(rules.map('O=nobody'), 'O=nobody');
  assert.equal(PrincipalMappingRules.parse('RULE:^CN=(.*)$/$1/').map('OU=x'), undefined, 'no rule applies');
  assert.equal(PrincipalMappingRules.DEFAULT.map('CN=a,O=b'), 'CN=a,O=b');
  assert.throws(() => PrincipalMappingRules.parse('RULE:missing-slashes'), /invalid mapping rule/);
  assert.throws(() => PrincipalMappingRules.parse('RULE:^CN=((.*$/$1/'), /invalid pattern/);
});
