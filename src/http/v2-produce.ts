/**
 * Confluent REST v2 produce: `POST /topics/{topic}` and `POST /topics/{topic}/partitions/{partition}`.
 * Input arrives validated against openapi.yaml; what is left here is what a schema cannot say
 * (configurable limits, schema fields we do not support yet, base64), then one broker.produce call.
 */
import type { Acks, Broker, ProduceColumns, ProduceColumnsResult } from '../broker/broker.js';
import { InvalidPayloadError, ProduceBatchError, UnprocessableEntityError } from '../errors.js';
import type { SamsaMetrics } from '../metrics/samsa-metrics.js';
import type { components } from './api-types.js';
import { produceOutcomeOf } from './error-codes.js';
import { type BodyShortcutTable, bodyShortcut, type HandlerInput, type HandlerTable, RenderedJson } from './openapi.js';
import { formatOfMediaType, type RequestRecord, toProduceColumns } from './v2-embedded-format.js';
import { scanProduceBody } from './v2-produce-scan.js';

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
  const produce = countedProduce(broker, metrics);
  return {
    produceToTopic: (input) => produce(input, () => columnsOfBody(input, limits), undefined),
    produceToPartition: (input) => produce(input, () => columnsOfBody(input, limits), input.params.partition),
  };
}

/**
 * The same two operations for bodies v2-produce-scan.ts reads without parsing (most of them): the
 * scan finds the columns in the raw bytes, and the produce is the handlers' own.
 */
export function v2ProduceShortcuts(
  broker: Broker,
  limits: ProduceLimits,
  metrics: SamsaMetrics,
): Pick<BodyShortcutTable, 'produceToTopic' | 'produceToPartition'> {
  const produce = countedProduce(broker, metrics);
  const scan = (raw: Buffer, mediaType: string) =>
    scanProduceBody(raw, formatOfMediaType(mediaType), limits.maxRecordsPerRequest);
  return {
    produceToTopic: bodyShortcut<'produceToTopic', ProduceColumns>({
      scan,
      handle: (columns, input) => produce(input, () => columns, undefined),
    }),
    produceToPartition: bodyShortcut<'produceToPartition', ProduceColumns>({
      scan,
      handle: (columns, input) => produce(input, () => columns, input.params.partition),
    }),
  };
}

/** Produces, and counts every request that reaches it once in samsa_produce_requests_total, by outcome. */
function countedProduce(broker: Broker, metrics: SamsaMetrics) {
  return async (
    { params, query, headers }: Omit<ProduceInput, 'body'>,
    columnsOf: () => ProduceColumns,
    pathPartition: number | undefined,
  ): Promise<RenderedJson<ProduceResponse>> => {
    const acks = ACKS[query.acks];
    try {
      const columns = columnsOf();
      if (pathPartition !== undefined) pinToPartition(columns, pathPartition);
      const result = await broker.produceColumns(params.topic, columns, {
        acks,
        timeoutMs: query.timeout_ms,
        idempotencyKey: headers['Idempotency-Key'],
      });
      metrics.observeProduce('v2', acks);
      return renderProduceResponse(result);
    } catch (err) {
      metrics.observeProduce('v2', acks, produceOutcomeOf(err));
      throw err;
    }
  };
}

/**
 * What a schema cannot say about a parsed body (configurable limits, schema fields we do not
 * support yet), then its columns. Exported for the scan's tests, as the way it must agree with.
 */
export function columnsOfBody(
  { mediaType, body }: Pick<ProduceInput, 'mediaType' | 'body'>,
  limits: ProduceLimits,
): ProduceColumns {
  if (body.records.length > limits.maxRecordsPerRequest) {
    throw new ProduceBatchError(
      `A request may hold at most ${limits.maxRecordsPerRequest} records; got ${body.records.length}.`,
    );
  }
  for (const field of ['key_schema', 'value_schema', 'key_schema_id', 'value_schema_id'] as const) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new InvalidPayloadError(`Schemas are not supported yet: remove ${field} from the request.`);
    }
  }
  return toProduceColumns(formatOfMediaType(mediaType), body.records as readonly RequestRecord[]);
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
 * The text is ASCII, so its latin1 bytes are its UTF-8 ones, and latin1 copies a one-byte string
 * without transcoding it: about 80 ns per record less than the UTF-8 encoder express would use.
 */
function renderProduceResponse(result: ProduceColumnsResult): RenderedJson<ProduceResponse> {
  const { partitions, offsets } = result;
  let text = '{"offsets":[';
  for (let i = 0; i < partitions.length; i++) {
    text += `${i === 0 ? '' : ','}{"partition":${partitions[i]},"offset":${offsets[i]},"error_code":null,"error":null}`;
  }
  return new RenderedJson(Buffer.from(`${text}],"key_schema_id":null,"value_schema_id":null}`, 'latin1'));
}
