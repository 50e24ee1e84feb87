// Topic administration: CreateTopics and DeleteTopics.
import { array, f, message } from '../schema.js';

export const CreateTopicsRequest = message('CreateTopicsRequest', 19, '0-7', '5+', [
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f('NumPartitions', 'int32', '0+'),
      f('ReplicationFactor', 'int16', '0+'),
      f('Assignments', array([f('PartitionIndex', 'int32', '0+'), f('BrokerIds', array('int32'), '0+')]), '0+'),
      f('Configs', array([f('Name', 'string', '0+'), f('Value', 'string', '0+', { nullable: '0+' })]), '0+'),
    ]),
    '0+',
  ),
  f('TimeoutMs', 'int32', '0+', { default: 60000 }),
  f('ValidateOnly', 'bool', '1+', { default: false }),
]);

export const CreateTopicsResponse = message('CreateTopicsResponse', 19, '0-7', '5+', [
  f('ThrottleTimeMs', 'int32', '2+'),
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f('TopicId', 'uuid', '7+'),
      f('ErrorCode', 'int16', '0+'),
      f('ErrorMessage', 'string', '1+', { nullable: '0+' }),
      f('TopicConfigErrorCode', 'int16', '5+', { tag: 0 }),
      f('NumPartitions', 'int32', '5+', { default: -1 }),
      f('ReplicationFactor', 'int16', '5+', { default: -1 }),
      f(
        'Configs',
        array([
          f('Name', 'string', '5+'),
          f('Value', 'string', '5+', { nullable: '5+' }),
          f('ReadOnly', 'bool', '5+'),
          f('ConfigSource', 'int8', '5+', { default: -1 }),
          f('IsSensitive', 'bool', '5+'),
        ]),
        '5+',
        { nullable: '5+' },
      ),
    ]),
    '0+',
  ),
]);

export const DeleteTopicsRequest = message('DeleteTopicsRequest', 20, '0-6', '4+', [
  f('Topics', array([f('Name', 'string', '6+', { nullable: '6+', default: null }), f('TopicId', 'uuid', '6+')]), '6+'),
  f('TopicNames', array('string'), '0-5'),
  f('TimeoutMs', 'int32', '0+'),
]);

export const DeleteTopicsResponse = message('DeleteTopicsResponse', 20, '0-6', '4+', [
  f('ThrottleTimeMs', 'int32', '1+'),
  f(
    'Responses',
    array([
      f('Name', 'string', '0+', { nullable: '6+' }),
      f('TopicId', 'uuid', '6+'),
      f('ErrorCode', 'int16', '0+'),
      f('ErrorMessage', 'string', '5+', { nullable: '5+', default: null }),
    ]),
    '0+',
  ),
]);

export const CreatePartitionsRequest = message('CreatePartitionsRequest', 37, '0-3', '2+', [
  f(
    'Topics',
    array([
      f('Name', 'string', '0+'),
      f('Count', 'int32', '0+'),
      f('Assignments', array([f('BrokerIds', array('int32'), '0+')]), '0+', { nullable: '0+' }),
    ]),
    '0+',
  ),
  f('TimeoutMs', 'int32', '0+'),
  f('ValidateOnly', 'bool', '0+'),
]);

export const CreatePartitionsResponse = message('CreatePartitionsResponse', 37, '0-3', '2+', [
  f('ThrottleTimeMs', 'int32', '0+'),
  f(
    'Results',
    array([
      f('Name', 'string', '0+'),
      f('ErrorCode', 'int16', '0+'),
      f('ErrorMessage', 'string', '0+', { nullable: '0+', default: null }),
    ]),
    '0+',
  ),
]);
