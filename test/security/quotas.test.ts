/**
 * Client quotas over real sockets, on a real `samsa serve` given a quotas file: HTTP over a quota
 * answers 429/42901 with Retry-After and succeeds after waiting it, the throughput of a client that
 * honours Retry-After is the quota's, the Kafka listener answers a throttled Produce with
 * throttle_time_ms and reads nothing more from the connection meanwhile (KIP-219), and the
 * per-principal bounds on SSE streams and consumer instances hold. Without authentication every
 * request is User:ANONYMOUS, which the `<default>` entity covers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';
import { RawConnection } from '../kafka/raw-connection.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const V2 = 'application/vnd.kafka.v2+json';

const servers: Array<{ server: ServerProcess; dir: string }> = [];

/** A server whose `<default>` user has `quotas`, measured over 2 samples of 1 s (a 2 s window). */
async function serverWith(quotas: Record<string, number>, extraArgs: string[] = []): Promise<ServerProcess> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-quotas-'));
  const file = path.join(dir, 'quotas.json');
  fs.writeFileSync(file, JSON.stringify({ users: { '<default>': quotas } }));
  const args = ['--quotas-file', file, '--quota-window-num', '2', '--quota-window-size-seconds', '1', ...extraArgs];
  const server = await startServer(path.join(dir, 'data'), args);
  servers.push({ server, dir });
  return server;
}

