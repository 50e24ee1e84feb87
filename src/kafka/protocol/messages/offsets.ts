// Committed group offsets: OffsetCommit and OffsetFetch.
import { array, f, message } from '../schema.js';

export const OffsetCommitRequest = message('OffsetCommitRequest', 8, '0-8', '8+', [
  f('GroupId', 'string', '0+'),
  f('GenerationIdOrMemberEpoch', 'int32', '1+', { default: -1 }),
  f('MemberId', 'string', '1+'),
  f('GroupInstanceId', 'string', '7+', { nullable: '7+', default: null }),
  f('RetentionTimeMs', 'int64', '2-4', { default: -1 }),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f(
        'Partitions',
        array([
          f('PartitionIndex', 'int32', '0+'),
          f('CommittedOffset', 'int64', '0+'),
          f('CommittedLeaderEpoch', 'int32', '6+', { default: -1 }),
          f('CommitTimestamp', 'int64', '1', { default: -1 }),
          f('CommittedMetadata', 'string', '0+', { nullable: '0+' }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);

export const OffsetCommitResponse = message('OffsetCommitResponse', 8, '0-8', '8+', [
  f('ThrottleTimeMs', 'int32', '3+'),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f('Partitions', array([f('PartitionIndex', 'int32', '0+'), f('ErrorCode', 'int16', '0+')]), '0+'),
    ]),
    '0+',
  ),
]);

export const OffsetFetchRequest = message('OffsetFetchRequest', 9, '0-8', '6+', [
  f('GroupId', 'string', '0-7'),
  // Null (v2+) asks for every partition the group has committed.
  f('Topics', array([f('Name', 'string', '0-7'), f('PartitionIndexes', array('int32'), '0-7')]), '0-7', {
    nullable: '2-7',
  }),
  f(
    'Groups',
    array([
      f('GroupId', 'string', '8+'),
      f('Topics', array([f('Name', 'string', '8+'), f('PartitionIndexes', array('int32'), '8+')]), '8+', {
        nullable: '8+',
      }),
    ]),
    '8+',
  ),
  f('RequireStable', 'bool', '7+', { default: false }),
]);

const fetchedPartition = (versions: string) => [
  f('PartitionIndex', 'int32', versions),
  f('CommittedOffset', 'int64', versions),
  f('CommittedLeaderEpoch', 'int32', versions === '0-7' ? '5-7' : versions, { default: -1 }),
  f('Metadata', 'string', versions, { nullable: versions }),
  f('ErrorCode', 'int16', versions),
];

export const OffsetFetchResponse = message('OffsetFetchResponse', 9, '0-8', '6+', [
  f('ThrottleTimeMs', 'int32', '3+'),
  f('Topics', array([f('Name', 'string', '0-7'), f('Partitions', array(fetchedPartition('0-7')), '0-7')]), '0-7'),
  f('ErrorCode', 'int16', '2-7', { default: 0 }),
  f(
    'Groups',
    array([
      f('GroupId', 'string', '8+'),
      f('Topics', array([f('Name', 'string', '8+'), f('Partitions', array(fetchedPartition('8+')), '8+')]), '8+'),
      f('ErrorCode', 'int16', '8+', { default: 0 }),
    ]),
    '8+',
  ),
]);
