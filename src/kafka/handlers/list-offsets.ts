/**
 * ListOffsets (api key 2): timestamp -2 is the log start offset, -1 the high watermark (the last
 * offset a consumer may read; also for read_committed, since there are no transactions), and a
 * timestamp t >= 0 the first offset whose record has a timestamp >= t (offset -1 when none has).
 * v0 answers a list of at most max_num_offsets offsets; here at most the one found. v7's -3
 * (MAX_TIMESTAMP, KIP-734) is the first committed record with the largest timestamp, and that
 * timestamp (offset -1 on an empty log).
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, int64ToNumber, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v6+ is flexible; v7 adds MAX_TIMESTAMP (-3). librdkafka 2.0 uses ≤2 (v0 for watermarks), kafka-python 2.0 v1. */
const VERSIONS = { min: 0, max: 7 };
const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const FIRST_MAX_TIMESTAMP_VERSION = 7;

interface ListOffsetsTopic {
  name: string;
  partitions: Array<{ partitionIndex: number; timestamp: bigint; maxNumOffsets: number }>;
}

export function listOffsetsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;

  function lookUp(topic: string, partition: number, timestamp: number): { offset: number; timestamp: number } {
    // Clients ask the leader (Kafka's rule for ListOffsets): a follower answers NOT_LEADER_OR_FOLLOWER.
    const leaderOnly = { leaderOnly: true };
    if (timestamp === EARLIEST)
      return { offset: broker.listOffsets(topic, partition, leaderOnly).logStartOffset, timestamp: -1 };
    if (timestamp === LATEST)
      return { offset: broker.listOffsets(topic, partition, leaderOnly).highWatermark, timestamp: -1 };
    if (timestamp === MAX_TIMESTAMP) {
      broker.listOffsets(topic, partition, leaderOnly); // NOT_LEADER_OR_FOLLOWER off the leader
      return broker.offsetOfMaxTimestamp(topic, partition) ?? { offset: -1, timestamp: -1 };
    }
    return broker.offsetForTimestamp(topic, partition, timestamp, leaderOnly) ?? { offset: -1, timestamp: -1 };
  }

  return {
    apiKey: API_KEYS.ListOffsets,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const version = header.requestApiVersion;
      const authorized = authorizedFor(ctx, context);
      const topics = (request.topics as ListOffsetsTopic[]).map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p): Message => {
          const answer: Message = {
            partitionIndex: p.partitionIndex,
            errorCode: 0,
            oldStyleOffsets: [],
            timestamp: -1,
            offset: -1,
            leaderEpoch: -1,
          };
          if (!authorized('DESCRIBE', 'TOPIC', t.name)) {
            answer.errorCode = KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
            return answer;
          }
          const timestamp = int64ToNumber(p.timestamp);
          const known =
            timestamp >= EARLIEST || (timestamp === MAX_TIMESTAMP && version >= FIRST_MAX_TIMESTAMP_VERSION);
          if (!known) {
            // MAX_TIMESTAMP (-3) exists from v7 on; the tiered-storage specs (-4, -5) are not offered.
            answer.errorCode = KAFKA_ERRORS.INVALID_REQUEST.code;
            return answer;
          }
          try {
            const found = lookUp(t.name, p.partitionIndex, timestamp);
            answer.offset = found.offset;
            answer.timestamp = found.timestamp;
            if (version === 0 && p.maxNumOffsets > 0 && found.offset >= 0) answer.oldStyleOffsets = [found.offset];
          } catch (err) {
            answer.errorCode = errorCodeOf(err, logger, 'ListOffsets');
          }
          return answer;
        }),
      }));
      return { throttleTimeMs: 0, topics };
    },
  };
}
