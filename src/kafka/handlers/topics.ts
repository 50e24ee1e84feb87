/**
 * CreateTopics (api key 19) and DeleteTopics (api key 20) through the broker's topic
 * administration, one answer per topic. Partition count and replication factor -1 take the
 * broker's defaults; manual replica assignments are refused (INVALID_REQUEST), as is a name given
 * twice in one request (Kafka's rule).
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, errorMessageOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v5+ is flexible; librdkafka 2.0 uses ≤4. */
const CREATE_VERSIONS = { min: 0, max: 4 };
/** v4+ is flexible; librdkafka 2.0 uses ≤1. */
const DELETE_VERSIONS = { min: 0, max: 3 };
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
        const answer: Message = { name: t.name, errorCode: 0, errorMessage: null };
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
        try {
          await broker.createTopic(t.name, {
            ...(t.numPartitions === -1 ? {} : { partitions: t.numPartitions }),
            ...(t.replicationFactor === -1 ? {} : { replicationFactor: t.replicationFactor }),
            configs,
            validateOnly: request.validateOnly === true,
          });
        } catch (err) {
          answer.errorCode = errorCodeOf(err, logger, 'CreateTopics');
          answer.errorMessage = errorMessageOf(err);
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
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const responses: Message[] = [];
      for (const [i, name] of (request.topicNames as string[]).entries()) {
        const answer: Message = { name, errorCode: 0, errorMessage: null };
        responses.push(answer);
        if (i >= MAX_TOPICS_PER_REQUEST) {
          answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
          continue;
        }
        if (!authorized('DELETE', 'TOPIC', name)) {
          answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
          continue;
        }
        try {
          await broker.deleteTopic(name);
        } catch (err) {
          answer.errorCode = errorCodeOf(err, logger, 'DeleteTopics');
        }
      }
      return { throttleTimeMs: 0, responses };
    },
  };
}
