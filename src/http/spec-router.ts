/**
 * Builds the express router from the compiled spec: one route per spec path, one method handler
 * per operation, and a 405 (with `Allow`) for every other method on a known path. Each operation
 * runs the same pipeline: gate → content type → bounded body read → validate → handler → 200.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { BadRequestError, InvalidPayloadError, MethodNotAllowedError } from '../errors.js';
import { ALLOW_EVERYTHING } from '../security/acl-authorizer.js';
import { baseUrlOf } from './base-url.js';
import { type MatchedOperation, principalOf, setMatchedOperation } from './exchange-locals.js';
import { essenceOf, unsupportedMediaType } from './media-type.js';
import {
  type CompiledApi,
  type CompiledOperation,
  type HandlerTable,
  type HttpExchange,
  RenderedJson,
} from './openapi.js';
import { requestAccess } from './request-access.js';
import type { ErasedHandler, SpecRouterOptions } from './spec-router-options.js';
import { invokeStreaming } from './streamed-operation.js';

type ErasedShortcut = {
  scan(raw: Buffer, mediaType: string): unknown;
  handle(scanned: unknown, input: unknown, http: HttpExchange): unknown;
};

export function buildRouter(api: CompiledApi, handlers: HandlerTable, opts: SpecRouterOptions): Router {
  const specIds = new Set<string>();
  for (const ops of api.paths.values()) for (const op of ops) specIds.add(op.operationId);
  for (const id of specIds) if (!(id in handlers)) throw new Error(`no handler for operation ${id}`);
  for (const id of Object.keys(handlers)) if (!specIds.has(id)) throw new Error(`handler ${id} is not in openapi.yaml`);
  for (const id of Object.keys(opts.bodyShortcuts ?? {})) {
    if (!specIds.has(id)) throw new Error(`body shortcut ${id} is not in openapi.yaml`);
  }

  // caseSensitive: topic names are case-sensitive, so paths are too. strict: false (express's default,
  // spelled out because clients rely on it): every path also matches with one trailing slash, since
  // Confluent clients send both `/v3/clusters` and `/v3/clusters/`.
  const router = express.Router({ caseSensitive: true, strict: false });
  // type: every content type is read as bytes; the operation's own content-type check has already
  // refused what it does not accept, and JSON is parsed here so a parse error is ours to word.
  const readBody = express.raw({ type: () => true, limit: opts.maxRequestBytes });

  for (const [path, ops] of api.paths) {
    const route = router.route(toExpressPath(path));
    for (const op of ops) {
      // Cast: HandlerTable ties each handler to its operation's types; the validators compiled from
      // the same spec guarantee the erased input matches them at run time.
      const handler = handlers[op.operationId] as unknown as ErasedHandler;
      const stages: RequestHandler[] = [gate(op, opts)];
      if (op.bodyValidators) stages.push(checkContentType(op.bodyValidators.keys(), op.bodyRequired));
      // A streamed body is read object by object by its own stage, never buffered whole.
      if (op.streamingBody) stages.push(invokeStreaming(op, handler, opts));
      else {
        if (op.bodyValidators) stages.push(readBody);
        stages.push(invoke(op, handler, opts));
      }
      route[op.method](...stages);
    }
    const allow = allowHeader(ops);
    route.all((_req, res, next) => {
      setMatchedOperation(res, { route: path });
      res.set('Allow', allow);
      next(new MethodNotAllowedError());
    });
  }
  return router;
}

/**
 * `/topics/{topic}` → `/topics/:topic` (express 5 reads `{...}` as an optional group). A literal
 * colon, as in Confluent's custom methods (`/configs:alter`, `/records:batch`), is escaped first
 * so express does not read it as a parameter.
 */
