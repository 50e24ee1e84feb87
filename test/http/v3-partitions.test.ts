import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

let node: TestNode;
let cid: string;
let base: string;
before(async () => {
  node = await openNode();
  cid = node.broker.clusterId;
  base = `http://kafka.local/v3/clusters/${cid}`;
  await node.broker.createTopic('orders', { partitions: 2 });
});
after(() => node.close());

const get = (suffix: string) => request(node.app).get(`/v3/clusters/${cid}${suffix}`).set('host', 'kafka.local');

function expectedPartition(partition: number) {
  const self = `${base}/topics/orders/partitions/${partition}`;
  return {
    kind: 'KafkaPartition',
    metadata: { self, resource_name: `crn:///kafka=${cid}/topic=orders/partition=${partition}` },
    cluster_id: cid,
    topic_name: 'orders',
    partition_id: partition,
    leader: { related: `${self}/replicas/0` },
    replicas: { related: `${self}/replicas` },
    reassignment: { related: `${self}/reassignment` },
  };
}

function expectedReplica(partition: number) {
  const self = `${base}/topics/orders/partitions/${partition}/replicas/0`;
  return {
    kind: 'KafkaReplica',
    metadata: { self, resource_name: `crn:///kafka=${cid}/topic=orders/partition=${partition}/replica=0` },
    cluster_id: cid,
    topic_name: 'orders',
    partition_id: partition,
    broker_id: 0,
    is_leader: true,
    is_in_sync: true,
    broker: { related: `${base}/brokers/0` },
  };
}

test('GET partitions lists every partition in Confluent’s shape', async () => {
  const res = await get('/topics/orders/partitions');
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  assert.deepEqual(res.body, {
    kind: 'KafkaPartitionList',
    metadata: { self: `${base}/topics/orders/partitions`, next: null },
    data: [expectedPartition(0), expectedPartition(1)],
  });
});

test('GET one partition', async () => {
  const res = await get('/topics/orders/partitions/1');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, expectedPartition(1));
});

test('unknown topic 404/40403, unknown partition 404/40402, on every partition route', async () => {
  for (const suffix of ['', '/offset', '/replicas', '/replicas/0']) {
    const topic = await get(`/topics/nope/partitions/0${suffix}`);
    assert.equal(topic.status, 404, suffix);
    assert.equal(topic.body.error_code, 40403, suffix);
    const partition = await get(`/topics/orders/partitions/2${suffix}`);
    assert.equal(partition.status, 404, suffix);
    assert.equal(partition.body.error_code, 40402, suffix);
  }
  assert.equal((await get('/topics/nope/partitions')).body.error_code, 40403);
});

test('a partition id that is not a non-negative integer answers 422', async () => {
  for (const id of ['-1', 'one', '1.5', '99999999999']) {
    const res = await get(`/topics/orders/partitions/${id}`);
    assert.equal(res.status, 422, id);
  }
});

test('GET offset answers earliest and latest offsets as KafkaPartitionWithOffsets', async () => {
  const empty = await get('/topics/orders/partitions/0/offset');
  assert.equal(empty.status, 200, empty.text);
  assert.deepEqual(empty.body, {
    kind: 'KafkaPartitionWithOffsets',
    metadata: {
      self: `${base}/topics/orders/partitions/0/offset`,
      resource_name: `crn:///kafka=${cid}/topic=orders/partition=0`,
    },
    cluster_id: cid,
    topic_name: 'orders',
    partition_id: 0,
    earliest_offset: 0,
    latest_offset: 0,
  });

  const produced = await request(node.app)
    .post('/topics/orders/partitions/0')
    .set('content-type', JSON_V2)
    .send(JSON.stringify({ records: [{ value: 1 }, { value: 2 }, { value: 3 }] }));
  assert.equal(produced.status, 200, produced.text);
  const after = await get('/topics/orders/partitions/0/offset?offset_type=earliest_and_latest');
  assert.equal(after.body.earliest_offset, 0);
  assert.equal(after.body.latest_offset, 3);
  // The other partition is untouched.
  assert.equal((await get('/topics/orders/partitions/1/offset')).body.latest_offset, 0);
});

test('an offset_type other than earliest_and_latest answers 400', async () => {
  for (const type of ['earliest', 'latest', 'max_timestamp', '']) {
    const res = await get(`/topics/orders/partitions/0/offset?offset_type=${type}`);
    assert.equal(res.status, 400, type);
    assert.equal(res.body.error_code, 400);
    assert.match(res.body.message, /earliest_and_latest/);
  }
});

test('GET replicas lists the replicas with leader and in-sync flags', async () => {
  const res = await get('/topics/orders/partitions/0/replicas');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, {
    kind: 'KafkaReplicaList',
    metadata: { self: `${base}/topics/orders/partitions/0/replicas`, next: null },
    data: [expectedReplica(0)],
  });
});

test('GET one replica, and 404/404 for a broker that holds none', async () => {
  const res = await get('/topics/orders/partitions/1/replicas/0');
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, expectedReplica(1));
  const missing = await get('/topics/orders/partitions/1/replicas/7');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error_code, 404);
  assert.match(missing.body.message, /Replica 7 of partition orders-1/);
});

test('partition routes answer the same with a trailing slash', async () => {
  for (const suffix of [
    '/topics/orders/partitions',
    '/topics/orders/partitions/0',
    '/topics/orders/partitions/0/offset',
    '/topics/orders/partitions/0/replicas/0',
  ]) {
    const plain = await get(suffix);
    const slashed = await get(`${suffix}/`);
    assert.equal(slashed.status, 200, suffix);
    assert.deepEqual(slashed.body, plain.body, suffix);
  }
});

