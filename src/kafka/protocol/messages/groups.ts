// The classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and group administration
// (DescribeGroups, ListGroups, DeleteGroups).
import { array, f, message } from '../schema.js';

export const JoinGroupRequest = message('JoinGroupRequest', 11, '0-9', '6+', [
  f('GroupId', 'string', '0+'),
  f('SessionTimeoutMs', 'int32', '0+'),
  f('RebalanceTimeoutMs', 'int32', '1+', { default: -1 }),
  f('MemberId', 'string', '0+'),
  f('GroupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
  f('ProtocolType', 'string', '0+'),
  f('Protocols', array([f('Name', 'string', '0+'), f('Metadata', 'bytes', '0+')]), '0+'),
  f('Reason', 'string', '8+', { nullable: '8+', default: null }),
]);

export const JoinGroupResponse = message('JoinGroupResponse', 11, '0-9', '6+', [
  f('ThrottleTimeMs', 'int32', '2+'),
  f('ErrorCode', 'int16', '0+'),
  f('GenerationId', 'int32', '0+', { default: -1 }),
  f('ProtocolType', 'string', '7+', { nullable: '7+', default: null }),
  f('ProtocolName', 'string', '0+', { nullable: '7+' }),
  f('Leader', 'string', '0+'),
  f('SkipAssignment', 'bool', '9+', { default: false }),
  f('MemberId', 'string', '0+'),
  f(
    'Members',
    array([
      f('MemberId', 'string', '0+'),
      f('GroupInstanceId', 'string', '5+', { nullable: '5+', default: null }),
      f('Metadata', 'bytes', '0+'),
    ]),
    '0+',
  ),
]);

export const SyncGroupRequest = message('SyncGroupRequest', 14, '0-5', '4+', [
  f('GroupId', 'string', '0+'),
  f('GenerationId', 'int32', '0+'),
  f('MemberId', 'string', '0+'),
  f('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
  f('ProtocolType', 'string', '5+', { nullable: '5+', default: null }),
  f('ProtocolName', 'string', '5+', { nullable: '5+', default: null }),
  f('Assignments', array([f('MemberId', 'string', '0+'), f('Assignment', 'bytes', '0+')]), '0+'),
]);

export const SyncGroupResponse = message('SyncGroupResponse', 14, '0-5', '4+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '0+'),
  f('ProtocolType', 'string', '5+', { nullable: '5+', default: null }),
  f('ProtocolName', 'string', '5+', { nullable: '5+', default: null }),
  f('Assignment', 'bytes', '0+'),
]);

export const HeartbeatRequest = message('HeartbeatRequest', 12, '0-4', '4+', [
  f('GroupId', 'string', '0+'),
  f('GenerationId', 'int32', '0+'),
  f('MemberId', 'string', '0+'),
  f('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
]);

export const HeartbeatResponse = message('HeartbeatResponse', 12, '0-4', '4+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '0+'),
]);

export const LeaveGroupRequest = message('LeaveGroupRequest', 13, '0-5', '4+', [
  f('GroupId', 'string', '0+'),
  f('MemberId', 'string', '0-2'),
  // KIP-345: v3+ leaves several (static) members at once.
  f(
    'Members',
    array([
      f('MemberId', 'string', '3+'),
      f('GroupInstanceId', 'string', '3+', { nullable: '3+', default: null }),
      f('Reason', 'string', '5+', { nullable: '5+', default: null }),
    ]),
    '3+',
  ),
]);

export const LeaveGroupResponse = message('LeaveGroupResponse', 13, '0-5', '4+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '0+'),
  f(
    'Members',
    array([
      f('MemberId', 'string', '3+'),
      f('GroupInstanceId', 'string', '3+', { nullable: '3+' }),
      f('ErrorCode', 'int16', '3+'),
    ]),
    '3+',
  ),
]);

export const DescribeGroupsRequest = message('DescribeGroupsRequest', 15, '0-5', '5+', [
  f('Groups', array('string'), '0+'),
  f('IncludeAuthorizedOperations', 'bool', '3+'),
]);

export const DescribeGroupsResponse = message('DescribeGroupsResponse', 15, '0-5', '5+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f(
    'Groups',
    array([
      f('ErrorCode', 'int16', '0+'),
      f('GroupId', 'string', '0+'),
      f('GroupState', 'string', '0+'),
      f('ProtocolType', 'string', '0+'),
      f('ProtocolData', 'string', '0+'),
      f(
        'Members',
        array([
          f('MemberId', 'string', '0+'),
          f('GroupInstanceId', 'string', '4+', { nullable: '4+', default: null }),
          f('ClientId', 'string', '0+'),
          f('ClientHost', 'string', '0+'),
          f('MemberMetadata', 'bytes', '0+'),
          f('MemberAssignment', 'bytes', '0+'),
        ]),
        '0+',
      ),
      f('AuthorizedOperations', 'int32', '3+', { default: -2147483648 }),
    ]),
    '0+',
  ),
]);

export const ListGroupsRequest = message('ListGroupsRequest', 16, '0-5', '3+', [
  f('StatesFilter', array('string'), '4+'),
  f('TypesFilter', array('string'), '5+'),
]);

export const ListGroupsResponse = message('ListGroupsResponse', 16, '0-5', '3+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '0+'),
  f(
    'Groups',
    array([
      f('GroupId', 'string', '0+'),
      f('ProtocolType', 'string', '0+'),
      f('GroupState', 'string', '4+'),
      f('GroupType', 'string', '5+'),
    ]),
    '0+',
  ),
]);

export const DeleteGroupsRequest = message('DeleteGroupsRequest', 42, '0-2', '2+', [
  f('GroupsNames', array('string'), '0+'),
]);

export const DeleteGroupsResponse = message('DeleteGroupsResponse', 42, '0-2', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('Results', array([f('GroupId', 'string', '0+'), f('ErrorCode', 'int16', '0+')]), '0+'),
]);
