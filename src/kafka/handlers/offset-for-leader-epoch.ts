/**
 * OffsetForLeaderEpoch (api key 23): where a leader epoch ends in the leader's log, with the epoch
 * found (the largest at or below the one asked), from the partition's leader-epoch cache
 * (Broker.endOffsetForLeaderEpoch), the same answer followers truncate by. A consumer asks it after a
 * leader change to detect a truncated log (KIP-320): an end offset below its position means the
 * records it read are gone. An epoch older than every known one answers epoch -1 and offset -1;
 * a current leader epoch other than the partition's is FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH.
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v4+ is flexible. librdkafka 2.0 uses v2, the Java client 3.x v4. */
const VERSIONS = { min: 0, max: 4 };
/** Most partitions one request may name; the rest are answered INVALID_REQUEST. */
const MAX_PARTITIONS_PER_REQUEST = 10_000;

interface OffsetForLeaderTopic {
  topic: string;
  partitions: Array<{ partition: number; currentLeaderEpoch: number; leaderEpoch: number }>;
}

export function offsetForLeaderEpochApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.OffsetForLeaderEpoch,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      let budget = MAX_PARTITIONS_PER_REQUEST;
      const topics = (request.topics as OffsetForLeaderTopic[]).map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p): Message => {
          const answer: Message = { errorCode: 0, partition: p.partition, leaderEpoch: -1, endOffset: -1n };
          if (budget-- <= 0) {
            answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
            return answer;
          }
          if (!authorized('DESCRIBE', 'TOPIC', t.topic)) {
            answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
            return answer;
          }
          try {
            const found = broker.endOffsetForLeaderEpoch(t.topic, p.partition, p.currentLeaderEpoch, p.leaderEpoch);
            answer.leaderEpoch = found.epoch;
            answer.endOffset = BigInt(found.endOffset);
          } catch (err) {
            answer.errorCode = errorCodeOf(err, logger, 'OffsetForLeaderEpoch');
          }
          return answer;
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
