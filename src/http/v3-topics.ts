/**
 * Confluent REST v3 topic admin: list, get, create (Kafka's CreateTopics), grow the partition
 * count (CreatePartitions) and delete (DeleteTopics), all through the broker facade.
 */
import type { Broker, TopicDescription } from '../broker/broker.js';
import { isInternalTopic } from '../broker/topic-name.js';
import { InvalidConfigError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type TopicData = components['schemas']['TopicData'];
type TopicOperation = components['schemas']['TopicOperation'];
type ConfigNameValue = components['schemas']['ConfigNameValue'];

// No ACLs yet: every client may do everything Kafka's topic ACLs can grant.
const ALL_TOPIC_OPERATIONS: readonly TopicOperation[] = [
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
];

export function v3TopicHandlers(
  broker: Broker,
): Pick<
  HandlerTable,
  'listKafkaTopics' | 'createKafkaTopic' | 'getKafkaTopic' | 'updatePartitionCountKafkaTopic' | 'deleteKafkaTopic'
> {
  return {
    listKafkaTopics: ({ params, query }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const topics = broker
        .listTopics()
        .filter((name) => http.access.may('DESCRIBE', 'TOPIC', name))
        .map((name) => broker.describeTopic(name));
      return collection(
        'KafkaTopicList',
        urls.url([], 'topics'),
        topics.map((t) => topicData(urls, t, query.includeAuthorizedOperations)),
      );
    },

    getKafkaTopic: ({ params, query }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return topicData(urls, broker.describeTopic(params.topic_name), query.include_authorized_operations);
    },

    createKafkaTopic: async ({ params, body }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const validateOnly = body.validate_only === true;
      const created = await broker.createTopic(body.topic_name, {
        partitions: body.partitions_count,
        replicationFactor: body.replication_factor,
        configs: configOverrides(body.configs ?? []),
        validateOnly,
      });
      const data = topicData(urls, created, false);
      if (validateOnly) {
        // The broker describes no partitions for a topic it did not create; report the count it would have.
        data.partitions_count = body.partitions_count ?? defaultPartitionCount(broker);
        return data;
      }
      http.setStatus(201);
      http.setHeader('Location', data.metadata.self);
      return data;
    },

    updatePartitionCountKafkaTopic: async ({ params, body }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return topicData(urls, await broker.createPartitions(params.topic_name, body.partitions_count), false);
    },

    deleteKafkaTopic: async ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      await broker.deleteTopic(params.topic_name);
    },
  };
}

export function topicData(urls: ClusterUrls, topic: TopicDescription, withOperations: boolean): TopicData {
  const steps = [['topics', topic.name]] as const;
  return {
    kind: 'KafkaTopic',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    topic_name: topic.name,
    is_internal: isInternalTopic(topic.name),
    replication_factor: topic.replicationFactor,
    partitions_count: topic.partitions.length,
    partitions: urls.link(steps, 'partitions'),
    configs: urls.link(steps, 'configs'),
    partition_reassignments: urls.link(steps, 'partitions/-/reassignment'),
    authorized_operations: withOperations ? [...ALL_TOPIC_OPERATIONS] : [],
  };
}

/** `[{name, value}]` → `{name: value}`. A null value means "not set"; a name given twice is refused, as Kafka does. */
function configOverrides(configs: readonly ConfigNameValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { name, value } of configs) {
    if (seen.has(name)) throw new InvalidConfigError(`Config ${name} is given more than once.`);
    seen.add(name);
    if (value !== null && value !== undefined) out[name] = value;
  }
  return out;
}

function defaultPartitionCount(broker: Broker): number {
  return Number(broker.brokerConfigs().find((c) => c.name === 'num.partitions')?.value ?? 1);
}
