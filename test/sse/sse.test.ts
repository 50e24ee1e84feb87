/**
 * `GET /topics/{topic}/stream` driven by the real `eventsource` client (and raw sockets where a
 * test needs the bytes, or a client that never reads) against a real node on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, describe, test } from 'node:test';
import { EventSource, type EventSourceInit } from 'eventsource';
import fc from 'fast-check';
import { BadRequestError } from '../../src/errors.js';
import { httpAnswerOf } from '../../src/http/error-codes.js';
import { decodeResumeToken, encodeResumeToken, resumeScope } from '../../src/http/sse-resume-token.js';
import { produceJson, type SseServer, startSseServer, waitUntil } from './sse-fixture.js';

interface StreamedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: unknown;
  value: unknown;
  headers: { key: string; value: string | null }[];
  key_format: string;
  value_format: string;
}

interface SseEvent {
  type: string;
  id: string;
  data: string;
}

/** An EventSource that keeps every server-sent event (record, rebalance, error) in order. */
class Tail {
  readonly es: EventSource;
  readonly events: SseEvent[] = [];
  opens = 0;

  constructor(url: string, init?: EventSourceInit) {
    this.es = new EventSource(url, init);
    this.es.addEventListener('open', () => this.opens++);
    for (const type of ['record', 'rebalance', 'error']) {
      this.es.addEventListener(type, (e) => {
        // Connection failures are `error` events too, without data: only keep the server's.
        if (e instanceof MessageEvent) this.events.push({ type, id: e.lastEventId, data: String(e.data) });
      });
    }
  }

  records(): StreamedRecord[] {
    return this.events.filter((e) => e.type === 'record').map((e) => JSON.parse(e.data) as StreamedRecord);
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  lastId(): string {
    const last = this.events.filter((e) => e.type === 'record').at(-1);
    assert.ok(last !== undefined, 'a record event was received before asking for its id');
    return last.id;
  }

  async waitForRecords(n: number, timeoutMs = 15_000): Promise<StreamedRecord[]> {
    await waitUntil(() => this.records().length >= n, `${n} records (have ${this.records().length})`, timeoutMs);
    return this.records();
  }

  close(): void {
    this.es.close();
  }
}

/** A raw GET whose text is kept as it arrives (de-chunked by node's http client). */
interface RawStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  text(): string;
  res: http.IncomingMessage;
  ended: Promise<void>;
  close(): void;
}

function openRaw(
  url: string,
  headers: Record<string, string> = {},
  opts: { paused?: boolean } = {},
): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      const ended = new Promise<void>((done) => {
        res.on('end', () => done());
        res.on('close', () => done());
      });
      if (opts.paused) res.pause();
      res.on('data', (d: string) => {
        text += d;
      });
      if (opts.paused) res.pause();
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        res,
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

/** A plain request: status, headers and body text. */
function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

function ids(records: readonly StreamedRecord[]): string[] {
  return records.map((r) => `${r.partition}:${r.offset}`);
}

function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Each server is stopped after the test that made it, even when the test fails. */
const servers: SseServer[] = [];
const tails: Tail[] = [];
async function server(opts: Parameters<typeof startSseServer>[0] = {}): Promise<SseServer> {
  const s = await startSseServer(opts);
  servers.push(s);
  return s;
}
function tail(url: string, init?: ConstructorParameters<typeof Tail>[1]): Tail {
  const t = new Tail(url, init);
  tails.push(t);
  return t;
}
after(async () => {
  for (const t of tails) t.close();
  for (const s of servers) await s.stop();
});

