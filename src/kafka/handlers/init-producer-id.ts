/**
 * InitProducerId (api key 22) for idempotent producers (KIP-98), what Java clients (3.0+),
 * librdkafka and kafkajs ask for before their first Produce when idempotence is on: a producer id
 * and epoch, which the producer stamps with sequence numbers into its batches so that the
 * partition leaders keep its records exactly once and in order (see
 * broker/producer-state-manager.ts). Transactions are not supported: a TransactionalId is answered
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report at once as fatal, rather than an error
 * they would retry until their timeout.
 */

import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import { clientHost, errorCodeOf, int64ToNumber, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v2+ is flexible; v3 names the producer's current id and epoch (KIP-360); v4 is v3 (KIP-588 errors). */
const VERSIONS = { min: 0, max: 4 };

export function initProducerIdApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.InitProducerId,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const refused = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1n, producerEpoch: -1 });
      if (request.transactionalId !== null) return refused(KAFKA_ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code);
      // An idempotent producer: CLUSTER IDEMPOTENT_WRITE, or WRITE on any topic (KIP-679).
      const { authorizer } = ctx;
      if (authorizer?.enabled) {
        const host = clientHost(context);
        const allowed =
          authorizer.authorize(context.principal, host, 'IDEMPOTENT_WRITE', 'CLUSTER', CLUSTER_RESOURCE_NAME) ||
          authorizer.authorizeByResourceType(context.principal, host, 'WRITE', 'TOPIC');
        if (!allowed) return refused(KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code);
      }
      const producerId = int64ToNumber(request.producerId);
      const producerEpoch = request.producerEpoch as number;
      // Kafka's rule: both -1 (a new producer) or both set (one that knows its id and epoch).
      if ((producerId === -1) !== (producerEpoch === -1)) return refused(KAFKA_ERRORS.INVALID_REQUEST.code);
      try {
        const given = await broker.initProducerId(producerId === -1 ? null : { producerId, producerEpoch });
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          producerId: BigInt(given.producerId),
          producerEpoch: given.producerEpoch,
        };
      } catch (err) {
        return refused(errorCodeOf(err, logger, 'InitProducerId'));
      }
    },
  };
}
