// DescribeCluster (KIP-700): the cluster id, the controller and the brokers, without topic metadata.
import { array, f, message } from '../schema.js';

export const DescribeClusterRequest = message('DescribeClusterRequest', 60, '0', '0+', [
  f('IncludeClusterAuthorizedOperations', 'bool', '0+'),
]);

export const DescribeClusterResponse = message('DescribeClusterResponse', 60, '0', '0+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('ErrorCode', 'int16', '0+'),
  f('ErrorMessage', 'string', '0+', { nullable: '0+', default: null }),
  f('ClusterId', 'string', '0+'),
  f('ControllerId', 'int32', '0+', { default: -1 }),
  f(
    'Brokers',
    array([
      f('BrokerId', 'int32', '0+'),
      f('Host', 'string', '0+'),
      f('Port', 'int32', '0+'),
      f('Rack', 'string', '0+', { nullable: '0+', default: null }),
    ]),
    '0+',
  ),
  f('ClusterAuthorizedOperations', 'int32', '0+', { default: -2147483648 }),
]);
