// DeleteRecords: move partitions' log start offsets forward.
import { array, f, message } from '../schema.js';

export const DeleteRecordsRequest = message('DeleteRecordsRequest', 21, '0-2', '2+', [
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f('Partitions', array([f('PartitionIndex', 'int32', '0+'), f('Offset', 'int64', '0+')]), '0+'),
    ]),
    '0+',
  ),
  f('TimeoutMs', 'int32', '0+'),
]);

export const DeleteRecordsResponse = message('DeleteRecordsResponse', 21, '0-2', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f(
        'Partitions',
        array([f('PartitionIndex', 'int32', '0+'), f('LowWatermark', 'int64', '0+'), f('ErrorCode', 'int16', '0+')]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);