describe('replay and live tail', () => {
  test('replays from earliest with every field of a record', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    await s.node.broker.produce(
      't',
      [
        {
          key: Buffer.from('"alice"'),
          value: Buffer.from('{"n":1}'),
          headers: [{ key: 'h', value: Buffer.from('v') }],
        },
        { key: null, value: Buffer.from('[2]'), timestamp: 1_700_000_000_000 },
      ],
      { acks: 1, timeoutMs: 1000 },
    );
    const t = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const [first, second] = await t.waitForRecords(2);
    assert.ok(first && second, 'two records arrived');
    assert.deepEqual(
      { ...first, timestamp: 0 },
      {
        topic: 't',
        partition: 0,
        offset: 0,
        timestamp: 0,
        key: 'alice',
        value: { n: 1 },
        headers: [{ key: 'h', value: 'v' }],
        key_format: 'json',
        value_format: 'json',
      },
    );
    assert.ok(first.timestamp > 1_700_000_000_000, 'the append time is a real epoch-ms time');
    assert.deepEqual(second, {
      topic: 't',
      partition: 0,
      offset: 1,
      timestamp: 1_700_000_000_000,
      key: null,
      value: [2],
      headers: [],
      key_format: 'json',
      value_format: 'json',
    });
  });

  test('a live tail (from=latest) sees only what is produced after it opened, over HTTP', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    await produceJson(s.baseUrl, 't', [{ value: 'before' }]);
    const t = tail(`${s.baseUrl}/topics/t/stream`);
    await waitUntil(() => t.opens === 1 && s.hub.stats.open === 1, 'the stream to open');
    await produceJson(s.baseUrl, 't', [{ value: 'after-1' }, { value: 'after-2' }]);
    const got = await t.waitForRecords(2);
    assert.deepEqual(
      got.map((r) => [r.offset, r.value]),
      [
        [1, 'after-1'],
        [2, 'after-2'],
      ],
    );
  });

  test('merges every partition by default and only the listed ones with partitions=', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 3 });
    for (const p of range(3))
      await produceJson(s.baseUrl, 't', [
        { value: p, partition: p },
        { value: p, partition: p },
      ]);
    const all = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const some = tail(`${s.baseUrl}/topics/t/stream?from=earliest&partitions=0,2`);
    assert.deepEqual(ids(await all.waitForRecords(6)).sort(), ['0:0', '0:1', '1:0', '1:1', '2:0', '2:1']);
    assert.deepEqual(ids(await some.waitForRecords(4)).sort(), ['0:0', '0:1', '2:0', '2:1']);
  });

  test('offset=N starts a single-partition stream there; offset without one partition is 400', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 2 });
    await produceJson(
      s.baseUrl,
      't',
      range(5).map((i) => ({ value: i, partition: 1 })),
    );
    const t = tail(`${s.baseUrl}/topics/t/stream?partitions=1&offset=3`);
    assert.deepEqual(ids(await t.waitForRecords(2)), ['1:3', '1:4']);
    const bad = await request(`${s.baseUrl}/topics/t/stream?offset=3`);
    assert.equal(bad.status, 400);
    assert.equal(typeof JSON.parse(bad.body).error_code, 'number');
  });

  test('timestamp= starts at the first record at or after it, as epoch ms or ISO-8601', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    const base = Date.parse('2026-01-01T00:00:00Z');
    await s.node.broker.produce(
      't',
      range(4).map((i) => ({ key: null, value: Buffer.from(String(i)), timestamp: base + i * 1000 })),
      { acks: 1, timeoutMs: 1000 },
    );
    const byMs = tail(`${s.baseUrl}/topics/t/stream?timestamp=${base + 1500}`);
    const byIso = tail(`${s.baseUrl}/topics/t/stream?timestamp=2026-01-01T00:00:01Z`);
    assert.deepEqual(ids(await byMs.waitForRecords(2)), ['0:2', '0:3']);
    assert.deepEqual(ids(await byIso.waitForRecords(3)), ['0:1', '0:2', '0:3']);
    const bad = await request(`${s.baseUrl}/topics/t/stream?timestamp=yesterday`);
    assert.equal(bad.status, 400);
  });
});

