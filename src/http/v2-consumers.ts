/**
 * Confluent REST v2 consumer instances: create and delete, subscription, manual assignment,
 * `GET records`, commit and committed offsets, and positions (seek). Every call finds its
 * instance through `consumers.get` (which counts as the member's heartbeat); calls that read or
 * move positions run one at a time per instance (`instance.exclusive`).
 */

import type { Broker } from '../broker/broker.js';
import { type TopicPartition, tpKey } from '../broker/topic-partition.js';
import type { ConsumedRun, ConsumerInstance, EmbeddedFormat } from '../consumers/consumer-instance.js';
import type { ConsumerManager, ConsumerRequestConfig } from '../consumers/consumer-manager.js';
import {
  AuthorizationError,
  InvalidConsumerConfigError,
  NotAcceptableError,
  UnprocessableEntityError,
} from '../errors.js';
import { principalText } from '../security/principal.js';
import type { components } from './api-types.js';
import { type HandlerTable, type HttpExchange, RenderedJson } from './openapi.js';
import { parseTimestampMs } from './timestamp.js';
import { renderRecordsAnswer } from './v2-records-answer.js';

type CreateConsumerRequest = components['schemas']['CreateConsumerRequest'];
type ConsumerRecordJson = components['schemas']['ConsumerRecordJson'];

const V2_JSON = 'application/vnd.kafka.v2+json';
const RECORDS_TYPE: Readonly<Record<EmbeddedFormat, string>> = {
  binary: 'application/vnd.kafka.binary.v2+json',
  json: 'application/vnd.kafka.json.v2+json',
  string: 'application/vnd.kafka.string.v2+json',
};

type V2ConsumerOperation =
  | 'createConsumerInstance'
  | 'deleteConsumerInstance'
  | 'subscribeConsumer'
  | 'getConsumerSubscription'
  | 'unsubscribeConsumer'
  | 'assignConsumerPartitions'
  | 'getConsumerAssignments'
  | 'commitConsumerOffsets'
  | 'getConsumerCommittedOffsets'
  | 'seekConsumer'
  | 'seekConsumerToBeginning'
  | 'seekConsumerToEnd'
  | 'readConsumerRecords';

/** The instance a path names: `/consumers/{group_name}/instances/{instance}/...`. */
type InstancePath = { params: { group_name: string; instance: string } };

export function v2ConsumerHandlers(
  broker: Broker,
  consumers: ConsumerManager,
): Pick<HandlerTable, V2ConsumerOperation> {
  // Who created each instance: it belongs to that principal alone (issue 17), even against one with READ.
  const owners = new WeakMap<ConsumerInstance, string>();
  const instanceOf = ({ params }: InstancePath, http: HttpExchange): ConsumerInstance => {
    const instance = consumers.get(params.group_name, params.instance);
    const owner = owners.get(instance);
    const caller = principalText(http.access.principal);
    if (owner !== undefined && owner !== caller)
      throw new AuthorizationError(
        caller,
        'READ',
        'GROUP',
        params.group_name,
        `consumer instance '${params.instance}' belongs to the principal that created it`,
      );
    return instance;
  };
  return {
    createConsumerInstance: ({ params, body }, http) => {
      const owner = principalText(http.principal);
      const instance = consumers.create(params.group_name, requestConfig(body ?? {}), owner);
      owners.set(instance, owner);
      const path = `/consumers/${encodeURIComponent(instance.group)}/instances/${encodeURIComponent(instance.name)}`;
      return { instance_id: instance.name, base_uri: `${http.baseUrl}${path}` };
    },

    deleteConsumerInstance: (input, http) => {
      instanceOf(input, http);
      consumers.delete(input.params.group_name, input.params.instance);
    },

    subscribeConsumer: (input, http) => {
      const instance = instanceOf(input, http);
      const { topics, topic_pattern: pattern } = input.body;
      // Confluent: `topics` wins when both are given; neither is a no-op.
      if (topics !== undefined && topics.length > 0)
        instance.subscribe({ kind: 'topics', topics: [...new Set(topics)] });
      else if (pattern !== undefined) instance.subscribe({ kind: 'pattern', pattern: compilePattern(pattern) });
    },

    getConsumerSubscription: (input, http) => {
      const { topics, pattern } = instanceOf(input, http).currentSubscription();
      if (pattern === null) return { topics };
      // Kafka's subscription() of a pattern subscriber lists the topics the pattern matches now.
      const regexp = new RegExp(pattern);
      return { topics: broker.listTopics().filter((t) => regexp.test(t)), topic_pattern: userPattern(pattern) };
    },

    unsubscribeConsumer: (input, http) => {
      instanceOf(input, http).unsubscribe();
    },

    assignConsumerPartitions: (input, http) => {
      instanceOf(input, http).assign(distinct(input.body.partitions));
    },

    getConsumerAssignments: (input, http) => ({ partitions: instanceOf(input, http).assignments() }),

    commitConsumerOffsets: async (input, http) => {
      const instance = instanceOf(input, http);
      const entries = input.body?.offsets?.map((e) => ({
        topic: e.topic,
        partition: e.partition,
        offset: e.offset,
        metadata: e.metadata ?? undefined,
      }));
      await instance.exclusive(() => instance.commitReplicated(entries));
      return [];
    },

    getConsumerCommittedOffsets: async (input, http) => {
      const instance = instanceOf(input, http);
      const offsets = await instance.exclusive(() =>
        instance.committed(input.body ? distinct(input.body.partitions) : instance.assignments()),
      );
      return { offsets };
    },

    seekConsumer: async (input, http) => {
      const instance = instanceOf(input, http);
      const { offsets = [], timestamps = [] } = input.body;
      // Parsed before any position moves, so a bad timestamp changes nothing.
      const times = timestamps.map((t, i) => ({
        tp: t,
        timestamp: parseTimestamp(t.timestamp, `timestamps[${i}].timestamp`),
      }));
      await instance.exclusive(async () => {
        for (const o of offsets) await instance.seek(o, o.offset);
        for (const t of times) await instance.seekToTimestamp(t.tp, t.timestamp);
      });
    },

    seekConsumerToBeginning: async (input, http) => {
      const instance = instanceOf(input, http);
      await instance.exclusive(() => instance.seekToBeginning(distinct(input.body.partitions)));
    },

    seekConsumerToEnd: async (input, http) => {
      const instance = instanceOf(input, http);
      await instance.exclusive(() => instance.seekToEnd(distinct(input.body.partitions)));
    },

    readConsumerRecords: async (input, http) => {
      const instance = instanceOf(input, http);
      // Kafka checks READ at every Fetch: an ACL removed since the subscription stops the reads.
      for (const topic of new Set(instance.assignments().map((tp) => tp.topic)))
        http.access.require('READ', 'TOPIC', topic);
      const type = RECORDS_TYPE[instance.config.format];
      if (!http.accepts([type, V2_JSON, 'application/json'])) {
        throw new NotAcceptableError(
          `The requested embedded data format does not match the deserializer for this consumer instance: it answers ${type}.`,
        );
      }
      http.setResponseType(type);
      const { timeout, max_bytes } = input.query;
      return instance.exclusive(async () => {
        const runs = await instance.pollRuns({ timeoutMs: timeout, maxBytes: max_bytes, signal: http.signal });
        return renderRecords(instance, runs);
      });
    },
  };
}

