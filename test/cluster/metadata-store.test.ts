import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import request from 'supertest';
import { Broker } from '../../src/broker/broker.js';
import { EtcdMetadataStore } from '../../src/cluster/etcd-metadata-store.js';
import {
  LocalMetadataStore,
  MetadataConflictError,
  type MetadataStore,
  singleReplicaState,
  TopicAlreadyStoredError,
  type TopicMetadata,
} from '../../src/cluster/metadata-store.js';
import { openNode } from '../http/node-fixture.js';
import { type EtcdServer, needsEtcd, startEtcd } from './etcd-fixture.js';

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

interface StoreUnderTest {
  open(): Promise<MetadataStore>;
  /** Drops what the test stored (a temp dir, an etcd prefix). */
  cleanup(): Promise<void>;
}

/** What every MetadataStore promises, whatever keeps it: the local file, or etcd. */
function storeContract(name: string, make: () => Promise<StoreUnderTest>, options: { skip: string | false }) {
  describe(`${name} metadata store`, options, () => {
    test('keeps topics and partition states across a reopen', async () => {
      const under = await make();
      const store = await under.open();
      await store.createTopic(topic('a', 2));
      await store.updatePartitionState('a', 1, { replicas: [7], leader: 7, leaderEpoch: 3, isr: [7] }, 0);
      await store.close();
      const again = await under.open();
      assert.equal(again.clusterId, store.clusterId);
      const a = await again.getTopic('a');
      assert.deepEqual(a?.partitionStates, [
        { replicas: [7], leader: 7, leaderEpoch: 0, isr: [7], version: 0 },
        { replicas: [7], leader: 7, leaderEpoch: 3, isr: [7], version: 1 },
      ]);
      assert.deepEqual(
        (await again.listTopics()).map((t) => t.name),
        ['a'],
      );
      await again.close();
      await under.cleanup();
    });

    test('a second create of a name fails even while the first is still being written', async () => {
      const under = await make();
      const store = await under.open();
      const first = store.createTopic(topic('a'));
      const second = store.createTopic(topic('a'));
      const outcomes = await Promise.allSettled([first, second]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof TopicAlreadyStoredError);
      assert.equal((await store.listTopics()).length, 1);
      await store.close();
      await under.cleanup();
    });

    test('changes are compare-and-swap on the version', async () => {
      const under = await make();
      const store = await under.open();
      await store.createTopic(topic('a'));
      const updated = await store.updateTopic({ ...topic('a'), configs: { 'retention.ms': '1' } }, 0);
      assert.equal(updated.version, 1);
      await assert.rejects(store.updateTopic({ ...topic('a'), configs: {} }, 0), MetadataConflictError);
      await assert.rejects(
        store.updatePartitionState('a', 0, { replicas: [7], leader: 7, leaderEpoch: 1, isr: [7] }, 5),
        MetadataConflictError,
      );
      assert.deepEqual((await store.getTopic('a'))?.configs, { 'retention.ms': '1' });
      await store.close();
      await under.cleanup();
    });

    test('growing a topic stores its new partitions; a delete removes the topic and its partitions', async () => {
      const under = await make();
      const store = await under.open();
      await store.createTopic(topic('a', 1));
      const grown = await store.updateTopic(topic('a', 3), 0);
      assert.equal(grown.partitionStates.length, 3);
      assert.equal(await store.deleteTopic('a'), true);
      assert.equal(await store.deleteTopic('a'), false);
      assert.equal(await store.getTopic('a'), undefined);
      await store.createTopic(topic('a', 1));
      assert.equal((await store.getTopic('a'))?.partitionStates.length, 1, 'no partition state outlives its topic');
      await store.close();
      await under.cleanup();
    });

    test('producer id blocks never overlap, asked at once or after a reopen', async () => {
      const under = await make();
      const store = await under.open();
      const firsts = await Promise.all([1, 2, 3, 4].map(() => store.allocateProducerIds(1000)));
      await store.close();
      const again = await under.open();
      firsts.push(await again.allocateProducerIds(10));
      await again.close();
      const sorted = [...firsts].sort((x, y) => x - y);
      assert.equal(sorted[0], 0);
      for (let i = 1; i < sorted.length; i++) assert.ok((sorted[i] as number) >= (sorted[i - 1] as number) + 1000);
      await under.cleanup();
    });

    test('keeps run-time broker configs per entity', async () => {
      const under = await make();
      const store = await under.open();
      await store.putBrokerConfigs('<default>', { 'log.retention.ms': '1000' });
      await store.putBrokerConfigs('7', { 'message.max.bytes': '2048' });
      await store.putBrokerConfigs('7', {});
      await store.close();
      const again = await under.open();
      assert.deepEqual(await again.getBrokerConfigs('<default>'), { 'log.retention.ms': '1000' });
      assert.deepEqual(await again.getBrokerConfigs('7'), {});
      await again.close();
      await under.cleanup();
    });
  });
}

