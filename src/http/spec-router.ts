/**
 * Builds the express router from the compiled spec: one route per spec path, one method handler
 * per operation, and a 405 (with `Allow`) for every other method on a known path. Each operation
 * runs the same pipeline: gate → content type → bounded body read → validate → handler → 200.
 */
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { BadRequestError, MethodNotAllowedError, UnprocessableEntityError } from '../errors.js';
import { essenceOf, unsupportedMediaType } from './media-type.js';
import type { CompiledApi, CompiledOperation, HandlerTable, OperationId } from './openapi.js';

export interface SpecRouterOptions {
  /** Upper bound on a request body, after decompression; larger bodies answer 413. */
  maxRequestBytes: number;
  /** Runs first for every operation; throws to refuse it (e.g. 503 while the broker recovers). */
  beforeOperation?: (operationId: OperationId) => void;
}

/** The loose shape every typed handler has once its input is erased; see the cast in buildRouter. */
type ErasedHandler = (input: unknown) => unknown;

export function buildRouter(api: CompiledApi, handlers: HandlerTable, opts: SpecRouterOptions): Router {
  const specIds = new Set<string>();
  for (const ops of api.paths.values()) for (const op of ops) specIds.add(op.operationId);
  for (const id of specIds) if (!(id in handlers)) throw new Error(`no handler for operation ${id}`);
  for (const id of Object.keys(handlers)) if (!specIds.has(id)) throw new Error(`handler ${id} is not in openapi.yaml`);

  // caseSensitive: topic names are case-sensitive, so paths are too.
  const router = express.Router({ caseSensitive: true });
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
      if (op.bodyValidators) stages.push(checkContentType(op.bodyValidators.keys()), readBody);
      stages.push(invoke(op, handler));
      route[op.method](...stages);
    }
    const allow = allowHeader(ops);
    route.all((_req, res, next) => {
      res.set('Allow', allow);
      next(new MethodNotAllowedError());
    });
  }
  return router;
}

/** `/topics/{topic}` → `/topics/:topic` (express 5 reads `{...}` as an optional group). */
function toExpressPath(path: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, ':$1');
}

function allowHeader(ops: CompiledOperation[]): string {
  const methods = new Set(ops.map((op) => op.method.toUpperCase()));
  if (methods.has('GET')) methods.add('HEAD'); // express answers HEAD from the GET handler
  return [...methods].join(', ');
}

function gate(op: CompiledOperation, opts: SpecRouterOptions): RequestHandler {
  return (_req, _res, next) => {
    opts.beforeOperation?.(op.operationId);
    next();
  };
}

/** Refuses before reading the body, so a 415 never costs a 16 MiB upload. */
function checkContentType(accepted: Iterable<string>): RequestHandler {
  const acceptedSet = new Set(accepted);
  return (req, _res, next) => {
    const essence = essenceOf(req.headers['content-type']);
    if (essence === undefined || !acceptedSet.has(essence)) throw unsupportedMediaType(essence, acceptedSet);
    next();
  };
}

function invoke(op: CompiledOperation, handler: ErasedHandler): RequestHandler {
  return async (req: Request, res: Response) => {
    const params = op.validateParams(req.params);
    const query = op.validateQuery(req.query as Record<string, unknown>);
    let mediaType: string | undefined;
    let body: unknown;
    if (op.bodyValidators) {
      mediaType = essenceOf(req.headers['content-type']) ?? '';
      body = parseJson(req.body);
      const validateBody = op.bodyValidators.get(mediaType);
      if (!validateBody) throw new Error(`content type ${mediaType} passed the check but has no validator`);
      validateBody(body);
    }
    const result = await handler({ params, query, mediaType, body });
    res.status(200).type(op.successContentType).send(JSON.stringify(result));
  };
}

function parseJson(raw: unknown): unknown {
  // express.raw leaves req.body undefined when the request has no body at all.
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    throw new UnprocessableEntityError('Request body is empty.', 42206);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new BadRequestError(`Malformed JSON in request body: ${(err as Error).message}`);
  }
}