describe('formats and filters', () => {
  test('key= keeps only records whose key bytes equal it', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 2 });
    const keys = ['alice', 'bob', 'alice', 'carol', 'alice', 'bob'];
    await s.node.broker.produce(
      't',
      keys.map((k, i) => ({ key: Buffer.from(k), value: Buffer.from(String(i)), partition: i % 2 })),
      { acks: 1, timeoutMs: 1000 },
    );
    const t = tail(`${s.baseUrl}/topics/t/stream?from=earliest&key=alice&format=string`);
    const got = await t.waitForRecords(3);
    await produceJson(s.baseUrl, 't', [{ value: 'late' }]); // a record that does not match
    await s.node.broker.produce('t', [{ key: Buffer.from('alice'), value: Buffer.from('6'), partition: 0 }], {
      acks: 1,
      timeoutMs: 1000,
    });
    await t.waitForRecords(4);
    assert.ok(
      t.records().every((r) => r.key === 'alice'),
      'every streamed record has key alice',
    );
    assert.deepEqual(
      t
        .records()
        .map((r) => r.value)
        .sort(),
      ['0', '2', '4', '6'],
    );
    assert.equal(got.length >= 3, true);
  });

  test('format=string and format=binary render key, value and headers that way', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    await s.node.broker.produce(
      't',
      [{ key: Buffer.from('k'), value: Buffer.from('{"a":1}'), headers: [{ key: 'h', value: Buffer.from('hv') }] }],
      { acks: 1, timeoutMs: 1000 },
    );
    const asString = tail(`${s.baseUrl}/topics/t/stream?from=earliest&format=string`);
    const asBinary = tail(`${s.baseUrl}/topics/t/stream?from=earliest&format=binary`);
    const [str] = await asString.waitForRecords(1);
    const [bin] = await asBinary.waitForRecords(1);
    assert.deepEqual(
      [str?.key, str?.value, str?.headers, str?.key_format, str?.value_format],
      ['k', '{"a":1}', [{ key: 'h', value: 'hv' }], 'string', 'string'],
    );
    assert.deepEqual(
      [bin?.key, bin?.value, bin?.headers, bin?.key_format, bin?.value_format],
      [
        Buffer.from('k').toString('base64'),
        Buffer.from('{"a":1}').toString('base64'),
        [{ key: 'h', value: Buffer.from('hv').toString('base64') }],
        'binary',
        'binary',
      ],
    );
  });

  test('json falls back to string for bytes that are not JSON, and says so per field', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    await s.node.broker.produce(
      't',
      [
        { key: Buffer.from('{"id":7}'), value: Buffer.from('not json {') },
        { key: Buffer.from('plain key'), value: Buffer.from('{"ok":true}') },
      ],
      { acks: 1, timeoutMs: 1000 },
    );
    const t = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const [a, b] = await t.waitForRecords(2);
    assert.deepEqual([a?.key, a?.key_format, a?.value, a?.value_format], [{ id: 7 }, 'json', 'not json {', 'string']);
    assert.deepEqual([b?.key, b?.key_format, b?.value, b?.value_format], ['plain key', 'string', { ok: true }, 'json']);
  });
});

