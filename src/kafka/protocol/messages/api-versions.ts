import { array, f, message } from '../schema.js';

export const ApiVersionsRequest = message('ApiVersionsRequest', 18, '0-3', '3+', [
  f('ClientSoftwareName', 'string', '3+'),
  f('ClientSoftwareVersion', 'string', '3+'),
]);

export const ApiVersionsResponse = message('ApiVersionsResponse', 18, '0-3', '3+', [
  f('ErrorCode', 'int16', '0+'),
  f(
    'ApiKeys',
    array([f('ApiKey', 'int16', '0+'), f('MinVersion', 'int16', '0+'), f('MaxVersion', 'int16', '0+')]),
    '0+',
  ),
  f('ThrottleTimeMs', 'int32', '1+'),
  f(
    'SupportedFeatures',
    array([f('Name', 'string', '3+'), f('MinVersion', 'int16', '3+'), f('MaxVersion', 'int16', '3+')]),
    '3+',
    { tag: 0 },
  ),
  f('FinalizedFeaturesEpoch', 'int64', '3+', { tag: 1, default: -1 }),
  f(
    'FinalizedFeatures',
    array([f('Name', 'string', '3+'), f('MaxVersionLevel', 'int16', '3+'), f('MinVersionLevel', 'int16', '3+')]),
    '3+',
    { tag: 2 },
  ),
  f('ZkMigrationReady', 'bool', '3+', { tag: 3, default: false }),
]);
