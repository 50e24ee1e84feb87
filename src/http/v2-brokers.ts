/** Confluent REST v2 `GET /brokers`: the broker ids of the cluster (its live nodes; one node alone on a single node). */
import type { Broker } from '../broker/broker.js';
import type { HandlerTable } from './openapi.js';

export function v2BrokerHandlers(broker: Broker): Pick<HandlerTable, 'listBrokers'> {
  return {
    listBrokers: () => ({ brokers: broker.clusterNodes().map((n) => n.nodeId) }),
  };
}
