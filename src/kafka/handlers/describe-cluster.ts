/**
 * DescribeCluster (api key 60, KIP-700): the cluster id, the controller and every broker a client
 * can reach (the same list Metadata gives, see kafkaBrokers), without any topic. Authorized
 * operations are not computed: Kafka's "not asked" value, -2^31, whatever the request says.
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import { authorizedFor, type KafkaApi, type KafkaApiContext, kafkaBrokers } from './kafka-api.js';

const VERSIONS = { min: 0, max: 0 };
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export function describeClusterApi(ctx: KafkaApiContext): KafkaApi {
  const { broker } = ctx;
  return {
    apiKey: API_KEYS.DescribeCluster,
    versions: VERSIONS,
    handle: async (_header, _request, context) => {
      // Kafka: DescribeCluster takes CLUSTER DESCRIBE; without it, the error and no brokers.
      if (!authorizedFor(ctx, context)('DESCRIBE', 'CLUSTER', CLUSTER_RESOURCE_NAME)) {
        return {
          throttleTimeMs: 0,
          errorCode: KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code,
          errorMessage: 'not authorized to DESCRIBE the cluster',
          clusterId: broker.clusterId,
          controllerId: -1,
          brokers: [],
          clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
        };
      }
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        clusterId: broker.clusterId,
        controllerId: broker.controllerId,
        brokers: [...kafkaBrokers(ctx, context).values()].map((b) => ({
          brokerId: b.nodeId,
          host: b.host,
          port: b.port,
          rack: b.rack,
        })),
        clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      };
    },
  };
}