describe('exact resume by Last-Event-ID', () => {
  test("EventSource's own reconnect after a dropped connection misses nothing and repeats nothing", async () => {
    const s = await server({ limits: { retryMs: 50 } });
    await s.node.broker.createTopic('t', { partitions: 3 });
    const t = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    await produceJson(
      s.baseUrl,
      't',
      range(30).map((i) => ({ value: i, partition: i % 3 })),
    );
    await t.waitForRecords(30);
    // Drop every connection from the server side; the client reconnects with Last-Event-ID.
    for (const sock of s.sockets) sock.destroy();
    await produceJson(
      s.baseUrl,
      't',
      range(30, 30).map((i) => ({ value: i, partition: i % 3 })),
    );
    await waitUntil(() => t.opens >= 2, 'EventSource to reconnect');
    await produceJson(
      s.baseUrl,
      't',
      range(30, 60).map((i) => ({ value: i, partition: i % 3 })),
    );
    const got = await t.waitForRecords(90);
    assert.equal(got.length, 90, 'exactly 90 records, none repeated');
    assert.deepEqual(
      got.map((r) => r.value).sort((a, b) => Number(a) - Number(b)),
      range(90),
    );
    for (const p of range(3)) {
      assert.deepEqual(
        got.filter((r) => r.partition === p).map((r) => r.offset),
        range(30),
        `partition ${p} is delivered in offset order without gaps`,
      );
    }
  });

  test('a new client resumes with the Last-Event-ID header (custom fetch) and with ?lastEventId=', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 2 });
    await produceJson(
      s.baseUrl,
      't',
      range(20).map((i) => ({ value: i, partition: i % 2 })),
    );
    const first = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    await first.waitForRecords(7);
    first.close();
    const seen = first.records().slice(0, 7);
    const token = first.events.filter((e) => e.type === 'record')[6]?.id ?? '';
    assert.ok(token !== '', 'the seventh record carries an id');
    const expected = range(20).filter((i) => !seen.some((r) => r.value === i));

    const byHeader = tail(`${s.baseUrl}/topics/t/stream?from=latest`, {
      fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, 'Last-Event-ID': token } }),
    });
    const byQuery = tail(`${s.baseUrl}/topics/t/stream?from=latest&lastEventId=${token}`);
    for (const resumed of [byHeader, byQuery]) {
      const got = await resumed.waitForRecords(expected.length);
      assert.deepEqual(
        got.map((r) => r.value).sort((a, b) => Number(a) - Number(b)),
        expected,
        'the resumed stream holds exactly the records after the token',
      );
    }
    // And nothing more arrives than what is produced later.
    await produceJson(s.baseUrl, 't', [{ value: 20, partition: 0 }]);
    await byQuery.waitForRecords(expected.length + 1);
    assert.equal(byQuery.records().length, expected.length + 1);
  });

  test('resumes exactly after a server restart on the same data directory', async () => {
    const s1 = await server();
    await s1.node.broker.createTopic('t', { partitions: 2 });
    await produceJson(
      s1.baseUrl,
      't',
      range(10).map((i) => ({ value: i, partition: i % 2 })),
    );
    const before = tail(`${s1.baseUrl}/topics/t/stream?from=earliest`);
    await before.waitForRecords(10);
    const token = before.lastId();
    before.close();
    await s1.stop({ keepDir: true });

    const s2 = await server({ dataDir: s1.dataDir });
    await produceJson(
      s2.baseUrl,
      't',
      range(10, 10).map((i) => ({ value: i, partition: i % 2 })),
    );
    const resumed = tail(`${s2.baseUrl}/topics/t/stream?from=earliest&lastEventId=${token}`);
    const got = await resumed.waitForRecords(10);
    await produceJson(s2.baseUrl, 't', [{ value: 20, partition: 1 }]);
    await resumed.waitForRecords(11);
    assert.deepEqual(
      resumed
        .records()
        .map((r) => r.value)
        .sort((a, b) => Number(a) - Number(b)),
      range(11, 10),
    );
    assert.equal(got[0]?.offset, 5, 'the first resumed record per partition is offset 5');
  });

  test('a token the server did not issue is 400 JSON before the stream', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    for (const token of ['!!!', 'AA', 'AQ', 'Ag', 'AQEAAQAA', 'x'.repeat(5000)]) {
      const res = await request(`${s.baseUrl}/topics/t/stream?lastEventId=${token}`);
      assert.equal(res.status, 400, `token ${token.slice(0, 20)} is refused`);
      assert.match(res.headers['content-type'] ?? '', /json/);
    }
    const header = await request(`${s.baseUrl}/topics/t/stream`, { headers: { 'Last-Event-ID': 'not*a*token' } });
    assert.equal(header.status, 400);
    assert.equal(s.hub.stats.open, 0, 'a refused stream holds no slot');
  });
});

describe('resume tokens', () => {
  const scope = resumeScope('orders', 'all');
  test('round-trip any positions', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.nat({ max: 1_000_000 }), fc.nat({ max: 2 ** 40 })), {
          selector: ([p]) => p,
          maxLength: 50,
        }),
        (pairs) => {
          const positions = new Map(pairs);
          const token = encodeResumeToken(scope, positions);
          assert.match(token, /^[A-Za-z0-9_-]*$/, 'URL-safe');
          assert.deepEqual(decodeResumeToken(token), {
            scope: { topicTag: scope.topicTag, selection: 'all' },
            positions,
          });
        },
      ),
    );
  });

  test('round-trip offsets up to 2^53 - 1', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat({ max: 10_000 }), (offset, partition) => {
        assert.deepEqual(
          decodeResumeToken(encodeResumeToken(scope, new Map([[partition, offset]]))).positions,
          new Map([[partition, offset]]),
        );
      }),
    );
  });

  test('garbage is refused with a 400 error, never decoded into positions', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (text) => {
        let decoded: ReturnType<typeof decodeResumeToken> | undefined;
        try {
          decoded = decodeResumeToken(text);
        } catch (err) {
          assert.ok(err instanceof BadRequestError, `'${text}' fails with a BadRequestError`);
          assert.equal(httpAnswerOf(err).status, 400);
          return;
        }
        // Whatever decodes in today's format must be exactly what encoding the result gives back
        // (the older format is only read, never written).
        if (decoded.scope === null) return;
        const header = Buffer.from(text, 'base64url').subarray(0, 5);
        assert.equal(
          encodeResumeToken({ ...decoded.scope, header }, decoded.positions),
          text,
          `'${text}' decoded, so it is canonical`,
        );
      }),
    );
  });
});

