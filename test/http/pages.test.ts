/**
 * What a newcomer's browser finds: `/` links everything, `/ui` leads to the tail page, and the
 * contract and its rendered reference are served by the node itself.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { findSpecPath } from '../../src/http/openapi.js';
import { openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode();
});
after(() => node.close());

test('/ answers a page linking the tail page, the API reference, the contract, /metrics and the probes', async () => {
  const res = await request(node.app).get('/').set('Accept', 'text/html');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /^text\/html/);
  const hrefs = [...res.text.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(hrefs, ['ui/tail.html', 'docs', 'openapi.yaml', 'metrics', 'healthz', 'readyz']);
  for (const href of hrefs) {
    const target = await request(node.app).get(`/${href}`);
    assert.equal(target.status, 200, `/${href} answers`);
  }
  const curl = await request(node.app).get('/').set('Accept', '*/*');
  assert.match(curl.headers['content-type'] ?? '', /^text\/html/);
});

test('/ answers the same links as JSON for Accept: application/json, absolute as the client addressed them', async () => {
  const res = await request(node.app).get('/').set('Accept', 'application/json').set('Host', 'samsa.local:8082');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(res.body, {
    name: 'samsa',
    links: {
      tail_page: 'http://samsa.local:8082/ui/tail.html',
      api_reference: 'http://samsa.local:8082/docs',
      openapi: 'http://samsa.local:8082/openapi.yaml',
      metrics: 'http://samsa.local:8082/metrics',
      health: 'http://samsa.local:8082/healthz',
      readiness: 'http://samsa.local:8082/readyz',
    },
  });
});

test('/ui and /ui/ redirect to the tail page', async () => {
  for (const url of ['/ui', '/ui/']) {
    const res = await request(node.app).get(url);
    assert.equal(res.status, 302, url);
    assert.equal(res.headers.location, '/ui/tail.html', url);
  }
});

test('/openapi.yaml is the contract the server was built from, as YAML', async () => {
  const res = await request(node.app).get('/openapi.yaml');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'] ?? '', /^application\/yaml/);
  assert.equal(res.text, fs.readFileSync(findSpecPath(), 'utf8'));
});

test('/docs is Swagger UI pointed at /openapi.yaml, with its files from the installed package', async () => {
  const page = await request(node.app).get('/docs');
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'] ?? '', /^text\/html/);
  const urls = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(urls, ['/docs/swagger-ui.css', '/docs/swagger-ui-bundle.js']);
  assert.match(page.text, /url: '\/openapi\.yaml'/);
  assert.doesNotMatch(page.text, /https?:\/\//, 'nothing from another host');

  const dist = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const css = await request(node.app).get('/docs/swagger-ui.css');
  assert.match(css.headers['content-type'] ?? '', /^text\/css/);
  assert.equal(css.text, fs.readFileSync(path.join(dist, 'swagger-ui.css'), 'utf8'));
  const js = await request(node.app).get('/docs/swagger-ui-bundle.js').buffer(true);
  assert.match(js.headers['content-type'] ?? '', /^text\/javascript/);
  assert.equal(js.text, fs.readFileSync(path.join(dist, 'swagger-ui-bundle.js'), 'utf8'));
});

test('the pages answer while the broker is still recovering', async () => {
  const recovering = await openNode({ start: false });
  try {
    for (const url of ['/', '/docs', '/openapi.yaml', '/docs/swagger-ui.css']) {
      const res = await request(recovering.app).get(url);
      assert.equal(res.status, 200, url);
    }
  } finally {
    await recovering.close();
  }
});
