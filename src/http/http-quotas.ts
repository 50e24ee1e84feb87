/**
 * Client quotas at the HTTP edge. Before an operation runs, a principal whose window is already over
 * one of the quotas the operation draws on is refused with 429/42901 and `Retry-After` (nothing is
 * appended or read): the HTTP client does the waiting that a Kafka client does when its broker
 * throttles it. What the operation moves is counted once it is known: a produce's request bytes (its
 * Content-Length, else the bytes read from the socket meanwhile), a read's answer bytes, one request
 * each. A request that fits is served whole, so the window can end over the quota; the next one waits.
 */
import type { Request, Response } from 'express';
import { QuotaExceededError } from '../errors.js';
import type { ClientQuotaManager } from '../security/client-quota-manager.js';
import type { QuotaProperty } from '../security/client-quotas.js';
import { type Principal, principalText } from '../security/principal.js';
import { principalOf } from './exchange-locals.js';
import type { OperationId } from './openapi.js';

const PRODUCE_OPERATIONS: ReadonlySet<OperationId> = new Set<OperationId>([
  'produceToTopic',
  'produceToPartition',
  'produceRecordsV3',
  'produceRecordsBatchV3',
]);
/** Reads whose answer bytes count against `consumer_byte_rate` (an SSE stream's bytes count as it streams). */
const FETCH_OPERATIONS: ReadonlySet<OperationId> = new Set<OperationId>(['readConsumerRecords', 'streamTopic']);

/** The check to run before `operationId`; throws QuotaExceededError when the principal must wait. */
export function httpQuotaGate(
  quotas: ClientQuotaManager,
  exempt: ReadonlySet<OperationId>,
): (operationId: OperationId, req: Request, res: Response) => void {
  return (operationId, req, res) => {
    if (exempt.has(operationId)) return;
    const principal = principalOf(res);
    refuseIfOver(quotas, principal, 'request_rate');
    if (PRODUCE_OPERATIONS.has(operationId)) refuseIfOver(quotas, principal, 'producer_byte_rate');
    else if (FETCH_OPERATIONS.has(operationId)) refuseIfOver(quotas, principal, 'consumer_byte_rate');
    quotas.record(principal, 'request_rate', 1);
    if (PRODUCE_OPERATIONS.has(operationId) && quotas.limitOf(principal, 'producer_byte_rate') !== undefined) {
      countRequestBytes(quotas, principal, req, res);
    } else if (operationId === 'readConsumerRecords' && quotas.limitOf(principal, 'consumer_byte_rate') !== undefined) {
      countAnswerBytes(quotas, principal, res);
    }
  };
}

function refuseIfOver(quotas: ClientQuotaManager, principal: Principal, property: QuotaProperty): void {
  const waitMs = quotas.throttleTimeMs(principal, property);
  if (waitMs <= 0) return;
  const limit = quotas.limitOf(principal, property) as number;
  const unit = property === 'request_rate' ? 'requests/s' : 'bytes/s';
  throw new QuotaExceededError(
    `${principalText(principal)} is over its ${property} quota of ${limit} ${unit}; retry in ${Math.ceil(waitMs / 1000)} s.`,
    waitMs,
  );
}

function countRequestBytes(quotas: ClientQuotaManager, principal: Principal, req: Request, res: Response): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isSafeInteger(declared) && declared >= 0) {
    quotas.record(principal, 'producer_byte_rate', declared);
    return;
  }
  // A chunked body: what the socket delivered while this exchange lasted (headers included, as
  // Kafka counts a whole request).
  const socket = req.socket;
  const before = socket.bytesRead;
  res.once('close', () => quotas.record(principal, 'producer_byte_rate', Math.max(0, socket.bytesRead - before)));
}

function countAnswerBytes(quotas: ClientQuotaManager, principal: Principal, res: Response): void {
  const socket = res.socket;
  const before = socket?.bytesWritten ?? 0;
  res.once('close', () => {
    const declared = Number(res.getHeader('content-length'));
    const bytes =
      Number.isSafeInteger(declared) && declared >= 0 ? declared : Math.max(0, (socket?.bytesWritten ?? 0) - before);
    quotas.record(principal, 'consumer_byte_rate', bytes);
  });
}