describe('errors before and during the stream', () => {
  test('an unknown topic is 404 JSON, an unknown partition 404 with 40402', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 2 });
    const topic = await request(`${s.baseUrl}/topics/nope/stream`);
    assert.equal(topic.status, 404);
    assert.match(topic.headers['content-type'] ?? '', /json/);
    assert.equal(JSON.parse(topic.body).error_code, 40403);
    const partition = await request(`${s.baseUrl}/topics/t/stream?partitions=0,2`);
    assert.equal(partition.status, 404);
    assert.equal(JSON.parse(partition.body).error_code, 40402);
    assert.equal(s.hub.stats.open, 0, 'refused streams hold no slot');
  });

  test('a topic deleted mid-stream ends the stream with an error event', async () => {
    // keep-alive far beyond the wait below: the stream must notice the deletion, not its timer.
    const s = await server({ limits: { keepAliveMs: 120_000 } });
    await s.node.broker.createTopic('t', { partitions: 2 });
    await produceJson(s.baseUrl, 't', [{ value: 1 }]);
    const raw = await openRaw(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const group = await openRaw(`${s.baseUrl}/topics/t/stream?from=earliest&group=g`);
    await waitUntil(() => raw.text().includes('event: record'), 'the first record');
    await waitUntil(() => s.hub.stats.open === 2, 'both streams');
    await s.node.broker.deleteTopic('t');
    for (const r of [raw, group]) {
      await Promise.race([
        r.ended,
        new Promise((_, reject) => setTimeout(() => reject(new Error(`no end: ${r.text()}`)), 20_000)),
      ]);
      const events = r.text().trim().split('\n\n');
      const last = events.at(-1) ?? '';
      assert.match(last, /^event: error\ndata: /, `the last event is an error: ${last}`);
      assert.equal(JSON.parse(last.split('data: ')[1] ?? '').error_code, 40403);
    }
    await waitUntil(() => s.hub.stats.open === 0, 'the slots to be released');
  });
});

describe('limits', () => {
  test('a second stream from the same client is 429 JSON when maxStreamsPerClient is 1', async () => {
    const s = await server({ limits: { maxStreamsPerClient: 1 } });
    await s.node.broker.createTopic('t', { partitions: 1 });
    const first = tail(`${s.baseUrl}/topics/t/stream`);
    await waitUntil(() => first.opens === 1, 'the first stream');
    const second = await request(`${s.baseUrl}/topics/t/stream`);
    assert.equal(second.status, 429);
    assert.equal(JSON.parse(second.body).error_code, 42901);
    first.close();
    await waitUntil(() => s.hub.stats.open === 0, 'the first stream to be released');
    const third = tail(`${s.baseUrl}/topics/t/stream`);
    await waitUntil(() => third.opens === 1, 'a stream after the first closed');
  });

  test('a stream over the node limit is 503 JSON', async () => {
    const s = await server({ limits: { maxStreams: 1 } });
    await s.node.broker.createTopic('t', { partitions: 1 });
    const first = tail(`${s.baseUrl}/topics/t/stream`);
    await waitUntil(() => first.opens === 1, 'the first stream');
    const second = await request(`${s.baseUrl}/topics/t/stream`);
    assert.equal(second.status, 503);
    assert.match(second.headers['content-type'] ?? '', /json/);
    assert.equal(typeof JSON.parse(second.body).error_code, 'number');
  });

  test('retry: comes once, first; keep-alive comments come when idle', async () => {
    const s = await server({ limits: { keepAliveMs: 100, retryMs: 1234 } });
    await s.node.broker.createTopic('t', { partitions: 1 });
    const raw = await openRaw(`${s.baseUrl}/topics/t/stream`);
    assert.equal(raw.status, 200);
    assert.match(raw.headers['content-type'] ?? '', /^text\/event-stream/);
    assert.equal(raw.headers['cache-control'], 'no-cache, no-transform');
    await waitUntil(() => (raw.text().match(/: keep-alive\n\n/g) ?? []).length >= 3, 'three keep-alive comments');
    raw.close();
    assert.ok(raw.text().startsWith('retry: 1234\n\n'), `retry first: ${raw.text().slice(0, 40)}`);
    assert.equal((raw.text().match(/retry:/g) ?? []).length, 1, 'retry once');
  });
});

