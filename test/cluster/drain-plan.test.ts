/**
 * `samsa reassign`'s arguments and its drain plan: which live node takes each replica of a node
 * being drained (rack first, then the least loaded), without a cluster.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PlanBroker, parseReassignArgs, planDrain } from '../../src/reassign-partitions.js';

const brokers = (...ids: [number, string | null][]): PlanBroker[] =>
  ids.map(([brokerId, rack]) => ({ brokerId, rack }));

test('a drained node is replaced, in its place in the list, by a live node the partition does not hold', () => {
  const live = brokers([1, null], [2, null], [3, null], [4, null]);
  const { moves, stuck } = planDrain(
    1,
    [
      { topic: 'orders', partition: 0, replicas: [1, 2, 3], removing: [] },
      { topic: 'orders', partition: 1, replicas: [2, 1, 4], removing: [] },
      { topic: 'orders', partition: 2, replicas: [2, 3, 4], removing: [] },
    ],
    live,
  );
  assert.deepEqual(stuck, []);
  assert.deepEqual(
    moves.map((m) => [m.partition, m.to]),
    [
      [0, [4, 2, 3]],
      [1, [2, 3, 4]],
    ],
  );
});

test('the least loaded node takes the next replica, counting the moves planned so far', () => {
  const live = brokers([1, null], [2, null], [3, null], [4, null]);
  const partitions = [0, 1, 2, 3].map((p) => ({ topic: 't', partition: p, replicas: [1, 2], removing: [] }));
  const { moves } = planDrain(
    1,
    partitions,
    live,
    new Map([
      [2, 4],
      [3, 1],
      [4, 0],
    ]),
  );
  assert.deepEqual(
    moves.map((m) => m.to[0]),
    [4, 3, 4, 3],
  );
});

test('racks: the drained node’s rack first, then a rack the partition does not use', () => {
  const live = brokers([1, 'a'], [2, 'b'], [3, 'a'], [4, 'c'], [5, 'b']);
  const { moves } = planDrain(1, [{ topic: 't', partition: 0, replicas: [1, 2], removing: [] }], live);
  assert.deepEqual(moves[0]?.to, [3, 2]);
  // No other node in rack a: one in rack c, which the partition does not use, rather than b.
  const noPeer = brokers([1, 'a'], [2, 'b'], [4, 'c'], [5, 'b']);
  assert.deepEqual(
    planDrain(1, [{ topic: 't', partition: 0, replicas: [1, 2], removing: [] }], noPeer).moves[0]?.to,
    [4, 2],
  );
});

test('a partition already moving is planned from its target; one no node can take is stuck', () => {
  const live = brokers([1, null], [2, null], [3, null]);
  const { moves, stuck } = planDrain(
    1,
    [
      // Node 1 is already being removed: nothing to do.
      { topic: 't', partition: 0, replicas: [2, 3, 1], removing: [1] },
      // Every live node already holds a replica.
      { topic: 't', partition: 1, replicas: [1, 2, 3], removing: [] },
    ],
    live,
  );
  assert.deepEqual(moves, []);
  assert.deepEqual(
    stuck.map((p) => p.partition),
    [1],
  );
});

test('samsa reassign arguments: one action, broker ids, each once', () => {
  const base = ['--bootstrap', 'http://127.0.0.1:8082/'];
  assert.deepEqual(parseReassignArgs([...base, '--topic', 'orders', '--partition', '0', '--replicas', '2,3,1']), {
    kind: 'config',
    config: {
      bootstrap: ['http://127.0.0.1:8082'],
      action: { kind: 'move', topic: 'orders', partition: 0, replicas: [2, 3, 1] },
      wait: false,
      timeoutMs: 300_000,
    },
  });
  assert.deepEqual(parseReassignArgs([...base, '--drain=3', '--wait', '--timeout-ms', '5000']), {
    kind: 'config',
    config: { bootstrap: ['http://127.0.0.1:8082'], action: { kind: 'drain', nodeId: 3 }, wait: true, timeoutMs: 5000 },
  });
  const refused: [string[], RegExp][] = [
    [['--drain', '1'], /--bootstrap is required/],
    [[...base], /exactly one of/],
    [[...base, '--drain', '1', '--list'], /exactly one of/],
    [[...base, '--drain', 'x'], /broker id/],
    [[...base, '--topic', 't', '--partition', '0', '--replicas', '1,1'], /twice/],
    [[...base, '--topic', 't', '--partition', '0', '--replicas', '1,-2'], /broker ids/],
    [[...base, '--topic', 't', '--replicas', '1'], /--partition are required/],
    [[...base, '--list', '--timeout-ms', '0'], /--timeout-ms/],
    [[...base, '--list', '--nope'], /unknown flag/],
    [['--bootstrap', 'localhost:8082', '--list'], /not a URL/],
  ];
  for (const [args, message] of refused) {
    const got = parseReassignArgs(args);
    assert.equal(got.kind, 'usage-error', args.join(' '));
    assert.match((got as { message: string }).message, message, args.join(' '));
  }
  assert.deepEqual(parseReassignArgs(['--help']), { kind: 'help' });
});