function toExpressPath(path: string): string {
  return path.replaceAll(':', '\\:').replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

function allowHeader(ops: CompiledOperation[]): string {
  const methods = new Set(ops.map((op) => op.method.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD'); // express answers HEAD from the GET handler
  return [...methods].join(', ');
}

function gate(op: CompiledOperation, opts: SpecRouterOptions): RequestHandler {
  const matched: MatchedOperation = { route: op.path, operationId: op.operationId };
  return (req, res, next) => {
    setMatchedOperation(res, matched);
    opts.beforeOperation?.(op.operationId, req, res);
    next();
  };
}

/** Refuses before reading the body, so a 415 never costs a 16 MiB upload. */
function checkContentType(accepted: Iterable<string>, bodyRequired: boolean): RequestHandler {
  const acceptedSet = new Set(accepted);
  return (req, _res, next) => {
    if (!bodyRequired && !hasBody(req)) return next();
    const essence = essenceOf(req.headers['content-type']);
    if (essence === undefined || !acceptedSet.has(essence)) throw unsupportedMediaType(essence, acceptedSet);
    next();
  };
}

function invoke(op: CompiledOperation, handler: ErasedHandler, opts: SpecRouterOptions): RequestHandler {
  const shortcut = opts.bodyShortcuts?.[op.operationId] as ErasedShortcut | undefined;
  return async (req: Request, res: Response) => {
    const params = op.validateParams(req.params);
    const query = op.validateQuery(req.query as Record<string, unknown>);
    const headers = op.validateHeaders(req.headers);
    let mediaType: string | undefined;
    let body: unknown;
    let scanned: unknown = null;
    if (op.bodyValidators && (op.bodyRequired || hasBody(req))) {
      mediaType = essenceOf(req.headers['content-type']) ?? '';
      if (shortcut && Buffer.isBuffer(req.body)) scanned = shortcut.scan(req.body, mediaType);
    }
    if (op.bodyValidators && mediaType !== undefined && scanned === null) {
      body = parseJson(req.body);
      const validateBody = op.bodyValidators.get(mediaType);
      if (!validateBody) throw new Error(`content type ${mediaType} passed the check but has no validator`);
      validateBody(body);
    }
    const access = requestAccess(opts.authorizer ?? ALLOW_EVERYTHING, req, res);
    opts.authorizeOperation?.(op.operationId, { params, query, body }, access);
    let status = op.successStatus;
    let chosenType: string | undefined;
    let clientGone: AbortController | undefined;
    let takenOver = false;
    const http: HttpExchange = {
      // A getter: only the v3 handlers that build links pay for it.
      get baseUrl() {
        return baseUrlOf(req, opts.advertisedUrl);
      },
      get principal() {
        return principalOf(res);
      },
      setStatus(code) {
        if (!op.successResponses.has(code)) throw new Error(`${op.operationId} does not declare a ${code} answer`);
        status = code;
      },
      setHeader(name, value) {
        res.set(name, value);
      },
      get responseType() {
        if (chosenType !== undefined) return chosenType;
        const choices = op.negotiatedContentTypes.get(status);
        return (choices && req.accepts(choices as string[])) || (op.successResponses.get(status) ?? '');
      },
      accepts(types) {
        return req.accepts(types as string[]);
      },
      get signal() {
        if (!clientGone) {
          const controller = new AbortController();
          res.once('close', () => {
            if (!res.writableFinished) controller.abort();
          });
          clientGone = controller;
        }
        return clientGone.signal;
      },
      setResponseType(type) {
        const declared = op.negotiatedContentTypes.get(status) ?? [op.successResponses.get(status)];
        if (!declared.includes(type)) throw new Error(`${op.operationId} does not declare ${type} for ${status}`);
        chosenType = type;
      },
      takeOver() {
        takenOver = true;
        return { req, res };
      },
      access,
    };
    const result = await (scanned === null || !shortcut
      ? handler({ params, query, headers, mediaType, body }, http)
      : shortcut.handle(scanned, { params, query, headers, mediaType }, http));
    if (takenOver) return;
    const contentType =
      chosenType ?? (op.negotiatedContentTypes.has(status) ? http.responseType : op.successResponses.get(status));
    if (contentType === null || contentType === undefined) {
      res.status(status).end();
      return;
    }
    res.status(status).type(contentType);
    if (result instanceof RenderedJson) {
      // The charset express adds when it sends a string (it leaves a Buffer's type alone).
      res.set('Content-Type', `${res.get('Content-Type')}; charset=utf-8`).send(result.utf8);
    } else if (isJsonType(contentType)) {
      res.send(JSON.stringify(result));
    } else {
      // Text and bytes (the /metrics exposition) go out as the handler wrote them.
      if (typeof result !== 'string' && !Buffer.isBuffer(result)) {
        throw new Error(`${op.operationId} answers ${contentType} but returned neither a string nor a Buffer`);
      }
      res.send(result);
    }
  };
}

/**
 * Whether the request carries a body (Node's rule, as body-parser applies it): a Transfer-Encoding,
 * or a Content-Length above zero. Only operations whose body is optional ask.
 */
function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** `application/json` and every `+json` type (Confluent's `application/vnd.kafka.v2+json`). */
function isJsonType(contentType: string): boolean {
  const essence = essenceOf(contentType);
  return essence === 'application/json' || essence?.endsWith('+json') === true;
}

function parseJson(raw: unknown): unknown {
  // express.raw leaves req.body undefined when the request has no body at all.
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new InvalidPayloadError('Request body is empty.');
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`Malformed JSON in request body: ${(err as Error).message}`);
  }
}
