/**
 * What the pipeline learns about one exchange and keeps in `res.locals` for later stages: the
 * request id (request-observer), the spec operation matched (spec-router) and the principal the
 * credentials name (authentication), read by the logs, the metrics, the error handler and authorization. A leaf module, so those stages never import one another.
 */
import type { Response } from 'express';
import { ANONYMOUS, type Principal } from '../security/principal.js';
import type { OperationId } from './openapi.js';

const REQUEST_ID = 'samsaRequestId';
const MATCHED = 'samsaMatchedOperation';
const PRINCIPAL = 'samsaPrincipal';

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

/** Set once by authentication, before any handler runs. */
export function setPrincipal(res: Response, principal: Principal): void {
  res.locals[PRINCIPAL] = principal;
}

/** Who this exchange acts as: the authenticated principal, else `User:ANONYMOUS`. */
export function principalOf(res: Response): Principal {
  return (res.locals[PRINCIPAL] as Principal | undefined) ?? ANONYMOUS;
}
