/**
 * The HTTP edge: an express app whose routes come from openapi.yaml (spec-router.ts), whose
 * handlers call the Broker facade, and whose every error leaves through error-handler.ts.
 */
import express, { type Express } from 'express';
import type { Broker } from '../broker/broker.js';
import { ServiceUnavailableError } from '../errors.js';
import { errorHandler, routeNotFound } from './error-handler.js';
import { healthHandlers } from './health.js';
import { type CompiledApi, loadApi, type OperationId } from './openapi.js';
import { buildRouter } from './spec-router.js';
import { v2PartitionHandlers } from './v2-partitions.js';
import { type ProduceLimits, v2ProduceHandlers } from './v2-produce.js';

export interface HttpLimits extends ProduceLimits {
  /** Largest request body accepted, in bytes after decompression; larger answers 413. */
  maxRequestBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxRequestBytes: 16 * 1024 * 1024,
  maxRecordsPerRequest: 10_000,
};

export interface AppOptions {
  broker: Broker;
  limits?: Partial<HttpLimits>;
  /** A spec compiled earlier; loaded from openapi.yaml when absent. */
  api?: CompiledApi;
}

// Probes must answer while the broker recovers; everything else waits for it.
const SERVED_BEFORE_READY: ReadonlySet<OperationId> = new Set<OperationId>(['getHealth', 'getReadiness']);

export function createApp({ broker, limits: overrides, api = loadApi() }: AppOptions): Express {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...overrides };
  const app = express();
  app.disable('x-powered-by');
  app.use(
    buildRouter(
      api,
      { ...healthHandlers(broker), ...v2ProduceHandlers(broker, limits), ...v2PartitionHandlers(broker) },
      {
        maxRequestBytes: limits.maxRequestBytes,
        beforeOperation: (operationId) => {
          if (!SERVED_BEFORE_READY.has(operationId) && !broker.ready) {
            throw new ServiceUnavailableError('Broker is not ready; it is recovering its logs.');
          }
        },
      },
    ),
  );
  app.use(routeNotFound);
  app.use(errorHandler({ maxRequestBytes: limits.maxRequestBytes }));
  return app;
}
