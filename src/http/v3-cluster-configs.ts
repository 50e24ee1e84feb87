/**
 * Confluent REST v3 cluster-wide broker configs (`/broker-configs`, Confluent's `{config_type}-configs`
 * with the one type `broker`): Kafka's dynamic configs of the default broker entity. The list holds
 * only the configs set cluster-wide at run time; writes go through broker.alterBrokerConfigs.
 */

import type { Broker } from '../broker/broker.js';
import type { BrokerConfigEntry } from '../broker/broker-config.js';
import { NoClusterConfigError, UnknownConfigError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { brokerSynonyms } from './v3-brokers.js';
import { configChangesOf } from './v3-configs.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type ClusterConfigData = components['schemas']['ClusterConfigData'];

export function v3ClusterConfigHandlers(
  broker: Broker,
): Pick<
  HandlerTable,
  | 'listKafkaClusterConfigs'
  | 'getKafkaClusterConfig'
  | 'updateKafkaClusterConfig'
  | 'deleteKafkaClusterConfig'
  | 'updateKafkaClusterConfigs'
> {
  return {
    listKafkaClusterConfigs: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return collection(
        'KafkaClusterConfigList',
        urls.url([], 'broker-configs'),
        broker.clusterBrokerConfigs().map((entry) => clusterConfigData(urls, entry)),
      );
    },

    getKafkaClusterConfig: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return clusterConfigData(urls, requireClusterValue(broker, params.name));
    },

    updateKafkaClusterConfig: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireKnown(broker, params.name);
      await broker.alterBrokerConfigs('cluster', [{ name: params.name, value: body.value }]);
    },

    // Confluent looks the config up among the cluster-wide ones first: one without a value is 404.
    deleteKafkaClusterConfig: async ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireClusterValue(broker, params.name);
      await broker.alterBrokerConfigs('cluster', [{ name: params.name, value: null }]);
    },

    // No lookup first, as Confluent: the broker refuses an unknown name with 400 / 40002.
    updateKafkaClusterConfigs: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      await broker.alterBrokerConfigs('cluster', configChangesOf(body.data), body.validate_only === true);
    },
  };
}

function requireKnown(broker: Broker, name: string): void {
  if (!broker.brokerConfigs().some((c) => c.name === name)) throw new UnknownConfigError(name, 'the cluster');
}

function requireClusterValue(broker: Broker, name: string): BrokerConfigEntry {
  const entry = broker.clusterBrokerConfigs().find((c) => c.name === name);
  if (entry) return entry;
  requireKnown(broker, name);
  throw new NoClusterConfigError(name);
}

function clusterConfigData(urls: ClusterUrls, entry: BrokerConfigEntry): ClusterConfigData {
  return {
    kind: 'KafkaClusterConfig',
    metadata: {
      self: urls.url([], 'broker-configs', encodeURIComponent(entry.name)),
      resource_name: `${urls.resourceName()}/broker-config=${entry.name}`,
    },
    cluster_id: urls.clusterId,
    config_type: 'BROKER',
    name: entry.name,
    value: entry.value,
    is_default: false,
    is_read_only: entry.readOnly,
    is_sensitive: false,
    source: entry.source,
    synonyms: brokerSynonyms(entry),
  };
}
