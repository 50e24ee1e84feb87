/**
 * Confluent REST v3 produce: `POST /v3/clusters/{cluster_id}/topics/{topic_name}/records` (one record
 * or a stream of them, one delivery report each) and `.../records:batch` (up to `maxBatchEntries`
 * records, 207 with successes and failures). Bodies arrive validated against openapi.yaml; what is
 * left here is turning `{type, data}` into bytes and reports into Confluent's shape.
 */
import type { Broker, ProduceRecord, ProduceRecordResult } from '../broker/broker.js';
import { BadRequestError, InvalidPayloadError, ProduceBatchError, SamsaError, UnknownClusterError } from '../errors.js';
import type { SamsaMetrics } from '../metrics/samsa-metrics.js';
import type { components } from './api-types.js';
import { httpAnswerOf, produceOutcomeOf } from './error-codes.js';
import { jsonValueProblem, storableJsonText } from './json-values.js';
import type { HandlerInput, HandlerTable, StreamedBody } from './openapi.js';
import { parseTimestampMs } from './timestamp.js';
import { decodeStrictBase64 } from './v2-embedded-format.js';

export interface V3ProduceLimits {
  /** Records of one stream being produced at once; the next object is read only below this bound. */
  maxInFlightRecordsPerStream: number;
  /** Most entries one `records:batch` request may hold (Confluent allows at most 50). */
  maxBatchEntries: number;
}

export const DEFAULT_V3_PRODUCE_LIMITS: V3ProduceLimits = { maxInFlightRecordsPerStream: 64, maxBatchEntries: 50 };

type RecordFields = components['schemas']['V3ProduceRecordFields'];
type ProduceData = components['schemas']['V3ProduceData'];
type DataSize = components['schemas']['V3ProduceDataSize'];
type Result = components['schemas']['V3ProduceResult'];
type Report = components['schemas']['V3ProduceReport'];
type BatchResponse = components['schemas']['V3ProduceBatchResponse'];

/** Confluent's v3 produce has no acks parameter; its producer waits for the ISR. */
const PRODUCE_OPTIONS = { acks: -1, timeoutMs: 30_000 } as const;
/** Confluent's bounds on a batch entry id. */
const MAX_ENTRY_ID_CHARS = 80;

/**
 * In samsa_produce_requests_total, each object of a stream counts once (each is its own produce),
 * and a batch request counts once, failed only when the whole request is refused.
 */
export function v3ProduceHandlers(
  broker: Broker,
  limits: V3ProduceLimits,
  metrics: SamsaMetrics,
): Pick<HandlerTable, 'produceRecordsV3' | 'produceRecordsBatchV3'> {
  return {
    produceRecordsV3: (input) => produceStream(broker, limits, input, metrics),
    produceRecordsBatchV3: async (input) => {
      try {
        const response = await produceBatch(broker, limits, input);
        metrics.observeProduce('v3', PRODUCE_OPTIONS.acks);
        return response;
      } catch (err) {
        metrics.observeProduce('v3', PRODUCE_OPTIONS.acks, produceOutcomeOf(err));
        throw err;
      }
    },
  };
}

function checkCluster(broker: Broker, clusterId: string): void {
  if (clusterId !== broker.clusterId) throw new UnknownClusterError(clusterId);
}

async function* produceStream(
  broker: Broker,
  limits: V3ProduceLimits,
  { params, headers, bodies }: StreamingInput,
  metrics: SamsaMetrics,
): AsyncGenerator<Report | SamsaError> {
  checkCluster(broker, params.cluster_id);
  const idempotencyKey = headers['Idempotency-Key'];
  let index = 0;
  const produceOne = async (item: StreamedBody<'produceRecordsV3'>): Promise<Report | SamsaError> => {
    const i = index++;
    if (item.error) {
      metrics.observeProduce('v3', PRODUCE_OPTIONS.acks, produceOutcomeOf(item.error));
      return item.error;
    }
    try {
      const converted = toProduceRecord(item.body);
      const [result] = await broker.produce(params.topic_name, [converted.record], {
        ...PRODUCE_OPTIONS,
        // The first object keeps the key as sent, so a one-record request retries with the same key.
        idempotencyKey: idempotencyKey === undefined ? undefined : i === 0 ? idempotencyKey : `${idempotencyKey}#${i}`,
      });
      metrics.observeProduce('v3', PRODUCE_OPTIONS.acks);
      return { error_code: 200, ...toResult(broker, params.topic_name, result as ProduceRecordResult, converted) };
    } catch (err) {
      metrics.observeProduce('v3', PRODUCE_OPTIONS.acks, produceOutcomeOf(err));
      if (err instanceof SamsaError) return err;
      throw err;
    }
  };
  yield* inOrder(bodies, produceOne, limits.maxInFlightRecordsPerStream);
}

