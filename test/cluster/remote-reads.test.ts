/**
 * Reads through a node that holds no replica of a partition (real etcd, three `samsa serve`
 * processes on 127.0.0.1): a topic of replication factor 1 with three partitions puts each
 * partition on one node, so every node reads two of them from their leaders. Through every node,
 * partition offsets (v2 and v3), an SSE stream without a group (from the start, by timestamp),
 * a v2 consumer group instance (every record once, commits, then v3 lag 0) and a v2 seek by
 * timestamp see the same records and offsets as the leaders hold.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { EventSource } from 'eventsource';
import { type ServerProcess, startServer } from '../process/server-process.js';
import { everyNodeLists, json, stopCleanly } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const TOPIC = 'spread';
const NODES = [1, 2, 3];
const PARTITIONS = 3;
const PER_PARTITION = 40;
const V2_JSON = 'application/vnd.kafka.json.v2+json';
const V2 = 'application/vnd.kafka.v2+json';

let etcd: EtcdServer;
let root: string;
const servers: ServerProcess[] = [];

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-remote-reads-'));
});

after(async () => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Streamed {
  partition: number;
  offset: number;
  value: { p: number; i: number };
}

/** Records of an SSE stream until `count` came (or the wait ends). */
function streamRecords(url: string, count: number, timeoutMs = 15_000): Promise<Streamed[]> {
  return new Promise((resolve, reject) => {
    const got: Streamed[] = [];
    const es = new EventSource(url);
    const timer = setTimeout(() => {
      es.close();
      reject(new Error(`${url}: ${got.length} of ${count} records within ${timeoutMs} ms`));
    }, timeoutMs);
    es.addEventListener('record', (e) => {
      got.push(JSON.parse(e.data) as Streamed);
      if (got.length >= count) {
        clearTimeout(timer);
        es.close();
        resolve(got);
      }
    });
    es.addEventListener('error', (e) => {
      const data = (e as { data?: string }).data;
      if (data === undefined) return; // reconnects are the library's
      clearTimeout(timer);
      es.close();
      reject(new Error(`${url}: stream error ${data}`));
    });
  });
}

