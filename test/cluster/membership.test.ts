import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ControllerElection } from '../../src/cluster/controller-election.js';
import { type ClusterNode, NodeIdInUseError, NodeRegistry } from '../../src/cluster/node-registry.js';
import { type EtcdServer, needsEtcd, startEtcd, startMember as startMemberAt, until } from './etcd-fixture.js';

const etcd = needsEtcd();
const startMember = (clusterName: string, nodeId: number, ttlSeconds: number) =>
  startMemberAt(server.endpoint, clusterName, nodeId, ttlSeconds);
let server: EtcdServer;
let clusters = 0;
const newCluster = () => `membership-${process.pid}-${clusters++}`;
const node = (nodeId: number, rack?: string): ClusterNode => ({
  nodeId,
  advertisedUrl: `http://127.0.0.1:${9000 + nodeId}`,
  ...(rack ? { rack } : {}),
});

/** Watch and lease keep-alive streams etcd has opened since it started, from its /metrics. */
async function streamsStarted(endpoint: string): Promise<{ watch: number; keepAlive: number }> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const count = (method: string, service: string) => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`grpc_server_started_total{grpc_method="${method}",grpc_service="${service}"`));
    assert.ok(line, `etcd reports grpc_server_started_total for ${method}`);
    return Number(line.split(' ').pop());
  };
  return { watch: count('Watch', 'etcdserverpb.Watch'), keepAlive: count('LeaseKeepAlive', 'etcdserverpb.Lease') };
}

describe('cluster membership in etcd', etcd, () => {
  before(async () => {
    server = await startEtcd();
  });
  after(async () => server?.stop());

  test('nodes register and leave; a second node with a live id is refused', async () => {
    const clusterName = newCluster();
    const endpoints = [server.endpoint];
    const a = await NodeRegistry.join({ endpoints, clusterName, node: node(1, 'r1') });
    const b = await NodeRegistry.join({ endpoints, clusterName, node: node(2, 'r2') });
    assert.deepEqual(await a.liveNodes(), [node(1, 'r1'), node(2, 'r2')]);
    await assert.rejects(NodeRegistry.join({ endpoints, clusterName, node: node(2) }), NodeIdInUseError);
    const seen: number[][] = [];
    await a.onChange((nodes) => seen.push(nodes.map((n) => n.nodeId)));
    await b.leave();
    await until('the leave to be seen', async () => (seen.some((s) => s.join() === '1') ? true : undefined));
    assert.deepEqual(await a.liveNodes(), [node(1, 'r1')]);
    // The id is free again once its holder left.
    const again = await NodeRegistry.join({ endpoints, clusterName, node: node(2) });
    await Promise.all([again.leave(), a.leave()]);
  });

  test('a node killed with SIGKILL drops out when its lease expires', async () => {
    const clusterName = newCluster();
    const watcher = await NodeRegistry.join({ endpoints: [server.endpoint], clusterName, node: node(9) });
    const member = startMember(clusterName, 3, 2);
    await member.said('joined');
    assert.deepEqual(
      (await watcher.liveNodes()).map((n) => n.nodeId),
      [3, 9],
    );
    await member.kill();
    await until('node 3 to expire', async () => {
      const ids = (await watcher.liveNodes()).map((n) => n.nodeId);
      return ids.includes(3) ? undefined : ids;
    });
    await watcher.leave();
  });

  test('one controller at a time: a resignation hands the office on at once', async () => {
    const clusterName = newCluster();
    const endpoints = [server.endpoint];
    const states = new Map<number, boolean>();
    const elections = [1, 2, 3].map((nodeId) =>
      ControllerElection.start({ endpoints, clusterName, nodeId, ttlSeconds: 5 }, (isController) =>
        states.set(nodeId, isController),
      ),
    );
    const controllers = () => elections.filter((e) => e.isController);
    const first = await until('a controller', async () => (controllers().length === 1 ? controllers()[0] : undefined));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(controllers().length, 1, 'never two at once');
    const firstId = await first.currentController();
    assert.ok(firstId !== null && states.get(firstId) === true);
    for (const e of elections) assert.equal(await e.currentController(), firstId);
    await first.stop();
    assert.equal(states.get(firstId as number), false);
    const next = await until('the next controller', async () =>
      controllers().length === 1 ? controllers()[0] : undefined,
    );
    const nextId = await next.currentController();
    assert.notEqual(nextId, firstId);
    for (const e of elections) await e.stop();
  });

  test('a controller killed with SIGKILL is replaced once its lease expires', async () => {
    const clusterName = newCluster();
    const member = startMember(clusterName, 5, 2);
    await member.said('controller');
    let elected = false;
    const standby = ControllerElection.start(
      { endpoints: [server.endpoint], clusterName, nodeId: 6, ttlSeconds: 2 },
      (isController) => {
        elected = isController;
      },
    );
    assert.equal(await until('node 5 in office', async () => (await standby.currentController()) ?? undefined), 5);
    assert.equal(elected, false);
    await member.kill();
    await until('node 6 to take over', async () => (elected ? true : undefined));
    assert.equal(await standby.currentController(), 6);
    await standby.stop();
  });

  test('the call deadline does not cut the lease keep-alive or the watch: one stream each, the lease confirmed throughout', async () => {
    const clusterName = newCluster();
    const endpoints = [server.endpoint];
    // A 300 ms bound on each call: streams held to it would be cut and opened again about three
    // times a second, each cut a failure in etcd3's count against the member.
    const opts = { endpoints, clusterName, requestTimeoutMs: 300, leaseTtlSeconds: 2 };
    const a = await NodeRegistry.join({ ...opts, node: node(1) });
    let lost: Error | null = null;
    a.onLost((err) => {
      lost = err;
    });
    const seen: number[][] = [];
    await a.onChange((nodes) => seen.push(nodes.map((n) => n.nodeId)));
    await new Promise((r) => setTimeout(r, 500));
    const before = await streamsStarted(server.endpoint);
    let unconfirmedSamples = 0;
    for (const endAt = Date.now() + 3_000; Date.now() < endAt; ) {
      await new Promise((r) => setTimeout(r, 100));
      if (!a.confirmed(500)) unconfirmedSamples++;
    }
    const during = await streamsStarted(server.endpoint);
    assert.deepEqual(
      { watch: during.watch - before.watch, keepAlive: during.keepAlive - before.keepAlive },
      { watch: 0, keepAlive: 0 },
      'watch and keep-alive streams opened again in 3 s',
    );
    const b = await NodeRegistry.join({ ...opts, node: node(2) });
    await until('the join to be seen by the watch', async () =>
      seen.some((s) => s.join() === '1,2') ? true : undefined,
    );
    assert.equal(lost, null, 'the lease was lost');
    assert.equal(unconfirmedSamples, 0, 'samples where the lease was not confirmed');
    await Promise.all([a.leave(), b.leave()]);
  });
});
