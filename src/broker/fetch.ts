import { setMaxListeners } from 'node:events';
import type { Partition } from './partition.js';

/**
 * How far a fetch may read (Kafka's isolation of a FetchRequest): clients read committed records
 * only, below the high watermark; replicas read to the log end, which is how they catch up.
 */
export type IsolationLevel = 'high_watermark' | 'log_end';

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  /** The first offset wanted; the first batch returned may start before it (skip those records). */
  offset: number;
  /** Most stored bytes from this partition, except that one whole batch always comes (KIP-74). */
  maxBytes: number;
}

export interface FetchRequest {
  partitions: readonly FetchPartitionRequest[];
  /** Most stored bytes in the whole answer; the first batch found always comes (KIP-74). */
  maxBytes: number;
  /** Answer as soon as this many bytes are found; until then wait up to `maxWaitMs`. 0: answer at once. */
  minBytes: number;
  maxWaitMs: number;
  isolation: IsolationLevel;
  /** Ends the wait early (the client went away); the answer then holds what there is. */
  signal?: AbortSignal;
  /**
   * Kafka's fetch rule: a partition's error is answered at once rather than after the wait, so a
   * client sent to a node that does not lead the partition refreshes its metadata without delay.
   */
  answerErrorsAtOnce?: boolean;
}

export interface FetchedPartition {
  topic: string;
  partition: number;
  /** Whole stored batches, concatenated, exactly as on disk (Kafka v2 format); empty when none. */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  /**
   * Why this partition gave nothing (unknown topic or partition, offset out of range): per
   * partition, as in Kafka's FetchResponse, so one bad partition does not fail the others.
   */
  error: Error | null;
}

export interface FetchResponse {
  partitions: FetchedPartition[];
  /** Stored bytes in `partitions`. */
  sizeBytes: number;
}

/** Finds a partition or throws UnknownTopicError / UnknownPartitionError (the broker's lookup). */
export type PartitionLookup = (topic: string, partition: number) => Partition;

/** What one pass of reads needs of a partition: a hosted one, or a remote one's window (remote-reads.ts). */
export interface ReadablePartition {
  readonly highWatermark: number;
  readonly log: {
    readonly logStartOffset: number;
    readonly logEndOffset: number;
    read(offset: number, maxBytes: number, opts: { maxOffset: number; minOneBatch: boolean }): { records: Buffer };
  };
}

const EMPTY = Buffer.alloc(0);

/** The reason passed when a wait is settled: abort() without one builds a DOMException each time. */
const WAIT_SETTLED = 'settled';

/**
 * One pass over the partitions, no waiting: each read is bounded by its partition's `maxBytes` and
 * by what the answer has left, so a caller asking for 64 KiB never makes the log read 1 MiB.
 */
export function readPartitions(
  request: FetchRequest,
  lookup: (topic: string, partition: number) => ReadablePartition,
): FetchResponse {
  const out: FetchedPartition[] = [];
  let left = Math.max(0, request.maxBytes);
  let sizeBytes = 0;
  for (const want of request.partitions) {
    const result: FetchedPartition = {
      topic: want.topic,
      partition: want.partition,
      records: EMPTY,
      highWatermark: 0,
      logStartOffset: 0,
      logEndOffset: 0,
      error: null,
    };
    out.push(result);
    try {
      const p = lookup(want.topic, want.partition);
      const log = p.log;
      result.highWatermark = p.highWatermark;
      result.logStartOffset = log.logStartOffset;
      result.logEndOffset = log.logEndOffset;
      // Once the answer holds anything, a partition adds only what fits (no oversized first batch).
      const maxBytes = Math.min(Math.max(0, want.maxBytes), left);
      if (maxBytes === 0 && sizeBytes > 0) continue;
      const maxOffset = request.isolation === 'log_end' ? log.logEndOffset : p.highWatermark;
      const read = log.read(want.offset, Math.max(1, maxBytes), { maxOffset, minOneBatch: sizeBytes === 0 });
      result.records = read.records;
      sizeBytes += read.records.length;
      left = Math.max(0, left - read.records.length);
    } catch (err) {
      result.error = err as Error;
    }
  }
  return { partitions: out, sizeBytes };
}

/**
 * Kafka's fetch: reads every partition, and when fewer than `minBytes` came, waits (up to
 * `maxWaitMs`) for any of them to grow past its requested offset, then reads again. Waiters on
 * the partitions that did not wake are cancelled, so an idle partition keeps no timer behind.
 */
export async function fetchPartitions(request: FetchRequest, lookup: PartitionLookup): Promise<FetchResponse> {
  const deadline = Date.now() + Math.max(0, request.maxWaitMs);
  for (;;) {
    const answer = readPartitions(request, lookup);
    const leftMs = deadline - Date.now();
    if (answer.sizeBytes >= Math.max(1, request.minBytes) || leftMs <= 0 || request.signal?.aborted) return answer;
    if (request.answerErrorsAtOnce && answer.partitions.some((p) => p.error !== null)) return answer;
    await waitForAny(request, answer, lookup, leftMs);
    if (Date.now() >= deadline || request.signal?.aborted) return readPartitions(request, lookup);
  }
}

/**
 * Resolves when any requested partition's high watermark moves past what `answer` saw (so data
 * that came but fell short of minBytes does not wake the wait again at once), or after `timeoutMs`.
 */
async function waitForAny(
  request: FetchRequest,
  answer: FetchResponse,
  lookup: PartitionLookup,
  timeoutMs: number,
): Promise<void> {
  const settled = new AbortController();
  // One listener per partition waited on, by design: not the leak node warns about past 10.
  setMaxListeners(request.partitions.length + 2, settled.signal);
  const onAbort = () => settled.abort(WAIT_SETTLED);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const waits: Promise<void>[] = [];
  for (let i = 0; i < request.partitions.length; i++) {
    const want = request.partitions[i] as FetchPartitionRequest;
    const seen = answer.partitions[i];
    try {
      // A replica's read ends at the log end, so an append wakes it; a client's at the high
      // watermark, which moves when the ISR has the records (at once with ISR {self}).
      const p = lookup(want.topic, want.partition);
      if (request.isolation === 'log_end')
        waits.push(p.waitForAppend(Math.max(want.offset, seen?.logEndOffset ?? 0), timeoutMs, settled.signal));
      else waits.push(p.waitForData(Math.max(want.offset, seen?.highWatermark ?? 0), timeoutMs, settled.signal));
    } catch {
      // unknown topic or partition: nothing to wait on there
    }
  }
  if (waits.length === 0) {
    waits.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        settled.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      }),
    );
  }
  try {
    await Promise.race(waits);
  } finally {
    settled.abort(WAIT_SETTLED);
    request.signal?.removeEventListener('abort', onAbort);
  }
}
