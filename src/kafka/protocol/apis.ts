/**
 * Every API the protocol layer can read and write, by api key, and the header versions Kafka pairs
 * with each request version: header v2/v1 in an API's flexible versions, v1/v0 before, except
 * ApiVersions, whose response header stays v0 always so that a client can read the answer before it
 * knows what the broker supports (KIP-511).
 */
import {
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
} from './messages/acls.js';
import { ApiVersionsRequest, ApiVersionsResponse } from './messages/api-versions.js';
import {
  AlterConfigsRequest,
  AlterConfigsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from './messages/configs.js';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './messages/delete-records.js';
import { DescribeClusterRequest, DescribeClusterResponse } from './messages/describe-cluster.js';
import { FetchRequest, FetchResponse } from './messages/fetch.js';
import { FindCoordinatorRequest, FindCoordinatorResponse } from './messages/find-coordinator.js';
import {
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from './messages/groups.js';
import { InitProducerIdRequest, InitProducerIdResponse } from './messages/init-producer-id.js';
import { ListOffsetsRequest, ListOffsetsResponse } from './messages/list-offsets.js';
import { MetadataRequest, MetadataResponse } from './messages/metadata.js';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './messages/offset-for-leader-epoch.js';
import {
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
} from './messages/offsets.js';
import { ProduceRequest, ProduceResponse } from './messages/produce.js';
import {
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from './messages/sasl.js';
import {
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
} from './messages/topics.js';
import { inRange, type MessageSchema } from './schema.js';

export interface Api {
  apiKey: number;
  name: string;
  request: MessageSchema;
  response: MessageSchema;
}

export const API_KEYS = {
  Produce: 0,
  Fetch: 1,
  ListOffsets: 2,
  Metadata: 3,
  OffsetCommit: 8,
  OffsetFetch: 9,
  FindCoordinator: 10,
  JoinGroup: 11,
  Heartbeat: 12,
  LeaveGroup: 13,
  SyncGroup: 14,
  DescribeGroups: 15,
  ListGroups: 16,
  SaslHandshake: 17,
  ApiVersions: 18,
  CreateTopics: 19,
  DeleteTopics: 20,
  DeleteRecords: 21,
  InitProducerId: 22,
  OffsetForLeaderEpoch: 23,
  DescribeAcls: 29,
  CreateAcls: 30,
  DeleteAcls: 31,
  DescribeConfigs: 32,
  AlterConfigs: 33,
  SaslAuthenticate: 36,
  CreatePartitions: 37,
  DeleteGroups: 42,
  IncrementalAlterConfigs: 44,
  DescribeCluster: 60,
} as const;

const pairs: Array<[string, MessageSchema, MessageSchema]> = [
  ['Produce', ProduceRequest, ProduceResponse],
  ['Fetch', FetchRequest, FetchResponse],
  ['ListOffsets', ListOffsetsRequest, ListOffsetsResponse],
  ['Metadata', MetadataRequest, MetadataResponse],
  ['OffsetCommit', OffsetCommitRequest, OffsetCommitResponse],
  ['OffsetFetch', OffsetFetchRequest, OffsetFetchResponse],
  ['FindCoordinator', FindCoordinatorRequest, FindCoordinatorResponse],
  ['JoinGroup', JoinGroupRequest, JoinGroupResponse],
  ['Heartbeat', HeartbeatRequest, HeartbeatResponse],
  ['LeaveGroup', LeaveGroupRequest, LeaveGroupResponse],
  ['SyncGroup', SyncGroupRequest, SyncGroupResponse],
  ['DescribeGroups', DescribeGroupsRequest, DescribeGroupsResponse],
  ['ListGroups', ListGroupsRequest, ListGroupsResponse],
  ['ApiVersions', ApiVersionsRequest, ApiVersionsResponse],
  ['CreateTopics', CreateTopicsRequest, CreateTopicsResponse],
  ['DeleteTopics', DeleteTopicsRequest, DeleteTopicsResponse],
  ['DeleteRecords', DeleteRecordsRequest, DeleteRecordsResponse],
  ['InitProducerId', InitProducerIdRequest, InitProducerIdResponse],
  ['OffsetForLeaderEpoch', OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse],
  ['DescribeConfigs', DescribeConfigsRequest, DescribeConfigsResponse],
  ['AlterConfigs', AlterConfigsRequest, AlterConfigsResponse],
  ['CreatePartitions', CreatePartitionsRequest, CreatePartitionsResponse],
  ['DeleteGroups', DeleteGroupsRequest, DeleteGroupsResponse],
  ['IncrementalAlterConfigs', IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse],
  ['DescribeCluster', DescribeClusterRequest, DescribeClusterResponse],
  ['SaslHandshake', SaslHandshakeRequest, SaslHandshakeResponse],
  ['SaslAuthenticate', SaslAuthenticateRequest, SaslAuthenticateResponse],
  ['DescribeAcls', DescribeAclsRequest, DescribeAclsResponse],
  ['CreateAcls', CreateAclsRequest, CreateAclsResponse],
  ['DeleteAcls', DeleteAclsRequest, DeleteAclsResponse],
];

export const APIS: ReadonlyMap<number, Api> = new Map(
  pairs.map(([name, request, response]) => [
    request.apiKey as number,
    { apiKey: request.apiKey as number, name, request, response },
  ]),
);

export function requestHeaderVersion(api: Api, version: number): number {
  return inRange(api.request.flexibleVersions, version) ? 2 : 1;
}

export function responseHeaderVersion(api: Api, version: number): number {
  if (api.apiKey === API_KEYS.ApiVersions) return 0;
  return inRange(api.response.flexibleVersions, version) ? 1 : 0;
}
