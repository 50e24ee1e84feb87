/**
 * The one table of what each request needs: every operation of openapi.yaml (by operationId) and
 * every Kafka API the listener advertises (by api key) with the resource it touches, where the
 * resource's name comes from, and the ACL operation it takes. Kafka's own mapping (KafkaApis,
 * ControllerApis) is followed where Kafka has the request; the REST-only routes take the Kafka
 * request they stand for. A test walks openapi.yaml and the listener's api keys against it.
 *
 * The HTTP edge enforces the `checks` of an operation generically, once the spec router has
 * validated the path and query; `listing`, `owned` and `bodyTopics` are enforced by the handler,
 * which alone knows the items. The Kafka handlers check per resource inside their loops, as
 * Kafka's do, and this table is their reference.
 */
import type { AclOperation, ResourceType } from './acl-binding.js';

/** Where a resource's name comes from: a path parameter, a query parameter (checked only when given), a body field, or the cluster. */
export type NameSource = { param: string } | { query: string } | { body: string } | 'cluster';

export interface AccessCheck {
  resourceType: ResourceType;
  operation: AclOperation;
  name: NameSource;
  /** Also granted by the same operation on the CLUSTER (CreateTopics: TOPIC CREATE or CLUSTER CREATE). */
  orCluster?: true;
}

export interface HttpAccess {
  /** Every check must pass before the handler runs; none: a page or probe anyone may load. */
  checks: readonly AccessCheck[];
  /** The answer lists resources of this type: it shows only those the principal may do `operation` to. */
  listing?: { resourceType: ResourceType; operation: AclOperation };
  /** A consumer instance or stream that belongs to the principal who created it: others get 403. */
  owned?: true;
  /** Topics named in the body (subscription, assignment, offsets) need this operation each. */
  bodyTopics?: AclOperation;
  /** A produce to a missing topic creates it (auto-create): then TOPIC CREATE or CLUSTER CREATE too. */
  autoCreate?: true;
}

const cluster = (operation: AclOperation): AccessCheck => ({ resourceType: 'CLUSTER', operation, name: 'cluster' });
const topic = (operation: AclOperation, param = 'topic'): AccessCheck => ({
  resourceType: 'TOPIC',
  operation,
  name: { param },
});
const v3Topic = (operation: AclOperation) => topic(operation, 'topic_name');
const group = (operation: AclOperation, param: string): AccessCheck => ({
  resourceType: 'GROUP',
  operation,
  name: { param },
});
const PUBLIC: HttpAccess = { checks: [] };
const only = (...checks: AccessCheck[]): HttpAccess => ({ checks });
/** A v2 consumer instance call: READ on its group (Kafka's OffsetCommit/JoinGroup), and it must be the caller's. */
const instance = (extra: Partial<HttpAccess> = {}): HttpAccess => ({
  checks: [group('READ', 'group_name')],
  owned: true,
  ...extra,
});
const v3Group = (operation: AclOperation) => only(group(operation, 'consumer_group_id'));

/**
 * Every openapi.yaml operation. Decisions beyond Kafka's mapping: the pages, the spec, `/healthz`
 * and `/readyz` are public (a probe or a browser has no credentials to give); `/metrics` is
 * CLUSTER DESCRIBE (it names every topic and group); brokers and clusters are CLUSTER DESCRIBE
 * (Kafka's DescribeCluster).
 */
