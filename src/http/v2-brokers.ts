/** Confluent REST v2 `GET /brokers`: the broker ids of the cluster; one node is one broker. */
import type { Broker } from '../broker/broker.js';
import type { HandlerTable } from './openapi.js';

export function v2BrokerHandlers(broker: Broker): Pick<HandlerTable, 'listBrokers'> {
  return {
    listBrokers: () => ({ brokers: [broker.nodeId] }),
  };
}
