import type { RequestHandler } from 'express';
import { CrossOriginWriteError } from '../errors.js';

/**
 * CORS. Any origin may read (GET, HEAD and their preflights): records and metadata are meant
 * for dashboards and browser tails served from anywhere, and reading through a browser gives a
 * page nothing curl would not. Writes (produce, admin, consumer state) change data, so a browser
 * page from another origin may make them only when that origin is listed in `--cors-origins`;
 * otherwise the preflight fails and a direct cross-origin write is refused with 403, so a page
 * a user happens to visit cannot produce or delete topics on a Samsa it can reach.
 */
const READ_METHODS = new Set(['GET', 'HEAD']);
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function cors(allowedWriteOrigins: readonly string[]): RequestHandler {
  const writers = new Set(allowedWriteOrigins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const requested = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
    const isPreflight = req.method === 'OPTIONS' && requested !== '';
    const method = isPreflight ? requested : req.method;
    const mayWrite = writers.has(origin) || writers.has('*');
    if (READ_METHODS.has(method)) {
      res.set('Access-Control-Allow-Origin', '*');
    } else if (mayWrite) {
      res.set('Access-Control-Allow-Origin', origin);
      res.set('Vary', 'Origin');
    } else if (!isPreflight) {
      return next(new CrossOriginWriteError(origin));
    }
    if (isPreflight) {
      if (READ_METHODS.has(method) || mayWrite) {
        res.set('Access-Control-Allow-Methods', mayWrite ? 'GET, HEAD, POST, PUT, PATCH, DELETE' : 'GET, HEAD');
        res.set('Access-Control-Allow-Headers', String(req.headers['access-control-request-headers'] ?? ''));
        res.set('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
      }
      // Without the allow headers the browser refuses the write itself.
      res.status(204).end();
      return;
    }
    res.set('Access-Control-Expose-Headers', 'X-Request-Id, Location');
    next();
  };
}
