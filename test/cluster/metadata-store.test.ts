import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import request from 'supertest';
import {
  LocalMetadataStore,
  MetadataConflictError,
  singleReplicaState,
  TopicAlreadyStoredError,
  type TopicMetadata,
} from '../../src/cluster/metadata-store.js';
import { openNode } from '../http/node-fixture.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-meta-'));
}

function topic(name: string, partitions = 1): TopicMetadata {
  return {
    name,
    topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
    partitions,
    replicationFactor: 1,
    configs: {},
    partitionStates: Array.from({ length: partitions }, () => singleReplicaState(7)),
    version: 0,
  };
}

describe('local metadata store', () => {
  test('keeps topics and partition states across a reopen', async () => {
    const dir = tempDir();
    const store = await LocalMetadataStore.open(dir, 7);
    await store.createTopic(topic('a', 2));
    await store.updatePartitionState('a', 1, { replicas: [7], leader: 7, leaderEpoch: 3, isr: [7] }, 0);
    await store.close();
    const again = await LocalMetadataStore.open(dir, 7);
    assert.equal(again.clusterId, store.clusterId);
    const a = await again.getTopic('a');
    assert.deepEqual(a?.partitionStates, [
      { replicas: [7], leader: 7, leaderEpoch: 0, isr: [7], version: 0 },
      { replicas: [7], leader: 7, leaderEpoch: 3, isr: [7], version: 1 },
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a second create of a name fails even while the first is still being written', async () => {
    const dir = tempDir();
    const store = await LocalMetadataStore.open(dir, 7);
    const first = store.createTopic(topic('a'));
    await assert.rejects(store.createTopic(topic('a')), TopicAlreadyStoredError);
    await first;
    assert.equal((await store.listTopics()).length, 1);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('changes are compare-and-swap on the version', async () => {
    const dir = tempDir();
    const store = await LocalMetadataStore.open(dir, 7);
    await store.createTopic(topic('a'));
    const updated = await store.updateTopic({ ...topic('a'), configs: { 'retention.ms': '1' } }, 0);
    assert.equal(updated.version, 1);
    await assert.rejects(store.updateTopic({ ...topic('a'), configs: {} }, 0), MetadataConflictError);
    await assert.rejects(
      store.updatePartitionState('a', 0, { replicas: [7], leader: 7, leaderEpoch: 1, isr: [7] }, 5),
      MetadataConflictError,
    );
    assert.deepEqual((await store.getTopic('a'))?.configs, { 'retention.ms': '1' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('reads a version 1 file: every partition led by this node at epoch 0', async () => {
    const dir = tempDir();
    const v1 = {
      version: 1,
      topics: [{ name: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: 2, replicationFactor: 1, configs: {} }],
    };
    fs.writeFileSync(path.join(dir, 'samsa-metadata.json'), JSON.stringify(v1));
    const store = await LocalMetadataStore.open(dir, 3);
    const old = await store.getTopic('old');
    assert.deepEqual(old?.partitionStates, [singleReplicaState(3), singleReplicaState(3)]);
    assert.equal(old?.version, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('topic creation races', () => {
  test('two concurrent creates of one topic answer one 201 and one 40002', async () => {
    const node = await openNode();
    try {
      const cluster = (await request(node.app).get('/v3/clusters')).body.data[0].cluster_id as string;
      const create = () =>
        request(node.app)
          .post(`/v3/clusters/${cluster}/topics`)
          .set('Content-Type', 'application/json')
          .send({ topic_name: 'race', partitions_count: 3 });
      const answers = await Promise.all([create(), create()]);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 400]);
      const refused = answers.find((a) => a.status === 400);
      assert.equal(refused?.body.error_code, 40002);
      assert.equal(node.broker.describeTopic('race').partitions.length, 3);
    } finally {
      await node.close();
    }
  });

  test('concurrent produces to a new topic all land in the one topic they create', async () => {
    const node = await openNode();
    try {
      const produce = (i: number) =>
        request(node.app)
          .post('/topics/fresh')
          .set('Content-Type', 'application/vnd.kafka.json.v2+json')
          .send({ records: [{ value: i }] });
      const answers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(produce));
      for (const a of answers) assert.equal(a.status, 200, JSON.stringify(a.body));
      const total = node.broker
        .describeTopic('fresh')
        .partitions.reduce((n, p) => n + node.broker.listOffsets('fresh', p.partition).logEndOffset, 0);
      assert.equal(total, 8);
    } finally {
      await node.close();
    }
  });
});
