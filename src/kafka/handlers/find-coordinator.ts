/**
 * FindCoordinator (api key 10) for consumer groups: the node that coordinates a group is the
 * leader of its `__consumer_offsets` partition, answered with its Kafka listener (kafkaBrokers);
 * COORDINATOR_NOT_AVAILABLE while that partition has no leader a client can reach, so the client
 * asks again. v4 asks for many keys at once (KIP-699), each answered on its own. Transaction
 * coordinators do not exist here (no transactions): TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
 */
import { CONSUMER_OFFSETS_TOPIC } from '../../broker/broker.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import {
  type Authorized,
  authorizedFor,
  errorCodeOf,
  errorMessageOf,
  type KafkaApi,
  type KafkaApiContext,
  type KafkaBroker,
  kafkaBrokers,
} from './kafka-api.js';

/** v3+ is flexible, v4 batches keys; librdkafka 2.0 and kafka-python 2.0 use ≤2, the Java client 3.x v4. */
const VERSIONS = { min: 0, max: 4 };
const GROUP_KEY_TYPE = 0;
/** Most keys one v4 request may ask for; the rest are answered INVALID_REQUEST. */
const MAX_KEYS_PER_REQUEST = 10_000;

interface Coordinator {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

const NONE = { nodeId: -1, host: '', port: -1 };

export function findCoordinatorApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;

  function find(
    key: string,
    keyType: number,
    brokers: ReadonlyMap<number, KafkaBroker>,
    authorized: Authorized,
  ): Coordinator {
    if (keyType === GROUP_KEY_TYPE && !authorized('DESCRIBE', 'GROUP', key))
      return { ...NONE, errorCode: KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED.code, errorMessage: null };
    if (keyType !== GROUP_KEY_TYPE) {
      return {
        ...NONE,
        // Not COORDINATOR_NOT_AVAILABLE, which clients retry until their timeout: this one is fatal at once.
        errorCode: KAFKA_ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED.code,
        errorMessage: 'transactions are not supported, so there is no transaction coordinator',
      };
    }
    try {
      const node = coordinator.coordinatorOf(key);
      const found = brokers.get(node);
      if (found === undefined) {
        return {
          ...NONE,
          errorCode: KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE.code,
          errorMessage:
            node < 0
              ? `the ${CONSUMER_OFFSETS_TOPIC} partition of group ${key} has no leader now`
              : `node ${node} coordinates group ${key} but has no Kafka listener that is live`,
        };
      }
      return { errorCode: 0, errorMessage: null, nodeId: node, host: found.host, port: found.port };
    } catch (err) {
      return { ...NONE, errorCode: errorCodeOf(err, logger, 'FindCoordinator'), errorMessage: errorMessageOf(err) };
    }
  }

  return {
    apiKey: API_KEYS.FindCoordinator,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const brokers = kafkaBrokers(ctx, context);
      const authorized = authorizedFor(ctx, context);
      const keyType = request.keyType as number;
      if (header.requestApiVersion < 4) {
        return { throttleTimeMs: 0, ...find(request.key as string, keyType, brokers, authorized) };
      }
      const keys = request.coordinatorKeys as string[];
      const coordinators = keys.map((key, i): Message => {
        if (i >= MAX_KEYS_PER_REQUEST) {
          return {
            key,
            ...NONE,
            errorCode: KAFKA_ERRORS.INVALID_REQUEST.code,
            errorMessage: `at most ${MAX_KEYS_PER_REQUEST} keys per request`,
          };
        }
        return { key, ...find(key, keyType, brokers, authorized) };
      });
      return { throttleTimeMs: 0, coordinators };
    },
  };
}