describe('group streams', () => {
  test('two streams of a group split the partitions; when one leaves the other takes all, skipping nothing', async () => {
    // A short keep-alive makes an idle stream come back from its poll and report its assignment.
    const s = await server({ limits: { keepAliveMs: 100 } });
    await s.node.broker.createTopic('t', { partitions: 4 });
    const url = `${s.baseUrl}/topics/t/stream?group=g&from=earliest`;
    const a = tail(url);
    const lastAssignment = (t: Tail): number[] => {
      const last = t.of('rebalance').at(-1);
      return last ? (JSON.parse(last.data) as { partitions: number[] }).partitions : [];
    };
    await waitUntil(() => lastAssignment(a).length === 4, 'the first member to own all 4 partitions');
    const b = tail(url);
    await waitUntil(
      () => lastAssignment(a).length === 2 && lastAssignment(b).length === 2,
      'both members to own 2 partitions each',
    );
    assert.deepEqual([...lastAssignment(a), ...lastAssignment(b)].sort(), [0, 1, 2, 3], 'disjoint and complete');

    await produceJson(
      s.baseUrl,
      't',
      range(200).map((i) => ({ value: i, partition: i % 4 })),
    );
    await waitUntil(() => a.records().length + b.records().length >= 200, 'all 200 records across both streams');
    for (const [t, mine] of [
      [a, lastAssignment(a)],
      [b, lastAssignment(b)],
    ] as const) {
      assert.ok(
        t.records().every((r) => mine.includes(r.partition)),
        'each stream only gets its own partitions',
      );
    }
    const firstHalf = [...a.records(), ...b.records()];
    assert.equal(new Set(ids(firstHalf)).size, 200, 'every record exactly once across the two');

    b.close();
    await waitUntil(() => lastAssignment(a).length === 4, 'the remaining member to get all partitions');
    await produceJson(
      s.baseUrl,
      't',
      range(200, 200).map((i) => ({ value: i, partition: i % 4 })),
    );
    await waitUntil(
      () => a.records().length + b.records().length >= 400,
      `all 400 records (have ${a.records().length + b.records().length})`,
    );
    const all = [...a.records(), ...b.records()];
    assert.equal(all.length, 400, 'nothing repeated after the rebalance');
    assert.deepEqual(
      all.map((r) => r.value as number).sort((x, y) => x - y),
      range(400),
      'nothing skipped',
    );
    const committed = s.node.coordinator.committedOffset('g', 't', 0);
    assert.equal(committed?.offset, 100, 'the group committed what it wrote');
  });
});

describe('backpressure', () => {
  test('a reader that never reads is dropped; a fast reader gets everything; queues stay bounded', async () => {
    const maxBufferedBytesPerStream = 1024 * 1024;
    const s = await server({ limits: { slowClientTimeoutMs: 2000, maxBufferedBytesPerStream } });
    await s.node.broker.createTopic('t', { partitions: 1 });

    const slow = await openRaw(`${s.baseUrl}/topics/t/stream?from=earliest`, {}, { paused: true });
    const fast = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    await waitUntil(() => fast.opens === 1 && s.hub.stats.open === 2, 'both streams');

    let maxQueued = 0;
    const sampler = setInterval(() => {
      for (const sock of s.sockets) if (!sock.destroyed) maxQueued = Math.max(maxQueued, sock.writableLength);
    }, 2);
    const value = Buffer.alloc(1000, 'x');
    const batches = 100;
    const perBatch = 250; // 100 × 250 × 1000 B = 25 MB
    try {
      for (let i = 0; i < batches; i++) {
        await s.node.broker.produce(
          't',
          range(perBatch).map(() => ({ key: null, value })),
          { acks: 1, timeoutMs: 5000 },
        );
        // Let the streams run between produces, as separate requests would.
        await new Promise((r) => setImmediate(r));
      }
      await waitUntil(() => s.hub.stats.droppedSlowTotal === 1, 'the slow reader to be dropped', 30_000);
      // The slow reader reads at last, within the grace it has after being dropped.
      slow.res.resume();
      await fast.waitForRecords(batches * perBatch, 60_000);
    } finally {
      clearInterval(sampler);
    }
    const got = fast.records();
    assert.equal(got.length, batches * perBatch, 'the fast reader got every record once');
    assert.ok(
      got.every((r, i) => r.offset === i),
      'in order, without gaps',
    );
    assert.equal(s.hub.stats.droppedSlowTotal, 1, 'only the slow reader was dropped');
    // A stream queues at most what it had when the socket filled plus one batch's rendered text.
    const oneBatchTextBytes = 2 * 256 * 1024;
    assert.ok(
      maxQueued <= maxBufferedBytesPerStream + oneBatchTextBytes,
      `no socket queued more than the limit plus one batch (max ${maxQueued} B)`,
    );

    // Its stream ends with the error event telling it to resume.
    await Promise.race([
      slow.ended,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the slow stream never ended')), 20_000)),
    ]);
    const last = slow.text().trim().split('\n\n').at(-1) ?? '';
    assert.match(last, /^event: error\ndata: /, `the slow stream ends with an error event: ${last.slice(0, 200)}`);
    assert.equal(JSON.parse(last.slice(last.indexOf('data: ') + 6)).error_code, 42901);
    await waitUntil(() => s.hub.stats.open === 1, 'the dropped stream to release its slot');
  });

  test('a dropped reader that never reads again does not hold its buffered bytes forever', async () => {
    const s = await server({ limits: { slowClientTimeoutMs: 300 } });
    await s.node.broker.createTopic('t', { partitions: 1 });
    const value = Buffer.alloc(1000, 'y');
    for (let i = 0; i < 40; i++)
      await s.node.broker.produce(
        't',
        range(250).map(() => ({ key: null, value })),
        { acks: 1, timeoutMs: 5000 },
      );
    const slow = await openRaw(`${s.baseUrl}/topics/t/stream?from=earliest`, {}, { paused: true });
    await waitUntil(() => s.hub.stats.droppedSlowTotal === 1, 'the slow reader to be dropped');
    const socket = s.sockets.at(-1);
    assert.ok(socket !== undefined, 'the server saw the connection');
    await waitUntil(() => socket.destroyed, 'the server to let go of the stuck connection', 10_000);
    slow.close();
  });
});

