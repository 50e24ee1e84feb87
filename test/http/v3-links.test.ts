/**
 * Every link a v3 answer gives leads somewhere: starting at `GET /v3/clusters`, follow every URL in
 * every answer (`metadata.self`, each `related`, and any other URL-valued field) and require a 200.
 * Two targets are documented exceptions, and each must give its own clear answer instead:
 * - `acls`: Samsa has no ACLs yet and authorization is off, so it answers 400 / 40002 as Confluent's
 *   proxy does in front of a Kafka without an authorizer (SecurityDisabledException);
 * - a partition's `reassignment`: nothing moves on a single node, so it answers 404 saying so, as
 *   Confluent does for a partition with no reassignment in progress.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import request from 'supertest';
import { JSON_V2, openNode, type TestNode } from './node-fixture.js';

const V2 = 'application/vnd.kafka.v2+json';
const HOST = 'kafka.local:8082';
const ROOT = `http://${HOST}`;
/** A bound on the walk: the fixture has a few hundred resources (configs mostly). */
const MAX_LINKS = 2_000;

let node: TestNode;
before(async () => {
  node = await openNode();
  await node.broker.createTopic('orders', { partitions: 2 });
  const produced = await request(node.app)
    .post('/topics/orders')
    .set('content-type', JSON_V2)
    .send({
      records: [
        { value: 1, partition: 0 },
        { value: 2, partition: 1 },
      ],
    });
  assert.equal(produced.status, 200, produced.text);
  // A group member that holds an assignment and has committed on both partitions, so the
  // assignment's `lag` links have lags to show.
  const created = await request(node.app)
    .post('/consumers/billing')
    .set('content-type', V2)
    .send({ name: 'c1', format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' });
  assert.equal(created.status, 200, created.text);
  const base = '/consumers/billing/instances/c1';
  await request(node.app)
    .post(`${base}/subscription`)
    .set('content-type', V2)
    .send({ topics: ['orders'] });
  await request(node.app).get(`${base}/records`).query({ timeout: 300 }).set('accept', JSON_V2);
  const committed = await request(node.app)
    .post(`${base}/offsets`)
    .set('content-type', V2)
    .send({
      offsets: [
        { topic: 'orders', partition: 0, offset: 0 },
        { topic: 'orders', partition: 1, offset: 0 },
      ],
    });
  assert.equal(committed.status, 200, committed.text);
});
after(() => node.close());

/** Every string in `value` that is a URL under this server, wherever it sits. */
function urlsIn(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    if (value.startsWith(`${ROOT}/`)) out.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) urlsIn(v, out);
  } else if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) urlsIn(v, out);
  }
}

test('every link in every v3 answer, from /v3/clusters on, answers 200 (or its documented clear error)', async () => {
  const seen = new Set<string>([`${ROOT}/v3/clusters`]);
  const queue = [...seen];
  const failures: string[] = [];
  const kinds = new Set<string>();
  let reassignmentLinks = 0;
  let aclLinks = 0;
  while (queue.length > 0) {
    assert.ok(seen.size <= MAX_LINKS, `more than ${MAX_LINKS} links: the walk does not end`);
    const url = queue.shift() as string;
    const res = await request(node.app).get(url.slice(ROOT.length)).set('host', HOST);
    const path = new URL(url).pathname;
    if (path.endsWith('/acls')) {
      aclLinks++;
      if (res.status !== 400 || res.body?.error_code !== 40002 || !/ACL/.test(res.body?.message ?? '')) {
        failures.push(`${url}: ${res.status} ${res.text} (wanted the 400 / 40002 "no ACLs" answer)`);
      }
      continue;
    }
    if (/\/partitions\/\d+\/reassignment$/.test(path)) {
      reassignmentLinks++;
      if (res.status !== 404 || !/no reassignment/i.test(res.body?.message ?? '')) {
        failures.push(`${url}: ${res.status} ${res.text} (wanted the 404 "no reassignment" answer)`);
      }
      continue;
    }
    if (res.status !== 200) {
      failures.push(`${url}: ${res.status} ${res.text}`);
      continue;
    }
    if (typeof res.body?.kind === 'string') kinds.add(res.body.kind);
    const found = new Set<string>();
    urlsIn(res.body, found);
    for (const next of found) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  assert.deepEqual(failures, []);
  // The walk reached every kind of resource the fixture has, so it did not stop early.
  for (const kind of [
    'KafkaClusterList',
    'KafkaCluster',
    'KafkaBroker',
    'KafkaBrokerConfigList',
    'KafkaClusterConfigList',
    'KafkaTopicList',
    'KafkaTopic',
    'KafkaTopicConfigList',
    'KafkaTopicConfig',
    'KafkaPartitionList',
    'KafkaPartition',
    'KafkaReplicaList',
    'KafkaReplica',
    'KafkaReassignmentList',
    'KafkaConsumerGroup',
    'KafkaConsumer',
    'KafkaConsumerAssignmentList',
    'KafkaConsumerAssignment',
    'KafkaConsumerLag',
    'KafkaConsumerGroupLagSummary',
  ]) {
    assert.ok(kinds.has(kind), `the walk never reached a ${kind}`);
  }
  assert.equal(aclLinks, 1);
  assert.ok(reassignmentLinks >= 2, `${reassignmentLinks} partition reassignment links`);
});
