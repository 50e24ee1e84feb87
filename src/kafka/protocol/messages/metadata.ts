import { array, f, message } from '../schema.js';

export const MetadataRequest = message('MetadataRequest', 3, '0-12', '9+', [
  // Null (v1+) asks for every topic; v0 has no null and an empty array means all topics.
  f('Topics', array([f('TopicId', 'uuid', '10+'), f('Name', 'string', '0+', { nullable: '10+' })]), '0+', {
    nullable: '1+',
  }),
  f('AllowAutoTopicCreation', 'bool', '4+', { default: true }),
  f('IncludeClusterAuthorizedOperations', 'bool', '8-10'),
  f('IncludeTopicAuthorizedOperations', 'bool', '8+'),
]);

export const MetadataResponse = message('MetadataResponse', 3, '0-12', '9+', [
  f('ThrottleTimeMs', 'int32', '3+'),
  f(
    'Brokers',
    array([
      f('NodeId', 'int32', '0+'),
      f('Host', 'string', '0+'),
      f('Port', 'int32', '0+'),
      f('Rack', 'string', '1+', { nullable: '1+', default: null }),
    ]),
    '0+',
  ),
  f('ClusterId', 'string', '2+', { nullable: '2+', default: null }),
  f('ControllerId', 'int32', '1+', { default: -1 }),
  f(
    'Topics',
    array([
      f('ErrorCode', 'int16', '0+'),
      f('Name', 'string', '0+', { nullable: '12+' }),
      f('TopicId', 'uuid', '10+'),
      f('IsInternal', 'bool', '1+', { default: false }),
      f(
        'Partitions',
        array([
          f('ErrorCode', 'int16', '0+'),
          f('PartitionIndex', 'int32', '0+'),
          f('LeaderId', 'int32', '0+'),
          f('LeaderEpoch', 'int32', '7+', { default: -1 }),
          f('ReplicaNodes', array('int32'), '0+'),
          f('IsrNodes', array('int32'), '0+'),
          f('OfflineReplicas', array('int32'), '5+'),
        ]),
        '0+',
      ),
      f('TopicAuthorizedOperations', 'int32', '8+', { default: -2147483648 }),
    ]),
    '0+',
  ),
  f('ClusterAuthorizedOperations', 'int32', '8-10', { default: -2147483648 }),
]);
