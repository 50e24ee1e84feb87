import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { openNode, readPartition, type TestNode } from './node-fixture.js';

let node: TestNode;
let records: string;
let server: http.Server;
let port: number;

before(async () => {
  node = await openNode({ limits: { maxStreamedObjectBytes: 4096, maxBatchEntries: 5 } });
  await node.broker.createTopic('orders', { partitions: 3 });
  records = `/v3/clusters/${node.broker.clusterId}/topics/orders/records`;
  server = node.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  await node.close();
});

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');

function post(path: string, body: string, contentType = 'application/json'): request.Test {
  return request(node.app).post(path).set('content-type', contentType).send(body);
}

/** Posts and keeps the answer as text: several reports are not one JSON document. */
async function postForReports(path: string, body: string): Promise<Record<string, unknown>[]> {
  const res = await post(path, body)
    .buffer(true)
    .parse((response, callback) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => callback(null, text));
    });
  assert.equal(res.status, 200, String(res.body));
  return reports(res.body as string);
}

/** The `\r\n`-separated reports of a streamed answer. */
function reports(text: string): Record<string, unknown>[] {
  assert.ok(text.endsWith('\r\n'), `ends with CRLF: ${JSON.stringify(text)}`);
  return text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => JSON.parse(line));
}

async function storedAt(partition: number, offset: number) {
  const found = (await readPartition(node.broker, 'orders', partition)).find((r) => r.offset === offset);
  assert.ok(found, `record at ${partition}/${offset}`);
  return found;
}

test('a single record answers one delivery report with sizes, and is stored as BINARY, JSON and STRING say', async () => {
  const res = await post(
    records,
    JSON.stringify({
      partition_id: 1,
      headers: [
        { name: 'trace', value: b64('abc') },
        { name: 'empty', value: null },
      ],
      key: { type: 'BINARY', data: b64(Buffer.from([0, 1, 255])) },
      value: { type: 'JSON', data: { item: 'book', n: [1, 2] } },
      timestamp: '2024-05-01T12:00:00Z',
    }),
  );
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  const [report] = reports(res.text);
  assert.deepEqual(report, {
    error_code: 200,
    cluster_id: node.broker.clusterId,
    topic_name: 'orders',
    partition_id: 1,
    offset: report?.offset,
    timestamp: '2024-05-01T12:00:00.000Z',
    key: { type: 'BINARY', size: 3 },
    value: { type: 'JSON', size: 25 },
  });
  const stored = await storedAt(1, report?.offset as number);
  assert.deepEqual(stored.key, Buffer.from([0, 1, 255]));
  assert.equal(stored.value?.toString(), '{"item":"book","n":[1,2]}');
  assert.equal(stored.timestamp, Date.parse('2024-05-01T12:00:00Z'));
  assert.deepEqual(
    stored.headers.map((h) => [h.key, h.value?.toString() ?? null]),
    [
      ['trace', 'abc'],
      ['empty', null],
    ],
  );
});

test('STRING keys and values are stored as UTF-8; unicode survives; a millisecond timestamp is accepted', async () => {
  const res = await post(
    records,
    JSON.stringify({
      key: { type: 'STRING', data: 'clé 🔑' },
      value: { type: 'STRING', data: 'héllo wörld — 日本語' },
      timestamp: 1_700_000_000_000,
    }),
  );
  assert.equal(res.status, 200, res.text);
  const [report] = reports(res.text);
  assert.deepEqual(report?.key, { type: 'STRING', size: Buffer.byteLength('clé 🔑') });
  assert.equal(report?.timestamp, new Date(1_700_000_000_000).toISOString());
  const stored = await storedAt(report?.partition_id as number, report?.offset as number);
  assert.equal(stored.key?.toString('utf8'), 'clé 🔑');
  assert.equal(stored.value?.toString('utf8'), 'héllo wörld — 日本語');
});

test('the same key lands on the same partition; a record without key or value reports neither', async () => {
  const first = reports((await post(records, JSON.stringify({ key: { type: 'STRING', data: 'user-7' } }))).text)[0];
  const again = reports((await post(records, JSON.stringify({ key: { type: 'STRING', data: 'user-7' } }))).text)[0];
  assert.equal(first?.partition_id, again?.partition_id);
  const empty = reports((await post(records, '{}')).text)[0];
  assert.equal(empty?.error_code, 200);
  assert.equal('key' in (empty ?? {}), false);
  assert.equal('value' in (empty ?? {}), false);
  const nulls = reports((await post(records, JSON.stringify({ value: { type: 'JSON', data: null } }))).text)[0];
  assert.deepEqual(nulls?.value, { type: 'JSON', size: 0 });
});

