/**
 * Consumer groups in a three-node cluster (real etcd, three `samsa serve` processes): a group has
 * one coordinator, the leader of its `__consumer_offsets` partition, whichever node a client
 * talks to; instances are reachable through every node; when the coordinator's node is killed
 * its instances are gone at once (40403), and a new instance resumes from the replicated commits.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { partitionForGroup } from '../../src/groups/offsets-topic-format.js';
import { type ServerProcess, startServer } from '../process/server-process.js';
import { everyNodeLists } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const TOPIC = 'grouped';
const GROUP = 'billing';
const NODES = [1, 2, 3];
const V2 = 'application/vnd.kafka.v2+json';

let etcd: EtcdServer;
let root: string;
const servers = new Map<number, ServerProcess>();

// biome-ignore lint/suspicious/noExplicitAny: answers of several shapes, read field by field
async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(url, {
    method,
    headers: body === undefined ? { accept: V2 } : { 'content-type': V2, accept: V2 },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text), ms: Date.now() - t0 };
}

function node(id: number): ServerProcess {
  return servers.get(id) as ServerProcess;
}

/** The group's coordinator as `via` reports it: the leader of the group's offsets partition. */
async function coordinatorOf(via: ServerProcess, clusterId: string): Promise<number> {
  const p = partitionForGroup(GROUP, 50);
  const { body } = await call(`${via.baseUrl}/v3/clusters/${clusterId}/topics/__consumer_offsets/partitions/${p}`);
  // The leader link ends in the leading replica's broker id.
  const id = /\/(\d+)$/.exec(body?.leader?.related ?? '')?.[1];
  return id === undefined ? -1 : Number(id);
}

/** acks=all, retried while a failover leaves the partition without a leader (503, retriable). */
async function produce(via: ServerProcess, partition: number, values: string[]): Promise<void> {
  const answer = await until(`a produce to partition ${partition}`, async () => {
    const res = await fetch(`${via.baseUrl}/topics/${TOPIC}?acks=all`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
      body: JSON.stringify({ records: values.map((v) => ({ partition, value: v })) }),
    });
    const text = await res.text();
    return res.status === 503 ? undefined : { status: res.status, text };
  });
  assert.equal(answer.status, 200, answer.text);
}

interface Got {
  partition: number;
  offset: number;
  value: string;
}

