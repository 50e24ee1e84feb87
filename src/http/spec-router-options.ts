/**
 * The options and the erased handler shape shared by the spec router and its streamed-body stage
 * (streamed-operation.ts); here so neither imports the other for its types.
 */
import type { Request, Response } from 'express';
import type { Authorizer } from '../security/acl-authorizer.js';
import type { BodyShortcutTable, HttpExchange, OperationId } from './openapi.js';
import type { OperationInput, RequestAccess } from './request-access.js';

export interface SpecRouterOptions {
  /** Upper bound on a request body, after decompression; larger bodies answer 413. */
  maxRequestBytes: number;
  /** Runs first for every operation; throws to refuse it (e.g. 503 while the broker recovers). */
  beforeOperation?: (operationId: OperationId, req: Request, res: Response) => void;
  /** The API root clients should use in links (v3 `metadata.self`); derived from each request when absent. */
  advertisedUrl?: string;
  /** Largest single object of a streamed body (`x-samsa-streaming-body`); a larger one earns an error report. */
  maxStreamedObjectBytes?: number;
  /** Operations whose common bodies are read by a shortcut instead of parse + validate (see BodyShortcut). */
  bodyShortcuts?: BodyShortcutTable;
  /** Who may do what; everyone everything when absent. */
  authorizer?: Authorizer;
  /**
   * Runs after the path, query (and body, when parsed) are validated, before the handler; throws
   * to refuse (403). A body read by a shortcut is not given.
   */
  authorizeOperation?: (operationId: OperationId, input: OperationInput, access: RequestAccess) => void;
}

/** The loose shape every typed handler has once its input is erased; see the cast in buildRouter. */
export type ErasedHandler = (input: unknown, http: HttpExchange) => unknown;