export const HTTP_ACCESS = {
  getHome: PUBLIC,
  redirectToTailPage: PUBLIC,
  getTailPage: PUBLIC,
  getOpenApiDocument: PUBLIC,
  getApiReference: PUBLIC,
  getApiReferenceStyles: PUBLIC,
  getApiReferenceScript: PUBLIC,
  getHealth: PUBLIC,
  getReadiness: PUBLIC,
  getMetrics: only(cluster('DESCRIBE')),
  // Any authenticated principal may mint a token for itself: it acts only as that principal, and the
  // stream it opens is checked as that principal then.
  createStreamToken: PUBLIC,
  // ---- v2 topics, partitions, produce ----
  listTopics: { checks: [], listing: { resourceType: 'TOPIC', operation: 'DESCRIBE' } },
  getTopic: only(topic('DESCRIBE')),
  listPartitions: only(topic('DESCRIBE')),
  getPartition: only(topic('DESCRIBE')),
  getPartitionOffsets: only(topic('DESCRIBE')),
  produceToTopic: { checks: [topic('WRITE')], autoCreate: true },
  produceToPartition: { checks: [topic('WRITE')], autoCreate: true },
  listBrokers: only(cluster('DESCRIBE')),
  // ---- SSE: READ on the topic, and READ on the group a stream joins ----
  streamTopic: { checks: [topic('READ'), { resourceType: 'GROUP', operation: 'READ', name: { query: 'group' } }] },
  // ---- v2 consumer instances ----
  createConsumerInstance: only(group('READ', 'group_name')),
  deleteConsumerInstance: instance(),
  subscribeConsumer: instance({ bodyTopics: 'READ' }),
  getConsumerSubscription: instance(),
  unsubscribeConsumer: instance(),
  assignConsumerPartitions: instance({ bodyTopics: 'READ' }),
  getConsumerAssignments: instance(),
  commitConsumerOffsets: instance({ bodyTopics: 'READ' }),
  getConsumerCommittedOffsets: instance(),
  seekConsumer: instance({ bodyTopics: 'READ' }),
  seekConsumerToBeginning: instance({ bodyTopics: 'READ' }),
  seekConsumerToEnd: instance({ bodyTopics: 'READ' }),
  readConsumerRecords: instance(),
  // ---- v3 clusters, ACLs, broker configs, brokers ----
  listKafkaClusters: only(cluster('DESCRIBE')),
  getKafkaCluster: only(cluster('DESCRIBE')),
  getKafkaAcls: only(cluster('DESCRIBE')),
  createKafkaAcls: only(cluster('ALTER')),
  deleteKafkaAcls: only(cluster('ALTER')),
  batchCreateKafkaAcls: only(cluster('ALTER')),
  listKafkaClusterConfigs: only(cluster('DESCRIBE_CONFIGS')),
  getKafkaClusterConfig: only(cluster('DESCRIBE_CONFIGS')),
  updateKafkaClusterConfigs: only(cluster('ALTER_CONFIGS')),
  updateKafkaClusterConfig: only(cluster('ALTER_CONFIGS')),
  deleteKafkaClusterConfig: only(cluster('ALTER_CONFIGS')),
  listKafkaBrokers: only(cluster('DESCRIBE')),
  getKafkaBroker: only(cluster('DESCRIBE')),
  listKafkaAllBrokerConfigs: only(cluster('DESCRIBE_CONFIGS')),
  listKafkaBrokerConfigs: only(cluster('DESCRIBE_CONFIGS')),
  getKafkaBrokerConfig: only(cluster('DESCRIBE_CONFIGS')),
  updateKafkaBrokerConfig: only(cluster('ALTER_CONFIGS')),
  deleteKafkaBrokerConfig: only(cluster('ALTER_CONFIGS')),
  updateKafkaBrokerConfigBatch: only(cluster('ALTER_CONFIGS')),
  searchKafkaReplicasByBroker: only(cluster('DESCRIBE')),
  // ---- v3 topics, configs, partitions, reassignments, replicas ----
  listKafkaTopics: { checks: [], listing: { resourceType: 'TOPIC', operation: 'DESCRIBE' } },
  createKafkaTopic: only({ resourceType: 'TOPIC', operation: 'CREATE', name: { body: 'topic_name' }, orCluster: true }),
  getKafkaTopic: only(v3Topic('DESCRIBE')),
  updatePartitionCountKafkaTopic: only(v3Topic('ALTER')),
  deleteKafkaTopic: only(v3Topic('DELETE')),
  listKafkaAllTopicConfigs: { checks: [], listing: { resourceType: 'TOPIC', operation: 'DESCRIBE_CONFIGS' } },
  listKafkaTopicConfigs: only(v3Topic('DESCRIBE_CONFIGS')),
  getKafkaTopicConfig: only(v3Topic('DESCRIBE_CONFIGS')),
  updateKafkaTopicConfig: only(v3Topic('ALTER_CONFIGS')),
  deleteKafkaTopicConfig: only(v3Topic('ALTER_CONFIGS')),
  updateKafkaTopicConfigBatch: only(v3Topic('ALTER_CONFIGS')),
  listKafkaPartitions: only(v3Topic('DESCRIBE')),
  getKafkaPartition: only(v3Topic('DESCRIBE')),
  getKafkaPartitionOffsets: only(v3Topic('DESCRIBE')),
  // Kafka's ListPartitionReassignments is CLUSTER DESCRIBE, AlterPartitionReassignments CLUSTER ALTER.
  listKafkaAllReassignments: only(cluster('DESCRIBE')),
  searchKafkaReassignmentsByTopic: only(cluster('DESCRIBE')),
  getKafkaReassignment: only(cluster('DESCRIBE')),
  updateKafkaReassignment: only(cluster('ALTER')),
  cancelKafkaReassignment: only(cluster('ALTER')),
  listKafkaReplicas: only(v3Topic('DESCRIBE')),
  getKafkaReplica: only(v3Topic('DESCRIBE')),
  produceRecordsV3: only(v3Topic('WRITE')),
  produceRecordsBatchV3: only(v3Topic('WRITE')),
  // ---- v3 consumer groups (Kafka's DescribeGroups, DeleteGroups, OffsetCommit) ----
  listKafkaConsumerGroups: { checks: [], listing: { resourceType: 'GROUP', operation: 'DESCRIBE' } },
  getKafkaConsumerGroup: v3Group('DESCRIBE'),
  deleteKafkaConsumerGroup: v3Group('DELETE'),
  listKafkaConsumers: v3Group('DESCRIBE'),
  getKafkaConsumer: v3Group('DESCRIBE'),
  listKafkaConsumerAssignments: v3Group('DESCRIBE'),
  getKafkaConsumerAssignment: v3Group('DESCRIBE'),
  listKafkaConsumerLags: v3Group('DESCRIBE'),
  getKafkaConsumerLag: v3Group('DESCRIBE'),
  getKafkaConsumerGroupLagSummary: v3Group('DESCRIBE'),
  resetKafkaConsumerGroupOffsets: { checks: [group('READ', 'consumer_group_id')], bodyTopics: 'READ' },
} as const satisfies Record<string, HttpAccess>;

