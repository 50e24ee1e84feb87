import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { placeReplicas, ReplicaPlacementError } from '../../src/cluster/replica-placement.js';

const nodes = (n: number, racks?: string[]) =>
  Array.from({ length: n }, (_, i) => ({ nodeId: i, ...(racks ? { rack: racks[i % racks.length] } : {}) }));

describe('replica placement', () => {
  test("matches Kafka's documented layout: 5 nodes, 10 partitions, factor 3, start 0", () => {
    // The table in Kafka's AdminUtils: first replicas round-robin, followers shifted by one more
    // every time the partitions wrap around the nodes.
    assert.deepEqual(placeReplicas(nodes(5), { partitions: 10, replicationFactor: 3, startIndex: 0 }), [
      [0, 1, 2],
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 0],
      [4, 0, 1],
      [0, 2, 3],
      [1, 3, 4],
      [2, 4, 0],
      [3, 0, 1],
      [4, 1, 2],
    ]);
  });

  test('every partition gets distinct replicas and leaders spread evenly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 40 }),
        fc.nat(),
        fc.nat(),
        (n, partitions, rfSeed, start) => {
          const replicationFactor = 1 + (rfSeed % n);
          const placed = placeReplicas(nodes(n), { partitions, replicationFactor, startIndex: start % n });
          assert.equal(placed.length, partitions);
          const leaders = new Map<number, number>();
          for (const replicas of placed) {
            assert.equal(replicas.length, replicationFactor);
            assert.equal(new Set(replicas).size, replicationFactor);
            for (const r of replicas) assert.ok(r >= 0 && r < n);
            leaders.set(replicas[0] as number, (leaders.get(replicas[0] as number) ?? 0) + 1);
          }
          const counts = [...leaders.values()];
          assert.ok(Math.max(...counts) - Math.min(...counts) <= 1 || leaders.size < n);
        },
      ),
    );
  });

  test('with racks, each partition spans as many racks as it can', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.integer({ min: 1, max: 3 }), fc.nat(), (n, rackCount, start) => {
        const racks = ['a', 'b', 'c'].slice(0, rackCount);
        const all = nodes(n, racks);
        const replicationFactor = Math.min(3, n);
        const rackOf = new Map(all.map((x) => [x.nodeId, x.rack]));
        for (const replicas of placeReplicas(all, { partitions: 12, replicationFactor, startIndex: start % n })) {
          assert.equal(new Set(replicas).size, replicationFactor);
          const used = new Set(replicas.map((r) => rackOf.get(r)));
          assert.equal(used.size, Math.min(replicationFactor, new Set(all.map((x) => x.rack)).size));
        }
      }),
    );
  });

  test('new partitions continue the layout of the old ones', () => {
    const whole = placeReplicas(nodes(4), { partitions: 8, replicationFactor: 2, startIndex: 1 });
    const tail = placeReplicas(nodes(4), { partitions: 3, replicationFactor: 2, startIndex: 1, firstPartition: 5 });
    assert.deepEqual(tail, whole.slice(5));
  });

  test('refuses a factor above the node count, and racks on only some nodes', () => {
    assert.throws(
      () => placeReplicas(nodes(2), { partitions: 1, replicationFactor: 3 }),
      (err: unknown) => err instanceof ReplicaPlacementError && /larger than available brokers: 2/.test(err.message),
    );
    assert.throws(
      () => placeReplicas([{ nodeId: 0, rack: 'a' }, { nodeId: 1 }], { partitions: 1, replicationFactor: 1 }),
      ReplicaPlacementError,
    );
  });
});
