import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { Express } from 'express';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { findSpecPath } from '../../src/http/openapi.js';
import { openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
before(async () => {
  node = await openNode();
});
after(() => node.close());

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** `METHOD /path/{param}` for every operation in openapi.yaml, read straight from the file. */
function specRoutes(): Set<string> {
  const doc = parseYaml(fs.readFileSync(findSpecPath(), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const out = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) if (item[method]) out.add(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
}

/** `METHOD /path/{param}` for every route express holds, found by walking the router stack. */
function servedRoutes(app: Express): Set<string> {
  const out = new Set<string>();
  const walk = (stack: RouteLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        // Back from express syntax to the spec's: `:name` → `{name}`, `\:` → `:`.
        const path = layer.route.path.replace(/(?<!\\):([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replaceAll('\\:', ':');
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.add(`${method.toUpperCase()} ${path}`);
        }
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: RouteLayer[] } }).router.stack);
  return out;
}

test('express serves exactly the routes openapi.yaml declares, no more, no fewer', () => {
  const spec = specRoutes();
  const served = servedRoutes(node.app);
  assert.ok(spec.size > 20, `the spec has ${spec.size} operations`);
  assert.deepEqual([...served].sort(), [...spec].sort());
});

const SAMPLE_PARAMS: Readonly<Record<string, string>> = { partition: '0', partition_id: '0', broker_id: '0' };

test('a request to every declared route reaches its operation, with and without a trailing slash', async () => {
  for (const route of specRoutes()) {
    const [method, path] = route.split(' ') as [string, string];
    const url = path.replace(/\{([^}]+)\}/g, (_m, name: string) => SAMPLE_PARAMS[name] ?? 'unknown-thing');
    for (const candidate of [url, `${url}/`]) {
      const res = await request(node.app)[method.toLowerCase() as 'get'](candidate).timeout(5_000);
      // Whatever the operation answers (404 for an unknown topic, 415 for a missing body...), it is
      // not the router's "no such route" nor "no such method".
      assert.notEqual(res.status, 405, `${method} ${candidate}`);
      assert.notEqual(res.body?.message, 'HTTP 404 Not Found', `${method} ${candidate}`);
    }
  }
});