/** Confluent's names and aliases (`responseMinBytes`, `requestWaitMs`, `id`) mapped to one config. */
function requestConfig(body: CreateConsumerRequest): ConsumerRequestConfig {
  const { id, responseMinBytes, requestWaitMs, ...config } = body;
  return {
    ...config,
    name: config.name ?? id,
    'fetch.min.bytes': config['fetch.min.bytes'] ?? responseMinBytes,
    'consumer.request.timeout.ms': config['consumer.request.timeout.ms'] ?? requestWaitMs,
  };
}

/**
 * A quantified group that itself holds a quantifier, such as `(a+)+`: such patterns backtrack
 * exponentially on a name that almost matches, and matching runs on the event loop, so one
 * subscription could stall the node. They are refused; every useful topic pattern does without.
 */
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*[+*{]/;

/** Kafka (Java's `Pattern.matches`) matches a subscription pattern against the whole topic name. */
function compilePattern(pattern: string): RegExp {
  if (NESTED_QUANTIFIER.test(pattern)) {
    throw new InvalidConsumerConfigError(
      'topic_pattern repeats a group that itself repeats (like (a+)+); write it without nesting.',
    );
  }
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new InvalidConsumerConfigError(`topic_pattern is not a valid regular expression: ${(err as Error).message}`);
  }
}

function userPattern(source: string): string {
  return source.startsWith('^(?:') && source.endsWith(')$') ? source.slice(4, -2) : source;
}

function distinct(partitions: readonly TopicPartition[]): TopicPartition[] {
  const seen = new Map<string, TopicPartition>();
  for (const tp of partitions) seen.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition });
  return [...seen.values()];
}

/** ISO-8601 (Confluent's form) or epoch milliseconds. */
export function parseTimestamp(value: string | number, field: string): number {
  const ms = parseTimestampMs(value, 'lenient');
  if (ms === null) throw new UnprocessableEntityError(`${field} must be an ISO-8601 date or epoch milliseconds`);
  return ms;
}

/**
 * The records of one answer, in the instance's format, written from their stored bytes
 * (v2-records-answer.ts). A record that cannot be rendered (a json consumer meeting a value that
 * is not JSON) ends the answer before it: the records so far go out and the instance's position in
 * that partition stays at it (and goes back for the partitions read after it). When it is the
 * first, the request fails with 40801 naming its topic, partition and offset, so the client can
 * seek past it; every read answers the same until it does (Confluent's proxy stalls there too, and
 * drops the records before it).
 */
function renderRecords(instance: ConsumerInstance, runs: ConsumedRun[]): RenderedJson<ConsumerRecordJson[]> {
  const { bytes, unrenderable } = renderRecordsAnswer(runs, instance.config.format);
  if (unrenderable !== null) {
    const bad = runs[unrenderable.run] as ConsumedRun;
    instance.rewind([
      { topic: bad.topic, partition: bad.partition, offset: unrenderable.offset },
      ...runs
        .slice(unrenderable.run + 1)
        .map((r) => ({ topic: r.topic, partition: r.partition, offset: r.fromOffset })),
    ]);
    if (unrenderable.written === 0) throw unrenderable.error;
  }
  return new RenderedJson(bytes);
}