/** One Kafka API's needs, as its handler checks them (KafkaApis' authorize calls). */
export interface KafkaAccess {
  name: string;
  /** What is checked, in Kafka's words; the handler answers the matching *_AUTHORIZATION_FAILED per resource. */
  checks: string;
}

/** Every Kafka API key the listener may advertise, including those other work adds (admin, SASL). */
export const KAFKA_ACCESS: Readonly<Record<number, KafkaAccess>> = {
  0: { name: 'Produce', checks: 'TOPIC WRITE per topic (TRANSACTIONAL_ID WRITE for a transactional id: not served)' },
  1: { name: 'Fetch', checks: 'TOPIC READ per topic; a follower fetch (replica id >= 0) CLUSTER CLUSTER_ACTION' },
  2: { name: 'ListOffsets', checks: 'TOPIC DESCRIBE per topic' },
  3: {
    name: 'Metadata',
    checks:
      'TOPIC DESCRIBE per topic (all topics: the unauthorized left out; named: TOPIC_AUTHORIZATION_FAILED); auto-create: CLUSTER CREATE or TOPIC CREATE',
  },
  8: { name: 'OffsetCommit', checks: 'GROUP READ, then TOPIC READ per topic' },
  9: {
    name: 'OffsetFetch',
    checks: 'GROUP DESCRIBE, then TOPIC DESCRIBE per topic (unauthorized left out of all-topics)',
  },
  10: { name: 'FindCoordinator', checks: 'GROUP DESCRIBE (key type 0); TRANSACTIONAL_ID DESCRIBE (type 1)' },
  11: { name: 'JoinGroup', checks: 'GROUP READ' },
  12: { name: 'Heartbeat', checks: 'GROUP READ' },
  13: { name: 'LeaveGroup', checks: 'GROUP READ' },
  14: { name: 'SyncGroup', checks: 'GROUP READ' },
  15: { name: 'DescribeGroups', checks: 'GROUP DESCRIBE per group' },
  16: { name: 'ListGroups', checks: 'CLUSTER DESCRIBE lists all; else only groups with GROUP DESCRIBE' },
  17: { name: 'SaslHandshake', checks: 'none (before authentication)' },
  18: { name: 'ApiVersions', checks: 'none (before authentication)' },
  19: { name: 'CreateTopics', checks: 'CLUSTER CREATE, else TOPIC CREATE per topic' },
  20: { name: 'DeleteTopics', checks: 'TOPIC DELETE per topic' },
  21: { name: 'DeleteRecords', checks: 'TOPIC DELETE per topic' },
  22: {
    name: 'InitProducerId',
    checks: 'no transactional id: CLUSTER IDEMPOTENT_WRITE, or WRITE on any topic (KIP-679)',
  },
  23: { name: 'OffsetForLeaderEpoch', checks: 'TOPIC DESCRIBE per topic (a follower: CLUSTER CLUSTER_ACTION)' },
  29: { name: 'DescribeAcls', checks: 'CLUSTER DESCRIBE' },
  30: { name: 'CreateAcls', checks: 'CLUSTER ALTER' },
  31: { name: 'DeleteAcls', checks: 'CLUSTER ALTER' },
  32: { name: 'DescribeConfigs', checks: 'TOPIC DESCRIBE_CONFIGS per topic; CLUSTER DESCRIBE_CONFIGS per broker' },
  33: { name: 'AlterConfigs', checks: 'TOPIC ALTER_CONFIGS per topic; CLUSTER ALTER_CONFIGS per broker' },
  36: { name: 'SaslAuthenticate', checks: 'none (it is the authentication)' },
  37: { name: 'CreatePartitions', checks: 'TOPIC ALTER per topic' },
  42: { name: 'DeleteGroups', checks: 'GROUP DELETE per group' },
  44: { name: 'IncrementalAlterConfigs', checks: 'TOPIC ALTER_CONFIGS per topic; CLUSTER ALTER_CONFIGS per broker' },
  60: { name: 'DescribeCluster', checks: 'CLUSTER DESCRIBE' },
};
