// Config administration: DescribeConfigs, AlterConfigs and IncrementalAlterConfigs (KIP-339).
import { array, f, message } from '../schema.js';

export const DescribeConfigsRequest = message('DescribeConfigsRequest', 32, '0-4', '4+', [
  f(
    'Resources',
    array([
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f('ConfigurationKeys', array('string'), '0+', { nullable: '0+' }),
    ]),
    '0+',
  ),
  f('IncludeSynonyms', 'bool', '1+', { default: false }),
  f('IncludeDocumentation', 'bool', '3+', { default: false }),
]);

export const DescribeConfigsResponse = message('DescribeConfigsResponse', 32, '0-4', '4+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f(
    'Results',
    array([
      f('ErrorCode', 'int16', '0+'),
      f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f(
        'Configs',
        array([
          f('Name', 'string', '0+'),
          f('Value', 'string', '0+', { nullable: '0+' }),
          f('ReadOnly', 'bool', '0+'),
          f('IsDefault', 'bool', '0'),
          f('ConfigSource', 'int8', '1+', { default: -1 }),
          f('IsSensitive', 'bool', '0+'),
          f(
            'Synonyms',
            array([
              f('Name', 'string', '1+'),
              f('Value', 'string', '1+', { nullable: '0+' }),
              f('Source', 'int8', '1+'),
            ]),
            '1+',
          ),
          f('ConfigType', 'int8', '3+', { default: 0 }),
          f('Documentation', 'string', '3+', { nullable: '0+' }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
]);

export const AlterConfigsRequest = message('AlterConfigsRequest', 33, '0-2', '2+', [
  f(
    'Resources',
    array([
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f('Configs', array([f('Name', 'string', '0+'), f('Value', 'string', '0+', { nullable: '0+' })]), '0+'),
    ]),
    '0+',
  ),
  f('ValidateOnly', 'bool', '0+'),
]);

const alterResponses = array([
  f('ErrorCode', 'int16', '0+'),
  f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
  f('ResourceType', 'int8', '0+'),
  f('ResourceName', 'string', '0+'),
]);

export const AlterConfigsResponse = message('AlterConfigsResponse', 33, '0-2', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('Responses', alterResponses, '0+'),
]);

export const IncrementalAlterConfigsRequest = message('IncrementalAlterConfigsRequest', 44, '0-1', '1+', [
  f(
    'Resources',
    array([
      f('ResourceType', 'int8', '0+'),
      f('ResourceName', 'string', '0+'),
      f(
        'Configs',
        array([
          f('Name', 'string', '0+'),
          f('ConfigOperation', 'int8', '0+'),
          f('Value', 'string', '0+', { nullable: '0+' }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
  f('ValidateOnly', 'bool', '0+'),
]);

export const IncrementalAlterConfigsResponse = message('IncrementalAlterConfigsResponse', 44, '0-1', '1+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f('Responses', alterResponses, '0+'),
]);
