/**
 * DeleteRecords (api key 21, KIP-107): moves each partition's log start offset forward on its
 * leader (broker.deleteRecords); offset -1 means the high watermark, an offset past it is
 * OFFSET_OUT_OF_RANGE, a partition led elsewhere NOT_LEADER_OR_FOLLOWER (clients send each
 * partition to its leader). The answer's low watermark is the leader's new log start offset; Samsa
 * does not wait for the followers' (they take it with their next fetch), unlike Kafka's purgatory.
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, int64ToNumber, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v2+ is flexible. */
const VERSIONS = { min: 0, max: 2 };
/** Most partitions one request may name; the rest are answered INVALID_REQUEST. */
const MAX_PARTITIONS_PER_REQUEST = 10_000;

export function deleteRecordsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.DeleteRecords,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      let seen = 0;
      const topics = (
        request.topics as Array<{ name: string; partitions: Array<{ partitionIndex: number; offset: bigint }> }>
      ).map((t) => {
        // Kafka: deleting records takes DELETE on the topic.
        const allowed = authorized('DELETE', 'TOPIC', t.name);
        return {
          name: t.name,
          partitions: t.partitions.map((p): Message => {
            const answer = { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: 0 };
            if (++seen > MAX_PARTITIONS_PER_REQUEST) return { ...answer, errorCode: KAFKA_ERRORS.INVALID_REQUEST.code };
            if (!allowed) return { ...answer, errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code };
            try {
              const low = broker.deleteRecords(t.name, p.partitionIndex, int64ToNumber(p.offset));
              return { ...answer, lowWatermark: BigInt(low) };
            } catch (err) {
              return { ...answer, errorCode: errorCodeOf(err, logger, 'DeleteRecords') };
            }
          }),
        };
      });
      return { throttleTimeMs: 0, topics };
    },
  };
}