describe('resources', () => {
  test('a live tail of a many-partition topic leaves no waiting timer behind on its idle partitions', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 50 });
    const t = tail(`${s.baseUrl}/topics/t/stream`);
    await waitUntil(() => t.opens === 1 && s.hub.stats.open === 1, 'the stream to open');
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    for (let i = 0; i < 100; i++) {
      await produceJson(s.baseUrl, 't', [{ value: i, partition: 0 }]);
      await t.waitForRecords(i + 1);
    }
    // Each wake-up of partition 0 used to leave a 15 s timer on each of the 49 idle ones.
    assert.ok(timers() - before < 49, `timers grew by ${timers() - before} over 100 wake-ups`);
  });
});

describe('CORS', () => {
  test('any origin may read; only listed origins may write; foreign write preflights get no allow headers', async () => {
    const s = await server({ corsOrigins: ['https://writer.example'] });
    await s.node.broker.createTopic('t', { partitions: 1 });
    const stream = await openRaw(`${s.baseUrl}/topics/t/stream`, { Origin: 'https://anyone.example' });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers['access-control-allow-origin'], '*');
    stream.close();

    const produce = (origin: string) =>
      request(`${s.baseUrl}/topics/t`, {
        method: 'POST',
        headers: { Origin: origin, 'Content-Type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ value: 1 }] }),
      });
    const foreign = await produce('https://evil.example');
    assert.equal(foreign.status, 403);
    assert.match(foreign.headers['content-type'] ?? '', /json/);
    assert.equal(JSON.parse(foreign.body).error_code, 40301);
    const listed = await produce('https://writer.example');
    assert.equal(listed.status, 200);
    assert.equal(listed.headers['access-control-allow-origin'], 'https://writer.example');

    const preflight = (origin: string, method: string) =>
      request(`${s.baseUrl}/topics/t`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': method,
          'Access-Control-Request-Headers': 'content-type',
        },
      });
    const foreignPost = await preflight('https://evil.example', 'POST');
    assert.equal(foreignPost.headers['access-control-allow-origin'], undefined);
    assert.equal(foreignPost.headers['access-control-allow-methods'], undefined);
    const listedPost = await preflight('https://writer.example', 'POST');
    assert.equal(listedPost.headers['access-control-allow-origin'], 'https://writer.example');
    assert.match(listedPost.headers['access-control-allow-methods'] ?? '', /POST/);
    const foreignGet = await preflight('https://evil.example', 'GET');
    assert.equal(foreignGet.headers['access-control-allow-origin'], '*');
    assert.equal(s.node.broker.listOffsets('t', 0).highWatermark, 1, 'only the listed origin wrote');
  });
});

