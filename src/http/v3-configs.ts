/**
 * Confluent REST v3 topic configs: list and get (Kafka's DescribeConfigs with synonyms), the `-`
 * wildcard for every topic's configs, set and reset one, and the `configs:alter` batch
 * (IncrementalAlterConfigs). Every change goes through broker.alterTopicConfigs, which validates
 * all of it first and applies it to the live logs.
 */

import type { Broker, ConfigChange } from '../broker/broker.js';
import type { BrokerConfigEntry } from '../broker/broker-config.js';
import { type ResolvedConfig, topicConfigDef } from '../broker/topic-admin.js';
import { topicConfigSynonyms } from '../broker/topic-config-synonyms.js';
import { InvalidConfigError, UnknownConfigError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type TopicConfigData = components['schemas']['TopicConfigData'];
type AlterConfigEntry = components['schemas']['AlterConfigEntry'];

export function v3ConfigHandlers(
  broker: Broker,
): Pick<
  HandlerTable,
  | 'listKafkaTopicConfigs'
  | 'listKafkaAllTopicConfigs'
  | 'getKafkaTopicConfig'
  | 'updateKafkaTopicConfig'
  | 'deleteKafkaTopicConfig'
  | 'updateKafkaTopicConfigBatch'
> {
  return {
    listKafkaTopicConfigs: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const brokerConfigs = brokerConfigsByName(broker);
      const data = broker
        .topicConfigs(params.topic_name)
        .map((config) => topicConfigData(urls, params.topic_name, config, brokerConfigs));
      return collection('KafkaTopicConfigList', urls.url([['topics', params.topic_name]], 'configs'), data);
    },

    listKafkaAllTopicConfigs: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const brokerConfigs = brokerConfigsByName(broker);
      // Internal topics too, as Kafka's DescribeConfigs of every topic the admin client lists with them.
      const data = broker
        .listTopics({ includeInternal: true })
        .filter((topic) => http.access.may('DESCRIBE_CONFIGS', 'TOPIC', topic))
        .flatMap((topic) => broker.topicConfigs(topic).map((c) => topicConfigData(urls, topic, c, brokerConfigs)));
      return collection('KafkaTopicConfigList', urls.url([['topics', '-']], 'configs'), data);
    },

    getKafkaTopicConfig: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const config = broker.topicConfigs(params.topic_name).find((c) => c.name === params.name);
      if (!config) throw new UnknownConfigError(params.name, `topic ${params.topic_name}`);
      return topicConfigData(urls, params.topic_name, config, brokerConfigsByName(broker));
    },

    updateKafkaTopicConfig: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireKnownConfig(broker, params.topic_name, params.name);
      await broker.alterTopicConfigs(params.topic_name, [{ name: params.name, value: body.value }]);
    },

    deleteKafkaTopicConfig: async ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireKnownConfig(broker, params.topic_name, params.name);
      await broker.alterTopicConfigs(params.topic_name, [{ name: params.name, value: null }]);
    },

    updateKafkaTopicConfigBatch: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      await broker.alterTopicConfigs(params.topic_name, configChangesOf(body.data), body.validate_only === true);
    },
  };
}

/** The entries of a `configs:alter` body (topic or broker) as changes: SET needs a value, DELETE resets. */
export function configChangesOf(entries: readonly AlterConfigEntry[]): ConfigChange[] {
  const seen = new Set<string>();
  return entries.map(({ name, value, operation = 'SET' }) => {
    // Kafka refuses a request that names a config twice (InvalidRequestException).
    if (seen.has(name)) throw new InvalidConfigError(`Config ${name} appears more than once in the request.`);
    seen.add(name);
    if (operation === 'DELETE') return { name, value: null };
    if (value === null || value === undefined) {
      throw new InvalidConfigError(`Config ${name}: operation SET needs a value.`);
    }
    return { name, value };
  });
}

/**
 * PUT and DELETE of one config answer 404 for a name Samsa does not know, as Confluent does
 * (it looks the config up first); the batch leaves that to the broker (400 / 40002, as Kafka).
 * The topic is looked up first so an unknown topic stays 404 / 40403.
 */
function requireKnownConfig(broker: Broker, topic: string, name: string): void {
  broker.describeTopic(topic);
  if (!topicConfigDef(name)) throw new UnknownConfigError(name, `topic ${topic}`);
}

function brokerConfigsByName(broker: Broker): Map<string, BrokerConfigEntry> {
  return new Map(broker.brokerConfigs().map((c) => [c.name, c]));
}

function topicConfigData(
  urls: ClusterUrls,
  topic: string,
  config: ResolvedConfig,
  brokerConfigs: ReadonlyMap<string, BrokerConfigEntry>,
): TopicConfigData {
  const steps = [
    ['topics', topic],
    ['configs', config.name],
  ] as const;
  return {
    kind: 'KafkaTopicConfig',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    topic_name: topic,
    name: config.name,
    value: config.value,
    // Kafka's ConfigEntry.isDefault(): only a built-in default counts, not a broker-wide setting.
    is_default: config.source === 'DEFAULT_CONFIG',
    is_read_only: false,
    is_sensitive: false,
    source: config.source,
    synonyms: topicConfigSynonyms(config, brokerConfigs),
  };
}
