/**
 * Confluent REST v2 produce: `POST /topics/{topic}` and `POST /topics/{topic}/partitions/{partition}`.
 * Input arrives validated against openapi.yaml; what is left here is what a schema cannot say
 * (configurable limits, schema fields we do not support yet, base64), then one broker.produce call.
 */
import type { Acks, Broker, ProduceColumns, ProduceColumnsResult } from '../broker/broker.js';
import { UnprocessableEntityError } from '../errors.js';
import type { SamsaMetrics } from '../metrics/samsa-metrics.js';
import type { components } from './api-types.js';
import { type HandlerInput, type HandlerTable, RenderedJson } from './openapi.js';
import { formatOfMediaType, type RequestRecord, toProduceColumns } from './v2-embedded-format.js';

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
  const counted = async (
    input: ProduceInput,
    pathPartition: number | undefined,
  ): Promise<RenderedJson<ProduceResponse>> => {
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
): Promise<RenderedJson<ProduceResponse>> {
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
  const columns = toProduceColumns(formatOfMediaType(mediaType), body.records as readonly RequestRecord[]);
  if (pathPartition !== undefined) pinToPartition(columns, pathPartition);
  const result = await broker.produceColumns(params.topic, columns, {
    acks: ACKS[query.acks],
    timeoutMs: query.timeout_ms,
    idempotencyKey: headers['Idempotency-Key'],
  });
  return renderProduceResponse(result);
}

/** The path names the partition; a record that names another one is refused rather than silently moved. */
function pinToPartition(columns: ProduceColumns, partition: number): void {
  const named = columns.partitions;
  if (named !== null) {
    for (let i = 0; i < named.length; i++) {
      if (named[i] !== -1 && named[i] !== partition) {
        throw new UnprocessableEntityError(
          `records[${i}].partition is ${named[i]} but the path names partition ${partition}; omit it or make them equal.`,
        );
      }
    }
  }
  columns.partitions = new Int32Array(columns.records.count).fill(partition);
}

/**
 * The ProduceResponse, written as text: one object per record built only to be stringified cost
 * more than the rest of the answer (and bare express pays it too). Offsets are integers below 2^53,
 * which JavaScript prints as JSON integers; the produce tests compare the parsed answer field by field.
 */
function renderProduceResponse(result: ProduceColumnsResult): RenderedJson<ProduceResponse> {
  const { partitions, offsets } = result;
  let text = '{"offsets":[';
  for (let i = 0; i < partitions.length; i++) {
    text += `${i === 0 ? '' : ','}{"partition":${partitions[i]},"offset":${offsets[i]},"error_code":null,"error":null}`;
  }
  return new RenderedJson(`${text}],"key_schema_id":null,"value_schema_id":null}`);
}
