/**
 * Authorization over the Kafka listener, with kafkajs as `User:ANONYMOUS` against a real
 * `samsa serve --authorizer acl`: CreateAcls, DescribeAcls and DeleteAcls round-trip; a produce
 * the ACLs deny fails with TOPIC_AUTHORIZATION_FAILED and goes through once an ACL allows it;
 * Metadata of all topics leaves out what may not be described; a denied group fails with
 * GROUP_AUTHORIZATION_FAILED. `allow.everyone.if.no.acl.found=true` lets ANONYMOUS manage ACLs
 * while the cluster has none of its own, the bootstrap a deployment without credentials uses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import kafkajs, { type Admin, Kafka, logLevel } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { RawConnection } from '../kafka/raw-connection.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';

// CommonJS enums Node's named-export detection misses: read them off the default export.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

let dataDir: string;
let server: ServerProcess;
let kafka: Kafka;
let admin: Admin;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-acl-'));
  server = await startServer(dataDir, [
    '--kafka-port',
    String(await freePort()),
    '--authorizer',
    'acl',
    '--allow.everyone.if.no.acl.found',
    'true',
  ]);
  kafka = new Kafka({
    clientId: 'acl-test',
    brokers: [`127.0.0.1:${server.kafkaPort}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  admin = kafka.admin();
  await admin.connect();
});
after(async () => {
  await admin?.disconnect();
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0, server.stderr());
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const topicAcl = (topic: string, principal: string, operation: kafkajs.AclOperationTypes) => ({
  resourceType: AclResourceTypes.TOPIC,
  resourceName: topic,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

type KafkaError = Error & { type?: string; cause?: { type?: string } };

/** kafkajs's error type, on the error or on the protocol error it wraps (a failed Metadata). */
function kafkaErrorType(err: KafkaError): string | undefined {
  if (err.type) return err.type;
  if (err.cause?.type) return err.cause.type;
  return /Not authorized to access topics/.test(err.message) ? 'TOPIC_AUTHORIZATION_FAILED' : undefined;
}

async function produce(topic: string): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'hello' }] });
  } finally {
    await producer.disconnect();
  }
}

test('a produce the ACLs deny fails with TOPIC_AUTHORIZATION_FAILED; a CreateAcls lets it through', async () => {
  await admin.createTopics({ topics: [{ topic: 'guarded' }, { topic: 'open' }] });
  // An ACL for someone else: the topic now has ACLs, and none lets ANONYMOUS in.
  await admin.createAcls({ acl: [topicAcl('guarded', 'User:alice', AclOperationTypes.WRITE)] });
  await assert.rejects(produce('guarded'), (err: KafkaError) => {
    assert.equal(kafkaErrorType(err), 'TOPIC_AUTHORIZATION_FAILED', String(err));
    return true;
  });
  await produce('open'); // no ACL on it: allow.everyone.if.no.acl.found
  await admin.createAcls({ acl: [topicAcl('guarded', 'User:ANONYMOUS', AclOperationTypes.WRITE)] });
  await produce('guarded');
  const offsets = await admin.fetchTopicOffsets('guarded');
  assert.equal(offsets[0]?.high, '1');
});

