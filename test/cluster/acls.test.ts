/**
 * ACLs in cluster mode (real etcd, two `samsa serve --authorizer acl` processes): an ACL created
 * through node 1 is stored in etcd and enforced by node 2 within a couple of seconds, and one
 * deleted through node 2 stops being enforced by node 1 as fast (probed with TOPIC DESCRIBE,
 * `GET /topics/<t>`, which each node answers itself). Requests are `User:ANONYMOUS`;
 * `allow.everyone.if.no.acl.found=true` lets it in wherever no ACL names the resource.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type ServerProcess, startServer } from '../process/server-process.js';
import { everyNodeLists, json, stopCleanly } from './cluster-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd, until } from './etcd-fixture.js';

const NODES = [1, 2];

let etcd: EtcdServer;
let root: string;
const servers: ServerProcess[] = [];

before(async () => {
  if (needsEtcd().skip) return;
  etcd = await startEtcd();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cluster-acls-'));
});

after(async () => {
  for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  await etcd?.stop();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** The status of `GET /topics/<topic>` (TOPIC DESCRIBE) through `via`; 0 when it did not answer within 3 s. */
async function describe(via: ServerProcess, topic: string): Promise<number> {
  try {
    const res = await fetch(`${via.baseUrl}/topics/${topic}`, { signal: AbortSignal.timeout(3_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

test(
  'an ACL created on one node is enforced by the other within seconds, and so is its deletion',
  needsEtcd(),
  async () => {
    servers.push(
      ...(await Promise.all(
        NODES.map((id) =>
          startServer(
            path.join(root, `node-${id}`),
            [
              '--node-id',
              String(id),
              '--etcd',
              etcd.endpoint,
              '--cluster-name',
              'acls-test',
              '--authorizer',
              'acl',
              '--allow.everyone.if.no.acl.found',
              'true',
              '--offsets.topic.replication.factor',
              '1',
            ],
            60_000,
          ),
        ),
      )),
    );
    const [one, two] = servers as [ServerProcess, ServerProcess];
    const clusterId = (await json(`${one.baseUrl}/v3/clusters`)).body.data[0].cluster_id as string;
    await everyNodeLists(servers, clusterId, NODES);
    const created = await json(`${one.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ topic_name: 'guarded', partitions_count: 2, replication_factor: 2 }),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await until('node 2 to know guarded', async () => ((await describe(two, 'guarded')) === 200 ? true : undefined));
    // Produces through node 2 to both partitions (one led by each node) are acknowledged by every
    // replica. The topic is new: a follower's first fetch may come before its leader knows it leads,
    // and the follower asks again rather than wait for a metadata change (it waited 30 s here).
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${two.baseUrl}/topics/guarded`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ partition: i % 2, value: { i } }] }),
        signal: AbortSignal.timeout(20_000),
      });
      assert.equal(res.status, 200, `produce ${i} to partition ${i % 2}: ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    }

    // An ACL for someone else: ANONYMOUS loses the topic on every node.
    const acl = {
      resource_type: 'TOPIC',
      resource_name: 'guarded',
      pattern_type: 'LITERAL',
      principal: 'User:alice',
      host: '*',
      operation: 'WRITE',
      permission: 'ALLOW',
    };
    const made = await json(`${one.baseUrl}/v3/clusters/${clusterId}/acls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(acl),
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const createdAt = Date.now();
    await until(
      'node 2 to deny DESCRIBE',
      async () => ((await describe(two, 'guarded')) === 403 ? true : undefined),
      5_000,
    );
    assert.ok(Date.now() - createdAt < 2_500, `enforced after ${Date.now() - createdAt} ms`);
    const listed = await json(`${two.baseUrl}/v3/clusters/${clusterId}/acls?resource_name=guarded`);
    assert.deepEqual(
      listed.body.data.map((a: { principal: string }) => a.principal),
      ['User:alice'],
    );

    const deleted = await json(
      `${two.baseUrl}/v3/clusters/${clusterId}/acls?resource_type=TOPIC&resource_name=guarded`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.data.length, 1);
    const deletedAt = Date.now();
    await until(
      'node 1 to allow DESCRIBE again',
      async () => ((await describe(one, 'guarded')) === 200 ? true : undefined),
      5_000,
    );
    assert.ok(Date.now() - deletedAt < 2_500, `lifted after ${Date.now() - deletedAt} ms`);

    await stopCleanly(servers);
  },
);
