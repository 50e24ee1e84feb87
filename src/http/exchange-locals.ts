/**
 * What the pipeline learns about one exchange and keeps in `res.locals` for later stages: the
 * request id (request-observer) and the spec operation matched (spec-router), read by the logs,
 * the metrics and the error handler. A leaf module, so those stages never import one another.
 */
import type { Response } from 'express';
import type { OperationId } from './openapi.js';

const REQUEST_ID = 'samsaRequestId';
const MATCHED = 'samsaMatchedOperation';

/** What the router matched, for logs and metrics: the spec path template (bounded), and the operation if any. */
export interface MatchedOperation {
  route: string;
  /** Absent when the path matched but the method did not (405). */
  operationId?: OperationId;
}

export function setRequestId(res: Response, requestId: string): void {
  res.locals[REQUEST_ID] = requestId;
}

/** The id observeRequests gave this exchange (for error logs that belong to it). */
export function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals[REQUEST_ID];
  return typeof id === 'string' ? id : undefined;
}

export function setMatchedOperation(res: Response, matched: MatchedOperation): void {
  res.locals[MATCHED] = matched;
}

/** The spec path this exchange matched, or undefined when no spec path did (a 404 from routeNotFound). */
export function matchedOperation(res: Response): MatchedOperation | undefined {
  return res.locals[MATCHED] as MatchedOperation | undefined;
}
