import { array, f, message } from '../schema.js';

export const OffsetForLeaderEpochRequest = message('OffsetForLeaderEpochRequest', 23, '0-4', '4+', [
  // -1 from a consumer, a broker id from a follower; absent before v3 (-2: "not given").
  f('ReplicaId', 'int32', '3+', { default: -2 }),
  f(
    'Topics',
    array([
      f('Topic', 'string', '0+'),
      f(
        'Partitions',
        array([
          f('Partition', 'int32', '0+'),
          f('CurrentLeaderEpoch', 'int32', '2+', { default: -1 }),
          f('LeaderEpoch', 'int32', '0+'),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);

export const OffsetForLeaderEpochResponse = message('OffsetForLeaderEpochResponse', 23, '0-4', '4+', [
  f('ThrottleTimeMs', 'int32', '2+'),
  f(
    'Topics',
    array([
      f('Topic', 'string', '0+'),
      f(
        'Partitions',
        array([
          f('ErrorCode', 'int16', '0+'),
          f('Partition', 'int32', '0+'),
          f('LeaderEpoch', 'int32', '1+', { default: -1 }),
          f('EndOffset', 'int64', '0+', { default: -1 }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);
