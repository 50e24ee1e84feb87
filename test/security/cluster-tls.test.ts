/**
 * Three nodes and a real etcd, every node on https with client certificates required: the nodes
 * call each other (replication, forwarded produces, group calls passed to the coordinator) over
 * TLS, verifying each other against `--tls-peer-ca` and showing their own certificate. A
 * replicated topic takes acks=all produces through one node, and another node serves them back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Dispatcher, request } from 'undici';
import { partitionForGroup } from '../../src/groups/offsets-topic-format.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from '../cluster/etcd-fixture.js';
import { type ServerProcess, startServer } from '../process/server-process.js';
import { makePki, type Pki } from './certificates.js';
import { logLines, needOpenssl, tlsAgent } from './tls-fixture.js';

const TOPIC = 'secure-replicated';
const PARTITIONS = 3;
const RECORDS = 30;
const NODES = [1, 2, 3];
const V2 = 'application/vnd.kafka.v2+json';
const V2_JSON = 'application/vnd.kafka.json.v2+json';

let etcd: EtcdServer | undefined;
let pki: Pki;
let agent: Dispatcher;
const servers: ServerProcess[] = [];

async function call(
  url: string,
  init: { method?: string; body?: unknown; type?: string } = {},
  // biome-ignore lint/suspicious/noExplicitAny: v2/v3 answers of several shapes, read field by field
): Promise<{ status: number; body: any }> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    dispatcher: agent,
    headers: init.body === undefined ? {} : { 'content-type': init.type ?? 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text === '' ? null : JSON.parse(text) };
}

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
});

after(async () => {
  for (const s of servers) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  await etcd?.stop();
});

test('three nodes over TLS: acks=all through one node, read back through another', needsEtcd(), async (t) => {
  if (!needOpenssl(t)) return;
  pki = makePki(fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cluster-pki-')));
  const client = pki.client('app', '/O=Samsa test/CN=app');
  agent = tlsAgent(pki.caCert, client);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cluster-tls-'));
  // One after another: a node starting while another creates __consumer_offsets can fail its
  // start-up (etcd-metadata-store reads the topic before its partition states exist).
  for (const id of NODES) {
    servers.push(
      await startServer(
        path.join(root, `node-${id}`),
        [
          '--node-id',
          String(id),
          '--etcd',
          (etcd as EtcdServer).endpoint,
          '--cluster-name',
          'tls-test',
          '--tls-cert',
          pki.serverCert,
          '--tls-key',
          pki.serverKey,
          '--tls-client-ca',
          pki.caCert,
          '--tls-peer-ca',
          pki.caCert,
        ],
        60_000,
        { dispatcher: agent },
      ),
    );
  }
  const [first, second, third] = servers as [ServerProcess, ServerProcess, ServerProcess];
  const clusterId = (await call(`${first.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
  for (const s of servers) {
    await until(`${s.baseUrl} to list three brokers`, async () => {
      const got = await call(`${s.baseUrl}/v3/clusters/${clusterId}/brokers`).catch(() => undefined);
      return got?.body?.data?.length === 3 ? true : undefined;
    });
  }
  // Each node registered its https URL.
  const brokers = await call(`${second.baseUrl}/v3/clusters/${clusterId}/brokers`);
  assert.equal(brokers.status, 200);
  const created = await call(`${first.baseUrl}/v3/clusters/${clusterId}/topics`, {
    method: 'POST',
    body: {
      topic_name: TOPIC,
      partitions_count: PARTITIONS,
      replication_factor: 3,
      configs: [{ name: 'min.insync.replicas', value: '2' }],
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // Every replica in sync: the followers fetch from the leaders over TLS.
  await until('every partition fully in sync', async () => {
    for (let p = 0; p < PARTITIONS; p++) {
      const r = await call(`${third.baseUrl}/v3/clusters/${clusterId}/topics/${TOPIC}/partitions/${p}/replicas`);
      const inSync = (r.body?.data ?? []).filter((x: { is_in_sync: boolean }) => x.is_in_sync).length;
      if (inSync !== 3) return undefined;
    }
    return true;
  });

  // acks=all through the first node: partitions it does not lead are forwarded to their leaders.
  for (let i = 0; i < RECORDS; i++) {
    const res = await call(`${first.baseUrl}/topics/${TOPIC}?acks=all`, {
      method: 'POST',
      type: V2_JSON,
      body: { records: [{ partition: i % PARTITIONS, value: { i } }] },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.offsets[0].error_code, null, JSON.stringify(res.body));
  }

  // Through the third node: offsets, then a consumer group (its calls go to the group's coordinator).
  // A follower learns the high watermark with its next fetch, so its view may trail for a moment.
  for (let p = 0; p < PARTITIONS; p++) {
    await until(`partition ${p}'s end offset through the third node`, async () => {
      const offsets = await call(`${third.baseUrl}/topics/${TOPIC}/partitions/${p}/offsets`);
      return offsets.body?.end_offset === RECORDS / PARTITIONS ? true : undefined;
    });
  }
  // Through a node that does not coordinate the group, so its calls are passed on over TLS.
  const offsetsPartition = partitionForGroup('tls-readers', 50);
  const coordinatorId = await until('a coordinator for the group', async () => {
    const r = await call(
      `${first.baseUrl}/v3/clusters/${clusterId}/topics/__consumer_offsets/partitions/${offsetsPartition}`,
    );
    const id = Number(
      String(r.body?.leader?.related ?? '')
        .split('/')
        .pop(),
    );
    return id > 0 ? id : undefined;
  });
  const via = servers[NODES.indexOf(coordinatorId === 3 ? 2 : 3)] as ServerProcess;
  const group = `${via.baseUrl}/consumers/tls-readers`;
  const instance = await call(group, {
    method: 'POST',
    type: V2,
    body: { name: 'r1', format: 'json', 'auto.offset.reset': 'earliest' },
  });
  assert.equal(instance.status, 200, JSON.stringify(instance.body));
  const base = `${group}/instances/r1`;
  assert.equal(
    (await call(`${base}/subscription`, { method: 'POST', type: V2, body: { topics: [TOPIC] } })).status,
    204,
  );
  const seen = new Set<number>();
  await until(
    'every record through the third node',
    async () => {
      const res = await request(`${base}/records?timeout=1000`, {
        dispatcher: agent,
        headers: { accept: V2_JSON },
      });
      const records = (await res.body.json()) as { value: { i: number } }[];
      assert.equal(res.statusCode, 200, JSON.stringify(records));
      for (const r of records) seen.add(r.value.i);
      return seen.size === RECORDS ? true : undefined;
    },
    30_000,
  );
  assert.equal((await call(base, { method: 'DELETE' })).status, 204);

  // Wherever the group's calls were served (passed on to its coordinator or not), they ran as the
  // client's certificate says, never as the node that passed them on.
  // Four calls (create, subscribe, records, delete), each logged by the node passing it on and by the coordinator.
  const groupLines = await until('the group calls in the logs', async () => {
    const lines = servers.flatMap((s) =>
      logLines(s.stdout(), 'request').filter((l) => String(l.url).startsWith('/consumers/')),
    );
    return lines.length >= 8 ? lines : undefined;
  });
  assert.deepEqual([...new Set(groupLines.map((l) => l.principal))], ['User:CN=app,O=Samsa test']);
  const coordinator = servers[NODES.indexOf(coordinatorId)] as ServerProcess;
  assert.ok(
    logLines(coordinator.stdout(), 'request').some((l) => String(l.url).startsWith('/consumers/')),
    'the coordinator served the passed-on calls',
  );
});
