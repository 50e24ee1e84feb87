/**
 * Confluent REST v3 brokers and their configs. One node is one broker. Broker configs are
 * read-only here: they are start-up settings (flags, `SAMSA_*` variables), and changing them
 * means a restart, so only the GET routes exist.
 */

import type { Broker } from '../broker/broker.js';
import type { BrokerConfigEntry } from '../broker/broker-config.js';
import { UnknownBrokerError, UnknownConfigError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type BrokerData = components['schemas']['BrokerData'];
type BrokerConfigData = components['schemas']['BrokerConfigData'];
type ConfigSynonym = components['schemas']['ConfigSynonym'];

export function v3BrokerHandlers(
  broker: Broker,
): Pick<HandlerTable, 'listKafkaBrokers' | 'getKafkaBroker' | 'listKafkaBrokerConfigs' | 'getKafkaBrokerConfig'> {
  return {
    listKafkaBrokers: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return collection('KafkaBrokerList', urls.url([], 'brokers'), [brokerData(urls, broker.nodeId, http.baseUrl)]);
    },

    getKafkaBroker: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      return brokerData(urls, params.broker_id, http.baseUrl);
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

    getKafkaBrokerConfig: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      requireBroker(broker, params.broker_id);
      const entry = broker.brokerConfigs().find((c) => c.name === params.name);
      if (!entry) throw new UnknownConfigError(params.name, `broker ${params.broker_id}`);
      return brokerConfigData(urls, params.broker_id, entry);
    },
  };
}

function requireBroker(broker: Broker, brokerId: number): void {
  if (brokerId !== broker.nodeId) throw new UnknownBrokerError(brokerId);
}

/** `host` and `port` are where clients reach this node's HTTP API: Samsa has no Kafka listener yet. */
function brokerData(urls: ClusterUrls, brokerId: number, baseUrl: string): BrokerData {
  const { hostname, port, protocol } = new URL(baseUrl);
  const steps = [['brokers', brokerId]] as const;
  return {
    kind: 'KafkaBroker',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    broker_id: brokerId,
    // URL keeps IPv6 brackets in hostname; Kafka reports the bare address.
    host: hostname.replace(/^\[(.*)\]$/, '$1'),
    port: port ? Number(port) : protocol === 'https:' ? 443 : 80,
    rack: null,
    configs: urls.link(steps, 'configs'),
    partition_replicas: urls.link(steps, 'partition-replicas'),
  };
}

function brokerConfigData(urls: ClusterUrls, brokerId: number, entry: BrokerConfigEntry): BrokerConfigData {
  const synonyms: ConfigSynonym[] = [];
  if (entry.source === 'STATIC_BROKER_CONFIG') {
    synonyms.push({ name: entry.name, value: entry.value, source: 'STATIC_BROKER_CONFIG' });
  }
  synonyms.push({ name: entry.name, value: entry.defaultValue, source: 'DEFAULT_CONFIG' });
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
    // Start-up settings: changing one takes a restart, so none is writable over HTTP.
    is_read_only: true,
    is_sensitive: false,
    source: entry.source,
    synonyms,
  };
}