test('DescribeAcls filters and DeleteAcls answers what it deleted', async () => {
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.TOPIC,
    resourceName: 'guarded',
    resourcePatternType: ResourcePatternTypes.LITERAL,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  assert.deepEqual(
    described.resources.flatMap((r) => r.acls.map((a) => `${r.resourceName}:${a.principal}:${a.operation}`)).sort(),
    [`guarded:User:ANONYMOUS:${AclOperationTypes.WRITE}`, `guarded:User:alice:${AclOperationTypes.WRITE}`],
  );
  const deleted = await admin.deleteAcls({
    filters: [
      {
        resourceType: AclResourceTypes.TOPIC,
        resourceName: 'guarded',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:alice',
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    ],
  });
  assert.equal(deleted.filterResponses[0]?.matchingAcls.length, 1);
  assert.equal(deleted.filterResponses[0]?.matchingAcls[0]?.principal, 'User:alice');
});

test('Metadata of all topics leaves out what ANONYMOUS may not describe; a denied group is GROUP_AUTHORIZATION_FAILED', async () => {
  await admin.createTopics({ topics: [{ topic: 'hidden' }] });
  await admin.createAcls({ acl: [topicAcl('hidden', 'User:alice', AclOperationTypes.READ)] });
  const listed = await admin.listTopics();
  assert.ok(listed.includes('open') && listed.includes('guarded'), listed.join());
  assert.ok(!listed.includes('hidden'), listed.join());

  // Everyone may DESCRIBE the group (FindCoordinator, DescribeGroups), no one DELETE it.
  await admin.createAcls({
    acl: [
      {
        resourceType: AclResourceTypes.GROUP,
        resourceName: 'locked',
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal: 'User:*',
        host: '*',
        operation: AclOperationTypes.DESCRIBE,
        permissionType: AclPermissionTypes.ALLOW,
      },
    ],
  });
  await assert.rejects(
    admin.deleteGroups(['locked']),
    (err: KafkaError & { groups?: Array<{ errorCode: number }> }) => {
      assert.equal(err.groups?.[0]?.errorCode, 30, `GROUP_AUTHORIZATION_FAILED, got ${String(err)}`);
      return true;
    },
  );
});

/** A kafkajs admin call the broker answers with `code` for the resource: a rejection naming it, or the code in the answer. */
async function answersCode(call: Promise<unknown>, code: number, type: string): Promise<void> {
  try {
    const result = JSON.stringify(await call);
    assert.match(result, new RegExp(`"errorCode":${code}\\b`), `expected error ${code} in ${result}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    const e = err as KafkaError & { errorCode?: number; partitions?: Array<{ error?: KafkaError }> };
    assert.ok(
      e.type === type ||
        kafkaErrorType(e) === type ||
        e.errorCode === code ||
        e.partitions?.some((p) => p.error?.type === type) === true ||
        String(e).includes(type),
      `expected ${type}, got ${String(err)}`,
    );
  }
}

/** DeleteRecords of partition 0 up to the high watermark, over a raw connection: the partition's error code. */
async function deleteRecordsCode(topic: string): Promise<number> {
  const conn = new RawConnection(server.kafkaPort as number);
  try {
    const answer = await conn.call(API_KEYS.DeleteRecords, 2, {
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: -1n }] }],
      timeoutMs: 1000,
    });
    const [topicAnswer] = answer.topics as Message[];
    const [partition] = (topicAnswer?.partitions ?? []) as Message[];
    return partition?.errorCode as number;
  } finally {
    conn.close();
  }
}

test('the admin APIs check their topic: configs, partitions and records', async () => {
  // 'hidden' has an ACL for alice only (previous test). ANONYMOUS may DESCRIBE it (so clients find its
  // leader), which grants neither its configs nor ALTER nor DELETE.
  await admin.createAcls({ acl: [topicAcl('hidden', 'User:ANONYMOUS', AclOperationTypes.DESCRIBE)] });
  assert.equal((await admin.fetchTopicMetadata({ topics: ['hidden'] })).topics[0]?.partitions.length, 1);
  const describe = () =>
    admin.describeConfigs({
      resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: 'hidden' }],
      includeSynonyms: false,
    });
  await answersCode(describe(), 29, 'TOPIC_AUTHORIZATION_FAILED');
  await answersCode(
    admin.createPartitions({ topicPartitions: [{ topic: 'hidden', count: 3 }] }),
    29,
    'TOPIC_AUTHORIZATION_FAILED',
  );
  assert.equal(await deleteRecordsCode('hidden'), 29, 'DeleteRecords needs TOPIC DELETE');
  await answersCode(
    admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: 'hidden',
          configEntries: [{ name: 'retention.ms', value: '1000' }],
        },
      ],
    }),
    29,
    'TOPIC_AUTHORIZATION_FAILED',
  );

  await admin.createAcls({
    acl: [
      topicAcl('hidden', 'User:ANONYMOUS', AclOperationTypes.DESCRIBE_CONFIGS),
      topicAcl('hidden', 'User:ANONYMOUS', AclOperationTypes.ALTER),
    ],
  });
  const described = await describe();
  assert.equal(described.resources[0]?.errorCode, 0);
  assert.ok(described.resources[0]?.configEntries.some((c) => c.configName === 'retention.ms'));
  await admin.createPartitions({ topicPartitions: [{ topic: 'hidden', count: 3 }] });
  const offsets = await admin.fetchTopicOffsets('open');
  assert.equal(offsets.length, 1);
  // ALTER does not give ALTER_CONFIGS or DELETE.
  assert.equal(await deleteRecordsCode('hidden'), 29, 'DeleteRecords needs TOPIC DELETE');
});
