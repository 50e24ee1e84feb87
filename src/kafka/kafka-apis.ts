/**
 * The APIs the Kafka listener serves, by api key, with the versions each implements: the table
 * the listener routes by and ApiVersions advertises (ApiVersions itself, 0–3, is the listener's).
 * Consumer groups (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, DescribeGroups, ListGroups, DeleteGroups) are the group coordinator's, shared with
 * the REST consumers. Message formats v0/v1 (Produce v0–2, Fetch v0–3) are converted to and from
 * the stored v2 batches; OffsetForLeaderEpoch answers from the leader-epoch cache. Idempotent
 * producers work (InitProducerId); transactions do not (none of their APIs is here). The admin
 * APIs (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs, DeleteRecords, DescribeCluster) share the REST v3 routes' broker code.
 * SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) authenticates connections when authentication is on.
 * ACLs are managed with DescribeAcls, CreateAcls and DeleteAcls, and every handler checks them per
 * resource (src/security/access-table.ts).
 */

import { createAclsApi, deleteAclsApi, describeAclsApi } from './handlers/acls.js';
import { alterConfigsApi, describeConfigsApi, incrementalAlterConfigsApi } from './handlers/configs.js';
import { deleteRecordsApi } from './handlers/delete-records.js';
import { describeClusterApi } from './handlers/describe-cluster.js';
import { fetchApi } from './handlers/fetch.js';
import { findCoordinatorApi } from './handlers/find-coordinator.js';
import { deleteGroupsApi, describeGroupsApi, listGroupsApi } from './handlers/group-admin.js';
import { heartbeatApi, joinGroupApi, leaveGroupApi, syncGroupApi } from './handlers/group-membership.js';
import { initProducerIdApi } from './handlers/init-producer-id.js';
import type { KafkaApi, KafkaApiContext } from './handlers/kafka-api.js';
import { listOffsetsApi } from './handlers/list-offsets.js';
import { metadataApi } from './handlers/metadata.js';
import { offsetForLeaderEpochApi } from './handlers/offset-for-leader-epoch.js';
import { offsetCommitApi, offsetFetchApi } from './handlers/offsets.js';
import { produceApi } from './handlers/produce.js';
import { saslAuthenticateApi, saslHandshakeApi } from './handlers/sasl.js';
import { createPartitionsApi, createTopicsApi, deleteTopicsApi } from './handlers/topics.js';
import type { KafkaHandler, KafkaListenerOptions } from './kafka-listener.js';

export type { KafkaApiContext } from './handlers/kafka-api.js';
export { parseListener } from './handlers/kafka-api.js';

export function kafkaApis(ctx: KafkaApiContext): Pick<KafkaListenerOptions, 'handlers' | 'versions'> {
  const apis: KafkaApi[] = [
    produceApi(ctx),
    fetchApi(ctx),
    listOffsetsApi(ctx),
    metadataApi(ctx),
    createTopicsApi(ctx),
    deleteTopicsApi(ctx),
    findCoordinatorApi(ctx),
    offsetCommitApi(ctx),
    offsetFetchApi(ctx),
    offsetForLeaderEpochApi(ctx),
    joinGroupApi(ctx),
    heartbeatApi(ctx),
    leaveGroupApi(ctx),
    syncGroupApi(ctx),
    describeGroupsApi(ctx),
    listGroupsApi(ctx),
    deleteGroupsApi(ctx),
    initProducerIdApi(ctx),
    // Topic, config and record administration (the admin clients' APIs).
    createPartitionsApi(ctx),
    describeConfigsApi(ctx),
    alterConfigsApi(ctx),
    incrementalAlterConfigsApi(ctx),
    deleteRecordsApi(ctx),
    describeClusterApi(ctx),
    saslHandshakeApi(ctx),
    saslAuthenticateApi(ctx),
    describeAclsApi(ctx),
    createAclsApi(ctx),
    deleteAclsApi(ctx),
  ];
  return {
    handlers: new Map<number, KafkaHandler>(apis.map((api) => [api.apiKey, api.handle])),
    versions: new Map(apis.map((api) => [api.apiKey, api.versions])),
  };
}