type StreamingInput = Parameters<HandlerTable['produceRecordsV3']>[0];

async function produceBatch(
  broker: Broker,
  limits: V3ProduceLimits,
  { params, body }: HandlerInput<'produceRecordsBatchV3'>,
): Promise<BatchResponse> {
  checkCluster(broker, params.cluster_id);
  const { entries } = body;
  // Confluent's ProduceBatchAction checks: 422 / 42208 and nothing written.
  if (entries.length === 0) throw new ProduceBatchError('Empty batch.');
  if (entries.length > limits.maxBatchEntries) {
    throw new ProduceBatchError(
      `Too many entries in batch: ${entries.length}; at most ${limits.maxBatchEntries} are allowed.`,
    );
  }
  const ids = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    if (entry.id.length < 1 || entry.id.length > MAX_ENTRY_ID_CHARS) {
      throw new ProduceBatchError(`Batch entry ID at entries[${i}] must be 1 to ${MAX_ENTRY_ID_CHARS} characters.`);
    }
    ids.add(entry.id);
  }
  if (ids.size !== entries.length) throw new ProduceBatchError('Batch entry IDs are not distinct.');

  const response: BatchResponse = { successes: [], failures: [] };
  const valid: { id: string; converted: Converted }[] = [];
  for (const entry of entries) {
    try {
      valid.push({ id: entry.id, converted: toProduceRecord(entry) });
    } catch (err) {
      response.failures.push(failure(entry.id, err));
    }
  }
  if (valid.length === 0) return response;
  const topic = params.topic_name;
  try {
    // The common case: one broker call, one batch per partition.
    const results = await broker.produce(
      topic,
      valid.map((v) => v.converted.record),
      PRODUCE_OPTIONS,
    );
    for (const [i, v] of valid.entries()) {
      response.successes.push({ id: v.id, ...toResult(broker, topic, results[i] as ProduceRecordResult, v.converted) });
    }
  } catch (err) {
    if (!(err instanceof SamsaError)) throw err;
    // Some entry failed the whole call (nothing was written): produce one by one to tell which.
    for (const v of valid) {
      try {
        const [result] = await broker.produce(topic, [v.converted.record], PRODUCE_OPTIONS);
        response.successes.push({ id: v.id, ...toResult(broker, topic, result as ProduceRecordResult, v.converted) });
      } catch (entryErr) {
        response.failures.push(failure(v.id, entryErr));
      }
    }
  }
  return response;
}

function failure(id: string, err: unknown): BatchResponse['failures'][number] {
  if (!(err instanceof SamsaError)) throw err;
  return { id, error_code: httpAnswerOf(err).errorCode, message: err.message };
}

// ---- record conversion ----

interface Converted {
  record: ProduceRecord;
  key: DataSize | undefined;
  value: DataSize | undefined;
}

function toProduceRecord(fields: RecordFields): Converted {
  const key = encodeData(fields.key, 'key');
  const value = encodeData(fields.value, 'value');
  const record: ProduceRecord = { key: key?.bytes ?? null, value: value?.bytes ?? null };
  if (fields.partition_id !== undefined && fields.partition_id !== null) record.partition = fields.partition_id;
  if (fields.headers !== undefined) {
    record.headers = fields.headers.map((h, j) => ({
      key: h.name,
      value: h.value === undefined || h.value === null ? null : decodeBase64(h.value, `headers[${j}].value`),
    }));
  }
  if (fields.timestamp !== undefined && fields.timestamp !== null) record.timestamp = parseTimestamp(fields.timestamp);
  return {
    record,
    key: key && { type: key.type, size: key.bytes?.length ?? 0 },
    value: value && { type: value.type, size: value.bytes?.length ?? 0 },
  };
}

const SCHEMA_SELECTORS = ['subject', 'subject_name_strategy', 'schema_id', 'schema_version', 'schema'] as const;

