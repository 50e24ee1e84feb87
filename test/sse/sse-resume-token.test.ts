/**
 * A resume token resumes only the stream it came from: its topic and its partition set. Sent
 * anywhere else it answers 400 JSON saying whose token it is, instead of seeking some partitions
 * and starting the others at the end without a word. Tokens of the older, unbound format still
 * resume a stream over exactly their partitions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import { produceJson, type SseServer, startSseServer, waitUntil } from './sse-fixture.js';

interface Received {
  id: string;
  partition: number;
  offset: number;
}

let s: SseServer;
before(async () => {
  s = await startSseServer();
  await s.node.broker.createTopic('a', { partitions: 3 });
  await s.node.broker.createTopic('b', { partitions: 3 });
  for (const topic of ['a', 'b']) {
    await produceJson(
      s.baseUrl,
      topic,
      Array.from({ length: 9 }, (_, i) => ({ value: i, partition: i % 3 })),
    );
  }
});
after(() => s.stop());

/** The first `n` record events of a stream (a bound on what to wait for), then the stream is closed. */
async function firstRecords(path: string, n: number): Promise<Received[]> {
  const es = new EventSource(`${s.baseUrl}${path}`);
  const got: Received[] = [];
  es.addEventListener('record', (e) => {
    const r = JSON.parse(String(e.data)) as { partition: number; offset: number };
    got.push({ id: e.lastEventId, partition: r.partition, offset: r.offset });
  });
  try {
    await waitUntil(() => got.length >= n, `${n} records from ${path} (have ${got.length})`);
  } finally {
    es.close();
  }
  return got.slice(0, n);
}

/** The answer to opening a stream: 200 (then closed) or the error body. */
async function open(
  path: string,
  token: string,
): Promise<{ status: number; body: { error_code?: number; message?: string } }> {
  const abort = new AbortController();
  const res = await fetch(`${s.baseUrl}${path}`, { headers: { 'Last-Event-ID': token }, signal: abort.signal });
  if (res.status === 200) {
    abort.abort();
    return { status: 200, body: {} };
  }
  return { status: res.status, body: (await res.json()) as { error_code: number; message: string } };
}

function assertRefused(answer: Awaited<ReturnType<typeof open>>, message: RegExp): void {
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  assert.equal(answer.body.error_code, 400);
  assert.match(answer.body.message ?? '', message);
}

/** A token as the server wrote them before the binding: format byte 1, count, then (partition, offset) varints (all < 128 here). */
function unboundToken(positions: [number, number][]): string {
  return Buffer.from([1, positions.length, ...positions.flat()]).toString('base64url');
}

describe('a resume token is bound to its topic and partition set', () => {
  test("a token from topic a's stream is refused by topic b's, by header and by query", async () => {
    const [{ id }] = (await firstRecords('/topics/a/stream?from=earliest', 1)) as [Received];
    assertRefused(await open('/topics/b/stream', id), /belongs to a stream of another topic, not 'b'/);
    const byQuery = await fetch(`${s.baseUrl}/topics/b/stream?lastEventId=${id}`);
    assert.equal(byQuery.status, 400);
    assert.match(((await byQuery.json()) as { message: string }).message, /another topic/);
    assertRefused(await open('/topics/b/stream?group=g-other-topic', id), /another topic, not 'b'/);
    await waitUntil(() => s.hub.stats.open === 0, 'no refused stream to hold a slot');
  });

  test('a token is refused by a stream over other partitions, and resumes one over the same set', async () => {
    const events = await firstRecords('/topics/a/stream?from=earliest&partitions=0,1', 2);
    const token = (events.at(-1) as Received).id;
    assertRefused(
      await open('/topics/a/stream?partitions=2', token),
      /belongs to a stream over partitions 0,1 of 'a', not 2/,
    );
    assertRefused(await open('/topics/a/stream?partitions=0', token), /over partitions 0,1 of 'a', not 0;/);
    assertRefused(await open('/topics/a/stream', token), /over partitions 0,1 of 'a', not 0,1,2/);
    // The same set named in another order is the same stream: it resumes after the two records seen.
    const resumed = await firstRecords(`/topics/a/stream?partitions=1,0&lastEventId=${token}`, 4);
    const seen = new Set(events.map((e) => `${e.partition}:${e.offset}`));
    assert.equal(resumed.filter((r) => seen.has(`${r.partition}:${r.offset}`)).length, 0, 'nothing repeated');
    assert.ok(resumed.every((r) => r.partition !== 2));
  });

  test("a group stream's token resumes its group stream, and is refused by a stream without the group", async () => {
    const [{ id }] = (await firstRecords('/topics/a/stream?from=earliest&group=g1', 1)) as [Received];
    assert.equal((await open('/topics/a/stream?group=g1', id)).status, 200);
    assertRefused(await open('/topics/a/stream', id), /belongs to a group stream of 'a'/);
  });

  test('a stream over all partitions resumes after partitions were added; the new ones start as from says', async () => {
    await s.node.broker.createTopic('grows', { partitions: 2 });
    await produceJson(s.baseUrl, 'grows', [
      { value: 'p0', partition: 0 },
      { value: 'p1', partition: 1 },
    ]);
    const events = await firstRecords('/topics/grows/stream?from=earliest', 2);
    const token = (events.at(-1) as Received).id;
    await s.node.broker.createPartitions('grows', 3);
    await produceJson(s.baseUrl, 'grows', [
      { value: 'new p2', partition: 2 },
      { value: 'later p0', partition: 0 },
    ]);
    const resumed = await firstRecords(`/topics/grows/stream?from=earliest&lastEventId=${token}`, 2);
    assert.deepEqual(resumed.map((r) => `${r.partition}:${r.offset}`).sort(), ['0:1', '2:0']);
    // A stream naming the partitions is not the all-partitions stream the token came from.
    assertRefused(
      await open('/topics/grows/stream?partitions=0,1,2', token),
      /over partitions 0,1 of 'grows', not 0,1,2/,
    );
  });

  test('an older token bound to no topic resumes a stream over exactly its partitions, and is refused by others', async () => {
    const token = unboundToken([
      [0, 2],
      [1, 1],
      [2, 3],
    ]);
    const resumed = await firstRecords(`/topics/b/stream?lastEventId=${token}`, 3);
    assert.deepEqual(resumed.map((r) => `${r.partition}:${r.offset}`).sort(), ['0:2', '1:1', '1:2']);
    assertRefused(
      await open('/topics/b/stream?partitions=0,1', token),
      /an older token, bound to no topic, over partitions 0,1,2, not 0,1/,
    );
  });

  test('tokens stay short: 5 bytes for the binding, then the count and a varint pair per partition', async () => {
    const [{ id }] = (await firstRecords('/topics/a/stream?from=earliest&partitions=0', 1)) as [Received];
    assert.equal(Buffer.from(id, 'base64url').length, 8, `'${id}': header 5 + count 1 + partition 1 + offset 1`);
    const all = await firstRecords('/topics/a/stream?from=earliest', 1);
    assert.equal(Buffer.from((all[0] as Received).id, 'base64url').length, 12, 'three small partitions');
  });
});
