/** Confluent REST v3 clusters: `GET /v3/clusters` and `GET /v3/clusters/{cluster_id}`. One cluster per node set. */
import type { Broker } from '../broker/broker.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type ClusterData = components['schemas']['ClusterData'];

export function v3ClusterHandlers(broker: Broker): Pick<HandlerTable, 'listKafkaClusters' | 'getKafkaCluster'> {
  return {
    listKafkaClusters: (_input, http) =>
      collection('KafkaClusterList', `${http.baseUrl}/v3/clusters`, [
        clusterData(broker, new ClusterUrls(http.baseUrl, broker.clusterId)),
      ]),
    getKafkaCluster: ({ params }, http) => clusterData(broker, clusterUrls(broker, params.cluster_id, http.baseUrl)),
  };
}

/** Every link is served; `acls` answers that ACLs are not available yet (see v3-acls.ts). */
function clusterData(broker: Broker, urls: ClusterUrls): ClusterData {
  return {
    kind: 'KafkaCluster',
    metadata: urls.metadata(),
    cluster_id: urls.clusterId,
    // The controller as this node last saw it (the etcd election's winner; a single node is its own);
    // null in the moment between two controllers, as Confluent answers while Kafka has none.
    controller: broker.controllerId < 0 ? null : urls.link([['brokers', broker.controllerId]]),
    acls: urls.link([], 'acls'),
    brokers: urls.link([], 'brokers'),
    broker_configs: urls.link([], 'broker-configs'),
    consumer_groups: urls.link([], 'consumer-groups'),
    topics: urls.link([], 'topics'),
    partition_reassignments: urls.link([], 'topics/-/partitions/-/reassignment'),
  };
}
