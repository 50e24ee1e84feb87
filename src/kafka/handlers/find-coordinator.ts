/**
 * FindCoordinator (api key 10) for consumer groups: the node that coordinates a group is the
 * leader of its `__consumer_offsets` partition; on a single node, this one. Transaction
 * coordinators do not exist here (no transactions): TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import { advertisedAddress, errorCodeOf, errorMessageOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v3+ is flexible (v4 batches keys); librdkafka 2.0 and kafka-python 2.0 use ≤2. */
const VERSIONS = { min: 0, max: 2 };
const GROUP_KEY_TYPE = 0;

export function findCoordinatorApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, coordinator, logger } = ctx;
  return {
    apiKey: API_KEYS.FindCoordinator,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const none = { throttleTimeMs: 0, nodeId: -1, host: '', port: -1 };
      if (request.keyType !== GROUP_KEY_TYPE) {
        return {
          ...none,
          // Not COORDINATOR_NOT_AVAILABLE, which clients retry until their timeout: this one is fatal at once.
          errorCode: KAFKA_ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code,
          errorMessage: 'transactions are not supported, so there is no transaction coordinator',
        };
      }
      try {
        const node = coordinator.coordinatorOf(request.key as string);
        // TODO(cluster): answer another node once nodes register their Kafka addresses.
        if (node !== broker.nodeId) {
          return {
            ...none,
            errorCode: KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE.code,
            errorMessage: `node ${node} coordinates this group; its Kafka address is not known here yet`,
          };
        }
        const self = advertisedAddress(ctx, context);
        return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: node, host: self.host, port: self.port };
      } catch (err) {
        return { ...none, errorCode: errorCodeOf(err, logger, 'FindCoordinator'), errorMessage: errorMessageOf(err) };
      }
    },
  };
}
