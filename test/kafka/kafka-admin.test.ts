/**
 * The Kafka listener's admin APIs against a real `samsa serve`: kafkajs's admin client, librdkafka's
 * (python3-confluent-kafka) and kcat, plus raw requests for the versions those clients do not send
 * (CreateTopics v7, DeleteTopics v6 by id, DescribeConfigs v4 with documentation,
 * IncrementalAlterConfigs, DescribeCluster). Every change is checked over HTTP as well: the REST v3
 * config and partition routes and the v2 offsets see what the Kafka admin call did.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { freePort, startServer } from '../process/server-process.js';
import { jsonLines, type KafkaServer, KCAT, need, RawConnection, run, startKafkaServer } from './kafka-test-clients.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONFLUENT_ADMIN = path.join(HERE, 'confluent-admin-client.py');

/** Debian's python3-confluent-kafka lives in the system interpreter. */
function pythonWithConfluentKafka(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import confluent_kafka'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}
const CONFLUENT_PYTHON = pythonWithConfluentKafka();

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** Kafka's ConfigResource types and ConfigSource codes. */
const TOPIC = 2;
const BROKER = 4;
const DYNAMIC_TOPIC_CONFIG = 1;
const DEFAULT_CONFIG = 5;
/** kafkajs's enum of the same codes (its CommonJS export is not visible to an ES import). */
const RESOURCE = { TOPIC: TOPIC as ConfigResourceTypes, BROKER: BROKER as ConfigResourceTypes };

describe('Kafka admin APIs against samsa serve', () => {
  let running: KafkaServer;
  let baseUrl: string;
  let v3: string;
  let kafka: Kafka;
  let port: number;

  before(async () => {
    running = await startKafkaServer('kafka-admin');
    baseUrl = running.server.baseUrl;
    v3 = `${baseUrl}/v3/clusters/${running.clusterId}`;
    port = running.server.kafkaPort as number;
    kafka = new Kafka({
      brokers: [running.broker],
      clientId: 'samsa-admin-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
  });

  after(() => running.stop());

  async function topicConfig(topic: string, name: string): Promise<{ value: string; source: string }> {
    const res = await fetch(`${v3}/topics/${topic}/configs/${name}`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const { value, source } = JSON.parse(text) as { value: string; source: string };
    return { value, source };
  }

  async function partitionCount(topic: string): Promise<number> {
    const res = await fetch(`${v3}/topics/${topic}/partitions`);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    return (JSON.parse(text) as { data: unknown[] }).data.length;
  }

  async function withRaw<T>(body: (conn: RawConnection) => Promise<T>): Promise<T> {
    const conn = new RawConnection(port);
    try {
      return await body(conn);
    } finally {
      conn.close();
    }
  }

  it('kafkajs creates topics with configs, validate-only creates nothing, and deletes them', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(
        await admin.createTopics({
          topics: [{ topic: 'adm-planned', numPartitions: 2 }],
          validateOnly: true,
          waitForLeaders: false,
        }),
        true,
      );
      assert.equal((await fetch(`${v3}/topics/adm-planned`)).status, 404, 'validate-only created nothing');
      await assert.rejects(
        admin.createTopics({
          topics: [{ topic: 'adm-planned', configEntries: [{ name: 'retention.ms', value: 'soon' }] }],
          validateOnly: true,
          waitForLeaders: false,
        }),
        (err: Error & { errors?: Array<{ type?: string }> }) => err.errors?.[0]?.type === 'INVALID_CONFIG',
      );
      assert.equal(
        await admin.createTopics({
          topics: [
            { topic: 'adm-configs', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '7200000' }] },
          ],
          waitForLeaders: true,
        }),
        true,
      );
      assert.deepEqual(await topicConfig('adm-configs', 'retention.ms'), {
        value: '7200000',
        source: 'DYNAMIC_TOPIC_CONFIG',
      });
      assert.equal(await partitionCount('adm-configs'), 3);
      await admin.deleteTopics({ topics: ['adm-configs'] });
      assert.equal((await fetch(`${v3}/topics/adm-configs`)).status, 404);
    } finally {
      await admin.disconnect();
    }
  });

  it('kafkajs grows a topic (kcat and REST see the new partitions); shrinking is INVALID_PARTITIONS', async (t) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'adm-grow', numPartitions: 2 }], waitForLeaders: true });
      await admin.createPartitions({ topicPartitions: [{ topic: 'adm-grow', count: 4 }], validateOnly: true });
      assert.equal(await partitionCount('adm-grow'), 2, 'validate-only changed nothing');
      await admin.createPartitions({ topicPartitions: [{ topic: 'adm-grow', count: 4 }] });
      assert.equal(await partitionCount('adm-grow'), 4);
      await assert.rejects(
        admin.createPartitions({ topicPartitions: [{ topic: 'adm-grow', count: 3 }] }),
        (err: Error & { type?: string }) => err.type === 'INVALID_PARTITIONS',
      );
      await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'adm-none', count: 3 }] }));
      const { topics } = await admin.fetchTopicMetadata({ topics: ['adm-grow'] });
      assert.deepEqual(topics[0]?.partitions.map((p) => p.partitionId).sort(), [0, 1, 2, 3]);
      if (!need(t, KCAT, 'kcat')) return;
      const listed = JSON.parse(run(KCAT, ['-b', running.broker, '-L', '-J', '-t', 'adm-grow']).toString()) as {
        topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>;
      };
      assert.deepEqual(listed.topics[0]?.partitions.map((p) => [p.partition, p.leader]).sort(), [
        [0, 0],
        [1, 0],
        [2, 0],
        [3, 0],
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('kafkajs describes topic and broker configs with sources and synonyms, as REST v3 does', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: 'adm-describe', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }],
      });
      const described = await admin.describeConfigs({
        resources: [
          { type: RESOURCE.TOPIC, name: 'adm-describe' },
          { type: RESOURCE.BROKER, name: '0', configNames: ['log.retention.ms', 'num.partitions'] },
        ],
        includeSynonyms: true,
      });
      const [topic, brokerResource] = described.resources;
      assert.equal(topic?.errorCode, 0);
      const segment = topic?.configEntries.find((c) => c.configName === 'segment.bytes');
      assert.equal(segment?.configValue, '1048576');
      assert.equal(segment?.configSource, DYNAMIC_TOPIC_CONFIG);
      assert.deepEqual(
        segment?.configSynonyms.map((s) => [s.configName, s.configSource]),
        [
          ['segment.bytes', DYNAMIC_TOPIC_CONFIG],
          ['log.segment.bytes', DEFAULT_CONFIG],
        ],
      );
      const retention = topic?.configEntries.find((c) => c.configName === 'retention.ms');
      assert.equal(retention?.configSource, DEFAULT_CONFIG);
      assert.equal(retention?.configValue, (await topicConfig('adm-describe', 'retention.ms')).value);
      // Every config the REST route lists, the Kafka answer lists, with the same value.
      const rest = (await (await fetch(`${v3}/topics/adm-describe/configs`)).json()) as {
        data: Array<{ name: string; value: string }>;
      };
      assert.deepEqual(
        topic?.configEntries.map((c) => [c.configName, c.configValue]).sort(),
        rest.data.map((c) => [c.name, c.value]).sort(),
      );
      assert.equal(brokerResource?.errorCode, 0);
      assert.deepEqual(brokerResource?.configEntries.map((c) => c.configName).sort(), [
        'log.retention.ms',
        'num.partitions',
      ]);
      // kafkajs fails the whole call on one resource's error: UNKNOWN_TOPIC_OR_PARTITION.
      await assert.rejects(
        admin.describeConfigs({ resources: [{ type: RESOURCE.TOPIC, name: 'adm-no-such' }], includeSynonyms: false }),
        (err: Error & { type?: string }) => err.type === 'UNKNOWN_TOPIC_OR_PARTITION',
      );
    } finally {
      await admin.disconnect();
    }
  });

  it('kafkajs alterConfigs replaces a topic’s overrides and sets broker configs; REST v3 reports both', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: 'adm-alter', configEntries: [{ name: 'retention.ms', value: '60000' }] }],
      });
      await admin.alterConfigs({
        validateOnly: true,
        resources: [
          {
            type: RESOURCE.TOPIC,
            name: 'adm-alter',
            configEntries: [{ name: 'max.message.bytes', value: '2048' }],
          },
        ],
      });
      assert.equal((await topicConfig('adm-alter', 'max.message.bytes')).source, 'DEFAULT_CONFIG');
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: RESOURCE.TOPIC,
            name: 'adm-alter',
            configEntries: [{ name: 'max.message.bytes', value: '2048' }],
          },
        ],
      });
      assert.deepEqual(await topicConfig('adm-alter', 'max.message.bytes'), {
        value: '2048',
        source: 'DYNAMIC_TOPIC_CONFIG',
      });
      // Not named in the set: back to its default (Kafka's AlterConfigs replaces the whole set).
      assert.equal((await topicConfig('adm-alter', 'retention.ms')).source, 'DEFAULT_CONFIG');
      await assert.rejects(
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: RESOURCE.TOPIC,
              name: 'adm-alter',
              configEntries: [{ name: 'no.such.config', value: '1' }],
            },
          ],
        }),
        /config/i,
      );
      await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: RESOURCE.BROKER,
            name: '0',
            configEntries: [{ name: 'log.retention.ms', value: '86400000' }],
          },
        ],
      });
      const brokerConfig = (await (await fetch(`${v3}/brokers/0/configs/log.retention.ms`)).json()) as {
        value: string;
        source: string;
      };
      assert.deepEqual([brokerConfig.value, brokerConfig.source], ['86400000', 'DYNAMIC_BROKER_CONFIG']);
      // The broker-wide default reaches topics without an override of their own.
      assert.deepEqual(await topicConfig('adm-alter', 'retention.ms'), {
        value: '86400000',
        source: 'DYNAMIC_BROKER_CONFIG',
      });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: RESOURCE.BROKER, name: '0', configEntries: [] }],
      });
      assert.equal((await topicConfig('adm-alter', 'retention.ms')).source, 'DEFAULT_CONFIG');
    } finally {
      await admin.disconnect();
    }
  });

  it('kafkajs deletes records: the low watermark moves, over HTTP too; -1 means the high watermark', async () => {
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'adm-records', numPartitions: 2 }], waitForLeaders: true });
      const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
      await producer.send({ topic: 'adm-records', messages: values.map((value) => ({ partition: 0, value })) });
      await producer.send({ topic: 'adm-records', messages: values.map((value) => ({ partition: 1, value })) });
      // kafkajs's admin finds the leaders in the metadata it holds: let it learn the topic first.
      await admin.fetchTopicMetadata({ topics: ['adm-records'] });
      await admin.deleteTopicRecords({ topic: 'adm-records', partitions: [{ partition: 0, offset: '4' }] });
      await admin.deleteTopicRecords({ topic: 'adm-records', partitions: [{ partition: 1, offset: '-1' }] });
      const offsets = await admin.fetchTopicOffsets('adm-records');
      assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [
        [0, '4', '10'],
        [1, '10', '10'],
      ]);
      const http = (await (await fetch(`${baseUrl}/topics/adm-records/partitions/0/offsets`)).json()) as {
        beginning_offset: number;
        end_offset: number;
      };
      assert.deepEqual(http, { beginning_offset: 4, end_offset: 10 });
      // The records below the new start are gone to readers; the rest are unchanged.
      const consumer = kafka.consumer({ groupId: 'adm-records-reader' });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: 'adm-records', fromBeginning: true });
        const seen: Array<[number, string]> = [];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`read only ${JSON.stringify(seen)}`)), 20_000);
          void consumer.run({
            eachMessage: async ({ partition, message }) => {
              seen.push([partition, String(message.value)]);
              if (seen.length >= 6) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
        assert.deepEqual(
          seen.sort(),
          values.slice(4).map((v) => [0, v]),
        );
      } finally {
        await consumer.disconnect();
      }
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('DeleteRecords past the high watermark is OFFSET_OUT_OF_RANGE; unknown partitions are named', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'adm-range' }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const answer = await withRaw((conn) =>
      conn.call(API_KEYS.DeleteRecords, 2, {
        topics: [
          {
            name: 'adm-range',
            partitions: [
              { partitionIndex: 0, offset: 5n },
              { partitionIndex: 7, offset: 0n },
            ],
          },
          { name: 'adm-nowhere', partitions: [{ partitionIndex: 0, offset: 0n }] },
        ],
        timeoutMs: 1000,
      }),
    );
    assert.deepEqual(
      (answer.topics as Message[]).map((t) => [
        t.name,
        (t.partitions as Message[]).map((p) => [p.partitionIndex, p.lowWatermark, p.errorCode]),
      ]),
      [
        [
          'adm-range',
          [
            [0, -1n, 1],
            [7, -1n, 3],
          ],
        ],
        ['adm-nowhere', [[0, -1n, 3]]],
      ],
    );
  });

  it('CreateTopics v7 answers the topic id, counts and configs; DeleteTopics v6 deletes by id', async () => {
    await withRaw(async (conn) => {
      const created = await conn.call(API_KEYS.CreateTopics, 7, {
        topics: [
          {
            name: 'adm-v7',
            numPartitions: 2,
            replicationFactor: -1,
            assignments: [],
            configs: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      const topic = (created.topics as Message[])[0] as Message;
      assert.equal(topic.errorCode, 0, String(topic.errorMessage));
      assert.notEqual(topic.topicId, ZERO_UUID);
      assert.equal(topic.numPartitions, 2);
      assert.equal(topic.replicationFactor, 1);
      const cleanup = (topic.configs as Message[]).find((c) => c.name === 'cleanup.policy');
      assert.deepEqual(cleanup, {
        name: 'cleanup.policy',
        value: 'compact',
        readOnly: false,
        configSource: DYNAMIC_TOPIC_CONFIG,
        isSensitive: false,
      });
      const planned = await conn.call(API_KEYS.CreateTopics, 7, {
        topics: [{ name: 'adm-v7-planned', numPartitions: 3, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 5000,
        validateOnly: true,
      });
      const plan = (planned.topics as Message[])[0] as Message;
      assert.deepEqual([plan.errorCode, plan.topicId, plan.numPartitions], [0, ZERO_UUID, 3]);
      assert.equal((await fetch(`${v3}/topics/adm-v7-planned`)).status, 404);
      const deleted = await conn.call(API_KEYS.DeleteTopics, 6, {
        topics: [
          { name: null, topicId: topic.topicId },
          { name: null, topicId: '0123abcd-0000-0000-0000-000000000001' },
        ],
        timeoutMs: 5000,
      });
      assert.deepEqual(
        (deleted.responses as Message[]).map((r) => [r.name, r.errorCode]),
        [
          ['adm-v7', 0],
          [null, 100], // UNKNOWN_TOPIC_ID
        ],
      );
      assert.equal((await fetch(`${v3}/topics/adm-v7`)).status, 404);
    });
  });

  it('IncrementalAlterConfigs sets, deletes, appends to and subtracts from list configs', async () => {
    const http = await fetch(`${v3}/topics`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic_name: 'adm-incremental', partitions_count: 1 }),
    });
    assert.equal(http.status, 201, await http.text());
    await withRaw(async (conn) => {
      const alter = (configs: Message[], validateOnly = false) =>
        conn.call(API_KEYS.IncrementalAlterConfigs, 1, {
          resources: [{ resourceType: TOPIC, resourceName: 'adm-incremental', configs }],
          validateOnly,
        });
      const codes = (answer: Message) => (answer.responses as Message[]).map((r) => r.errorCode);
      assert.deepEqual(codes(await alter([{ name: 'cleanup.policy', configOperation: 2, value: 'compact' }])), [0]);
      assert.equal((await topicConfig('adm-incremental', 'cleanup.policy')).value, 'delete,compact');
      assert.deepEqual(codes(await alter([{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }])), [0]);
      assert.equal((await topicConfig('adm-incremental', 'cleanup.policy')).value, 'compact');
      assert.deepEqual(
        codes(
          await alter([
            { name: 'retention.ms', configOperation: 0, value: '1000' },
            { name: 'cleanup.policy', configOperation: 1, value: null },
          ]),
        ),
        [0],
      );
      assert.deepEqual(await topicConfig('adm-incremental', 'retention.ms'), {
        value: '1000',
        source: 'DYNAMIC_TOPIC_CONFIG',
      });
      assert.equal((await topicConfig('adm-incremental', 'cleanup.policy')).source, 'DEFAULT_CONFIG');
      // APPEND on a config that is not a list, and a bad value: INVALID_CONFIG, nothing changed.
      assert.deepEqual(codes(await alter([{ name: 'retention.ms', configOperation: 2, value: '5' }])), [40]);
      assert.deepEqual(
        codes(
          await alter([
            { name: 'segment.ms', configOperation: 0, value: '5000' },
            { name: 'retention.ms', configOperation: 0, value: 'never' },
          ]),
        ),
        [40],
      );
      assert.equal((await topicConfig('adm-incremental', 'segment.ms')).source, 'DEFAULT_CONFIG');
      // An operation Kafka does not have, a config named twice: INVALID_REQUEST.
      assert.deepEqual(codes(await alter([{ name: 'retention.ms', configOperation: 9, value: '5' }])), [42]);
      assert.deepEqual(
        codes(
          await alter([
            { name: 'retention.ms', configOperation: 0, value: '5' },
            { name: 'retention.ms', configOperation: 1, value: null },
          ]),
        ),
        [42],
      );
      // One resource named twice in a request: both refused, nothing changed.
      const twice = await conn.call(API_KEYS.IncrementalAlterConfigs, 1, {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 'adm-incremental',
            configs: [{ name: 'segment.ms', configOperation: 0, value: '5000' }],
          },
          { resourceType: TOPIC, resourceName: 'adm-incremental', configs: [] },
        ],
        validateOnly: false,
      });
      assert.deepEqual(codes(twice), [42, 42]);
      assert.equal((await topicConfig('adm-incremental', 'segment.ms')).source, 'DEFAULT_CONFIG');
      // Cluster-wide broker configs: the empty resource name is Kafka's default broker entity.
      const cluster = await conn.call(API_KEYS.IncrementalAlterConfigs, 0, {
        resources: [
          {
            resourceType: BROKER,
            resourceName: '',
            configs: [{ name: 'log.segment.bytes', configOperation: 0, value: '2097152' }],
          },
          { resourceType: BROKER, resourceName: '42', configs: [] },
        ],
        validateOnly: false,
      });
      assert.deepEqual(codes(cluster), [0, 42]);
      const listed = (await (await fetch(`${v3}/broker-configs/log.segment.bytes`)).json()) as { value: string };
      assert.equal(listed.value, '2097152');
      assert.deepEqual(
        codes(
          await conn.call(API_KEYS.IncrementalAlterConfigs, 0, {
            resources: [
              {
                resourceType: BROKER,
                resourceName: '',
                configs: [{ name: 'log.segment.bytes', configOperation: 1, value: null }],
              },
            ],
            validateOnly: false,
          }),
        ),
        [0],
      );
      assert.equal((await fetch(`${v3}/broker-configs/log.segment.bytes`)).status, 404);
    });
  });

  it('DescribeConfigs v4 gives types and documentation when asked, v0 the default flag', async () => {
    await withRaw(async (conn) => {
      await conn.call(API_KEYS.CreateTopics, 4, {
        topics: [{ name: 'adm-docs', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      const v4 = await conn.call(API_KEYS.DescribeConfigs, 4, {
        resources: [{ resourceType: TOPIC, resourceName: 'adm-docs', configurationKeys: ['cleanup.policy'] }],
        includeSynonyms: false,
        includeDocumentation: true,
      });
      const entry = (((v4.results as Message[])[0] as Message).configs as Message[])[0] as Message;
      assert.equal(entry.name, 'cleanup.policy');
      assert.equal(entry.configType, 7, 'LIST');
      assert.match(String(entry.documentation), /compact/);
      assert.deepEqual(entry.synonyms, []);
      // A broker-wide topic default carries its topic config's type and text; Samsa's own settings do not.
      const brokerDocs = await conn.call(API_KEYS.DescribeConfigs, 3, {
        resources: [
          { resourceType: BROKER, resourceName: '0', configurationKeys: ['log.cleanup.policy', 'num.partitions'] },
        ],
        includeSynonyms: true,
        includeDocumentation: true,
      });
      assert.deepEqual(
        (((brokerDocs.results as Message[])[0] as Message).configs as Message[]).map((c) => [
          c.name,
          c.configType,
          typeof c.documentation,
          (c.synonyms as Message[]).map((s) => s.source),
        ]),
        [
          ['log.cleanup.policy', 7, 'string', [DEFAULT_CONFIG]],
          ['num.partitions', 0, 'object', [DEFAULT_CONFIG]],
        ],
      );
      const v0 = await conn.call(API_KEYS.DescribeConfigs, 0, {
        resources: [
          { resourceType: TOPIC, resourceName: 'adm-docs', configurationKeys: null },
          { resourceType: 8, resourceName: 'root', configurationKeys: null },
        ],
      });
      const [topic, logger] = v0.results as [Message, Message];
      assert.ok((topic.configs as Message[]).every((c) => c.isDefault === true));
      assert.equal(logger.errorCode, 42, 'BROKER_LOGGER resources are INVALID_REQUEST');
    });
  });

  it('DescribeCluster names the cluster, the controller and this broker at the address used', async () => {
    const answer = await withRaw((conn) =>
      conn.call(API_KEYS.DescribeCluster, 0, { includeClusterAuthorizedOperations: true }),
    );
    assert.deepEqual(answer, {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      clusterId: running.clusterId,
      controllerId: 0,
      brokers: [{ brokerId: 0, host: '127.0.0.1', port, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it('librdkafka’s AdminClient creates, describes, alters and grows a topic', (t) => {
    if (!need(t, CONFLUENT_PYTHON, 'python3-confluent-kafka')) return;
    const [out] = jsonLines<Record<string, unknown>>(
      run(CONFLUENT_PYTHON, [CONFLUENT_ADMIN, 'admin', running.broker, 'adm-librdkafka']).toString(),
    );
    assert.deepEqual(out, {
      create_again: 'TOPIC_ALREADY_EXISTS',
      retention_before: { value: '3600000', source: DYNAMIC_TOPIC_CONFIG },
      segment_bytes_before: { value: '1073741824', source: DEFAULT_CONFIG },
      retention_after: { value: '604800000', source: DEFAULT_CONFIG },
      cleanup_after: { value: 'compact', source: DYNAMIC_TOPIC_CONFIG },
      shrink: 'INVALID_PARTITIONS',
      partitions: 5,
    });
  });
});

describe('DeleteRecords survives a crash', () => {
  it('the moved log start offset is back after kill -9 and a restart', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-delete-records-'));
    const kafkaPort = await freePort();
    try {
      let server = await startServer(dataDir, ['--kafka-port', String(kafkaPort)]);
      const kafka = new Kafka({
        brokers: [`127.0.0.1:${kafkaPort}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 2 },
      });
      const admin = kafka.admin();
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await admin.connect();
      await producer.connect();
      await admin.createTopics({ topics: [{ topic: 'crash-records' }], waitForLeaders: true });
      await producer.send({
        topic: 'crash-records',
        acks: -1,
        messages: Array.from({ length: 8 }, (_, i) => ({ value: `r${i}` })),
      });
      await admin.fetchTopicMetadata({ topics: ['crash-records'] });
      await admin.deleteTopicRecords({ topic: 'crash-records', partitions: [{ partition: 0, offset: '5' }] });
      await producer.disconnect();
      await admin.disconnect();
      server.child.kill('SIGKILL');
      await server.exited;
      server = await startServer(dataDir, ['--kafka-port', String(kafkaPort)]);
      try {
        const offsets = (await (await fetch(`${server.baseUrl}/topics/crash-records/partitions/0/offsets`)).json()) as {
          beginning_offset: number;
          end_offset: number;
        };
        assert.deepEqual(offsets, { beginning_offset: 5, end_offset: 8 });
      } finally {
        server.child.kill('SIGTERM');
        assert.equal(await server.exited, 0, server.stderr());
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
