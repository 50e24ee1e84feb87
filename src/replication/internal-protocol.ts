/**
 * The node-to-node API under `/internal/` (outside openapi.yaml, the public contract): what a
 * follower asks its leader and what the leader answers. The replica fetch answer carries the
 * stored batches as they are on disk, after a JSON header, so nothing is re-encoded or base64'd:
 *
 *   uint32 BE  header length
 *   header     JSON ReplicaFetchAnswer, with `sizeBytes` per partition
 *   records    each partition's batches, concatenated in the header's order
 *
 * A forwarded produce's body is framed the same way: its header, then its one batch.
 */

/** The header that carries the cluster secret; a request without the right one is refused (401). */
export const CLUSTER_SECRET_HEADER = 'x-samsa-cluster-secret';

export const INTERNAL_PATHS = {
  replicaFetch: '/internal/replica-fetch',
  epochEndOffsets: '/internal/epoch-end-offsets',
  produce: '/internal/produce',
  read: '/internal/read',
  offsetForTimestamp: '/internal/offset-for-timestamp',
} as const;

/** Most partitions one internal request may name; a bound on work per request. */
export const MAX_INTERNAL_PARTITIONS = 10_000;

export interface ReplicaFetchPartition {
  topic: string;
  partition: number;
  /** The follower's log end offset: it holds everything below, and wants what follows. */
  fetchOffset: number;
  /** The leader epoch the follower follows; a mismatch is FENCED_LEADER_EPOCH or UNKNOWN_LEADER_EPOCH. */
  leaderEpoch: number;
  maxBytes: number;
}

export interface ReplicaFetchRequest {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: ReplicaFetchPartition[];
}

export interface ReplicaFetchAnswerPartition {
  topic: string;
  partition: number;
  /** Kafka error name (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, ...), or null. */
  error: string | null;
  message?: string;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
}

export interface ReplicaFetchAnswer {
  partitions: ReplicaFetchAnswerPartition[];
}

/**
 * A client read of partitions the asking node holds no replica of (see src/broker/remote-reads.ts):
 * below the high watermark only, and the leader's follower state stays untouched. `fetchOffset` -1
 * asks for the partition's offsets alone (no records, no wait). The answer is a ReplicaFetchAnswer.
 */
export interface LeaderReadRequest {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: { topic: string; partition: number; fetchOffset: number; maxBytes: number }[];
}

/** Kafka's ListOffsets by timestamp, asked of the partition's leader. */
export interface OffsetForTimestampRequest {
  topic: string;
  partition: number;
  timestamp: number;
}

export interface OffsetForTimestampAnswer {
  error: string | null;
  message?: string;
  /** The first offset at or after the timestamp, or null when none is. */
  found: { offset: number; timestamp: number } | null;
}

export interface EpochEndOffsetsRequest {
  replicaId: number;
  partitions: { topic: string; partition: number; currentLeaderEpoch: number; epoch: number }[];
}

export interface EpochEndOffsetsAnswer {
  partitions: { topic: string; partition: number; error: string | null; epoch: number; endOffset: number }[];
}

/** A produce a node forwards to the leader of the partition: one batch, already encoded. */
export interface ForwardedProduceHeader {
  topic: string;
  partition: number;
  acks: 0 | 1 | -1;
  timeoutMs: number;
  /** The producer id an Idempotency-Key gave the batch: a retry the leader remembers is answered, not appended. */
  producerId?: number;
}

export interface ForwardedProduceAnswer {
  error: string | null;
  message?: string;
  /** The error was an Idempotency-Key used before for other records (the sender raises it as such). */
  idempotencyKeyReused?: true;
  baseOffset: number;
  logAppendTime: number;
}

/** Header, then the concatenated batches: the body of a replica fetch answer or of a forwarded produce. */
export function encodeWithRecords(header: object, records: readonly Buffer[]): Buffer[] {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  return [length, json, ...records];
}

/** Splits a body written by `encodeWithRecords`; throws on a body that is not one. */
export function decodeWithRecords<T>(body: Buffer, maxHeaderBytes = 16 * 1024 * 1024): { header: T; records: Buffer } {
  if (body.length < 4) throw new Error('internal answer shorter than its length prefix');
  const length = body.readUInt32BE(0);
  if (length > maxHeaderBytes || 4 + length > body.length) throw new Error('internal answer header out of bounds');
  const header = JSON.parse(body.subarray(4, 4 + length).toString('utf8')) as T;
  return { header, records: body.subarray(4 + length) };
}
