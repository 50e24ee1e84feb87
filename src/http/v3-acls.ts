/**
 * Confluent REST v3 ACLs, before Samsa has an authorizer: every operation answers 400 / 40002
 * saying ACLs are not available and authorization is off, which is what Confluent's proxy answers
 * in front of a Kafka cluster without an authorizer. The cluster's `acls` link leads here.
 */
import type { Broker } from '../broker/broker.js';
import { SecurityDisabledError } from '../errors.js';
import type { HandlerTable } from './openapi.js';
import { clusterUrls } from './v3-resource.js';

type AclOperation = 'getKafkaAcls' | 'createKafkaAcls' | 'deleteKafkaAcls' | 'batchCreateKafkaAcls';

export function v3AclHandlers(broker: Broker): Pick<HandlerTable, AclOperation> {
  // An unknown cluster is still 404 / 404 first, as on every /v3/clusters/{cluster_id} route.
  const unavailable = ({ params }: { params: { cluster_id: string } }, http: { baseUrl: string }): never => {
    clusterUrls(broker, params.cluster_id, http.baseUrl);
    throw new SecurityDisabledError();
  };
  return {
    getKafkaAcls: unavailable,
    createKafkaAcls: unavailable,
    deleteKafkaAcls: unavailable,
    batchCreateKafkaAcls: unavailable,
  };
}
