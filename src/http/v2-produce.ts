/**
 * Confluent REST v2 produce: `POST /topics/{topic}` and `POST /topics/{topic}/partitions/{partition}`.
 * Input arrives validated against openapi.yaml; what is left here is what a schema cannot say
 * (configurable limits, schema fields we do not support yet, base64), then one broker.produce call.
 */
import type { Acks, Broker, ProduceRecordResult } from '../broker/broker.js';
import { UnprocessableEntityError } from '../errors.js';
import type { SamsaMetrics } from '../metrics/samsa-metrics.js';
import type { components } from './api-types.js';
import type { HandlerInput, HandlerTable } from './openapi.js';
import { formatOfMediaType, type RequestRecord, toProduceRecords } from './v2-embedded-format.js';

export interface ProduceLimits {
  /** Most records one request may carry; more answers 422 / 42208. */
  maxRecordsPerRequest: number;
}

type ProduceResponse = components['schemas']['ProduceResponse'];
type ProduceInput = HandlerInput<'produceToTopic'>;

const ACKS: Record<ProduceInput['query']['acks'], Acks> = { '0': 0, '1': 1, all: -1, '-1': -1 };

export function v2ProduceHandlers(
  broker: Broker,
  limits: ProduceLimits,
  metrics: SamsaMetrics,
): Pick<HandlerTable, 'produceToTopic' | 'produceToPartition'> {
  // Every request that reaches a handler counts once in samsa_produce_requests_total, by outcome.
  const counted = async (input: ProduceInput, pathPartition: number | undefined): Promise<ProduceResponse> => {
    const acks = ACKS[input.query.acks];
    try {
      const response = await produce(broker, limits, input, pathPartition);
      metrics.observeProduce('v2', acks);
      return response;
    } catch (err) {
      metrics.observeProduce('v2', acks, err);
      throw err;
    }
  };
  return {
    produceToTopic: (input) => counted(input, undefined),
    produceToPartition: (input) => counted(input, input.params.partition),
  };
}

async function produce(
  broker: Broker,
  limits: ProduceLimits,
  { params, query, headers, mediaType, body }: ProduceInput,
  pathPartition: number | undefined,
): Promise<ProduceResponse> {
  if (body.records.length > limits.maxRecordsPerRequest) {
    throw new UnprocessableEntityError(
      `A request may hold at most ${limits.maxRecordsPerRequest} records; got ${body.records.length}.`,
      42208,
    );
  }
  for (const field of ['key_schema', 'value_schema', 'key_schema_id', 'value_schema_id'] as const) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new UnprocessableEntityError(`Schemas are not supported yet: remove ${field} from the request.`, 42206);
    }
  }
  const records = toProduceRecords(formatOfMediaType(mediaType), body.records as readonly RequestRecord[]);
  if (pathPartition !== undefined) pinToPartition(records, pathPartition);
  const results = await broker.produce(params.topic, records, {
    acks: ACKS[query.acks],
    timeoutMs: query.timeout_ms,
    idempotencyKey: headers['Idempotency-Key'],
  });
  return { offsets: results.map(toRecordOffset), key_schema_id: null, value_schema_id: null };
}

/** The path names the partition; a record that names another one is refused rather than silently moved. */
function pinToPartition(records: { partition?: number }[], partition: number): void {
  for (const [i, record] of records.entries()) {
    if (record.partition !== undefined && record.partition !== partition) {
      throw new UnprocessableEntityError(
        `records[${i}].partition is ${record.partition} but the path names partition ${partition}; omit it or make them equal.`,
      );
    }
    record.partition = partition;
  }
}

function toRecordOffset(result: ProduceRecordResult): ProduceResponse['offsets'][number] {
  return { partition: result.partition, offset: result.offset, error_code: null, error: null };
}