test('JSON data nested over 1000 levels or holding a number beyond a double gets a 42206 report naming it', async () => {
  const got = await postForReports(
    records,
    [
      '{"partition_id": 1, "value": {"type": "JSON", "data": {"n": 1e400}}}',
      `{"partition_id": 1, "key": {"type": "JSON", "data": ${'['.repeat(1500)}${']'.repeat(1500)}}}`,
      '{"partition_id": 1, "value": {"type": "JSON", "data": {"n": 1e300, "m": null}}}',
    ].join('\n'),
  );
  assert.deepEqual(
    got.map((r) => r.error_code),
    [42206, 42206, 200],
  );
  assert.match(String(got[0]?.message), /value\.data\.n holds a number too large/, 'the field is named');
  assert.match(String(got[1]?.message), /key\.data(\[0\]){1000} is nested more than 1000 levels deep/);
  const stored = await storedAt(1, got[2]?.offset as number);
  assert.equal(stored.value?.toString(), '{"n":1e+300,"m":null}', 'a null of its own is still a value');
});

test('concatenated objects get one report each, in order; a bad one in the middle gets an error report', async () => {
  const body = [
    JSON.stringify({ partition_id: 2, value: { type: 'STRING', data: 'one' } }),
    JSON.stringify({ partition_id: 2, value: { type: 'BINARY', data: 'not base64!' } }),
    '{"partition_id": 2, "value": {"type": "STRING", "data": ', // malformed: no value, closed below
    '}}',
    JSON.stringify({ partition_id: 2, value: { type: 'AVRO', data: {} } }),
    JSON.stringify({ partition_id: 9, value: { type: 'STRING', data: 'nowhere' } }),
    JSON.stringify({ partition_id: 2, value: { type: 'STRING', data: 'x'.repeat(5000) } }),
    JSON.stringify({ partition_id: 2, vlaue: 1 }),
    JSON.stringify({ partition_id: 2, value: { type: 'STRING', data: 'two {with} "braces" \\ and \u2028' } }),
  ].join('\n  ');
  const got = await postForReports(records, body);
  assert.deepEqual(
    got.map((r) => r.error_code),
    [200, 400, 400, 42206, 40402, 413, 422, 200],
  );
  assert.match(String(got[1]?.message), /base64/);
  assert.match(String(got[2]?.message), /Error processing JSON/);
  assert.match(String(got[6]?.message), /vlaue/);
  assert.equal(got[7]?.offset, (got[0]?.offset as number) + 1, 'only the good records were written');
  assert.equal((await storedAt(2, got[0]?.offset as number)).value?.toString(), 'one');
  assert.equal((await storedAt(2, got[7]?.offset as number)).value?.toString(), 'two {with} "braces" \\ and \u2028');
});

test('bytes between objects that are not whitespace end the stream after an error report', async () => {
  const got = await postForReports(
    records,
    '{"value":{"type":"STRING","data":"a"}} oops {"value":{"type":"STRING","data":"b"}}',
  );
  assert.deepEqual(
    got.map((r) => r.error_code),
    [200, 400],
  );
  assert.match(String(got[1]?.message), /expected '\{'.*'o'/);
});

test('a body ending inside an object reports 400 after the good ones', async () => {
  const got = await postForReports(records, '{"value":{"type":"STRING","data":"a"}}{"value":');
  assert.deepEqual(
    got.map((r) => r.error_code),
    [200, 400],
  );
});

test('a chunked stream kept open gets each report as soon as its record is acknowledged', async () => {
  const received: Record<string, unknown>[] = [];
  const objects = [
    { partition_id: 0, value: { type: 'STRING', data: 'first' } },
    { partition_id: 0, value: { type: 'STRING', data: 'bad', extra: 1 } },
    { partition_id: 0, value: { type: 'STRING', data: 'third' } },
  ];
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: records, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        assert.equal(res.statusCode, 200);
        res.setEncoding('utf8');
        let buffered = '';
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let end = buffered.indexOf('\r\n');
          while (end >= 0) {
            received.push(JSON.parse(buffered.slice(0, end)));
            buffered = buffered.slice(end + 2);
            end = buffered.indexOf('\r\n');
          }
          // The next object is sent only after the previous report arrived: the request is still open.
          const next = objects[received.length];
          if (next) req.write(`${JSON.stringify(next)}\n`);
          else req.end();
        });
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.flushHeaders();
    req.write(JSON.stringify(objects[0]));
  });
  assert.deepEqual(
    received.map((r) => r.error_code),
    [200, 422, 200],
  );
  assert.equal(received[2]?.offset, (received[0]?.offset as number) + 1);
});

