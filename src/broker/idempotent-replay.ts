/**
 * Answering a retried produce from the log (see idempotency-cache.ts for the design): the batches
 * the first request wrote are found by the key's producerId, decoded, checked against the retry's
 * records, and their offsets become the answer. Off the hot path: only a request that carries an
 * Idempotency-Key the partition remembers gets here.
 */
import { IdempotencyKeyReusedError } from '../errors.js';
import type { PreparedBatch } from '../storage/partition-log.js';
import { type DecodedRecord, decodeRecordBatch, forEachBatch } from '../storage/record-batch.js';
import { fieldAt, type RecordColumns } from '../storage/record-columns.js';
import type { IdempotencyLimits, RememberedBatch } from './idempotency-cache.js';
import type { HostedPartitions, Partition } from './partition.js';
import { partitionForKey } from './partitioner.js';
import type { ProduceColumns, ProduceColumnsResult } from './produce-request.js';

/**
 * The answer of the earlier request that carried this idempotency key, rebuilt from its stored
 * batches; null when no partition remembers the key (never sent, expired, or its data deleted by
 * retention). Throws IdempotencyKeyReusedError when the stored records differ from `input`.
 */
export function replayIdempotent(
  topic: string,
  list: Readonly<HostedPartitions>,
  input: ProduceColumns,
  producerId: number,
  limits: IdempotencyLimits,
  now: number,
): ProduceColumnsResult | null {
  const found = new Map<number, RememberedBatch>();
  for (const p of list) {
    // Idempotency keys are remembered by the leader that wrote them; a replica elsewhere is not asked.
    if (p === undefined || !p.isLeader) continue;
    const batch = p.idempotencyCache(limits, now).get(producerId, now);
    if (batch) found.set(p.partition, batch);
  }
  if (found.size === 0) return null;
  const reused = (detail: string) => new IdempotencyKeyReusedError(topic, detail);
  // Explicit and keyed records land where they did the first time; the unkeyed ones all went to
  // that request's one sticky partition: the batch holding more records than the others explain.
  const { records, partitions: explicit } = input;
  const count = records.count;
  const assigned = new Int32Array(count);
  const perPartition = new Map<number, number>();
  let unkeyed = 0;
  for (let i = 0; i < count; i++) {
    const key = fieldAt(records.keys, i);
    const named = explicit === null ? -1 : (explicit[i] as number);
    const p = named >= 0 ? named : key !== null ? partitionForKey(key, list.length) : -1;
    assigned[i] = p;
    if (p < 0) unkeyed++;
    else perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
  }
  if (unkeyed > 0) {
    let sticky = -1;
    for (const [p, batch] of found) if (batch.recordCount - (perPartition.get(p) ?? 0) === unkeyed) sticky = p;
    if (sticky < 0) throw reused('its records were spread over partitions differently');
    for (let i = 0; i < count; i++) if (assigned[i] === -1) assigned[i] = sticky;
    perPartition.set(sticky, (perPartition.get(sticky) ?? 0) + unkeyed);
  }
  if (perPartition.size !== found.size) throw reused('it wrote to other partitions');
  const stored = new Map<number, DecodedRecord[]>();
  for (const [p, batch] of found) {
    if (perPartition.get(p) !== batch.recordCount)
      throw reused(`partition ${p} holds ${batch.recordCount} of its records`);
    const decoded = readRememberedBatch(list[p] as Partition, batch, producerId);
    if (decoded === null) {
      // Retention removed the data: the key is as good as forgotten everywhere.
      for (const q of list) q?.builtIdempotencyCache?.forget(producerId);
      return null;
    }
    stored.set(p, decoded);
  }
  const offsets = new Float64Array(count);
  const timestamps = new Float64Array(count);
  const nextInPartition = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const p = assigned[i] as number;
    const k = nextInPartition.get(p) ?? 0;
    nextInPartition.set(p, k + 1);
    const s = (stored.get(p) as DecodedRecord[])[k] as DecodedRecord;
    if (!sameRecord(records, i, s)) throw reused(`record ${i} differs`);
    offsets[i] = s.offset;
    timestamps[i] = s.timestamp;
  }
  return { partitions: assigned, offsets, timestamps };
}

/**
 * Cluster mode's replay, one partition at a time (a request's partitions may have other leaders,
 * each remembering its own part): where this partition's leader stored the batch the key wrote,
 * when it remembers one. Throws IdempotencyKeyReusedError when its records differ from `prepared`.
 */
export function replayPartition(
  p: Partition,
  producerId: number,
  prepared: PreparedBatch,
  limits: IdempotencyLimits,
  now: number,
): { baseOffset: number } | null {
  const remembered = p.idempotencyCache(limits, now).get(producerId, now);
  if (!remembered) return null;
  const stored = readRememberedBatch(p, remembered, producerId);
  if (stored === null) return null;
  const retried = decodeRecordBatch(prepared.batch);
  const same =
    stored.length === retried.length &&
    stored.every(
      (s, i) =>
        sameBytes(s.key, retried[i]?.key ?? null) &&
        sameBytes(s.value, retried[i]?.value ?? null) &&
        s.headers.length === retried[i]?.headers.length &&
        s.headers.every(
          (h, j) => h.key === retried[i]?.headers[j]?.key && sameBytes(h.value, retried[i]?.headers[j]?.value ?? null),
        ),
    );
  if (!same) throw new IdempotencyKeyReusedError(p.topic, `partition ${p.partition} holds other records for it`);
  return { baseOffset: remembered.baseOffset };
}

/** The records of a remembered batch, or null when it is no longer stored (or no longer the same batch). */
function readRememberedBatch(p: Partition, batch: RememberedBatch, producerId: number): DecodedRecord[] | null {
  if (batch.baseOffset < p.log.logStartOffset) return null;
  // maxBytes 1: the first whole batch only (a read always returns at least one).
  const { records } = p.log.read(batch.baseOffset, 1, { maxOffset: p.log.logEndOffset });
  let decoded: DecodedRecord[] | null = null;
  forEachBatch(records, (header, bytes) => {
    if (decoded === null && header.baseOffset === batch.baseOffset && header.producerId === producerId) {
      decoded = decodeRecordBatch(bytes);
    }
  });
  return decoded;
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** Same key, value, headers and (when the request set one) CreateTime. */
function sameRecord(records: RecordColumns, i: number, s: DecodedRecord): boolean {
  if (!sameBytes(fieldAt(records.keys, i), s.key) || !sameBytes(fieldAt(records.values, i), s.value)) return false;
  const timestamp = records.timestamps[i] as number;
  if (!Number.isNaN(timestamp) && timestamp !== s.timestamp) return false;
  const headers = records.headers?.[i] ?? [];
  if (headers.length !== s.headers.length) return false;
  return headers.every((h, j) => h.key === s.headers[j]?.key && sameBytes(h.value, s.headers[j]?.value ?? null));
}