/** Polls an instance through `via` until `want` records came (or fails after 20 s). */
async function pollUntil(via: ServerProcess, instance: string, want: number): Promise<Got[]> {
  const got: Got[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length < want && Date.now() < deadline) {
    const r = await call(`${via.baseUrl}/consumers/${GROUP}/instances/${instance}/records?timeout=500`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (const rec of r.body as Got[]) got.push({ partition: rec.partition, offset: rec.offset, value: rec.value });
  }
  return got;
}

async function createInstance(via: ServerProcess, name: string): Promise<void> {
  // During a failover the group's offsets partition may have no leader for a moment: 503, retry.
  const created = await until(`instance ${name} created through ${via.baseUrl}`, async () => {
    const r = await call(`${via.baseUrl}/consumers/${GROUP}`, 'POST', {
      name,
      format: 'json',
      'auto.offset.reset': 'earliest',
      'auto.commit.enable': 'false',
    });
    return r.status === 503 ? undefined : r;
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  // Links name the node the client addressed, whichever node holds the instance.
  assert.equal(created.body.base_uri, `${via.baseUrl}/consumers/${GROUP}/instances/${name}`);
  const sub = await call(`${via.baseUrl}/consumers/${GROUP}/instances/${name}/subscription`, 'POST', {
    topics: [TOPIC],
  });
  assert.equal(sub.status, 204, JSON.stringify(sub.body));
}

async function startNode(id: number): Promise<void> {
  const args = [
    '--node-id',
    String(id),
    '--etcd',
    etcd.endpoint,
    '--cluster-name',
    'groups-test',
    '--broker.session.timeout.ms',
    '3000',
    '--replica.lag.time.max.ms',
    '5000',
  ];
  servers.set(id, await startServer(path.join(root, `node-${id}`), args, 60_000));
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-groups-'));
  await Promise.all(NODES.map((id) => startNode(id)));
});

after(async () => {
  for (const s of servers.values()) s.child.kill('SIGCONT');
  for (const s of servers.values()) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

test(
  'an Idempotency-Key retry through any node answers the first offsets and writes nothing, its partitions led by several nodes',
  needsEtcd(),
  async () => {
    const first = node(1);
    const clusterId = (await call(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    await everyNodeLists(NODES.map(node), clusterId, NODES);
    const created = await fetch(`${first.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic_name: 'idempotent', partitions_count: 3, replication_factor: 3 }),
    });
    assert.equal(created.status, 201, await created.text());
    const send = (via: ServerProcess, records: unknown[]) =>
      until(`a produce through ${via.baseUrl}`, async () => {
        const res = await fetch(`${via.baseUrl}/topics/idempotent`, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.kafka.json.v2+json', 'Idempotency-Key': 'order-77' },
          body: JSON.stringify({ records }),
        });
        // biome-ignore lint/suspicious/noExplicitAny: a v2 produce answer or an error, read field by field
        const body: any = await res.json();
        return res.status === 503 ? undefined : { status: res.status, body };
      });
    const records = [
      { partition: 0, value: 'a' },
      { partition: 1, value: 'b' },
      { partition: 2, value: 'c' },
      { value: 'unkeyed' },
    ];
    const firstAnswer = await send(first, records);
    assert.equal(firstAnswer.status, 200, JSON.stringify(firstAnswer.body));
    // Three nodes, three partition leaders: each retry is partly local, partly forwarded.
    for (const id of [2, 3, 1]) {
      const again = await send(node(id), records);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body.offsets, firstAnswer.body.offsets, `through node ${id}`);
    }
    // A follower's high watermark trails its leader's by a fetch: wait until node 2 shows them all.
    const stored = await until('node 2 to show the records', async () => {
      let sum = 0;
      for (const p of [0, 1, 2]) {
        const o = await call(`${node(2).baseUrl}/topics/idempotent/partitions/${p}/offsets`);
        sum += o.body.end_offset - o.body.beginning_offset;
      }
      return sum >= 4 ? sum : undefined;
    });
    assert.equal(stored, 4, 'each record written once');
    const reused = await send(node(3), [{ partition: 1, value: 'other' }, ...records.slice(1)]);
    assert.equal(reused.status, 422, JSON.stringify(reused.body));
    assert.match(reused.body.message, /Idempotency-Key was already used/);
  },
);

test(
  "a group has one coordinator whichever node its members use; killing the coordinator's node ends its instances at once, and a new one resumes from the commits",
  needsEtcd(),
  async () => {
    const first = node(1);
    const clusterId = (await call(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    const created = await fetch(`${first.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        topic_name: TOPIC,
        partitions_count: 2,
        replication_factor: 3,
        configs: [{ name: 'min.insync.replicas', value: '2' }],
      }),
    });
    assert.equal(created.status, 201, await created.text());
    // Every node names the same coordinator once the offsets topic has its leaders.
    const coordinator = await until('one coordinator named by every node', async () => {
      const seen = await Promise.all(NODES.map((id) => coordinatorOf(node(id), clusterId).catch(() => -1)));
      return seen[0] !== undefined && seen[0] >= 0 && seen.every((s) => s === seen[0]) ? seen[0] : undefined;
    });
    const others = NODES.filter((id) => id !== coordinator);
    const [x, y] = others.map(node) as [ServerProcess, ServerProcess];
    await until('the topic led and in sync', async () => {
      for (const p of [0, 1]) {
        const r = await call(`${first.baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions/${p}/replicas`);
        if (r.status !== 200 || r.body.data.filter((d: { is_in_sync: boolean }) => d.is_in_sync).length < 3)
          return undefined;
      }
      return true;
    });
    await produce(x, 0, ['p0-0', 'p0-1', 'p0-2', 'p0-3', 'p0-4']);
    await produce(y, 1, ['p1-0', 'p1-1', 'p1-2', 'p1-3', 'p1-4']);

    // Two members created through two nodes that are not the coordinator: one group, split between them.
    await createInstance(x, 'a');
    await createInstance(y, 'b');
    // Each member's calls may go through any node: here, through the other one.
    const [gotA, gotB] = await Promise.all([pollUntil(y, 'a', 5), pollUntil(x, 'b', 5)]);
    const partitionsOf = (got: Got[]) => [...new Set(got.map((g) => g.partition))].sort();
    assert.equal(gotA.length + gotB.length, 10, JSON.stringify({ gotA, gotB }));
    assert.equal(partitionsOf(gotA).length, 1, `a read ${partitionsOf(gotA)}`);
    assert.equal(partitionsOf(gotB).length, 1, `b read ${partitionsOf(gotB)}`);
    assert.notEqual(partitionsOf(gotA)[0], partitionsOf(gotB)[0], 'each partition has one reader');
    const assignments = await call(`${node(coordinator).baseUrl}/consumers/${GROUP}/instances/a/assignments`);
    assert.deepEqual(
      assignments.body.partitions.map((p: { partition: number }) => p.partition),
      partitionsOf(gotA),
    );
    // The v3 view of the group is the coordinator's, through every node.
    for (const id of NODES) {
      const g = await call(`${node(id).baseUrl}/v3/clusters/${clusterId}/consumer-groups/${GROUP}`);
      assert.equal(g.status, 200, JSON.stringify(g.body));
      assert.match(g.body.coordinator.related, new RegExp(`/brokers/${coordinator}$`));
      const consumers = await call(`${node(id).baseUrl}/v3/clusters/${clusterId}/consumer-groups/${GROUP}/consumers`);
      assert.equal(consumers.body.data.length, 2);
      // The list is every coordinator's, whichever node is asked.
      const list = await call(`${node(id).baseUrl}/v3/clusters/${clusterId}/consumer-groups`);
      assert.deepEqual(
        list.body.data.map((d: { consumer_group_id: string }) => d.consumer_group_id),
        [GROUP],
      );
    }
    // Commit what each read (answered once the commit is on the offsets partition's ISR).
    for (const [via, name] of [
      [x, 'a'],
      [y, 'b'],
    ] as const) {
      const c = await call(`${via.baseUrl}/consumers/${GROUP}/instances/${name}/offsets`, 'POST');
      assert.equal(c.status, 200, JSON.stringify(c.body));
    }

    node(coordinator).child.kill('SIGKILL');
    // The instances lived on the killed node: gone at once, not after a hang.
    const gone = await call(`${x.baseUrl}/consumers/${GROUP}/instances/a/records?timeout=500`);
    assert.equal(gone.status, 404, JSON.stringify(gone.body));
    assert.equal(gone.body.error_code, 40403);
    assert.ok(gone.ms < 3_000, `answered after ${gone.ms} ms`);

    await produce(x, 0, ['p0-5', 'p0-6']);
    await produce(y, 1, ['p1-5']);
    // A new member, once the group has its new coordinator, reads from the committed offsets on.
    await createInstance(x, 'c');
    const gotC = await pollUntil(y, 'c', 3);
    assert.deepEqual(gotC.map((g) => g.value).sort(), ['p0-5', 'p0-6', 'p1-5']);
    const newCoordinator = await coordinatorOf(x, clusterId);
    assert.ok(newCoordinator !== coordinator && others.includes(newCoordinator), `now ${newCoordinator}`);
  },
);

test(
  'a call waiting on a coordinator that stops answering (SIGSTOP) ends once the group has another coordinator',
  needsEtcd(),
  async () => {
    // The node the previous test killed comes back: three nodes again.
    for (const id of NODES)
      if (node(id).child.exitCode !== null || node(id).child.signalCode !== null) await startNode(id);
    const first = node(NODES.find((id) => node(id).child.exitCode === null) as number);
    const clusterId = (await call(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    // Settled first: the returned node back in the ISR of the group's offsets partition and, if it
    // is that partition's preferred replica, leading it again (that move would end the instance).
    const offsetsPartition = partitionForGroup(GROUP, 50);
    await until(
      'the group offsets partition settled on its preferred leader',
      async () => {
        const r = await call(
          `${first.baseUrl}/v3/clusters/${clusterId}/topics/__consumer_offsets/partitions/${offsetsPartition}/replicas`,
        );
        const replicas = (r.body?.data ?? []) as { broker_id: number; is_leader: boolean; is_in_sync: boolean }[];
        const settled = replicas.length === 3 && replicas.every((x) => x.is_in_sync) && replicas[0]?.is_leader === true;
        return settled ? true : undefined;
      },
      30_000,
    );
    const coordinator = await until('one coordinator named by every node', async () => {
      const seen = await Promise.all(NODES.map((id) => coordinatorOf(node(id), clusterId).catch(() => -1)));
      return seen[0] !== undefined && seen[0] >= 0 && seen.every((s) => s === seen[0]) ? seen[0] : undefined;
    });
    const via = node(NODES.find((id) => id !== coordinator) as number);
    await createInstance(via, 'waiting');
    // One poll first: the instance joins the group and gets its assignment.
    assert.equal((await call(`${via.baseUrl}/consumers/${GROUP}/instances/waiting/records?timeout=500`)).status, 200);
    const started = Date.now();
    // A long poll with nothing to read, passed on to the coordinator, which is then paused.
    const polling = call(`${via.baseUrl}/consumers/${GROUP}/instances/waiting/records?timeout=15000`);
    await new Promise((r) => setTimeout(r, 300));
    node(coordinator).child.kill('SIGSTOP');
    const ended = await polling;
    const tookMs = Date.now() - started;
    node(coordinator).child.kill('SIGCONT');
    assert.equal(ended.status, 404, JSON.stringify(ended.body));
    assert.equal(ended.body.error_code, 40403);
    // The lease (3 s) runs out, the controller moves the offsets partition, the call ends: well
    // before the poll's own 15 s.
    assert.ok(tookMs < 10_000, `the call ended after ${tookMs} ms`);
  },
);

test(
  'a group SSE stream opened through a node that is not the coordinator streams the records',
  needsEtcd(),
  async () => {
    const live = NODES.map(node).filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    const first = live[0] as ServerProcess;
    const clusterId = (await call(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    const coordinator = await until('a coordinator for the group', async () => {
      const id = await coordinatorOf(first, clusterId).catch(() => -1);
      return id >= 0 ? id : undefined;
    });
    const via = live.find((s) => s !== node(coordinator)) as ServerProcess;
    const stream = await fetch(`${via.baseUrl}/topics/${TOPIC}/stream?group=${GROUP}-sse&from=latest`, {
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const decoder = new TextDecoder();
    // Produced until the stream (once its group has an assignment) shows one of them.
    const producing = (async () => {
      for (let i = 0; i < 100 && !text.includes('event: record'); i++) {
        await produce(via, i % 2, [`sse-${i}`]);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    while (!text.includes('event: record')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    await producing;
    assert.match(text, /event: record\nid: [^\n]+\ndata: [^\n]*sse-\d+/);
  },
);