test('every node serves reads of partitions it holds no replica of', needsEtcd(), async () => {
  servers.push(
    ...(await Promise.all(
      NODES.map((id) =>
        startServer(
          path.join(root, `node-${id}`),
          ['--node-id', String(id), '--etcd', etcd.endpoint, '--cluster-name', 'remote-reads-test'],
          60_000,
        ),
      ),
    )),
  );
  const [first] = servers as [ServerProcess];
  const clusterId = (await json(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
  await everyNodeLists(servers, clusterId, NODES);
  const created = await json(`${first.baseUrl}/v3/clusters/${clusterId}/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic_name: TOPIC, partitions_count: PARTITIONS, replication_factor: 1 }),
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  // Each partition lives on one node, a different one each; every node knows where.
  const leadersVia = (via: ServerProcess) =>
    until(`${via.baseUrl} to know a leader for every partition`, async () => {
      const { body } = await json(`${via.baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions`);
      const ids = (body?.data ?? []).map((p: { leader?: { related: string } }) =>
        Number(p.leader?.related.split('/').pop() ?? -1),
      ) as number[];
      return ids.length === PARTITIONS && ids.every((id) => id > 0) ? ids : undefined;
    });
  const leaders = await leadersVia(first);
  for (const via of servers) assert.deepEqual(await leadersVia(via), leaders);
  assert.equal(new Set(leaders).size, PARTITIONS, `leaders ${leaders.join()}`);

  // Half the records first (written through any node), then a timestamp, then the other half.
  const produce = async (from: number, to: number) => {
    for (let p = 0; p < PARTITIONS; p++) {
      const via = servers[(p + 1) % servers.length] as ServerProcess;
      const res = await json(`${via.baseUrl}/topics/${TOPIC}/partitions/${p}`, {
        method: 'POST',
        headers: { 'content-type': V2_JSON },
        body: JSON.stringify({
          records: Array.from({ length: to - from }, (_, k) => ({ value: { p, i: from + k } })),
        }),
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  };
  await produce(0, PER_PARTITION / 2);
  await new Promise((r) => setTimeout(r, 20));
  const midTimestamp = Date.now();
  await new Promise((r) => setTimeout(r, 20));
  await produce(PER_PARTITION / 2, PER_PARTITION);

  for (const via of servers) {
    for (let p = 0; p < PARTITIONS; p++) {
      const v2 = await json(`${via.baseUrl}/topics/${TOPIC}/partitions/${p}/offsets`);
      assert.equal(v2.status, 200, JSON.stringify(v2.body));
      assert.deepEqual(v2.body, { beginning_offset: 0, end_offset: PER_PARTITION }, `${via.baseUrl} p${p}`);
      const v3 = await json(
        `${via.baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions/${p}/offset?offset_type=earliest_and_latest`,
      );
      assert.equal(v3.status, 200, JSON.stringify(v3.body));
      assert.equal(v3.body.latest_offset, PER_PARTITION);
    }
  }

  // SSE without a group, served by the node the browser reached, for each partition it does not host.
  for (const [n, via] of servers.entries()) {
    for (let p = 0; p < PARTITIONS; p++) {
      if (leaders[p] === NODES[n]) continue;
      const all = await streamRecords(
        `${via.baseUrl}/topics/${TOPIC}/stream?partitions=${p}&from=earliest`,
        PER_PARTITION,
      );
      assert.deepEqual(
        all.map((r) => [r.partition, r.offset, r.value.i]),
        Array.from({ length: PER_PARTITION }, (_, i) => [p, i, i]),
        `${via.baseUrl} partition ${p} from the start`,
      );
      const later = await streamRecords(
        `${via.baseUrl}/topics/${TOPIC}/stream?partitions=${p}&timestamp=${midTimestamp}`,
        PER_PARTITION / 2,
      );
      assert.equal(later[0]?.offset, PER_PARTITION / 2, `${via.baseUrl} partition ${p} by timestamp`);
    }
  }

  // A group instance: it lives on the group's coordinator, which hosts one partition at most.
  const base = `${first.baseUrl}/consumers/spread-readers`;
  const inst = await json(base, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ name: 'r1', format: 'json', 'auto.offset.reset': 'earliest' }),
  });
  assert.equal(inst.status, 200, JSON.stringify(inst.body));
  const instance = `${base}/instances/r1`;
  const sub = await json(`${instance}/subscription`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({ topics: [TOPIC] }),
  });
  assert.equal(sub.status, 204, JSON.stringify(sub.body));
  const seen = new Map<string, number>();
  await until(
    'the instance to read every record',
    async () => {
      const res = await json(`${instance}/records?timeout=1000`, { headers: { accept: V2_JSON } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      for (const r of res.body as { partition: number; offset: number }[]) {
        const k = `${r.partition}:${r.offset}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      return seen.size === PARTITIONS * PER_PARTITION ? true : undefined;
    },
    30_000,
  );
  assert.ok(
    [...seen.values()].every((n) => n === 1),
    'each record once',
  );
  const committed = await json(`${instance}/offsets`, { method: 'POST', headers: { 'content-type': V2 } });
  assert.equal(committed.status, 200, JSON.stringify(committed.body));
  for (const via of servers) {
    const lag = await json(`${via.baseUrl}/v3/clusters/${clusterId}/consumer-groups/spread-readers/lag-summary`);
    assert.equal(lag.status, 200, JSON.stringify(lag.body));
    assert.equal(lag.body.total_lag, 0, `${via.baseUrl}: ${JSON.stringify(lag.body)}`);
  }

  // Seek by timestamp on every partition, then read the later half again.
  const seek = await json(`${instance}/positions`, {
    method: 'POST',
    headers: { 'content-type': V2 },
    body: JSON.stringify({
      timestamps: Array.from({ length: PARTITIONS }, (_, p) => ({
        topic: TOPIC,
        partition: p,
        timestamp: new Date(midTimestamp).toISOString(),
      })),
    }),
  });
  assert.equal(seek.status, 204, JSON.stringify(seek.body));
  const again: { partition: number; offset: number }[] = [];
  await until(
    'the later half again after the seek',
    async () => {
      const res = await json(`${instance}/records?timeout=1000`, { headers: { accept: V2_JSON } });
      again.push(...(res.body as { partition: number; offset: number }[]));
      return again.length >= (PARTITIONS * PER_PARTITION) / 2 ? true : undefined;
    },
    30_000,
  );
  for (let p = 0; p < PARTITIONS; p++) {
    const offsets = again.filter((r) => r.partition === p).map((r) => r.offset);
    assert.equal(offsets[0], PER_PARTITION / 2, `partition ${p} resumed at the timestamp`);
  }
  const closed = await json(instance, { method: 'DELETE', headers: { 'content-type': V2 } });
  assert.equal(closed.status, 204, JSON.stringify(closed.body));
  await stopCleanly(servers);
});
