/**
 * Fuzzing every route of openapi.yaml against a real server on 127.0.0.1: values derived from the
 * spec's parameters and bodies, mixed with hostile input (truncated JSON, wrong types, huge numbers,
 * invalid UTF-8 and base64, deep nesting, path traversal in names). The server must never answer
 * 5xx, never crash, never write outside its data dir, and never change records acknowledged before.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { createApp } from '../../src/http/app.js';
import { loadApi } from '../../src/http/openapi.js';
import { SamsaNode } from '../../src/samsa-node.js';
import { AclAuthorizer } from '../../src/security/acl-authorizer.js';
import { decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';

const SPEC = parseYaml(fs.readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, { parameters?: unknown[] }> & { parameters?: unknown[] }>;
  components: { parameters: Record<string, { name: string; in: string }> };
};
const PROTECTED_TOPIC = 'keep-me';
/**
 * Live resources the fuzzing aims at most of the time, so requests get past "not found" into the
 * handlers: a topic with records, and a consumer instance reading it.
 */
const LIVE: Record<string, string> = {
  topic: 'fuzz-live',
  topic_name: 'fuzz-live',
  group_name: 'fuzz-group',
  consumer_group_id: 'fuzz-group',
  instance: 'fuzz-c',
  consumer_id: 'fuzz-c',
};
const REQUESTS_PER_OPERATION = 60;
/** Streams never end by themselves: a fuzzed request is cut after this long once answered. */
const REQUEST_TIMEOUT_MS = 3000;

interface Operation {
  method: string;
  path: string;
  mediaTypes: string[];
  queryNames: string[];
  headerNames: string[];
}

function operations(): Operation[] {
  const api = loadApi();
  const out: Operation[] = [];
  for (const [p, ops] of api.paths) {
    for (const op of ops) {
      const item = SPEC.paths[p] ?? {};
      const declared = [...(item.parameters ?? []), ...((item[op.method]?.parameters as unknown[]) ?? [])].map((x) => {
        const ref = (x as { $ref?: string }).$ref;
        return ref
          ? (SPEC.components.parameters[ref.split('/').pop() as string] as { name: string; in: string })
          : (x as { name: string; in: string });
      });
      out.push({
        method: op.method.toUpperCase(),
        path: p,
        mediaTypes: [...(op.bodyValidators?.keys() ?? [])],
        queryNames: declared.filter((d) => d.in === 'query').map((d) => d.name),
        headerNames: declared.filter((d) => d.in === 'header').map((d) => d.name),
      });
    }
  }
  return out;
}

const hostileText = fc.oneof(
  fc.constantFrom(
    '../x',
    '..',
    '.',
    '%2e%2e%2fx',
    '..%2f..%2fetc',
    'a/b',
    'é',
    '',
    ' ',
    '\u0000',
    'x'.repeat(300),
    '-1',
    '1e309',
    '99999999999999999999',
  ),
  fc.string({ maxLength: 30 }),
  fc.integer().map(String),
);
const nameLike = fc
  .oneof(fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/), hostileText)
  .filter((s) => s !== PROTECTED_TOPIC);

/** Raw body bytes: valid JSON of any shape, or something hostile. */
const bodyBytes = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .record({
      records: fc.array(fc.record({ key: fc.jsonValue({ maxDepth: 2 }), value: fc.jsonValue({ maxDepth: 2 }) }), {
        maxLength: 5,
      }),
    })
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .record({ records: fc.array(fc.record({ value: fc.string() }), { maxLength: 3 }) })
    .map((v) => Buffer.from(JSON.stringify(v))),
  fc.jsonValue({ maxDepth: 3 }).map((v) => {
    const text = JSON.stringify({ records: [{ value: v }] });
    return Buffer.from(text.slice(0, Math.max(0, text.length - 3))); // truncated
  }),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), // invalid UTF-8 and worse
  fc.constant(Buffer.from(`${'['.repeat(20_000)}${']'.repeat(20_000)}`)), // deep nesting
  // Deep nesting and numbers beyond a double inside what a route stores.
  fc.constant(Buffer.from(`{"records":[{"value":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`)),
  fc.constant(Buffer.from(`{"value":{"type":"JSON","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`)),
  fc.constant(Buffer.from('{"records":[{"key":1e400,"value":[1e400]}]}')),
  fc.constant(Buffer.from(`{"offsets":[{"topic":"${LIVE.topic}","partition":0,"offset":1e300}]}`)),
  fc.constant(Buffer.from(`{"partitions":[{"topic":"${LIVE.topic}","partition":1e300}]}`)),
  fc.constant(Buffer.from('{"records":[{"value":"!!!not base64!!!"}]}')),
  fc.constant(Buffer.from('{"records":[{"partition":1e308,"value":1}]}')),
  fc.constant(Buffer.from('{"value":{"type":"BINARY","data":"%%%"}}')),
  fc.constant(Buffer.alloc(0)),
);

