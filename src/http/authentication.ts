/**
 * HTTP authentication: reads the request's credentials once, before any route, and records who it
 * is (`setPrincipal`) for the handlers, the logs and authorization:
 *
 * - `Authorization: Basic` — a user of the users file;
 * - `Authorization: Bearer` — an API key of the users file, or a JWT;
 * - `?access_token=` — a stream token (POST /stream-tokens), on the SSE stream only: a URL ends up
 *   in browser history and proxy logs, so a token there must be short-lived and able to read, not
 *   to write; every other route answers 401 to it.
 *
 * With authentication on, a request without valid credentials answers 401/40101 with
 * `WWW-Authenticate`, except the open operations: the probes (an orchestrator's kubelet cannot
 * authenticate, and they tell nothing but up/ready) and the static pages (the tail page and the API
 * reference carry no data; what they fetch is authenticated). `/metrics` is not open: it names every
 * topic and group, and Prometheus sends `basic_auth` or a bearer token. It runs after CORS, so a
 * preflight (which browsers send without credentials) is answered and a 401 is readable by the page.
 */
import type { Request, RequestHandler } from 'express';
import { AuthenticationFailedError } from '../errors.js';
import type { Authenticator } from '../security/authenticator.js';
import { ANONYMOUS, type Principal } from '../security/principal.js';
import { principalOf, setPrincipal } from './exchange-locals.js';
import type { CompiledApi, CompiledOperation, OperationId } from './openapi.js';

export interface AuthenticationOptions {
  authenticator: Authenticator;
  /** The routes; those declaring `security: []` are served to anyone. */
  api: CompiledApi;
}

/** An Authorization header longer than this is refused unread (a JWT of a few KiB is normal). */
const MAX_AUTHORIZATION_LENGTH = 16 * 1024;
const EVENT_STREAM = 'text/event-stream';

interface RouteMatcher {
  pattern: RegExp;
  method: string;
  operationId: OperationId;
}

export function authentication({ authenticator, api }: AuthenticationOptions): RequestHandler {
  // Only the routes whose rule differs are matched here: a handful, not every path of the spec.
  const openRoutes = routeMatchers(api, (op) => op.open);
  const streamRoutes = routeMatchers(api, (op) => op.method === 'get' && producesEventStream(op));
  const challenge = authenticator.httpSchemes.map((scheme) => `${scheme} realm="samsa"`);
  const refuse = (res: Parameters<RequestHandler>[1], message: string) => {
    res.setHeader('WWW-Authenticate', challenge);
    return new AuthenticationFailedError(message);
  };
  return (req, res, next) => {
    if (!authenticator.enabled) return next();
    if (matchRoute(openRoutes, req) !== undefined) return next();
    const header = req.headers.authorization;
    const streamToken = header === undefined ? accessToken(req) : undefined;
    // A verified client certificate (client-certificate.ts, which runs first) already named the principal.
    if (header === undefined && streamToken === undefined && principalOf(res) !== ANONYMOUS) return next();
    if (header === undefined && streamToken === undefined) return next(refuse(res, 'Authentication required.'));
    let principal: Promise<Principal>;
    if (streamToken !== undefined) {
      if (req.method !== 'GET' || matchRoute(streamRoutes, req) === undefined)
        return next(refuse(res, 'A stream token (access_token) is accepted only by GET /topics/{topic}/stream.'));
      try {
        principal = Promise.resolve(authenticator.streamToken(streamToken));
      } catch (err) {
        return next(err instanceof AuthenticationFailedError ? refuse(res, err.message) : err);
      }
    } else {
      const text = header as string;
      if (text.length > MAX_AUTHORIZATION_LENGTH) return next(refuse(res, 'Authorization header too long.'));
      const space = text.indexOf(' ');
      const scheme = (space === -1 ? text : text.slice(0, space)).toLowerCase();
      const value = space === -1 ? '' : text.slice(space + 1).trim();
      if (scheme === 'basic') {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon === -1) return next(refuse(res, 'Invalid Basic credentials: expected base64 of user:password.'));
        principal = authenticator.password(decoded.slice(0, colon), decoded.slice(colon + 1));
      } else if (scheme === 'bearer' && value !== '') {
        principal = authenticator.bearer(value);
      } else {
        return next(refuse(res, `Unsupported authorization scheme; use ${authenticator.httpSchemes.join(' or ')}.`));
      }
    }
    principal.then(
      (p) => {
        setPrincipal(res, p);
        next();
      },
      (err: unknown) => next(err instanceof AuthenticationFailedError ? refuse(res, err.message) : err),
    );
  };
}

/** `access_token` of the query string, when there is one (only the first counts). */
function accessToken(req: Request): string | undefined {
  const q = req.url.indexOf('?');
  if (q === -1 || !req.url.includes('access_token=', q)) return undefined;
  const token = new URLSearchParams(req.url.slice(q + 1)).get('access_token');
  return token === null || token === '' ? undefined : token;
}

function producesEventStream(op: CompiledOperation): boolean {
  return [...op.successResponses.values()].some((type) => type === EVENT_STREAM);
}

/** The spec's paths of the operations `which` picks, as express matches them: case-sensitive, one optional trailing slash. */
function routeMatchers(api: CompiledApi, which: (op: CompiledOperation) => boolean): RouteMatcher[] {
  const out: RouteMatcher[] = [];
  for (const [path, ops] of api.paths) {
    const source = path
      .split(/(\{[A-Za-z_][A-Za-z0-9_]*\})/)
      .map((part) => (part.startsWith('{') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    const pattern = new RegExp(`^${source}/?$`);
    for (const op of ops)
      if (which(op)) out.push({ pattern, method: op.method.toUpperCase(), operationId: op.operationId });
  }
  return out;
}

function matchRoute(routes: readonly RouteMatcher[], req: Request): RouteMatcher | undefined {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const path = req.path;
  for (const route of routes) if (route.method === method && route.pattern.test(path)) return route;
  return undefined;
}
