import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import { CrossOriginWriteError } from '../errors.js';

/**
 * CORS. Any origin may read (GET, HEAD and their preflights): records and metadata are meant
 * for dashboards and browser tails served from anywhere, and reading through a browser gives a
 * page nothing curl would not. Writes (produce, admin, consumer state) change data, so a browser
 * page from another origin may make them only when that origin is listed in `--cors-origins`;
 * otherwise the preflight fails and a direct cross-origin write is refused with 403, so a page
 * a user happens to visit cannot produce or delete topics on a Samsa it can reach.
 *
 * A page from Samsa's own origin is not cross-origin, though browsers send `Origin` on its POSTs
 * too: its writes pass (the tail page, the API reference's "Try it out", a page served beside them).
 * Its own origin is the request's scheme and `Host` as this socket received them, and, behind a
 * proxy, the origin of `--advertised-url`. `X-Forwarded-*` is not consulted: any client can send it,
 * and here it would decide a permission, not just the wording of a link.
 */
const READ_METHODS = new Set(['GET', 'HEAD']);
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function cors(allowedWriteOrigins: readonly string[], advertisedUrl?: string): RequestHandler {
  const writers = new Set(allowedWriteOrigins);
  const advertisedOrigin = advertisedUrl ? originOf(advertisedUrl) : undefined;
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const requested = String(req.headers['access-control-request-method'] ?? '').toUpperCase();
    const isPreflight = req.method === 'OPTIONS' && requested !== '';
    const method = isPreflight ? requested : req.method;
    const mayWrite = writers.has(origin) || writers.has('*') || isSameOrigin(origin, ownOrigin(req), advertisedOrigin);
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

/** `scheme://host[:port]` of the request as this socket received it, or undefined without a usable Host. */
function ownOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  // Only a plain authority: a Host carrying a path or userinfo must not parse into some other origin.
  if (!host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return undefined;
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  return originOf(`${scheme}://${host}`);
}

/**
 * Origins compare as the browser serializes them: scheme and host lower-cased, the default port
 * dropped (`http://h:80` is `http://h`). A different scheme or port is a different origin.
 */
function isSameOrigin(origin: string, own: string | undefined, advertised: string | undefined): boolean {
  const theirs = originOf(origin);
  return theirs !== undefined && (theirs === own || theirs === advertised);
}

/** The serialized origin of a URL; undefined for `null` (opaque origins) and anything unparsable or userinfo-laden. */
function originOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') return undefined;
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    return parsed.origin;
  } catch {
    return undefined;
  }
}