test('partitions added by PATCH appear in the partition list', async () => {
  const res = await request(node.app)
    .patch(`/v3/clusters/${cid}/topics/orders`)
    .set('content-type', 'application/json')
    .send(JSON.stringify({ partitions_count: 3 }));
  assert.equal(res.status, 200, res.text);
  const list = await get('/topics/orders/partitions');
  assert.deepEqual(list.body.data, [expectedPartition(0), expectedPartition(1), expectedPartition(2)]);
  assert.equal((await get('/topics/orders/partitions/2/offset')).body.latest_offset, 0);
});

test('reassignments: empty lists while nothing moves; one partition answers 404 saying it is not moving', async () => {
  const all = await get('/topics/-/partitions/-/reassignment');
  assert.equal(all.status, 200, all.text);
  assert.deepEqual(all.body, {
    kind: 'KafkaReassignmentList',
    metadata: { self: `${base}/topics/-/partitions/-/reassignment`, next: null },
    data: [],
  });
  const byTopic = await get('/topics/orders/partitions/-/reassignment');
  assert.deepEqual(byTopic.body, {
    kind: 'KafkaReassignmentList',
    metadata: { self: `${base}/topics/orders/partitions/-/reassignment`, next: null },
    data: [],
  });
  const one = await get('/topics/orders/partitions/1/reassignment');
  assert.deepEqual(
    [one.status, one.body],
    [404, { error_code: 404, message: 'No reassignment is in progress for partition orders-1.' }],
  );
  assert.equal((await get('/topics/nope/partitions/-/reassignment')).body.error_code, 40403);
  assert.equal((await get('/topics/orders/partitions/9/reassignment')).body.error_code, 40402);
});

const patchReassignment = (suffix: string, body: string, type = 'application/json') =>
  request(node.app)
    .patch(`/v3/clusters/${cid}${suffix}`)
    .set('host', 'kafka.local')
    .set('content-type', type)
    .send(body);

test('a reassignment to the single node itself is accepted and moves nothing', async () => {
  const res = await patchReassignment('/topics/orders/partitions/0/reassignment', JSON.stringify({ replicas: [0] }));
  assert.equal(res.status, 202, res.text);
  const self = `${base}/topics/orders/partitions/0`;
  assert.deepEqual(res.body, {
    kind: 'KafkaReassignment',
    metadata: { self: `${self}/reassignment`, resource_name: `crn:///kafka=${cid}/topic=orders/partition=0` },
    cluster_id: cid,
    topic_name: 'orders',
    partition_id: 0,
    adding_replicas: [],
    removing_replicas: [],
    replicas: { related: `${self}/replicas` },
  });
  assert.equal((await get('/topics/orders/partitions/0/reassignment')).status, 404);
});

test('a reassignment that cannot be is a 4xx JSON error, never a 500', async () => {
  const cases: [string, string, number, number, RegExp][] = [
    // Another broker id on a single node: Kafka's INVALID_REPLICA_ASSIGNMENT, as Confluent maps it.
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[0,1]}', 400, 40002, /only broker is 0/],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[3]}', 400, 40002, /cluster mode/],
    // The contract: at least one id, each once, ids that are broker ids, nothing else in the body.
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[]}', 422, 422, /fewer than 1/],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[0,0]}', 422, 422, /duplicate/],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[-1]}', 422, 422, />= 0/],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":["a"]}', 422, 422, /integer/],
    ['/topics/orders/partitions/0/reassignment', '{}', 422, 422, /replicas/],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":[0],"x":1}', 422, 422, /not allowed/],
    [
      '/topics/orders/partitions/0/reassignment',
      JSON.stringify({ replicas: Array.from({ length: 65 }, (_, i) => i) }),
      422,
      422,
      /more than 64/,
    ],
    ['/topics/orders/partitions/0/reassignment', '{"replicas":', 400, 400, /JSON/],
    ['/topics/nope/partitions/0/reassignment', '{"replicas":[0]}', 404, 40403, /nope/],
    ['/topics/orders/partitions/9/reassignment', '{"replicas":[0]}', 404, 40402, /Partition 9/],
  ];
  for (const [suffix, body, status, errorCode, message] of cases) {
    const res = await patchReassignment(suffix, body);
    assert.equal(res.status, status, `${suffix} ${body}: ${res.text}`);
    assert.match(res.type, /json/, body);
    assert.equal(res.body.error_code, errorCode, `${body}: ${res.text}`);
    assert.match(res.body.message, message, `${body}: ${res.text}`);
  }
  const wrongType = await patchReassignment('/topics/orders/partitions/0/reassignment', 'replicas=0', 'text/plain');
  assert.equal(wrongType.status, 415, wrongType.text);
});

test('cancelling with no reassignment in progress answers 404 saying so', async () => {
  const del = (suffix: string) => request(node.app).delete(`/v3/clusters/${cid}${suffix}`);
  const none = await del('/topics/orders/partitions/0/reassignment');
  assert.deepEqual(
    [none.status, none.body],
    [404, { error_code: 404, message: 'No reassignment is in progress for partition orders-0.' }],
  );
  assert.equal((await del('/topics/nope/partitions/0/reassignment')).body.error_code, 40403);
  assert.equal((await del('/topics/orders/partitions/9/reassignment')).body.error_code, 40402);
});

test('a broker that is not this node has no replicas to list', async () => {
  assert.equal((await get('/brokers/0/partition-replicas')).status, 200);
  const other = await get('/brokers/5/partition-replicas');
  assert.deepEqual([other.status, other.body.error_code], [404, 404]);
});
