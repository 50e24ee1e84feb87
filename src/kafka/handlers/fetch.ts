/**
 * Fetch (api key 1) for consumers: stored batches exactly as on disk, up to the high watermark
 * (the last stable offset is the same without transactions), through Broker.fetchPartitions, which
 * applies max_bytes and partition_max_bytes (at least one whole batch, KIP-74) and waits up to
 * max_wait_ms for min_bytes. Fetch sessions (KIP-227) are declined: every answer has session id 0,
 * so clients keep sending full fetches; an incremental fetch of a session is answered
 * FETCH_SESSION_ID_NOT_FOUND, after which a client starts over with a full one.
 */
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { errorCodeOf, int64ToNumber, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

/** v0–3 serve message format v0/v1 (a later increment); v12+ is flexible. librdkafka 2.0 uses ≤11, kafka-python 2.0 v4. */
const VERSIONS = { min: 4, max: 11 };
/** Bounds on what one request may ask, whatever the client says. */
const MAX_WAIT_MS = 30_000;
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const MAX_PARTITIONS_PER_REQUEST = 10_000;

interface FetchTopic {
  topic: string;
  partitions: Array<{ partition: number; fetchOffset: bigint; partitionMaxBytes: number }>;
}

export function fetchApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;
  return {
    apiKey: API_KEYS.Fetch,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const sessionId = request.sessionId as number;
      const sessionEpoch = request.sessionEpoch as number;
      if (header.requestApiVersion >= 7 && (sessionId !== 0 || sessionEpoch > 0)) {
        return {
          throttleTimeMs: 0,
          errorCode: KAFKA_ERRORS.FETCH_SESSION_ID_NOT_FOUND.code,
          sessionId: 0,
          responses: [],
        };
      }
      const topics = request.topics as FetchTopic[];
      const wanted = topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.topic,
          partition: p.partition,
          offset: int64ToNumber(p.fetchOffset),
          maxBytes: Math.max(0, p.partitionMaxBytes),
        })),
      );
      if (wanted.length > MAX_PARTITIONS_PER_REQUEST) {
        return { throttleTimeMs: 0, errorCode: KAFKA_ERRORS.INVALID_REQUEST.code, sessionId: 0, responses: [] };
      }
      const fetched = await broker.fetchPartitions(
        {
          partitions: wanted,
          maxBytes: Math.min(Math.max(0, request.maxBytes as number), MAX_RESPONSE_BYTES),
          minBytes: Math.max(0, request.minBytes as number),
          maxWaitMs: Math.min(Math.max(0, request.maxWaitMs as number), MAX_WAIT_MS),
          isolation: 'high_watermark',
          signal: context.signal,
          answerErrorsAtOnce: true,
        },
        // Preferred read replicas (KIP-392) are not offered: consumers read from the leader.
        { leaderOnly: true },
      );
      let i = 0;
      const responses = topics.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((): Message => {
          const want = wanted[i] as (typeof wanted)[number];
          const p = fetched.partitions[i++];
          if (p === undefined) throw new Error('fetch answered fewer partitions than asked');
          const errorCode = p.error === null ? 0 : errorCodeOf(p.error, logger, 'Fetch');
          if (p.records.length > 0)
            broker.recordDelivered(p.topic, recordsFrom(p.records, want.offset), p.records.length);
          return {
            partitionIndex: p.partition,
            errorCode,
            highWatermark: errorCode === 0 ? p.highWatermark : -1,
            lastStableOffset: errorCode === 0 ? p.highWatermark : -1,
            logStartOffset: errorCode === 0 ? p.logStartOffset : -1,
            abortedTransactions: null,
            preferredReadReplica: -1,
            records: p.records,
          };
        }),
      }));
      return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
    },
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
