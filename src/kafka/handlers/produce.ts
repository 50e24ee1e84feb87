/**
 * Produce (api key 0): from v3 on, each partition's record batch (message format v2) is appended as
 * the client encoded it (Broker.appendClientBatch checks length, magic, CRC-32C and record count,
 * and stamps base offset and leader epoch); v0–2 carry message sets of format v0/v1 (clients before
 * Kafka 0.11), converted once to a v2 batch on the way in, as Kafka 3.x does. One partition failing
 * never fails the others. acks=1 answers after the leader's append, acks=-1 once the in-sync replicas have it, and
 * acks=0 gets no answer at all (Kafka's rule); a failed acks=0 append closes the connection instead,
 * as Kafka's broker does, so the client notices and refreshes its metadata.
 */
import type { Acks } from '../../broker/broker.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, errorMessageOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v9+ is flexible. librdkafka 2.0 and kafka-python 2.0 use ≤7, and v0–2 when told the broker is older. */
const VERSIONS = { min: 0, max: 9 };
/** The last version whose requests carry message sets v0/v1 (a v3 request holds exactly one v2 batch). */
const LAST_LEGACY_VERSION = 2;
/** Most acks=-1 wait, whatever the client asks: a bound on how long a request holds its connection. */
const MAX_TIMEOUT_MS = 300_000;

interface PartitionData {
  index: number;
  records: Buffer | null;
}

export function produceApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;

  async function producePartition(
    topic: string,
    data: PartitionData,
    acks: Acks,
    timeoutMs: number,
    legacyFormats: boolean,
  ): Promise<Message> {
    const answer: Message = {
      index: data.index,
      errorCode: 0,
      baseOffset: -1,
      logAppendTimeMs: -1,
      logStartOffset: -1,
      recordErrors: [],
      errorMessage: null,
    };
    if (data.records === null || data.records.length === 0) {
      answer.errorCode = KAFKA_ERRORS.INVALID_RECORD.code;
      answer.errorMessage = 'the produce request has no records for this partition';
      return answer;
    }
    try {
      const at = await broker.appendClientBatch(topic, data.index, data.records, { acks, timeoutMs, legacyFormats });
      answer.baseOffset = at.baseOffset;
      answer.logAppendTimeMs = at.logAppendTime;
      answer.logStartOffset = at.logStartOffset;
    } catch (err) {
      answer.errorCode = errorCodeOf(err, logger, 'Produce');
      answer.errorMessage = errorMessageOf(err);
    }
    return answer;
  }

  return {
    apiKey: API_KEYS.Produce,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const legacyFormats = header.requestApiVersion <= LAST_LEGACY_VERSION;
      const acks = request.acks as number;
      const timeoutMs = Math.min(Math.max(0, request.timeoutMs as number), MAX_TIMEOUT_MS);
      const topicData = request.topicData as Array<{ name: string; partitionData: PartitionData[] }>;
      const validAcks = acks === 0 || acks === 1 || acks === -1;
      const responses = await Promise.all(
        topicData.map(async (topic) => ({
          name: topic.name,
          partitionResponses: await Promise.all(
            topic.partitionData.map((data) =>
              !authorized('WRITE', 'TOPIC', topic.name)
                ? {
                    index: data.index,
                    errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code,
                    baseOffset: -1,
                    errorMessage: null,
                  }
                : validAcks
                  ? producePartition(topic.name, data, acks as Acks, timeoutMs, legacyFormats)
                  : {
                      index: data.index,
                      errorCode: KAFKA_ERRORS.INVALID_REQUIRED_ACKS.code,
                      baseOffset: -1,
                      errorMessage: `acks must be 0, 1 or -1, got ${acks}`,
                    },
            ),
          ),
        })),
      );
      if (acks === 0) {
        const failed = responses.flatMap((t) =>
          t.partitionResponses.filter((p) => p.errorCode !== 0).map((p) => `${t.name}-${p.index}: ${p.errorMessage}`),
        );
        if (failed.length > 0) throw new Error(`acks=0 produce failed (${failed.join('; ')})`);
        return null;
      }
      return { responses, throttleTimeMs: 0 };
    },
  };
}
