/**
 * Fetch (api key 1) for consumers: stored batches exactly as on disk, up to the high watermark
 * (the last stable offset is the same without transactions), through Broker.fetchPartitions, which
 * applies max_bytes and partition_max_bytes (at least one whole batch, KIP-74) and waits up to
 * max_wait_ms for min_bytes. Fetch sessions (KIP-227) are declined: every answer has session id 0,
 * so clients keep sending full fetches; an incremental fetch of a session is answered
 * FETCH_SESSION_ID_NOT_FOUND, after which a client starts over with a full one.
 * v0–3 readers (clients before Kafka 0.11) get the stored batches converted down to message
 * format v0 (Fetch v0–1) or v1 (v2–3), as Kafka 3.x does; v13 names topics by id (KIP-516).
 */
import { downConvertFetched, MAGIC_V0, MAGIC_V1 } from '../../broker/down-conversion.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import {
  authorizedFor,
  brokerTopicId,
  errorCodeOf,
  int64ToNumber,
  type KafkaApi,
  type KafkaApiContext,
} from './kafka-api.js';

/** v12+ is flexible, v13 names topics by id. librdkafka 2.0 uses ≤11, kafka-python 2.0 ≤4 (v0–3 when told to). */
const VERSIONS = { min: 0, max: 13 };
/** Fetch v0–1 read message format v0, v2–3 format v1; v4+ the stored batches (format v2). */
const LAST_MAGIC_V0_VERSION = 1;
const LAST_LEGACY_VERSION = 3;
const FIRST_TOPIC_ID_VERSION = 13;
/** Bounds on what one request may ask, whatever the client says. */
const MAX_WAIT_MS = 30_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_PARTITIONS_PER_REQUEST = 10_000;
const EMPTY = Buffer.alloc(0);

interface FetchTopic {
  topic: string;
  topicId: string;
  partitions: Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number }>;
}

export function fetchApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.Fetch,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const version = header.requestApiVersion;
      const sessionId = request.sessionId as number;
      const sessionEpoch = request.sessionEpoch as number;
      if (version >= 7 && (sessionId !== 0 || sessionEpoch > 0)) {
        return {
          throttleTimeMs: 0,
          errorCode: KAFKA_ERRORS.FETCH_SESSION_ID_NOT_FOUND.code,
          sessionId: 0,
          responses: [],
        };
      }
      const topics = request.topics as FetchTopic[];
      // v13+: a topic id this broker does not know is UNKNOWN_TOPIC_ID for each of its partitions.
      const names =
        version >= FIRST_TOPIC_ID_VERSION
          ? broker.topicNamesOf(topics.map((t) => brokerTopicId(t.topicId)))
          : topics.map((t) => t.topic);
      // TOPIC READ per topic (Kafka's rule): a denied topic is read from nowhere and answered 29.
      const authorized = authorizedFor(ctx, context);
      const denied = names.map((name) => name !== null && !authorized('READ', 'TOPIC', name));
      const wanted = topics.flatMap((t, i) =>
        names[i] === null || denied[i]
          ? []
          : t.partitions.map((p) => ({
              topic: names[i] as string,
              partition: p.partition,
              offset: int64ToNumber(p.fetchOffset),
              maxBytes: Math.max(0, p.partitionMaxBytes),
            })),
      );
      if (wanted.length > MAX_PARTITIONS_PER_REQUEST) {
        return { throttleTimeMs: 0, errorCode: KAFKA_ERRORS.INVALID_REQUEST.code, sessionId: 0, responses: [] };
      }
      const maxBytes = Math.min(Math.max(0, request.maxBytes as number), MAX_RESPONSE_BYTES);
      const fetched = await broker.fetchPartitions(
        {
          partitions: wanted,
          maxBytes,
          minBytes: Math.max(0, request.minBytes as number),
          maxWaitMs: Math.min(Math.max(0, request.maxWaitMs as number), MAX_WAIT_MS),
          isolation: 'high_watermark',
          signal: context.signal,
          answerErrorsAtOnce: true,
        },
        // Preferred read replicas (KIP-392) are not offered: consumers read from the leader.
        { leaderOnly: true },
      );
      const magic = version <= LAST_MAGIC_V0_VERSION ? MAGIC_V0 : MAGIC_V1;
      let left = maxBytes;
      let i = 0;
      const responses = topics.map((t, ti) => ({
        topic: t.topic,
        topicId: t.topicId,
        partitions: t.partitions.map((asked): Message => {
          if (names[ti] === null) return unknownTopicId(asked.partition);
          if (denied[ti]) return failedPartition(asked.partition, KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code);
          const want = wanted[i] as (typeof wanted)[number];
          const p = fetched.partitions[i++];
          if (p === undefined) throw new Error('fetch answered fewer partitions than asked');
          let errorCode = p.error === null ? 0 : errorCodeOf(p.error, logger, 'Fetch');
          let records = p.records;
          if (records.length > 0 && version <= LAST_LEGACY_VERSION) {
            // Converted sizes differ from stored ones: the limits apply again to the messages sent.
            try {
              const converted = downConvertFetched(
                records,
                magic,
                want.offset,
                Math.min(want.maxBytes, left),
                left === maxBytes,
              );
              records = converted.records;
              left = Math.max(0, left - records.length);
              if (converted.messages > 0) broker.recordDelivered(p.topic, converted.messages, records.length);
            } catch (err) {
              records = EMPTY;
              errorCode = errorCodeOf(err, logger, 'Fetch down-conversion');
            }
          } else if (records.length > 0) {
            broker.recordDelivered(p.topic, recordsFrom(records, want.offset), records.length);
          }
          return {
            partitionIndex: p.partition,
            errorCode,
            highWatermark: errorCode === 0 ? p.highWatermark : -1,
            lastStableOffset: errorCode === 0 ? p.highWatermark : -1,
            logStartOffset: errorCode === 0 ? p.logStartOffset : -1,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records,
          };
        }),
      }));
      return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
    },
  };
}

function unknownTopicId(partition: number): Message {
  return failedPartition(partition, KAFKA_ERRORS.UNKNOWN_TOPIC_ID.code);
}

function failedPartition(partition: number, errorCode: number): Message {
  return {
    partitionIndex: partition,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null,
  };
}

/** Batch header fields read to count what a fetch delivers (Kafka's record batch v2 layout). */
const BATCH_LENGTH_AT = 8;
const LAST_OFFSET_DELTA_AT = 23;
const BATCH_HEADER_BYTES = 61;

/**
 * Records at or after `offset` in whole batches, from their headers only (the first batch may
 * start before the offset asked for; a compacted batch is counted by its offset span).
 */
function recordsFrom(records: Buffer, offset: number): number {
  let count = 0;
  for (let at = 0; at + BATCH_HEADER_BYTES <= records.length; ) {
    const size = records.readInt32BE(at + BATCH_LENGTH_AT) + 12;
    if (size < BATCH_HEADER_BYTES || at + size > records.length) break;
    const base = Number(records.readBigInt64BE(at));
    const last = base + records.readInt32BE(at + LAST_OFFSET_DELTA_AT);
    count += Math.max(0, last - Math.max(base, offset) + 1);
    at += size;
  }
  return count;
}
