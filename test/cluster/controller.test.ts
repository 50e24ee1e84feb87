import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Controller } from '../../src/cluster/controller.js';
import { EtcdMetadataStore } from '../../src/cluster/etcd-metadata-store.js';
import type { PartitionState } from '../../src/cluster/metadata-store.js';
import { NodeRegistry } from '../../src/cluster/node-registry.js';
import { electLeader } from '../../src/cluster/partition-leader-election.js';
import { type EtcdServer, needsEtcd, startEtcd, startMember as startMemberAt, until } from './etcd-fixture.js';

const state = (replicas: number[], leader: number, isr: number[], leaderEpoch = 0): PartitionState => ({
  replicas,
  leader,
  leaderEpoch,
  isr,
  version: 0,
});
const clean = { uncleanLeaderElection: false };

describe('partition leader election', () => {
  test('nothing changes while the leader and the ISR are alive', () => {
    assert.equal(electLeader(state([1, 2, 3], 1, [1, 2, 3]), new Set([1, 2, 3]), clean), null);
  });

  test('a dead leader is replaced by the next live in-sync replica, with a new epoch', () => {
    assert.deepEqual(electLeader(state([1, 2, 3], 1, [1, 2, 3], 4), new Set([2, 3]), clean), {
      replicas: [1, 2, 3],
      leader: 2,
      leaderEpoch: 5,
      isr: [2, 3],
    });
  });

  test('a dead follower only leaves the ISR; the epoch stays', () => {
    assert.deepEqual(electLeader(state([1, 2, 3], 1, [1, 2, 3], 4), new Set([1, 2]), clean), {
      replicas: [1, 2, 3],
      leader: 1,
      leaderEpoch: 4,
      isr: [1, 2],
    });
  });

  test('with no live in-sync replica the partition goes offline, and the ISR keeps its last members', () => {
    // 3 is alive but was not in sync: making it leader could lose acknowledged records.
    assert.deepEqual(electLeader(state([1, 2, 3], 1, [1], 2), new Set([3]), clean), {
      replicas: [1, 2, 3],
      leader: -1,
      leaderEpoch: 3,
      isr: [1],
    });
    // ... and the last in-sync replica leads again when it returns.
    assert.deepEqual(electLeader(state([1, 2, 3], -1, [1], 3), new Set([1, 3]), clean), {
      replicas: [1, 2, 3],
      leader: 1,
      leaderEpoch: 4,
      isr: [1],
    });
  });

  test('unclean election, when enabled, takes a live replica outside the ISR', () => {
    assert.deepEqual(electLeader(state([1, 2, 3], 1, [1], 2), new Set([3]), { uncleanLeaderElection: true }), {
      replicas: [1, 2, 3],
      leader: 3,
      leaderEpoch: 3,
      isr: [3],
    });
  });

  test('the preferred replica takes the leadership back once it is in sync again', () => {
    // Back but not yet in the ISR: it waits.
    assert.equal(electLeader(state([1, 2, 3], 2, [2, 3], 5), new Set([1, 2, 3]), clean), null);
    // The leader added it to the ISR: it leads again.
    assert.deepEqual(electLeader(state([1, 2, 3], 2, [2, 3, 1], 5), new Set([1, 2, 3]), clean)?.leader, 1);
  });
});

const etcd = needsEtcd();
const startMember = (clusterName: string, nodeId: number, ttlSeconds: number) =>
  startMemberAt(server.endpoint, clusterName, nodeId, ttlSeconds);
let server: EtcdServer;
let clusters = 0;

describe('controller on etcd', etcd, () => {
  before(async () => {
    server = await startEtcd();
  });
  after(async () => server?.stop());

  test('moves the leaderships of a node killed with SIGKILL to in-sync replicas, and back when it returns', async () => {
    const clusterName = `controller-${process.pid}-${clusters++}`;
    const endpoints = [server.endpoint];
    const store = await EtcdMetadataStore.open({ endpoints, clusterName });
    const partitions = [state([1, 2, 3], 1, [1, 2, 3]), state([2, 3, 1], 2, [2, 3, 1]), state([3, 1, 2], 3, [3, 1, 2])];
    await store.createTopic({
      name: 'orders',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: 3,
      replicationFactor: 3,
      configs: {},
      partitionStates: partitions,
      version: 0,
    });
    const members = [1, 2, 3].map((id) => startMember(clusterName, id, 2));
    await Promise.all(members.map((m) => m.said('joined')));
    const observer = await NodeRegistry.join({
      endpoints,
      clusterName,
      node: { nodeId: 100, advertisedUrl: 'http://127.0.0.1:1' },
    });
    const controller = new Controller({
      store,
      uncleanLeaderElection: false,
      reconcileIntervalMs: 100,
      liveNodes: async () => new Set((await observer.liveNodes()).map((n) => n.nodeId)),
    });
    try {
      assert.deepEqual(await controller.reconcileNow(), { changed: [], offline: [] });
      controller.start();
      await members[0]?.kill();
      const moved = await until('node 1 to lose its leadership', async () => {
        const t = await store.getTopic('orders');
        return t?.partitionStates[0]?.leader === 2 ? t : undefined;
      });
      assert.deepEqual(
        moved.partitionStates.map((s) => ({ leader: s.leader, epoch: s.leaderEpoch, isr: s.isr })),
        [
          { leader: 2, epoch: 1, isr: [2, 3] },
          { leader: 2, epoch: 0, isr: [2, 3] },
          { leader: 3, epoch: 0, isr: [3, 2] },
        ],
      );
      // Node 1 returns and (as its leader would, once it caught up) is put back into the ISR.
      const back = startMember(clusterName, 1, 2);
      await back.said('joined');
      const p0 = moved.partitionStates[0] as PartitionState;
      await store.updatePartitionState('orders', 0, { ...p0, isr: [2, 3, 1] }, p0.version);
      const restored = await until('node 1 to lead partition 0 again', async () => {
        const s = (await store.getTopic('orders'))?.partitionStates[0];
        return s?.leader === 1 ? s : undefined;
      });
      assert.equal(restored.leaderEpoch, 2);
      await back.kill();
    } finally {
      await controller.stop();
      await observer.leave();
      for (const m of members.slice(1)) await m.kill();
      await store.close();
    }
  });
});
