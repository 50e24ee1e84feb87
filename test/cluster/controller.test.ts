import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alterPartitionReassignment } from '../../src/broker/partition-reassignments.js';
import { Controller } from '../../src/cluster/controller.js';
import { EtcdMetadataStore } from '../../src/cluster/etcd-metadata-store.js';
import type { PartitionState } from '../../src/cluster/metadata-store.js';
import { NodeRegistry } from '../../src/cluster/node-registry.js';
import { electLeader } from '../../src/cluster/partition-leader-election.js';
import { completeReassignment, reassign } from '../../src/cluster/partition-reassignment.js';
import { InvalidReplicaAssignmentError, NoReassignmentError } from '../../src/errors.js';
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

describe('partition reassignment (KIP-455)', () => {
  const live = new Set([1, 2, 3, 4]);
  const p0 = { topic: 'orders', partition: 0 };

  test('a move lists the target, then the replicas it removes; the leader stays', () => {
    assert.deepEqual(reassign(p0, state([1, 2, 3], 1, [1, 2, 3], 4), [4, 2, 3], live, clean), {
      replicas: [4, 2, 3, 1],
      leader: 1,
      leaderEpoch: 4,
      isr: [1, 2, 3],
      addingReplicas: [4],
      removingReplicas: [1],
    });
    // A new order of the same replicas moves nothing: the list changes at once.
    assert.deepEqual(reassign(p0, state([1, 2, 3], 1, [1, 2, 3]), [3, 1, 2], live, clean), {
      replicas: [3, 1, 2],
      leader: 1,
      leaderEpoch: 0,
      isr: [1, 2, 3],
    });
  });

  test('it completes once every added replica is in sync: the target, its ISR, the leader moved off', () => {
    const moving = { ...state([4, 2, 3, 1], 1, [1, 2, 3], 4), addingReplicas: [4], removingReplicas: [1] };
    assert.equal(completeReassignment(moving, live, clean), null, 'node 4 is not in sync yet');
    assert.deepEqual(completeReassignment({ ...moving, isr: [1, 2, 3, 4] }, live, clean), {
      replicas: [4, 2, 3],
      leader: 4,
      leaderEpoch: 5,
      isr: [2, 3, 4],
    });
    // Only removals: complete at once, as long as a target replica is in sync.
    const shrinking = { ...state([1, 2, 3], 1, [1, 3], 2), removingReplicas: [3] };
    assert.deepEqual(completeReassignment(shrinking, live, clean), {
      replicas: [1, 2],
      leader: 1,
      leaderEpoch: 2,
      isr: [1],
    });
    assert.equal(completeReassignment({ ...shrinking, isr: [3] }, live, clean), null, 'no target replica in sync');
  });

  test('cancelling (the original replicas as target) drops the added ones and hands their leadership back', () => {
    const moving = {
      ...state([4, 2, 3, 1], 4, [1, 2, 3, 4], 5),
      addingReplicas: [4],
      removingReplicas: [1],
    };
    assert.deepEqual(reassign(p0, moving, [2, 3, 1], live, clean), {
      replicas: [2, 3, 1],
      leader: 2,
      leaderEpoch: 6,
      isr: [1, 2, 3],
    });
  });

  test('a move that would leave no in-sync replica is refused', () => {
    // Node 1 died and left the ISR; the added node 4 holds the only in-sync copy: no cancelling now.
    const moving = { ...state([4, 1], 4, [4], 3), addingReplicas: [4], removingReplicas: [1] };
    assert.throws(
      () => reassign(p0, moving, [1], live, clean),
      (err: unknown) => err instanceof InvalidReplicaAssignmentError && /no in-sync replica/.test(err.message),
    );
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
      // One pass swaps the partitions one after another: wait until it has reached the last one.
      const moved = await until('node 1 to lose its leadership and leave every ISR', async () => {
        const t = await store.getTopic('orders');
        const done = t?.partitionStates[0]?.leader === 2 && t.partitionStates.every((s) => !s.isr.includes(1));
        return done ? t : undefined;
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

  test('completes a reassignment once the added replica is in sync, and cancels one by swapping the original list back', async () => {
    const clusterName = `controller-${process.pid}-${clusters++}`;
    const store = await EtcdMetadataStore.open({ endpoints: [server.endpoint], clusterName });
    await store.createTopic({
      name: 'orders',
      topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
      partitions: 2,
      replicationFactor: 3,
      configs: {},
      partitionStates: [state([1, 2, 3], 1, [1, 2, 3]), state([2, 3, 1], 2, [2, 3, 1])],
      version: 0,
    });
    let live = new Set([1, 2, 3, 4]);
    const ctx = { nodeId: 1, store, liveNodeIds: () => live, uncleanLeaderElection: false };
    const controller = new Controller({ store, uncleanLeaderElection: false, liveNodes: async () => live });
    const stored = async (p: number) => (await store.getTopic('orders'))?.partitionStates[p] as PartitionState;
    try {
      // Node 4 replaces node 1, the leader: the union is stored, and nothing completes before 4 is in sync.
      const started = await alterPartitionReassignment(ctx, 'orders', 0, [4, 2, 3]);
      assert.deepEqual(
        [started.replicas, started.addingReplicas, started.removingReplicas, started.leader],
        [[4, 2, 3, 1], [4], [1], 1],
      );
      assert.deepEqual(await controller.reconcileNow(), { changed: [], offline: [] });
      // The leader takes 4 into the ISR (as its replica manager would): the move stays recorded.
      const expanded = await store.updatePartitionState(
        'orders',
        0,
        { ...started, isr: [1, 2, 3, 4] },
        started.version,
      );
      assert.deepEqual(expanded.addingReplicas, [4]);
      assert.deepEqual(await controller.reconcileNow(), { changed: ['orders-0'], offline: [] });
      const done = await stored(0);
      assert.deepEqual(done, { replicas: [4, 2, 3], leader: 4, leaderEpoch: 1, isr: [2, 3, 4], version: done.version });

      // Partition 1 moves to 4 and 1 in place of 2 and 3; 4 catches up, 1 was there, 2 never leaves the ISR.
      const second = await alterPartitionReassignment(ctx, 'orders', 1, [1, 4]);
      assert.deepEqual([second.replicas, second.addingReplicas, second.removingReplicas], [[1, 4, 2, 3], [4], [2, 3]]);
      // Two brokers id the target may not name: a dead one, and one that never was.
      live = new Set([1, 2, 3]);
      await assert.rejects(alterPartitionReassignment(ctx, 'orders', 1, [1, 4]), /broker 4 is not a live broker/);
      await assert.rejects(alterPartitionReassignment(ctx, 'orders', 1, [1, 9]), InvalidReplicaAssignmentError);
      live = new Set([1, 2, 3, 4]);
      // Cancelled: the original replicas, in the order the move listed them; 4 is gone from the list.
      const cancelled = await alterPartitionReassignment(ctx, 'orders', 1, null);
      assert.deepEqual(cancelled, {
        replicas: [1, 2, 3],
        leader: 2,
        leaderEpoch: 0,
        isr: [2, 3, 1],
        version: cancelled.version,
      });
      await assert.rejects(alterPartitionReassignment(ctx, 'orders', 1, null), NoReassignmentError);
      // The controller then takes the preferred leader (now 1) as it always does.
      await controller.reconcileNow();
      assert.equal((await stored(1)).leader, 1);
    } finally {
      await controller.stop();
      await store.close();
    }
  });
});