test('errors before any report are ordinary answers: empty body, unknown cluster, wrong content type', async () => {
  const empty = await post(records, '');
  assert.equal(empty.status, 422);
  assert.equal(empty.body.error_code, 42206);
  const blank = await post(records, ' \n ');
  assert.equal(blank.status, 422);

  const unknown = await post('/v3/clusters/no-such-cluster/topics/orders/records', '{}');
  assert.equal(unknown.status, 404);
  assert.deepEqual(unknown.body, { error_code: 404, message: 'Cluster no-such-cluster cannot be found.' });

  const wrongType = await post(records, '{}', 'application/vnd.kafka.json.v2+json');
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.body.error_code, 415);
  const textType = await post(records, '{}', 'text/plain');
  assert.equal(textType.status, 415);
});

test('a trailing slash is accepted, and records does not swallow records:batch', async () => {
  const slash = await post(`${records}/`, JSON.stringify({ value: { type: 'STRING', data: 's' } }));
  assert.equal(slash.status, 200, slash.text);
  const batch = await post(`${records}:batch`, JSON.stringify({ entries: [{ id: '1' }] }));
  assert.equal(batch.status, 207, batch.text);
  const wrongMethod = await request(node.app).get(`${records}:batch`);
  assert.equal(wrongMethod.status, 405);
});

test('records:batch answers 207 with successes and failures per entry', async () => {
  const res = await post(
    `${records}:batch`,
    JSON.stringify({
      entries: [
        { id: 'a', partition_id: 0, value: { type: 'STRING', data: 'α' } },
        { id: 'b', partition_id: 7, value: { type: 'STRING', data: 'nowhere' } },
        { id: 'c', key: { type: 'BINARY', data: '***' } },
        { id: 'd', partition_id: 0, key: { type: 'JSON', data: [1] }, value: { type: 'BINARY', data: b64('bin') } },
        { id: 'e', value: { type: 'PROTOBUF', data: {} } },
      ],
    }),
  );
  assert.equal(res.status, 207, res.text);
  assert.deepEqual(
    res.body.successes.map((s: { id: string }) => s.id),
    ['a', 'd'],
  );
  const [a, d] = res.body.successes;
  assert.equal(d.offset, a.offset + 1);
  assert.deepEqual(d.key, { type: 'JSON', size: 3 });
  assert.equal('error_code' in a, false);
  const failures = Object.fromEntries(
    res.body.failures.map((f: { id: string; error_code: number }) => [f.id, f.error_code]),
  );
  assert.deepEqual(failures, { b: 40402, c: 400, e: 42206 });
  assert.equal((await storedAt(0, a.offset)).value?.toString(), 'α');
});

test('records:batch refuses empty, oversized and badly identified batches with 42208, writing nothing', async () => {
  const before = [0, 1, 2].map((p) => node.broker.listOffsets('orders', p).highWatermark);
  const entry = (id: string) => ({ id, value: { type: 'STRING', data: id } });
  const cases: [unknown, RegExp][] = [
    [{ entries: [] }, /Empty batch/],
    [{ entries: ['1', '2', '3', '4', '5', '6'].map(entry) }, /Too many entries/],
    [{ entries: [entry('x'), entry('x')] }, /not distinct/],
    [{ entries: [entry('')] }, /1 to 80/],
    [{ entries: [entry('i'.repeat(81))] }, /1 to 80/],
  ];
  for (const [body, message] of cases) {
    const res = await post(`${records}:batch`, JSON.stringify(body));
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.error_code, 42208);
    assert.match(res.body.message, message);
  }
  const noId = await post(`${records}:batch`, JSON.stringify({ entries: [{ value: { type: 'STRING', data: 'x' } }] }));
  assert.equal(noId.status, 422);
  const malformed = await post(`${records}:batch`, '{"entries": [');
  assert.equal(malformed.status, 400);
  assert.deepEqual(
    [0, 1, 2].map((p) => node.broker.listOffsets('orders', p).highWatermark),
    before,
  );
});

test('v3 produce to an unknown topic auto-creates it, as v2 does', async () => {
  const res = await post(
    `/v3/clusters/${node.broker.clusterId}/topics/fresh-topic/records`,
    JSON.stringify({ value: { type: 'STRING', data: 'hi' } }),
  );
  assert.equal(reports(res.text)[0]?.error_code, 200);
  assert.equal(node.broker.listOffsets('fresh-topic', 0).highWatermark, 1);
});
