/**
 * The options and the erased handler shape shared by the spec router and its streamed-body stage
 * (streamed-operation.ts); here so neither imports the other for its types.
 */
import type { Request, Response } from 'express';
import type { BodyShortcutTable, HttpExchange, OperationId } from './openapi.js';

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
}

/** The loose shape every typed handler has once its input is erased; see the cast in buildRouter. */
export type ErasedHandler = (input: unknown, http: HttpExchange) => unknown;
