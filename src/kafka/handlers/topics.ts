/**
 * CreateTopics (api key 19), DeleteTopics (api key 20) and CreatePartitions (api key 37) through the
 * broker's topic administration (the metadata store's, so any node of a cluster takes them), one
 * answer per topic. Partition count and replication factor -1 take the broker's defaults; manual
 * replica assignments are refused (INVALID_REQUEST; INVALID_REPLICA_ASSIGNMENT for new
 * partitions), as is a name given twice in one request (Kafka's rule). CreateTopics v5+ answers
 * the topic's partition count, replication factor and every config with its source (KIP-525), v7
 * its topic id; DeleteTopics v6 names topics by name or by id (KIP-516). A partition count may only
 * grow (INVALID_PARTITIONS otherwise).
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { CONFIG_SOURCE_CODES } from './configs.js';
import {
  authorizedFor,
  brokerTopicId,
  errorCodeOf,
  errorMessageOf,
  type KafkaApi,
  type KafkaApiContext,
  wireTopicId,
  ZERO_UUID,
} from './kafka-api.js';

/** v5+ is flexible and answers the created topic's configs; librdkafka 2.0 uses ≤4. */
const CREATE_VERSIONS = { min: 0, max: 7 };
/** v4+ is flexible, v6 may name topics by id; librdkafka 2.0 uses ≤1. */
const DELETE_VERSIONS = { min: 0, max: 6 };
/** v2+ is flexible. */
const CREATE_PARTITIONS_VERSIONS = { min: 0, max: 3 };
/** The first DeleteTopics version naming topics as (name, id) pairs. */
const FIRST_TOPIC_ID_DELETE_VERSION = 6;
const MAX_TOPICS_PER_REQUEST = 1000;

interface CreatableTopic {
  name: string;
  numPartitions: number;
  replicationFactor: number;
  assignments: unknown[];
  configs: Array<{ name: string; value: string | null }>;
}

export function createTopicsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.CreateTopics,
    versions: CREATE_VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      // Kafka: CLUSTER CREATE covers every topic; else TOPIC CREATE per name.
      const clusterCreate = authorized('CREATE', 'CLUSTER', CLUSTER_RESOURCE_NAME);
      const asked = request.topics as CreatableTopic[];
      const counts = new Map<string, number>();
      for (const t of asked) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const topics: Message[] = [];
      for (const [i, t] of asked.entries()) {
        const answer: Message = { name: t.name, topicId: ZERO_UUID, errorCode: 0, errorMessage: null };
        topics.push(answer);
        if (i >= MAX_TOPICS_PER_REQUEST) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          answer.errorMessage = `at most ${MAX_TOPICS_PER_REQUEST} topics per request`;
          continue;
        }
        if ((counts.get(t.name) ?? 0) > 1) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          answer.errorMessage = `topic '${t.name}' is named more than once in the request`;
          continue;
        }
        if (!clusterCreate && !authorized('CREATE', 'TOPIC', t.name)) {
          answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
          answer.errorMessage = 'Authorization failed.';
          continue;
        }
        if (t.assignments.length > 0) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          answer.errorMessage = 'manual replica assignments are not supported; give a partition count';
          continue;
        }
        const configs: Record<string, string> = {};
        for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
        const validateOnly = request.validateOnly === true;
        try {
          const created = await broker.createTopic(t.name, {
            ...(t.numPartitions === -1 ? {} : { partitions: t.numPartitions }),
            ...(t.replicationFactor === -1 ? {} : { replicationFactor: t.replicationFactor }),
            configs,
            validateOnly,
          });
          // A topic only planned (validate_only) has no id yet: Kafka answers the zero uuid.
          if (!validateOnly) answer.topicId = wireTopicId(created.topicId);
          // A planned topic's description lists no partitions: its count is the asked one or the default.
          answer.numPartitions = validateOnly
            ? t.numPartitions === -1
              ? Number(broker.brokerConfigs().find((c) => c.name === 'num.partitions')?.value ?? 1)
              : t.numPartitions
            : created.partitions.length;
          answer.replicationFactor = created.replicationFactor;
        } catch (err) {
          answer.errorCode = errorCodeOf(err, logger, 'CreateTopics');
          answer.errorMessage = errorMessageOf(err);
          continue;
        }
        try {
          const resolved = validateOnly ? broker.previewTopicConfigs(configs) : broker.topicConfigs(t.name);
          answer.configs = resolved.map((c) => ({
            name: c.name,
            value: c.value,
            readOnly: false,
            configSource: CONFIG_SOURCE_CODES[c.source] ?? 0,
            isSensitive: false,
          }));
        } catch (err) {
          // Created, but its configs cannot be told (deleted at once, say): Kafka's TopicConfigErrorCode.
          answer.topicConfigErrorCode = errorCodeOf(err, logger, 'CreateTopics configs');
          answer.configs = null;
        }
      }
      return { throttleTimeMs: 0, topics };
    },
  };
}