describe('fan-out', () => {
  test("a record's data text is rendered once for every stream that renders it the same way", async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    const n = 50;
    await s.node.broker.produce(
      't',
      range(n).map((i) => ({ key: null, value: Buffer.from(JSON.stringify({ i })) })),
      { acks: 1, timeoutMs: 1000 },
    );
    // Count every serialization of a record's data object while three streams read the topic.
    const realStringify = JSON.stringify;
    let renders = 0;
    JSON.stringify = ((value: unknown, ...rest: unknown[]) => {
      if (value !== null && typeof value === 'object' && 'value_format' in value) renders++;
      return (realStringify as (...a: unknown[]) => string)(value, ...rest);
    }) as typeof JSON.stringify;
    try {
      const json1 = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
      const json2 = tail(`${s.baseUrl}/topics/t/stream?from=earliest&format=json`);
      const binary = tail(`${s.baseUrl}/topics/t/stream?from=earliest&format=binary`);
      await json1.waitForRecords(n);
      await json2.waitForRecords(n);
      await binary.waitForRecords(n);
      const texts1 = json1.of('record').map((e) => e.data);
      assert.deepEqual(
        json2.of('record').map((e) => e.data),
        texts1,
      );
    } finally {
      JSON.stringify = realStringify;
    }
    assert.equal(renders, 2 * n, 'once per record for json (shared by two streams), once for binary');
    const r = { topic: 't', partition: 0, offset: 0, timestamp: 1, key: null, value: Buffer.from('1'), headers: [] };
    assert.equal(s.hub.render({ ...r }, 'json'), s.hub.render({ ...r }, 'json'));
  });

  test('streams in step share whole runs of events; a filter, format or position of their own is never mixed in', async () => {
    const s = await server();
    await s.node.broker.createTopic('t', { partitions: 1 });
    const keyed = (from: number, n: number) =>
      range(n, from).map((i) => ({ key: i % 2 === 0 ? 'a' : 'b', value: { i } }));
    await produceJson(s.baseUrl, 't', keyed(0, 30));
    const twinA = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const twinB = tail(`${s.baseUrl}/topics/t/stream?from=earliest`);
    const onlyA = tail(`${s.baseUrl}/topics/t/stream?from=earliest&key=%22a%22`);
    const asString = tail(`${s.baseUrl}/topics/t/stream?from=earliest&format=string`);
    const late = tail(`${s.baseUrl}/topics/t/stream?partitions=0&offset=10`);
    await twinA.waitForRecords(30);
    await twinB.waitForRecords(30);
    await late.waitForRecords(20);
    // Live records reach every stream too, each rendered its own way.
    await produceJson(s.baseUrl, 't', keyed(30, 10));
    await twinA.waitForRecords(40);
    await twinB.waitForRecords(40);
    await onlyA.waitForRecords(20);
    await asString.waitForRecords(40);
    await late.waitForRecords(30);

    assert.deepEqual(twinB.of('record'), twinA.of('record'), 'twins get the same events, ids and all');
    const check = (t: Tail, offsets: number[], what: string) => {
      const events = t.of('record');
      assert.deepEqual(
        events.map((e) => (JSON.parse(e.data) as StreamedRecord).offset),
        offsets,
        `${what}: the expected records, in order`,
      );
      for (const e of events) {
        const offset = (JSON.parse(e.data) as StreamedRecord).offset;
        assert.deepEqual(
          [...decodeResumeToken(e.id).positions],
          [[0, offset + 1]],
          `${what}: the id of offset ${offset}`,
        );
      }
    };
    check(twinA, range(40), 'from earliest');
    check(
      onlyA,
      range(20).map((i) => 2 * i),
      'key filter',
    );
    assert.ok(
      onlyA.records().every((r) => r.key === 'a'),
      'the key filter lets only key "a" through',
    );
    check(asString, range(40), 'format=string');
    assert.ok(
      asString.records().every((r) => r.value_format === 'string' && typeof r.value === 'string'),
      'format=string renders values as text',
    );
    assert.ok(
      twinA.records().every((r) => r.value_format === 'json' && typeof r.value === 'object'),
      "the json streams got json, not the string stream's text",
    );
    check(late, range(30, 10), 'offset=10');
    for (const t of [twinA, twinB, onlyA, asString, late]) t.close();
  });
});
