import { array, f, message } from '../schema.js';

export const ListOffsetsRequest = message('ListOffsetsRequest', 2, '0-7', '6+', [
  f('ReplicaId', 'int32', '0+'),
  f('IsolationLevel', 'int8', '2+'),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f(
        'Partitions',
        array([
          f('PartitionIndex', 'int32', '0+'),
          f('CurrentLeaderEpoch', 'int32', '4+', { default: -1 }),
          f('Timestamp', 'int64', '0+'),
          f('MaxNumOffsets', 'int32', '0', { default: 1 }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);

export const ListOffsetsResponse = message('ListOffsetsResponse', 2, '0-7', '6+', [
  f('ThrottleTimeMs', 'int32', '2+'),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f(
        'Partitions',
        array([
          f('PartitionIndex', 'int32', '0+'),
          f('ErrorCode', 'int16', '0+'),
          f('OldStyleOffsets', array('int64'), '0'),
          f('Timestamp', 'int64', '1+', { default: -1 }),
          f('Offset', 'int64', '1+', { default: -1 }),
          f('LeaderEpoch', 'int32', '4+', { default: -1 }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);