export function deleteTopicsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.DeleteTopics,
    versions: DELETE_VERSIONS,
    handle: async (header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const asked: Array<{ name: string | null; topicId: string }> =
        header.requestApiVersion >= FIRST_TOPIC_ID_DELETE_VERSION
          ? (request.topics as Array<{ name: string | null; topicId: string }>)
          : (request.topicNames as string[]).map((name) => ({ name, topicId: ZERO_UUID }));
      const responses: Message[] = [];
      for (const [i, t] of asked.entries()) {
        const answer: Message = { name: t.name, topicId: t.topicId, errorCode: 0, errorMessage: null };
        responses.push(answer);
        if (i >= MAX_TOPICS_PER_REQUEST) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          continue;
        }
        let name = t.name;
        if (name === null) {
          name = broker.topicNamesOf([brokerTopicId(t.topicId)])[0] ?? null;
          if (name === null) {
            answer.errorCode = KAFKA_ERRORS.UNKNOWN_TOPIC_ID.code;
            answer.errorMessage = `no topic has id ${t.topicId}`;
            continue;
          }
          answer.name = name;
        } else answer.topicId = wireTopicId(broker.topicIdOf(name));
        if (!authorized('DELETE', 'TOPIC', name)) {
          answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
          continue;
        }
        try {
          await broker.deleteTopic(name);
        } catch (err) {
          answer.errorCode = errorCodeOf(err, logger, 'DeleteTopics');
          answer.errorMessage = errorMessageOf(err);
        }
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}

export function createPartitionsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.CreatePartitions,
    versions: CREATE_PARTITIONS_VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const asked = request.topics as Array<{ name: string; count: number; assignments: unknown[] | null }>;
      const counts = new Map<string, number>();
      for (const t of asked) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      const results: Message[] = [];
      for (const [i, t] of asked.entries()) {
        const answer: Message = { name: t.name, errorCode: 0, errorMessage: null };
        results.push(answer);
        if (i >= MAX_TOPICS_PER_REQUEST || (counts.get(t.name) ?? 0) > 1) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          answer.errorMessage =
            i >= MAX_TOPICS_PER_REQUEST
              ? `at most ${MAX_TOPICS_PER_REQUEST} topics per request`
              : `topic '${t.name}' is named more than once in the request`;
          continue;
        }
        // Kafka: adding partitions takes ALTER on the topic.
        if (!authorized('ALTER', 'TOPIC', t.name)) {
          answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
          answer.errorMessage = `not authorized to ALTER topic '${t.name}'`;
          continue;
        }
        if (t.assignments !== null) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REPLICA_ASSIGNMENT.code;
          answer.errorMessage = 'manual replica assignments are not supported; give only the new partition count';
          continue;
        }
        try {
          await broker.createPartitions(t.name, t.count, request.validateOnly === true);
        } catch (err) {
          answer.errorCode = errorCodeOf(err, logger, 'CreatePartitions');
          answer.errorMessage = errorMessageOf(err);
        }
      }
      return { throttleTimeMs: 0, results };
    },
  };
}
