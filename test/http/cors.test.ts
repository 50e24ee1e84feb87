/**
 * Which browser pages may write: a page of Samsa's own origin always may (browsers send `Origin`
 * on same-origin POSTs too), a listed origin may, and every other origin, including this host on
 * another port or scheme, is refused with 403 / 40301 and nothing is written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/http/app.js';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode();
  await node.broker.createTopic('t', { partitions: 1 });
});
after(() => node.close());

const written = () => node.broker.listOffsets('t', 0).highWatermark;

function produce(app: ReturnType<typeof createApp>, headers: Record<string, string>) {
  let req = request(app).post('/topics/t').set('Content-Type', JSON_V2);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  return req.send({ records: [{ value: 'hello' }] });
}

async function assertRefused(res: request.Response, origin: string): Promise<void> {
  assert.equal(res.status, 403, `${origin}: ${res.text}`);
  assert.equal(res.body.error_code, 40301);
  assert.match(res.body.message, /--cors-origins/);
}

describe('same-origin writes', () => {
  const app = () => createApp({ node: node.samsa });

  test('a page whose Origin is the request’s own scheme, host and port may produce', async () => {
    const before = written();
    const res = await produce(app(), { Host: 'samsa.local:8082', Origin: 'http://samsa.local:8082' });
    assert.equal(res.status, 200, res.text);
    assert.equal(written(), before + 1);
  });

  test('the default port is the same origin whether or not Host spells it', async () => {
    const res = await produce(app(), { Host: 'samsa.local:80', Origin: 'http://samsa.local' });
    assert.equal(res.status, 200, res.text);
    const upper = await produce(app(), { Host: 'SAMSA.local', Origin: 'http://samsa.local' });
    assert.equal(upper.status, 200, upper.text);
  });

  test('another host, another port, another scheme or an opaque origin is cross-origin and refused', async () => {
    const before = written();
    const host = 'samsa.local:8082';
    for (const origin of [
      'http://evil.example:8082',
      'http://samsa.local:8083',
      'http://samsa.local',
      'https://samsa.local:8082',
      'null',
      'http://user@samsa.local:8082',
    ]) {
      await assertRefused(await produce(app(), { Host: host, Origin: origin }), origin);
    }
    assert.equal(written(), before, 'nothing was written');
  });

  test('a preflight from the own origin is answered like a listed one', async () => {
    const res = await request(app())
      .options('/topics/t')
      .set('Host', 'samsa.local:8082')
      .set('Origin', 'http://samsa.local:8082')
      .set('Access-Control-Request-Method', 'DELETE');
    assert.equal(res.status, 204);
    assert.equal(res.headers['access-control-allow-origin'], 'http://samsa.local:8082');
    assert.match(res.headers['access-control-allow-methods'] ?? '', /DELETE/);
  });

  test('behind a proxy the advertised URL is the own origin; X-Forwarded-* is not believed', async () => {
    const proxied = createApp({ node: node.samsa, advertisedUrl: 'https://kafka.example.com/rest' });
    const before = written();
    const ok = await produce(proxied, { Host: '10.0.0.5:8082', Origin: 'https://kafka.example.com' });
    assert.equal(ok.status, 200, ok.text);
    // What the proxy's client addressed is still this node's own origin too.
    const direct = await produce(proxied, { Host: '10.0.0.5:8082', Origin: 'http://10.0.0.5:8082' });
    assert.equal(direct.status, 200, direct.text);
    assert.equal(written(), before + 2);

    const forged = await produce(app(), {
      Host: 'samsa.local:8082',
      Origin: 'https://evil.example',
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
    });
    await assertRefused(forged, 'https://evil.example with X-Forwarded-Host');
    await assertRefused(
      await produce(proxied, { Host: '10.0.0.5:8082', Origin: 'http://kafka.example.com' }),
      'the advertised host over http',
    );
    assert.equal(written(), before + 2);
  });

  test('listed origins still write, and a foreign origin with a listed one configured does not', async () => {
    const listed = createApp({ node: node.samsa, corsOrigins: ['https://writer.example'] });
    const ok = await produce(listed, { Host: 'samsa.local:8082', Origin: 'https://writer.example' });
    assert.equal(ok.status, 200, ok.text);
    await assertRefused(
      await produce(listed, { Host: 'samsa.local:8082', Origin: 'https://other.example' }),
      'https://other.example',
    );
  });
});