/** `{type, data}` → bytes; undefined when the request has no key (or value) at all. */
function encodeData(
  data: ProduceData | null | undefined,
  field: 'key' | 'value',
): { type: string; bytes: Buffer | null } | undefined {
  if (data === undefined || data === null) return undefined;
  for (const selector of SCHEMA_SELECTORS) {
    if (data[selector] !== undefined) {
      throw new InvalidPayloadError(
        `Payload error. Schema Registry is not supported yet: remove ${field}.${selector}.`,
      );
    }
  }
  const payload = data.data;
  if (data.type === undefined) {
    if (payload === undefined || payload === null) return undefined;
    // Confluent looks the schema up in a Schema Registry when no type is given.
    throw new InvalidPayloadError(
      `Payload error. ${field}.type is required: Samsa has no Schema Registry; use BINARY, JSON or STRING.`,
    );
  }
  if (data.type === 'AVRO' || data.type === 'JSONSCHEMA' || data.type === 'PROTOBUF') {
    throw new InvalidPayloadError(
      `Payload error. Schema formats (${data.type}) are not supported yet; use BINARY, JSON or STRING.`,
    );
  }
  if (payload === undefined || payload === null) return { type: data.type, bytes: null };
  switch (data.type) {
    case 'BINARY':
      return { type: data.type, bytes: decodeBase64(payload, `${field}.data`) };
    case 'JSON':
      return { type: data.type, bytes: jsonBytes(payload, `${field}.data`) };
    case 'STRING':
      if (typeof payload !== 'string') throw new BadRequestError(`Bad Request: ${field}.data must be a string.`);
      return { type: data.type, bytes: Buffer.from(payload, 'utf8') };
  }
}

function decodeBase64(data: unknown, field: string): Buffer {
  const bytes = typeof data === 'string' ? decodeStrictBase64(data) : null;
  if (bytes === null) throw new BadRequestError(`Bad Request: ${field} is not a valid base64 string.`);
  return bytes;
}

/** The record's CreateTime, by the rule of timestamp.ts (ISO-8601 with a zone, or a number). */
function parseTimestamp(timestamp: string | number): number {
  const ms = parseTimestampMs(timestamp, 'iso-8601');
  if (ms !== null) return ms;
  throw new BadRequestError(
    typeof timestamp === 'number'
      ? `Bad Request: timestamp ${timestamp} is not a time in milliseconds since the epoch.`
      : `Bad Request: timestamp '${timestamp}' is not an ISO-8601 date and time with a zone.`,
  );
}

function toResult(broker: Broker, topic: string, result: ProduceRecordResult, converted: Converted): Result {
  const out: Result = {
    cluster_id: broker.clusterId,
    topic_name: topic,
    partition_id: result.partition,
    offset: result.offset,
    timestamp: new Date(result.timestamp).toISOString(),
  };
  if (converted.key) out.key = converted.key;
  if (converted.value) out.value = converted.value;
  return out;
}

// ---- streaming ----

/**
 * Runs `start` on up to `maxInFlight` items at once and yields the results in input order, each as
 * soon as it and every earlier one are done. The next item is pulled only while below the bound, so
 * a slow acknowledgement (acks=all waiting on followers) slows reading the request, never buffers it.
 */
async function* inOrder<T, R>(
  items: AsyncIterable<T>,
  start: (item: T) => Promise<R>,
  maxInFlight: number,
): AsyncGenerator<R> {
  const source = items[Symbol.asyncIterator]();
  const inFlight: Promise<R>[] = [];
  let pending: Promise<IteratorResult<T>> | null = null;
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < maxInFlight) {
        pending ??= source.next();
        const head = inFlight[0];
        // With work in flight, answer it first if it finishes before the next item arrives.
        if (head && (await Promise.race([pending.then(() => false), head.then(() => true)]))) break;
        const next = await pending;
        pending = null;
        if (next.done) exhausted = true;
        else inFlight.push(start(next.value));
      }
      const head = inFlight.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    // Not awaited: a read still waiting on the socket finishes when the request closes.
    source.return?.().catch(() => undefined);
  }
}

/** Stored as its JSON text, as Confluent's JSON serializer writes it. */
function jsonBytes(payload: unknown, field: string): Buffer {
  return Buffer.from(
    storableJsonText(payload, () => jsonValueProblem(payload, field)),
    'utf8',
  );
}
