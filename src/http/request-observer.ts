/**
 * First middleware of the app: gives every request an id (the client's `X-Request-Id` when it sent a
 * sane one, else a fresh UUID), echoes it on the response, and when the exchange ends records one
 * duration in `samsa_http_request_duration_seconds` and writes one log line. Both are labelled with
 * the OpenAPI path template the spec router matched (`/topics/{topic}`), never the raw URL, so a
 * million topic names still make one series; requests that match no spec path share `unmatched`.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';
import { type SamsaMetrics, UNMATCHED_ROUTE } from '../metrics/samsa-metrics.js';
import { principalText } from '../security/principal.js';
import { matchedOperation, principalOf, setRequestId } from './exchange-locals.js';
import { loggedUrl } from './logged-url.js';
import type { OperationId } from './openapi.js';

export interface RequestObserverOptions {
  logger: Logger;
  metrics: SamsaMetrics;
  /** Operations polled by machines (probes, scrapes): logged at debug, not info, so they do not drown the log. */
  quietOperations: ReadonlySet<OperationId>;
}

/** Longest client-chosen request id echoed back; longer (or non-printable) ones are replaced. */
const MAX_REQUEST_ID_LENGTH = 200;
const SANE_REQUEST_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_REQUEST_ID_LENGTH}}$`);

export function observeRequests({ logger, metrics, quietOperations }: RequestObserverOptions): RequestHandler {
  return (req, res, next) => {
    const startedNs = process.hrtime.bigint();
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    setRequestId(res, requestId);
    res.setHeader('X-Request-Id', requestId);
    // 'close' fires for every exchange, finished or cut short (client gone, connection destroyed).
    res.once('close', () => {
      const durationS = Number(process.hrtime.bigint() - startedNs) / 1e9;
      const matched = matchedOperation(res);
      const route = matched?.route ?? UNMATCHED_ROUTE;
      const status = res.statusCode;
      metrics.observeHttpRequest(req.method, route, status, durationS);
      const level =
        matched?.operationId !== undefined && quietOperations.has(matched.operationId)
          ? 'debug'
          : status >= 500
            ? 'warn'
            : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          event: 'request',
          reqId: requestId,
          method: req.method,
          route,
          url: loggedUrl(req.originalUrl),
          principal: principalText(principalOf(res)),
          status,
          durationMs: Math.round(durationS * 1e6) / 1e3,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });
    next();
  };
}