describe('local metadata store file', () => {
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

storeContract(
  'local',
  async () => {
    const dir = tempDir();
    return {
      open: () => LocalMetadataStore.open(dir, 7),
      cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
  { skip: false },
);

const etcd = needsEtcd();
let server: EtcdServer | undefined;
let clusters = 0;
/** Each test its own cluster name: its own key prefix in the one etcd. */
async function etcdUnderTest(): Promise<StoreUnderTest> {
  server ??= await startEtcd();
  const endpoints = [server.endpoint];
  const clusterName = `test-${process.pid}-${clusters++}`;
  return { open: () => EtcdMetadataStore.open({ endpoints, clusterName }), cleanup: async () => {} };
}
after(async () => server?.stop());
storeContract('etcd', etcdUnderTest, etcd);

describe('etcd metadata store between nodes', etcd, () => {
  test("every node of a cluster sees one cluster id and each other's topics", async () => {
    const under = await etcdUnderTest();
    const [a, b] = await Promise.all([under.open(), under.open()]);
    assert.equal(a.clusterId, b.clusterId);
    assert.match(a.clusterId, /^[A-Za-z0-9_-]{22}$/);
    await a.createTopic(topic('shared', 2));
    assert.deepEqual((await b.getTopic('shared'))?.partitions, 2);
    await Promise.all([a.close(), b.close()]);
  });

  test('two nodes racing for producer id blocks get disjoint ones', async () => {
    const under = await etcdUnderTest();
    const [a, b] = await Promise.all([under.open(), under.open()]);
    const firsts = await Promise.all([a, b, a, b, a, b].map((store) => store.allocateProducerIds(1000)));
    assert.deepEqual(
      [...firsts].sort((x, y) => x - y),
      [0, 1000, 2000, 3000, 4000, 5000],
    );
    await Promise.all([a.close(), b.close()]);
  });

  test('two nodes racing one create or one leader change: exactly one wins', async () => {
    const under = await etcdUnderTest();
    const [a, b] = await Promise.all([under.open(), under.open()]);
    const creates = await Promise.allSettled([a.createTopic(topic('t')), b.createTopic(topic('t'))]);
    assert.equal(creates.filter((o) => o.status === 'fulfilled').length, 1);
    const elect = (store: MetadataStore, leader: number) =>
      store.updatePartitionState('t', 0, { replicas: [7, 8], leader, leaderEpoch: 1, isr: [leader] }, 0);
    const elections = await Promise.allSettled([elect(a, 7), elect(b, 8)]);
    assert.equal(elections.filter((o) => o.status === 'fulfilled').length, 1);
    const loser = elections.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.ok(loser.reason instanceof MetadataConflictError);
    const state = (await a.getTopic('t'))?.partitionStates[0];
    assert.equal(state?.version, 1);
    assert.deepEqual(state?.isr, [state?.leader]);
    await Promise.all([a.close(), b.close()]);
  });

  test('a node listing topics while another creates them sees each topic whole or not at all', async () => {
    const under = await etcdUnderTest();
    const [writer, reader] = await Promise.all([under.open(), under.open()]);
    const creating = (async () => {
      for (let i = 0; i < 150; i++) await writer.createTopic(topic(`t${i}`, 3));
    })();
    let done = false;
    void creating.finally(() => {
      done = true;
    });
    let reads = 0;
    while (!done) {
      // Both reads, each time: a topic record read without its partition states threw here.
      const [listed, one] = await Promise.all([reader.listTopics(), reader.getTopic(`t${reads % 150}`)]);
      for (const t of [...listed, ...(one ? [one] : [])]) assert.equal(t.partitionStates.length, 3, t.name);
      reads++;
    }
    await creating;
    assert.ok(reads > 10, `${reads} reads while the topics were created`);
    await Promise.all([writer.close(), reader.close()]);
  });

  test('a broker runs on the etcd store: topics it creates are there for the next broker', async () => {
    const under = await etcdUnderTest();
    const dir = tempDir();
    const broker = await Broker.open({ dataDir: dir, nodeId: 7, brokerConfigs: {}, metadataStore: await under.open() });
    await broker.start();
    await broker.createTopic('orders', { partitions: 2 });
    await broker.produce('orders', [{ key: null, value: Buffer.from('x'), partition: 1 }], {
      acks: -1,
      timeoutMs: 1000,
    });
    await broker.shutdown();
    const again = await Broker.open({ dataDir: dir, nodeId: 7, brokerConfigs: {}, metadataStore: await under.open() });
    await again.start();
    assert.deepEqual(again.listTopics(), ['orders']);
    assert.equal(again.listOffsets('orders', 1).logEndOffset, 1);
    await again.shutdown();
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
