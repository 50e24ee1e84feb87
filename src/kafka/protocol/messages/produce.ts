import { array, f, message } from '../schema.js';

export const ProduceRequest = message('ProduceRequest', 0, '0-9', '9+', [
  f('TransactionalId', 'string', '3+', { nullable: '3+', default: null }),
  f('Acks', 'int16', '0+'),
  f('TimeoutMs', 'int32', '0+'),
  f(
    'TopicData',
    array([
      f('Name', 'string', '0+'),
      f('PartitionData', array([f('Index', 'int32', '0+'), f('Records', 'records', '0+', { nullable: '0+' })]), '0+'),
    ]),
    '0+',
  ),
]);

export const ProduceResponse = message('ProduceResponse', 0, '0-9', '9+', [
  f(
    'Responses',
    array([
      f('Name', 'string', '0+'),
      f(
        'PartitionResponses',
        array([
          f('Index', 'int32', '0+'),
          f('ErrorCode', 'int16', '0+'),
          f('BaseOffset', 'int64', '0+'),
          f('LogAppendTimeMs', 'int64', '2+', { default: -1 }),
          f('LogStartOffset', 'int64', '5+', { default: -1 }),
          f(
            'RecordErrors',
            array([
              f('BatchIndex', 'int32', '8+'),
              f('BatchIndexErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
            ]),
            '8+',
          ),
          f('ErrorMessage', 'string', '8+', { nullable: '8+', default: null }),
        ]),
        '0+',
      ),
    ]),
    '0+',
  ),
  f('ThrottleTimeMs', 'int32', '1+', { default: 0 }),
]);