after(async () => {
  for (const { server, dir } of servers) {
    server.child.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function produce(baseUrl: string, topic: string, valueBytes: number): Promise<Response> {
  return fetch(`${baseUrl}/topics/${topic}`, {
    method: 'POST',
    headers: { 'content-type': JSON_V2 },
    body: JSON.stringify({ records: [{ value: 'x'.repeat(valueBytes), partition: 0 }] }),
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('producer_byte_rate over HTTP', () => {
  test('a produce over the quota gets 429/42901 with Retry-After, and the same produce succeeds after waiting it', async () => {
    const server = await serverWith({ producer_byte_rate: 10_000 });
    assert.equal((await produce(server.baseUrl, 'p', 30_000)).status, 200);
    const refused = await produce(server.baseUrl, 'p', 100);
    assert.equal(refused.status, 429);
    const body = (await refused.json()) as { error_code: number; message: string };
    assert.equal(body.error_code, 42901);
    assert.match(body.message, /User:ANONYMOUS is over its producer_byte_rate quota of 10000 bytes\/s/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 2, `Retry-After ${retryAfter}`);
    // Nothing of the refused request was appended.
    const offsets = (await (await fetch(`${server.baseUrl}/topics/p/partitions/0/offsets`)).json()) as {
      end_offset: number;
    };
    assert.equal(offsets.end_offset, 1);
    await sleep(retryAfter * 1000);
    assert.equal((await produce(server.baseUrl, 'p', 100)).status, 200);
    // Reads and probes draw on no produce quota.
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
  });

  test('a change to the quotas file applies to the next request, without a restart', async () => {
    // A 10 s window: the principal stays over the old quota for the whole test.
    const server = await serverWith({ producer_byte_rate: 10_000 }, ['--quota-window-num', '10']);
    assert.equal((await produce(server.baseUrl, 'dyn', 300_000)).status, 200);
    assert.equal((await produce(server.baseUrl, 'dyn', 100)).status, 429);
    const file = server.child.spawnargs[server.child.spawnargs.indexOf('--quotas-file') + 1] as string;
    // A broken file changes nothing...
    fs.writeFileSync(file, '{"users":');
    await sleep(1500);
    assert.equal((await produce(server.baseUrl, 'dyn', 100)).status, 429);
    // ...a valid one applies within the watch interval.
    fs.writeFileSync(file, JSON.stringify({ users: { '<default>': { producer_byte_rate: 1_000_000_000 } } }));
    const deadline = Date.now() + 5000;
    let status = 429;
    while (status === 429 && Date.now() < deadline) {
      await sleep(200);
      const res = await produce(server.baseUrl, 'dyn', 100);
      await res.arrayBuffer();
      status = res.status;
    }
    assert.equal(status, 200);
    const log = server.stdout() + server.stderr();
    assert.match(log, /"event":"quotas_reload_failed"/);
    assert.match(log, /"event":"quotas_reloaded"/);
  });

  test('a client honouring Retry-After moves N bytes in about N / rate seconds', async () => {
    const rate = 20_000;
    const server = await serverWith({ producer_byte_rate: rate });
    const requestBytes = 5_000;
    const requests = 24; // ≈ 120 KB: 6 s at the quota, of which the 2 s window absorbs about 1 s
    // What the server counts: the request body (its Content-Length).
    const bodyBytes = Buffer.byteLength(
      JSON.stringify({ records: [{ value: 'x'.repeat(requestBytes), partition: 0 }] }),
    );
    let sentBytes = 0;
    let refusals = 0;
    const startedMs = Date.now();
    for (let n = 0; n < requests; ) {
      const res = await produce(server.baseUrl, 'measured', requestBytes);
      if (res.status === 429) {
        refusals++;
        await res.arrayBuffer();
        await sleep(Number(res.headers.get('retry-after')) * 1000);
        continue;
      }
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      sentBytes += bodyBytes;
      n++;
    }
    const elapsedS = (Date.now() - startedMs) / 1000;
    const idealS = sentBytes / rate;
    assert.ok(refusals > 0, 'the quota refused some requests');
    // Generous bounds: a window's worth of credit at the start, whole-second Retry-After at the end.
    assert.ok(elapsedS >= idealS - 2.5, `took ${elapsedS} s for ${sentBytes} bytes at ${rate} bytes/s`);
    assert.ok(elapsedS <= idealS * 2 + 3, `took ${elapsedS} s for ${sentBytes} bytes at ${rate} bytes/s`);
  });
});

function throttleOf(answer: Message): number {
  return Number(answer.throttleTimeMs);
}

describe('producer_byte_rate over the Kafka listener', () => {
  test('a Produce over the quota is served with throttle_time_ms, and the connection is muted that long', async () => {
    const kafkaPort = await freePort();
    const server = await serverWith({ producer_byte_rate: 10_000 }, ['--kafka-port', String(kafkaPort)]);
    assert.equal((await produce(server.baseUrl, 'k', 10)).status, 200); // creates the topic
    await sleep(2100); // that produce leaves the window
    const conn = new RawConnection(kafkaPort);
    try {
      const batch = encodeRecordBatch(
        [{ key: null, value: Buffer.from(JSON.stringify('y'.repeat(30_000))), headers: [], timestamp: Date.now() }],
        { baseOffset: 0 },
      );
      const answer = await conn.call(API_KEYS.Produce, 8, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5_000,
        topicData: [{ name: 'k', partitionData: [{ index: 0, records: batch }] }],
      });
      const topicAnswer = (answer.responses as Message[])[0] as Message;
      const partition = (topicAnswer.partitionResponses as Message[])[0] as Message;
      assert.equal(partition.errorCode, 0, 'a throttled produce is still served');
      const throttleMs = throttleOf(answer);
      // 30 KB over a 2 s window at 10 KB/s: about (15 000 − 10 000) / 10 000 × 1 s… up to the 2 s cap.
      assert.ok(throttleMs >= 500 && throttleMs <= 2000, `throttle_time_ms ${throttleMs}`);
      // HTTP shares the principal's budget: it is over the quota there too.
      assert.equal((await produce(server.baseUrl, 'k', 10)).status, 429);
      const sentMs = Date.now();
      await conn.call(API_KEYS.Metadata, 1, { topics: [] });
      const waitedMs = Date.now() - sentMs;
      assert.ok(
        waitedMs >= throttleMs - 150,
        `the next request was answered after ${waitedMs} ms (muted ${throttleMs})`,
      );
    } finally {
      conn.close();
    }
  });
});

describe('consumer_byte_rate over the Kafka listener', () => {
  test('a Fetch answer over the quota carries throttle_time_ms; one under it carries 0', async () => {
    const kafkaPort = await freePort();
    const server = await serverWith({ consumer_byte_rate: 10_000 }, ['--kafka-port', String(kafkaPort)]);
    for (let i = 0; i < 3; i++) assert.equal((await produce(server.baseUrl, 'f', 8_000)).status, 200);
    const conn = new RawConnection(kafkaPort);
    const fetchFrom = (offset: number, maxBytes: number) =>
      conn.call(API_KEYS.Fetch, 4, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes,
        isolationLevel: 0,
        topics: [
          { topic: 'f', partitions: [{ partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: maxBytes }] },
        ],
      });
    try {
      // One record (≈8 KB) fits a 2 s window at 10 KB/s: not throttled.
      const small = await fetchFrom(0, 1);
      assert.equal(throttleOf(small), 0);
      // The other two push the window over: the answer is served, and throttled.
      const big = await fetchFrom(1, 1 << 20);
      const partition = ((big.responses as Message[])[0]?.partitions as Message[] | undefined)?.[0] as Message;
      assert.ok((partition.records as Buffer).length >= 16_000, 'the throttled fetch still carries its records');
      const throttleMs = throttleOf(big);
      assert.ok(throttleMs > 0 && throttleMs <= 2000, `throttle_time_ms ${throttleMs}`);
    } finally {
      conn.close();
    }
  });
});

describe('consumer_byte_rate and request_rate over HTTP', () => {
  test('a consumer instance read over the quota gets 429 with Retry-After', async () => {
    const server = await serverWith({ consumer_byte_rate: 10_000 });
    for (let i = 0; i < 3; i++) assert.equal((await produce(server.baseUrl, 'c', 10_000)).status, 200);
    const created = await fetch(`${server.baseUrl}/consumers/g`, {
      method: 'POST',
      headers: { 'content-type': V2 },
      body: JSON.stringify({ name: 'i', format: 'json', 'auto.offset.reset': 'earliest' }),
    });
    assert.equal(created.status, 200);
    const base = `${server.baseUrl}/consumers/g/instances/i`;
    const sub = await fetch(`${base}/subscription`, {
      method: 'POST',
      headers: { 'content-type': V2 },
      body: JSON.stringify({ topics: ['c'] }),
    });
    assert.equal(sub.status, 204);
    let read = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 20 && refused === undefined; i++) {
      const res = await fetch(`${base}/records?timeout=500`, { headers: { accept: JSON_V2 } });
      if (res.status === 429) refused = res;
      else {
        assert.equal(res.status, 200);
        read += ((await res.json()) as unknown[]).length;
      }
    }
    assert.ok(refused, 'reads over the quota are refused');
    assert.ok(read >= 1, 'the first read was served');
    assert.equal(((await refused.json()) as { error_code: number }).error_code, 42901);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  });

  test('an SSE stream over the quota is paced: records after a large one wait out the throttle', async () => {
    const server = await serverWith({ consumer_byte_rate: 10_000 });
    assert.equal((await produce(server.baseUrl, 'sse', 10)).status, 200);
    const abort = new AbortController();
    try {
      const res = await fetch(`${server.baseUrl}/topics/sse/stream?from=latest`, { signal: abort.signal });
      assert.equal(res.status, 200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      const arrival = async (marker: string): Promise<number> => {
        while (!text.includes(marker)) {
          const { value, done } = await reader.read();
          assert.ok(!done, `the stream ended before ${marker}`);
          text += Buffer.from(value).toString('utf8');
        }
        return Date.now();
      };
      const bigAt = Date.now();
      assert.equal((await produce(server.baseUrl, 'sse', 30_000)).status, 200);
      await arrival('xxxxxxxxxx');
      assert.ok(Date.now() - bigAt < 1000, 'the first run is not held back');
      const smallAt = Date.now();
      const small = await fetch(`${server.baseUrl}/topics/sse`, {
        method: 'POST',
        headers: { 'content-type': JSON_V2 },
        body: JSON.stringify({ records: [{ value: 'after-the-big-one', partition: 0 }] }),
      });
      assert.equal(small.status, 200);
      const waitedMs = (await arrival('after-the-big-one')) - smallAt;
      // 30 KB at 10 KB/s over a 2 s window: the stream waits up to the 2 s cap before polling again.
      assert.ok(waitedMs >= 700, `the next record came after ${waitedMs} ms`);
      assert.ok(waitedMs <= 4000, `the next record came after ${waitedMs} ms`);
    } finally {
      abort.abort();
    }
  });

  test('requests over request_rate get 429; probes are never refused', async () => {
    const server = await serverWith({ request_rate: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${server.baseUrl}/topics`);
      await res.arrayBuffer();
      statuses.push(res.status);
    }
    // 5 per second over a window of at least 1 s: the first five fit, the next are refused.
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.ok(statuses.slice(5).includes(429), statuses.join(','));
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/readyz`)).status, 200);
    await sleep(2100);
    assert.equal((await fetch(`${server.baseUrl}/topics`)).status, 200);
  });
});

describe('the quotas file', () => {
  test('a bad quotas file stops samsa serve with a usage error naming the problem', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-quotas-bad-'));
    try {
      const file = path.join(dir, 'quotas.json');
      fs.writeFileSync(file, JSON.stringify({ users: { alice: { producer_byte_rate: -1 } } }));
      await assert.rejects(
        startServer(path.join(dir, 'data'), ['--quotas-file', file], 10_000),
        /quota producer_byte_rate of "alice" must be a number above 0/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-principal bounds', () => {
  test('SSE streams and consumer instances of one principal are bounded (429/42901)', async () => {
    const server = await serverWith({}, [
      '--sse-max-streams-per-principal',
      '2',
      '--max-consumer-instances-per-principal',
      '2',
    ]);
    assert.equal((await produce(server.baseUrl, 's', 10)).status, 200);
    const streams: AbortController[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const abort = new AbortController();
        streams.push(abort);
        const res = await fetch(`${server.baseUrl}/topics/s/stream`, { signal: abort.signal });
        assert.equal(res.status, 200);
      }
      const third = await fetch(`${server.baseUrl}/topics/s/stream`);
      assert.equal(third.status, 429);
      const body = (await third.json()) as { error_code: number; message: string };
      assert.equal(body.error_code, 42901);
      assert.match(body.message, /User:ANONYMOUS already has 2 open streams/);
    } finally {
      for (const s of streams) s.abort();
    }
    const create = (name: string) =>
      fetch(`${server.baseUrl}/consumers/bounded`, {
        method: 'POST',
        headers: { 'content-type': V2 },
        body: JSON.stringify({ name }),
      });
    assert.equal((await create('a')).status, 200);
    assert.equal((await create('b')).status, 200);
    const third = await create('c');
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as { error_code: number }).error_code, 42901);
    // Deleting one frees its place.
    assert.equal((await fetch(`${server.baseUrl}/consumers/bounded/instances/a`, { method: 'DELETE' })).status, 204);
    assert.equal((await create('c')).status, 200);
  });
});
