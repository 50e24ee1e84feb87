/**
 * Produce (api key 0), record batches only (v3+, message format v2; v0–2 are refused): each
 * partition's batch is appended as the client encoded it (Broker.appendClientBatch checks length, magic, CRC-32C and
 * record count, and stamps base offset and leader epoch), one partition failing never failing the
 * others. acks=1 answers after the leader's append, acks=-1 once the in-sync replicas have it, and
 * acks=0 gets no answer at all (Kafka's rule); a failed acks=0 append closes the connection instead,
 * as Kafka's broker does, so the client notices and refreshes its metadata.
 */
import type { Acks } from '../../broker/broker.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { errorCodeOf, errorMessageOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/**
 * v3–8 carry record batches (message format v2); v9+ is flexible. librdkafka 2.0 and kafka-python 2.0
 * use ≤7. v0–2 (message sets v0/v1) are advertised but answered UNSUPPORTED_VERSION for every
 * partition, as Kafka 4.0 does (KIP-896, KAFKA-18659): librdkafka before 2.8 compresses gzip, snappy
 * and lz4 batches only for a broker whose ApiVersions lists Produce v0, and sends them uncompressed
 * otherwise.
 */
const VERSIONS = { min: 0, max: 8 };
/** The first version with record batches: older ones are only advertised. */
const MIN_SERVED_VERSION = 3;
/** Most acks=-1 wait, whatever the client asks: a bound on how long a request holds its connection. */
const MAX_TIMEOUT_MS = 300_000;

interface PartitionData {
  index: number;
  records: Buffer | null;
}

export function produceApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;

  async function producePartition(topic: string, data: PartitionData, acks: Acks, timeoutMs: number): Promise<Message> {
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
      const at = await broker.appendClientBatch(topic, data.index, data.records, { acks, timeoutMs });
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
    handle: async (header, request) => {
      const acks = request.acks as number;
      const timeoutMs = Math.min(Math.max(0, request.timeoutMs as number), MAX_TIMEOUT_MS);
      const topicData = request.topicData as Array<{ name: string; partitionData: PartitionData[] }>;
      if (header.requestApiVersion < MIN_SERVED_VERSION) {
        const refused = (data: PartitionData) => ({
          index: data.index,
          errorCode: KAFKA_ERRORS.UNSUPPORTED_VERSION.code,
          baseOffset: -1,
        });
        const responses = topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map(refused) }));
        // An acks=0 client hears of a refusal only by the connection closing, as for a failed append.
        if (acks === 0) throw new Error(`Produce v${header.requestApiVersion} with acks=0 refused (v3+ only)`);
        return { responses, throttleTimeMs: 0 };
      }
      const validAcks = acks === 0 || acks === 1 || acks === -1;
      const responses = await Promise.all(
        topicData.map(async (topic) => ({
          name: topic.name,
          partitionResponses: await Promise.all(
            topic.partitionData.map((data) =>
              validAcks
                ? producePartition(topic.name, data, acks as Acks, timeoutMs)
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
