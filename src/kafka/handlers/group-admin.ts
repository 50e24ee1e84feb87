/**
 * Group administration through the group coordinator: DescribeGroups (api key 15), ListGroups (16)
 * and DeleteGroups (42), over the same groups the REST v3 consumer-group routes show, REST and
 * Kafka members alike. A group this node does not know is described as Kafka does: state `Dead`,
 * no error.
 */
import { UnknownGroupError } from '../../errors.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v5 is flexible; v3+ asks for authorized operations (none are computed: no ACLs on groups here). */
const DESCRIBE_VERSIONS = { min: 0, max: 5 };
/** v3+ is flexible, v4 filters by state (v5's type filter is not served). */
const LIST_VERSIONS = { min: 0, max: 4 };
/** v2 is flexible. */
const DELETE_VERSIONS = { min: 0, max: 2 };
const MAX_GROUPS_PER_REQUEST = 1000;
/** Kafka's "not asked" value of authorized operations. */
const NO_AUTHORIZED_OPERATIONS = -2147483648;
const INVALID_REQUEST = KAFKA_ERRORS.INVALID_REQUEST.code;

export function describeGroupsApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.DescribeGroups,
    versions: DESCRIBE_VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const groups = (request.groups as string[]).map((groupId, i): Message => {
        const dead: Message = {
          errorCode: 0,
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: NO_AUTHORIZED_OPERATIONS,
        };
        if (i >= MAX_GROUPS_PER_REQUEST) return { ...dead, errorCode: INVALID_REQUEST };
        if (!authorized('DESCRIBE', 'GROUP', groupId))
          return { ...dead, groupState: '', errorCode: KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED.code };
        try {
          const group = coordinator.describeGroup(groupId);
          return {
            ...dead,
            groupState: group.state,
            protocolType: group.protocolType,
            protocolData: group.protocol ?? '',
            members: group.members.map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              memberMetadata: m.metadata,
              memberAssignment: m.assignmentBytes,
            })),
          };
        } catch (err) {
          if (err instanceof UnknownGroupError) return dead;
          return { ...dead, groupState: '', errorCode: errorCodeOf(err, logger, 'DescribeGroups') };
        }
      });
      return { throttleTimeMs: 0, groups };
    },
  };
}

export function listGroupsApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.ListGroups,
    versions: LIST_VERSIONS,
    handle: async (_header, request, context) => {
      // Kafka compares states without regard to case.
      const states = new Set((request.statesFilter as string[]).map((s) => s.toLowerCase()));
      const groups: Message[] = [];
      // Kafka: CLUSTER DESCRIBE lists every group; else only those the principal may DESCRIBE.
      const authorized = authorizedFor(ctx, context);
      const all = authorized('DESCRIBE', 'CLUSTER', CLUSTER_RESOURCE_NAME);
      for (const groupId of coordinator.listGroups()) {
        if (!all && !authorized('DESCRIBE', 'GROUP', groupId)) continue;
        try {
          const group = coordinator.describeGroup(groupId);
          if (states.size > 0 && !states.has(group.state.toLowerCase())) continue;
          groups.push({ groupId, protocolType: group.protocolType, groupState: group.state, groupType: 'classic' });
        } catch (err) {
          // Deleted or moved away while listing: not listed.
          if (!(err instanceof UnknownGroupError)) errorCodeOf(err, logger, 'ListGroups');
        }
      }
      return { throttleTimeMs: 0, errorCode: 0, groups };
    },
  };
}

export function deleteGroupsApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.DeleteGroups,
    versions: DELETE_VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const results = (request.groupsNames as string[]).map((groupId, i) => {
        if (i >= MAX_GROUPS_PER_REQUEST) return { groupId, errorCode: INVALID_REQUEST };
        if (!authorized('DELETE', 'GROUP', groupId))
          return { groupId, errorCode: KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED.code };
        try {
          coordinator.deleteGroup(groupId);
          return { groupId, errorCode: 0 };
        } catch (err) {
          return { groupId, errorCode: errorCodeOf(err, logger, 'DeleteGroups') };
        }
      });
      return { throttleTimeMs: 0, results };
    },
  };
}
