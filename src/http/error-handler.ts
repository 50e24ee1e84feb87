/**
 * The one place that turns a thrown value into an HTTP answer. Every answer is JSON
 * `{error_code, message}` (Confluent's shape); never HTML, never a stack trace. SamsaError values
 * answer what error-codes.ts's table gives their class; a few framework errors are translated;
 * anything else is a bug, answered with a bare 500. Every 5xx except 503 is logged to stderr, with
 * the stack the client never sees.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import {
  NotReadyError,
  PayloadTooLargeError,
  QuotaExceededError,
  RouteNotFoundError,
  SamsaError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { httpAnswerOf } from './error-codes.js';
import { requestIdOf } from './exchange-locals.js';
import { loggedUrl } from './logged-url.js';

interface ErrorBody {
  error_code: number;
  message: string;
  /** Why a probe (or a request refused before readiness) fails: `recovering_logs`, `disk_full`, ... */
  reasons?: readonly string[];
}

/** Last route: nothing in the spec matched this path. */
export const routeNotFound: RequestHandler = (_req, _res, next) => {
  next(new RouteNotFoundError());
};

export function errorHandler(opts: { maxRequestBytes: number; logger?: Logger }): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const answer = toAnswer(err, opts.maxRequestBytes);
    // 503 (recovery, shutdown) and 507 (a full or read-only disk: the request line says so at warn,
    // once per request) are expected; any other 5xx is a bug or a damaged disk worth a stack in the log.
    if (answer.status >= 500 && answer.status !== 503 && answer.status !== 507) {
      if (opts.logger) {
        opts.logger.error(
          {
            event: 'unhandled_error',
            reqId: requestIdOf(res),
            method: req.method,
            url: loggedUrl(req.originalUrl),
            err,
          },
          'unhandled error',
        );
      } else logServerError(err, req.method, loggedUrl(req.originalUrl));
    }
    if (res.headersSent) {
      // Too late for a clean answer; cutting the connection is the only honest signal left.
      res.destroy();
      return;
    }
    // RFC 9110 Retry-After: whole seconds, rounded up so a client that waits exactly that long fits.
    if (err instanceof QuotaExceededError)
      res.setHeader('Retry-After', Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    res.status(answer.status).json(answer.body satisfies ErrorBody);
  };
}

/**
 * The body of one failed item inside a streamed answer (a v3 delivery report), where the status line
 * has already gone out; logged like any other answer when it is a server error.
 */
export function streamedErrorBody(err: unknown, method: string, url: string): ErrorBody {
  const { status, body } = toAnswer(err, 0);
  if (status >= 500 && status !== 503 && status !== 507) logServerError(err, method, url);
  return body;
}

function toAnswer(err: unknown, maxRequestBytes: number): { status: number; body: ErrorBody } {
  if (err instanceof SamsaError) {
    const { status, errorCode } = httpAnswerOf(err);
    if (err instanceof NotReadyError) {
      return { status, body: { error_code: errorCode, message: err.message, reasons: err.reasons } };
    }
    return answer(status, errorCode, err.message);
  }

  // body-parser (raw-body) and the express router report with http-errors: `type`, `status`, `expose`.
  const httpError = (err ?? {}) as { type?: unknown; status?: unknown; message?: unknown };
  if (httpError.type === 'entity.too.large') {
    return toAnswer(new PayloadTooLargeError(`Request body exceeds the limit of ${maxRequestBytes} bytes.`), 0);
  }
  if (httpError.type === 'encoding.unsupported' || httpError.type === 'charset.unsupported') {
    return toAnswer(new UnsupportedMediaTypeError(String(httpError.message)), 0);
  }
  const status = typeof httpError.status === 'number' ? httpError.status : 500;
  // A 4xx from the framework describes the client's request (a malformed %-escape in the path, an
  // aborted upload), so its message is safe to show; 5xx and unknown errors hide behind a bare 500.
  if (status >= 400 && status < 500 && typeof httpError.message === 'string') {
    return answer(status, status, httpError.message);
  }
  return answer(500, 500, 'Internal Server Error');
}

function answer(status: number, errorCode: number, message: string): { status: number; body: ErrorBody } {
  return { status, body: { error_code: errorCode, message } };
}

function logServerError(err: unknown, method: string, url: string): void {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'error', event: 'unhandled_error', method, url, error: detail })}\n`,
  );
}