const request = fc.record({
  pathValues: fc.array(nameLike, { minLength: 6, maxLength: 6 }),
  query: fc.array(fc.tuple(fc.nat(20), hostileText), { maxLength: 4 }),
  header: fc.option(hostileText.filter((s) => /^[\x20-\x7e]*$/.test(s))),
  body: bodyBytes,
  mediaChoice: fc.nat(10),
  /** Below 6 of 10: path names are the live resources' (LIVE). */
  liveChoice: fc.nat(9),
});

function send(
  port: number,
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Buffer | null,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
      const chunks: Buffer[] = [];
      const cut = setTimeout(() => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      }, REQUEST_TIMEOUT_MS);
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        // An SSE stream or a streamed produce report: the status is what matters.
        if ((res.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          clearTimeout(cut);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, text: '' });
        }
      });
      res.on('end', () => {
        clearTimeout(cut);
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', () => undefined);
    });
    req.on('error', reject);
    // Framed explicitly: node sends a GET body (Confluent's GET .../offsets has one) unframed otherwise.
    if (body !== null) req.setHeader('content-length', body.length);
    if (body !== null) req.end(body);
    else req.end();
  });
}

async function readTopic(node: SamsaNode, topic: string): Promise<string[]> {
  const out: string[] = [];
  const { records } = await node.broker.fetch(topic, 0, 0, 16 * 1024 * 1024);
  forEachBatch(records, (_h, batch) => {
    for (const r of decodeRecordBatch(batch))
      out.push(`${r.offset}:${r.key?.toString('hex')}:${r.value?.toString('hex')}`);
  });
  return out;
}

test(
  'fuzzing every route never yields a 5xx, a crash, a file outside the data dir, or a changed record',
  {
    timeout: 600_000,
  },
  () => fuzzEveryRoute({ authorizer: 'none' }),
);

/**
 * The same fuzzing with the ACL authorizer on and ANONYMOUS holding READ on the live topic only
 * (issue 17): besides the above, nothing is written, created or deleted (no 2xx but to reads), no
 * answer shows the other topic, and every 2xx read is a page, a probe, a listing or the live topic.
 */
test(
  'fuzzing with ACLs on, as a principal with READ on one topic only, reads nothing else and writes nothing',
  {
    timeout: 600_000,
  },
  () => fuzzEveryRoute({ authorizer: 'acl' }),
);

/** Operations anyone may call (the access table's PUBLIC entries) and the listings, which filter. */
const OPEN_WITH_ACLS =
  /^\/($|ui|openapi\.yaml|docs|healthz|readyz|topics\/?$|v3\/clusters\/[^/]+\/(topics|consumer-groups|topics\/-\/configs)\/?$)/;

