import { array, f, message } from '../schema.js';

export const FindCoordinatorRequest = message('FindCoordinatorRequest', 10, '0-4', '3+', [
  f('Key', 'string', '0-3'),
  // 0 group, 1 transaction.
  f('KeyType', 'int8', '1+', { default: 0 }),
  f('CoordinatorKeys', array('string'), '4+'),
]);

export const FindCoordinatorResponse = message('FindCoordinatorResponse', 10, '0-4', '3+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f('ErrorCode', 'int16', '0-3'),
  f('ErrorMessage', 'string', '1-3', { nullable: '1-3' }),
  f('NodeId', 'int32', '0-3'),
  f('Host', 'string', '0-3'),
  f('Port', 'int32', '0-3'),
  f(
    'Coordinators',
    array([
      f('Key', 'string', '4+'),
      f('NodeId', 'int32', '4+'),
      f('Host', 'string', '4+'),
      f('Port', 'int32', '4+'),
      f('ErrorCode', 'int16', '4+'),
      f('ErrorMessage', 'string', '4+', { nullable: '4+' }),
    ]),
    '4+',
  ),
]);
