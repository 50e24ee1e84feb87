import { array, f, message, struct } from '../schema.js';

export const FetchRequest = message('FetchRequest', 1, '0-13', '12+', [
  f('ClusterId', 'string', '12+', { nullable: '12+', tag: 0, default: null }),
  f('ReplicaId', 'int32', '0+', { default: -1 }),
  f('MaxWaitMs', 'int32', '0+'),
  f('MinBytes', 'int32', '0+'),
  f('MaxBytes', 'int32', '3+', { default: 0x7fffffff }),
  f('IsolationLevel', 'int8', '4+', { default: 0 }),
  f('SessionId', 'int32', '7+', { default: 0 }),
  f('SessionEpoch', 'int32', '7+', { default: -1 }),
  f(
    'Topics',
    array([
      f('Topic', 'string', '0-12'),
      f('TopicId', 'uuid', '13+'),
      f(
        'Partitions',
        array([
          f('Partition', 'int32', '0+'),
          f('CurrentLeaderEpoch', 'int32', '9+', { default: -1 }),
          f('FetchOffset', 'int64', '0+'),
          f('LastFetchedEpoch', 'int32', '12+', { default: -1 }),
          f('LogStartOffset', 'int64', '5+', { default: -1 }),
          f('PartitionMaxBytes', 'int32', '0+'),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
  f(
    'ForgottenTopicsData',
    array([f('Topic', 'string', '7-12'), f('TopicId', 'uuid', '13+'), f('Partitions', array('int32'), '7+')]),
    '7+',
  ),
  f('RackId', 'string', '11+', { default: '' }),
]);

export const FetchResponse = message('FetchResponse', 1, '0-13', '12+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '7+'),
  f('SessionId', 'int32', '7+', { default: 0 }),
  f(
    'Responses',
    array([
      f('Topic', 'string', '0-12'),
      f('TopicId', 'uuid', '13+'),
      f(
        'Partitions',
        array([
          f('PartitionIndex', 'int32', '0+'),
          f('ErrorCode', 'int16', '0+'),
          f('HighWatermark', 'int64', '0+'),
          f('LastStableOffset', 'int64', '4+', { default: -1 }),
          f('LogStartOffset', 'int64', '5+', { default: -1 }),
          f(
            'DivergingEpoch',
            struct([f('Epoch', 'int32', '12+', { default: -1 }), f('EndOffset', 'int64', '12+', { default: -1 })]),
            '12+',
            { tag: 0 },
          ),
          f(
            'CurrentLeader',
            struct([f('LeaderId', 'int32', '12+', { default: -1 }), f('LeaderEpoch', 'int32', '12+', { default: -1 })]),
            '12+',
            { tag: 1 },
          ),
          f(
            'SnapshotId',
            struct([f('EndOffset', 'int64', '0+', { default: -1 }), f('Epoch', 'int32', '0+', { default: -1 })]),
            '12+',
            { tag: 2 },
          ),
          f('AbortedTransactions', array([f('ProducerId', 'int64', '4+'), f('FirstOffset', 'int64', '4+')]), '4+', {
            nullable: '4+',
          }),
          f('PreferredReadReplica', 'int32', '11+', { default: -1 }),
          f('Records', 'records', '0+', { nullable: '0+' }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);