async function fuzzEveryRoute({ authorizer }: { authorizer: 'none' | 'acl' }): Promise<void> {
  const withAcls = authorizer === 'acl';
  const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-fuzz-'));
  const dataDir = path.join(sandbox, 'data');
  const node = await SamsaNode.open({ dataDir, nodeId: 0, brokerConfigs: {}, authorizer });
  await node.start();
  const server = http.createServer(createApp({ node, limits: { maxRequestBytes: 256 * 1024 } }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const cid = node.broker.clusterId;
  try {
    await node.broker.produce(
      PROTECTED_TOPIC,
      Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from(`v${i}`), partition: 0 })),
      { acks: -1, timeoutMs: 1000 },
    );
    const before = await readTopic(node, PROTECTED_TOPIC);
    await node.broker.produce(LIVE.topic as string, [{ key: null, value: Buffer.from('{"n":1}'), partition: 0 }], {
      acks: -1,
      timeoutMs: 1000,
    });
    if (node.authorizer instanceof AclAuthorizer) {
      await node.authorizer.create([
        {
          resourceType: 'TOPIC',
          resourceName: LIVE.topic as string,
          patternType: 'LITERAL',
          principal: 'User:ANONYMOUS',
          host: '*',
          operation: 'READ',
          permission: 'ALLOW',
        },
      ]);
    }
    const topicsBefore = node.broker.listTopics({ includeInternal: true }).sort();
    const created = await send(
      port,
      'POST',
      `/consumers/${LIVE.group_name}`,
      { 'content-type': 'application/vnd.kafka.v2+json' },
      Buffer.from(JSON.stringify({ name: LIVE.instance, format: 'json', 'consumer.request.timeout.ms': '50' })),
    );
    assert.equal(created.status, withAcls ? 403 : 200, created.text);
    const assigned = await send(
      port,
      'POST',
      `/consumers/${LIVE.group_name}/instances/${LIVE.instance}/assignments`,
      { 'content-type': 'application/vnd.kafka.v2+json' },
      Buffer.from(JSON.stringify({ partitions: [{ topic: LIVE.topic, partition: 0 }] })),
    );
    assert.equal(assigned.status, withAcls ? 403 : 204, assigned.text);
    const sandboxBefore = fs.readdirSync(sandbox).sort();
    const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
    const repoBefore = fs.readdirSync(repoRoot).sort();

    const failures: string[] = [];
    let sent = 0;
    for (const op of operations()) {
      const samples = fc.sample(request, { numRuns: REQUESTS_PER_OPERATION, seed: 42 + sent });
      for (const s of samples) {
        let i = 0;
        // Path values: a real topic or cluster id now and then, so deeper code runs too.
        const url = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
          const v = s.pathValues[i++ % s.pathValues.length] as string;
          if (LIVE[name] !== undefined && s.liveChoice < 6) return LIVE[name] as string;
          if (name === 'cluster_id' && i % 3 !== 0) return cid;
          if ((name === 'partition' || name === 'partition_id') && i % 2 === 0) return '0';
          return encodeURIComponent(v);
        });
        const query = s.query
          .map(
            ([k, v]) =>
              `${encodeURIComponent(op.queryNames[k % Math.max(1, op.queryNames.length)] ?? `x${k}`)}=${encodeURIComponent(v)}`,
          )
          .join('&');
        const headers: Record<string, string> = {};
        const hasBody = op.mediaTypes.length > 0;
        if (hasBody) {
          // A declared media type 8 times in 10, so most bodies reach their handler.
          const wrong = ['text/plain', 'application/vnd.kafka.avro.v2+json'];
          headers['content-type'] = (
            s.mediaChoice < 8
              ? op.mediaTypes[s.mediaChoice % op.mediaTypes.length]
              : wrong[s.mediaChoice % wrong.length]
          ) as string;
        }
        if (s.header !== null && op.headerNames[0]) headers[op.headerNames[0]] = s.header;
        const res = await send(port, op.method, `${url}${query ? `?${query}` : ''}`, headers, hasBody ? s.body : null);
        sent++;
        const describe = `${op.method} ${url}?${query} (${headers['content-type'] ?? '-'}) → ${res.status} ${res.text.slice(0, 200)}`;
        if (res.status >= 500 || res.status === 0) failures.push(describe);
        else if (res.status >= 400 && !/"error_code":\d+/.test(res.text))
          failures.push(`no JSON error body: ${describe}`);
        else if (withAcls && res.status < 300) {
          if (op.method !== 'GET') failures.push(`a write got through: ${describe}`);
          else if (res.text.includes(PROTECTED_TOPIC)) failures.push(`the denied topic shows: ${describe}`);
          else if (!OPEN_WITH_ACLS.test(url) && !url.includes(`/topics/${LIVE.topic}`))
            failures.push(`a denied read got through: ${describe}`);
        }
      }
    }
    assert.ok(sent >= 1000, `only ${sent} requests were sent`);
    assert.deepEqual(failures.slice(0, 10), [], `${failures.length} bad answers, first ones listed`);

    if (withAcls) {
      assert.deepEqual(node.broker.listTopics({ includeInternal: true }).sort(), topicsBefore, 'no topic came or went');
      assert.equal((node.authorizer as AclAuthorizer).size, 1, 'the ACLs are as they were');
    }
    const health = await send(port, 'GET', '/healthz', {}, null);
    assert.equal(health.status, 200, 'the server still answers after the fuzzing');
    assert.deepEqual(
      await readTopic(node, PROTECTED_TOPIC),
      before,
      'records acknowledged before the fuzzing are unchanged',
    );
    assert.deepEqual(fs.readdirSync(sandbox).sort(), sandboxBefore, 'nothing was written beside the data dir');
    assert.deepEqual(fs.readdirSync(repoRoot).sort(), repoBefore, 'nothing was written in the working directory');
    // Only names of Kafka's topic alphabet: `a..b-0` is a legal topic's partition directory (Kafka
    // refuses only the names `.` and `..`), where a traversal would leave a stranger name behind.
    for (const entry of fs.readdirSync(dataDir)) {
      assert.match(entry, /^[a-zA-Z0-9._-]+$/, `odd entry in the data dir: ${entry}`);
      assert.ok(entry !== '.' && entry !== '..', `odd entry in the data dir: ${entry}`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await node.shutdown();
    fs.rmSync(sandbox, { recursive: true, force: true });
  }
}
