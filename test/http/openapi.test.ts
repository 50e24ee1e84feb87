import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { findSpecPath, loadApi } from '../../src/http/openapi.js';

const specDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-spec-'));
after(() => fs.rmSync(specDir, { recursive: true, force: true }));
let specCount = 0;

/** A one-operation spec (JSON is YAML) whose only query parameter is `q`. */
function specWith(queryParameter: Record<string, unknown>): string {
  const file = path.join(specDir, `openapi-${specCount++}.yaml`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/x': {
          get: {
            operationId: 'getHealth',
            parameters: [{ name: 'q', in: 'query', ...queryParameter }],
            responses: { '200': { description: 'ok', content: { 'application/json': { schema: {} } } } },
          },
        },
      },
    }),
  );
  return file;
}

test('the spec shipped with the code compiles: one route per path, one validator per operation', () => {
  const api = loadApi(findSpecPath());
  const operationIds = [...api.paths.values()].flat().map((op) => op.operationId);
  assert.deepEqual(operationIds.sort(), [
    'assignConsumerPartitions',
    'batchCreateKafkaAcls',
    'cancelKafkaReassignment',
    'commitConsumerOffsets',
    'createConsumerInstance',
    'createKafkaAcls',
    'createKafkaTopic',
    'createStreamToken',
    'deleteConsumerInstance',
    'deleteKafkaAcls',
    'deleteKafkaBrokerConfig',
    'deleteKafkaClusterConfig',
    'deleteKafkaConsumerGroup',
    'deleteKafkaTopic',
    'deleteKafkaTopicConfig',
    'getApiReference',
    'getApiReferenceScript',
    'getApiReferenceStyles',
    'getConsumerAssignments',
    'getConsumerCommittedOffsets',
    'getConsumerSubscription',
    'getHealth',
    'getHome',
    'getKafkaAcls',
    'getKafkaBroker',
    'getKafkaBrokerConfig',
    'getKafkaCluster',
    'getKafkaClusterConfig',
    'getKafkaConsumer',
    'getKafkaConsumerAssignment',
    'getKafkaConsumerGroup',
    'getKafkaConsumerGroupLagSummary',
    'getKafkaConsumerLag',
    'getKafkaPartition',
    'getKafkaPartitionOffsets',
    'getKafkaReassignment',
    'getKafkaReplica',
    'getKafkaTopic',
    'getKafkaTopicConfig',
    'getMetrics',
    'getOpenApiDocument',
    'getPartition',
    'getPartitionOffsets',
    'getReadiness',
    'getTailPage',
    'getTopic',
    'listBrokers',
    'listKafkaAllBrokerConfigs',
    'listKafkaAllReassignments',
    'listKafkaAllTopicConfigs',
    'listKafkaBrokerConfigs',
    'listKafkaBrokers',
    'listKafkaClusterConfigs',
    'listKafkaClusters',
    'listKafkaConsumerAssignments',
    'listKafkaConsumerGroups',
    'listKafkaConsumerLags',
    'listKafkaConsumers',
    'listKafkaPartitions',
    'listKafkaReplicas',
    'listKafkaTopicConfigs',
    'listKafkaTopics',
    'listPartitions',
    'listTopics',
    'produceRecordsBatchV3',
    'produceRecordsV3',
    'produceToPartition',
    'produceToTopic',
    'readConsumerRecords',
    'redirectToTailPage',
    'resetKafkaConsumerGroupOffsets',
    'searchKafkaReassignmentsByTopic',
    'searchKafkaReplicasByBroker',
    'seekConsumer',
    'seekConsumerToBeginning',
    'seekConsumerToEnd',
    'streamTopic',
    'subscribeConsumer',
    'unsubscribeConsumer',
    'updateKafkaBrokerConfig',
    'updateKafkaBrokerConfigBatch',
    'updateKafkaClusterConfig',
    'updateKafkaClusterConfigs',
    'updateKafkaReassignment',
    'updateKafkaTopicConfig',
    'updateKafkaTopicConfigBatch',
    'updatePartitionCountKafkaTopic',
  ]);
});

test('an optional query parameter without a default is refused at start-up', () => {
  // Handlers are typed as seeing every query parameter; only defaults make that true.
  assert.throws(() => loadApi(specWith({ schema: { type: 'integer' } })), /needs a default/);
  assert.doesNotThrow(() => loadApi(specWith({ schema: { type: 'integer', default: 1 } })));
});

test('query parameters are coerced to their declared types and defaults filled in', () => {
  const api = loadApi(specWith({ schema: { type: 'integer', default: 5 } }));
  const op = api.paths.get('/x')?.[0];
  assert.ok(op);
  assert.deepEqual(op.validateQuery({}), { q: 5 });
  assert.deepEqual(op.validateQuery({ q: '12', other: 'ignored' }), { q: 12 });
  assert.throws(() => op.validateQuery({ q: 'twelve' }), /query parameter 'q' must be integer/);
});
