/**
 * The classic group protocol through the group coordinator: JoinGroup (api key 11), SyncGroup (14),
 * Heartbeat (12) and LeaveGroup (13). Kafka clients are members of the same groups as the REST
 * consumer instances and SSE group streams; the coordinator decides, these handlers translate.
 * Every version from 0 is served: librdkafka before 2.11 enables its group consumer only when
 * JoinGroup/SyncGroup/Heartbeat/LeaveGroup v0 are advertised.
 */
import type { JoinProtocol } from '../../groups/group-coordinator.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, demand, errorCodeOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v6+ is flexible; v4+ asks a first join for a member id (KIP-394), v5+ carries the instance id (KIP-345). */
const JOIN_VERSIONS = { min: 0, max: 9 };
const SYNC_VERSIONS = { min: 0, max: 5 };
const HEARTBEAT_VERSIONS = { min: 0, max: 4 };
/** v3+ leaves several members at once, by member id or instance id. */
const LEAVE_VERSIONS = { min: 0, max: 5 };
const MAX_LEAVING_MEMBERS = 1000;
const KIP_394_VERSION = 4;
const NULLABLE_PROTOCOL_NAME_VERSION = 7;

export function joinGroupApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.JoinGroup,
    versions: JOIN_VERSIONS,
    handle: async (header, request, context) => {
      const version = header.requestApiVersion;
      const memberId = request.memberId as string;
      const failed = (errorCode: number, id = memberId): Message => ({
        throttleTimeMs: 0,
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: version >= NULLABLE_PROTOCOL_NAME_VERSION ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: id,
        members: [],
      });
      try {
        demand(authorizedFor(ctx, context), context, 'READ', 'GROUP', request.groupId as string);
        const answer = await coordinator.handleJoinGroup(
          request.groupId as string,
          {
            memberId,
            groupInstanceId: request.groupInstanceId as string | null,
            clientId: header.clientId ?? '',
            clientHost: `/${clientHost(context.remoteAddress)}`,
            sessionTimeoutMs: request.sessionTimeoutMs as number,
            rebalanceTimeoutMs: request.rebalanceTimeoutMs as number,
            protocolType: request.protocolType as string,
            protocols: request.protocols as JoinProtocol[],
            requireKnownMemberId: version >= KIP_394_VERSION,
          },
          context.signal,
        );
        if (answer.kind === 'member-id-required') return failed(KAFKA_ERRORS.MEMBER_ID_REQUIRED.code, answer.memberId);
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          generationId: answer.generation,
          protocolType: answer.protocolType,
          protocolName: answer.protocol ?? (version >= NULLABLE_PROTOCOL_NAME_VERSION ? null : ''),
          leader: answer.leaderId,
          skipAssignment: false,
          memberId: answer.memberId,
          members: answer.members,
        };
      } catch (err) {
        return failed(errorCodeOf(err, logger, 'JoinGroup'));
      }
    },
  };
}

export function syncGroupApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.SyncGroup,
    versions: SYNC_VERSIONS,
    handle: async (_header, request, context) => {
      try {
        demand(authorizedFor(ctx, context), context, 'READ', 'GROUP', request.groupId as string);
        const answer = await coordinator.handleSyncGroup(
          request.groupId as string,
          {
            memberId: request.memberId as string,
            groupInstanceId: request.groupInstanceId as string | null,
            generation: request.generationId as number,
            protocolType: request.protocolType as string | null,
            protocolName: request.protocolName as string | null,
            assignments: request.assignments as Array<{ memberId: string; assignment: Buffer }>,
          },
          context.signal,
        );
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          protocolType: answer.protocolType,
          protocolName: answer.protocol,
          assignment: answer.assignment,
        };
      } catch (err) {
        return {
          throttleTimeMs: 0,
          errorCode: errorCodeOf(err, logger, 'SyncGroup'),
          protocolType: null,
          protocolName: null,
          assignment: Buffer.alloc(0),
        };
      }
    },
  };
}

export function heartbeatApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.Heartbeat,
    versions: HEARTBEAT_VERSIONS,
    handle: async (_header, request, context) => {
      try {
        demand(authorizedFor(ctx, context), context, 'READ', 'GROUP', request.groupId as string);
        coordinator.handleHeartbeat(
          request.groupId as string,
          request.memberId as string,
          request.groupInstanceId as string | null,
          request.generationId as number,
        );
        return { throttleTimeMs: 0, errorCode: 0 };
      } catch (err) {
        return { throttleTimeMs: 0, errorCode: errorCodeOf(err, logger, 'Heartbeat') };
      }
    },
  };
}

export function leaveGroupApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.LeaveGroup,
    versions: LEAVE_VERSIONS,
    handle: async (header, request, context) => {
      // v0–2 name one member; v3+ a list (KIP-345), each by member id or instance id.
      const batch = header.requestApiVersion >= 3;
      const leaving = batch
        ? (request.members as Array<{ memberId: string; groupInstanceId: string | null }>)
        : [{ memberId: request.memberId as string, groupInstanceId: null }];
      if (leaving.length > MAX_LEAVING_MEMBERS)
        return { throttleTimeMs: 0, errorCode: KAFKA_ERRORS.INVALID_REQUEST.code, members: [] };
      try {
        demand(authorizedFor(ctx, context), context, 'READ', 'GROUP', request.groupId as string);
        const errors = coordinator.handleLeaveGroup(request.groupId as string, leaving);
        const members = leaving.map((m, i) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          errorCode: errors[i]?.code ?? 0,
        }));
        return { throttleTimeMs: 0, errorCode: batch ? 0 : (members[0]?.errorCode ?? 0), members };
      } catch (err) {
        return { throttleTimeMs: 0, errorCode: errorCodeOf(err, logger, 'LeaveGroup'), members: [] };
      }
    },
  };
}

/** An IPv4 client of a dual-stack socket shows as `::ffff:a.b.c.d`; Kafka shows the plain address. */
function clientHost(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
