/**
 * Confluent REST v3 brokers and their configs. One node is one broker. A broker config is
 * writable when Kafka's Dynamic Update Mode lets it change at run time (the broker-wide topic
 * defaults); the rest are start-up settings (flags, `SAMSA_*` variables). The `-` wildcard lists
 * the configs of every broker.
 */

import type { Broker, ClusterNode } from '../broker/broker.js';
import type { BrokerConfigEntry } from '../broker/broker-config.js';
import { UnknownBrokerError, UnknownConfigError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { configChangesOf } from './v3-configs.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type BrokerData = components['schemas']['BrokerData'];
type BrokerConfigData = components['schemas']['BrokerConfigData'];
type ConfigSynonym = components['schemas']['ConfigSynonym'];

export function v3BrokerHandlers(
  broker: Broker,
): Pick<
  HandlerTable,
  | 'listKafkaBrokers'
  | 'getKafkaBroker'
  | 'listKafkaBrokerConfigs'
  | 'listKafkaAllBrokerConfigs'
  | 'getKafkaBrokerConfig'
  | 'updateKafkaBrokerConfig'
  | 'deleteKafkaBrokerConfig'
  | 'updateKafkaBrokerConfigBatch'
> {
  return {
    listKafkaBrokers: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return collection(
        'KafkaBrokerList',
        urls.url([], 'brokers'),
        broker.clusterNodes().map((n) => brokerData(urls, n, http.baseUrl)),
      );
    },

    getKafkaBroker: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const node = broker.clusterNodes().find((n) => n.nodeId === params.broker_id);
      if (!node) throw new UnknownBrokerError(params.broker_id);
      return brokerData(urls, node, http.baseUrl);
    },

    listKafkaBrokerConfigs: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      return collection(
        'KafkaBrokerConfigList',
        urls.url([['brokers', params.broker_id]], 'configs'),
        broker.brokerConfigs().map((entry) => brokerConfigData(urls, params.broker_id, entry)),
      );
    },

    // One node, one broker: every broker's configs are this node's.
    listKafkaAllBrokerConfigs: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return collection(
        'KafkaBrokerConfigList',
        urls.url([['brokers', '-']], 'configs'),
        broker.brokerConfigs().map((entry) => brokerConfigData(urls, broker.nodeId, entry)),
      );
    },

    getKafkaBrokerConfig: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      return brokerConfigData(urls, params.broker_id, requireConfig(broker, params.broker_id, params.name));
    },

    updateKafkaBrokerConfig: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      requireConfig(broker, params.broker_id, params.name);
      await broker.alterBrokerConfigs('broker', [{ name: params.name, value: body.value }]);
    },

    deleteKafkaBrokerConfig: async ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      requireConfig(broker, params.broker_id, params.name);
      await broker.alterBrokerConfigs('broker', [{ name: params.name, value: null }]);
    },

    updateKafkaBrokerConfigBatch: async ({ params, body }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      const changes = configChangesOf(body.data);
      // Confluent looks every name up first, so an unknown one is 404 here (the cluster-wide batch leaves it to Kafka).
      for (const c of changes) requireConfig(broker, params.broker_id, c.name);
      await broker.alterBrokerConfigs('broker', changes, body.validate_only === true);
    },
  };
}

/** The config, or 404 / 404 for a name Samsa does not know, as Confluent answers after looking it up. */
function requireConfig(broker: Broker, brokerId: number, name: string): BrokerConfigEntry {
  const entry = broker.brokerConfigs().find((c) => c.name === name);
  if (!entry) throw new UnknownConfigError(name, `broker ${brokerId}`);
  return entry;
}

function requireBroker(broker: Broker, brokerId: number): void {
  if (brokerId !== broker.nodeId) throw new UnknownBrokerError(brokerId);
}

/**
 * `host` and `port` are where clients reach the node's HTTP API: its advertised URL in cluster
 * mode, else the URL of this request (Samsa has no Kafka listener yet).
 */
function brokerData(urls: ClusterUrls, node: ClusterNode, baseUrl: string): BrokerData {
  const brokerId = node.nodeId;
  const { hostname, port, protocol } = new URL(node.advertisedUrl || baseUrl);
  const steps = [['brokers', brokerId]] as const;
  return {
    kind: 'KafkaBroker',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    broker_id: brokerId,
    // URL keeps IPv6 brackets in hostname; Kafka reports the bare address.
    host: hostname.replace(/^\[(.*)\]$/, '$1'),
    port: port ? Number(port) : protocol === 'https:' ? 443 : 80,
    rack: node.rack ?? null,
    configs: urls.link(steps, 'configs'),
    partition_replicas: urls.link(steps, 'partition-replicas'),
  };
}

/** Kafka's synonym list of a broker config: every level with a value, under the config's own name. */
export function brokerSynonyms(entry: BrokerConfigEntry): ConfigSynonym[] {
  return entry.synonyms.map(({ value, source }) => ({ name: entry.name, value, source }));
}

function brokerConfigData(urls: ClusterUrls, brokerId: number, entry: BrokerConfigEntry): BrokerConfigData {
  return {
    kind: 'KafkaBrokerConfig',
    metadata: urls.metadata([
      ['brokers', brokerId],
      ['configs', entry.name],
    ]),
    cluster_id: urls.clusterId,
    broker_id: brokerId,
    name: entry.name,
    value: entry.value,
    is_default: entry.source === 'DEFAULT_CONFIG',
    is_read_only: entry.readOnly,
    is_sensitive: false,
    source: entry.source,
    synonyms: brokerSynonyms(entry),
  };
}
