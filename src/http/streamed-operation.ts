/**
 * The router stage of an operation whose body is a stream of JSON objects (`x-samsa-streaming-body`
 * in openapi.yaml): objects are split as they arrive, each parsed and validated on its own with the
 * operation's compiled body validator, and the handler's answers are written one per object, in
 * order, each followed by `\r\n` (Confluent's ChunkedOutput delimiter), as soon as it is yielded.
 *
 * The status line waits for the first answer, so what fails before any object is handled (an unknown
 * cluster, an empty body) is an ordinary error response; after it, the status is 200 and failures
 * are reports inside the stream. Backpressure runs end to end: a client that stops reading answers
 * stops the handler, which stops pulling objects, which stops reading the socket.
 */
import type { Request, RequestHandler, Response } from 'express';
import { BadRequestError, InvalidPayloadError, type SamsaError } from '../errors.js';
import { ALLOW_EVERYTHING } from '../security/acl-authorizer.js';
import { baseUrlOf } from './base-url.js';
import { streamedErrorBody } from './error-handler.js';
import { principalOf } from './exchange-locals.js';
import { type JsonObjectItem, splitJsonObjects } from './json-object-stream.js';
import { essenceOf } from './media-type.js';
import type { CompiledOperation, HttpExchange } from './openapi.js';
import { requestAccess } from './request-access.js';
import type { ErasedHandler, SpecRouterOptions } from './spec-router-options.js';

/** Default for `maxStreamedObjectBytes`: one record's JSON, base64 included, with room to spare. */
export const DEFAULT_MAX_STREAMED_OBJECT_BYTES = 2 * 1024 * 1024;

const DELIMITER = '\r\n';

export function invokeStreaming(
  op: CompiledOperation,
  handler: ErasedHandler,
  opts: SpecRouterOptions,
): RequestHandler {
  const maxObjectBytes = opts.maxStreamedObjectBytes ?? DEFAULT_MAX_STREAMED_OBJECT_BYTES;
  return async (req: Request, res: Response) => {
    const params = op.validateParams(req.params);
    const query = op.validateQuery(req.query as Record<string, unknown>);
    const headers = op.validateHeaders(req.headers);
    const mediaType = essenceOf(req.headers['content-type']) ?? '';
    const validateBody = op.bodyValidators?.get(mediaType);
    if (!validateBody) throw new Error(`content type ${mediaType} passed the check but has no validator`);
    // Before the first object is read: a denied stream reads nothing.
    const access = requestAccess(opts.authorizer ?? ALLOW_EVERYTHING, req, res);
    opts.authorizeOperation?.(op.operationId, { params, query }, access);

    let objects = 0;
    async function* bodies(): AsyncGenerator<{ body: unknown } | { error: SamsaError }> {
      for await (const item of splitJsonObjects(req, { maxObjectBytes })) {
        objects++;
        yield parseAndValidate(item, validateBody as (body: unknown) => void);
        if (item.error && item.fatal) return;
      }
    }
    const http: HttpExchange = {
      get baseUrl() {
        return baseUrlOf(req, opts.advertisedUrl);
      },
      get principal() {
        return principalOf(res);
      },
      setStatus() {
        throw new Error(`${op.operationId} streams its answer; its status is always ${op.successStatus}`);
      },
      setHeader(name, value) {
        res.set(name, value);
      },
      responseType: op.successResponses.get(op.successStatus) ?? 'application/json',
      accepts(types) {
        return req.accepts(types as string[]);
      },
      get signal(): AbortSignal {
        throw new Error(`${op.operationId} streams its answer; the router follows the client, not the handler`);
      },
      setResponseType() {
        throw new Error(`${op.operationId} streams its answer; its content type is fixed by the spec`);
      },
      takeOver() {
        throw new Error(`${op.operationId} streams its answer through the router; it cannot take the response over`);
      },
      access,
    };
    const answers = (handler({ params, query, headers, mediaType, bodies: bodies() }, http) as AsyncIterable<unknown>)[
      Symbol.asyncIterator
    ]();

    // Before the first answer, a throw is an ordinary error response (express's error handler).
    const first = await answers.next();
    if (first.done) {
      if (objects === 0) throw new InvalidPayloadError('Payload error. Request body is empty. Data is required.');
      throw new Error(`${op.operationId} yielded nothing for ${objects} objects`);
    }
    res.status(op.successStatus).type(op.successResponses.get(op.successStatus) ?? 'application/json');
    let next: IteratorResult<unknown> = first;
    try {
      while (!next.done) {
        const line = serialize(next.value, req);
        if (!res.write(line) && !(await drained(res))) break;
        next = await answers.next();
      }
    } catch (err) {
      // The stream is under way: the failure becomes its last report, then the stream ends.
      if (!res.destroyed) res.write(JSON.stringify(streamedErrorBody(err, req.method, req.originalUrl)) + DELIMITER);
    } finally {
      await answers.return?.();
    }
    res.end();
  };
}

function parseAndValidate(
  item: JsonObjectItem,
  validate: (body: unknown) => void,
): { body: unknown } | { error: SamsaError } {
  if (item.error) return { error: item.error };
  let body: unknown;
  try {
    body = JSON.parse(item.text);
  } catch (err) {
    return { error: new BadRequestError(`Bad Request: Error processing JSON: ${(err as Error).message}`) };
  }
  try {
    validate(body);
  } catch (err) {
    return { error: err as SamsaError };
  }
  return { body };
}

function serialize(answer: unknown, req: Request): string {
  const body = answer instanceof Error ? streamedErrorBody(answer, req.method, req.originalUrl) : answer;
  return JSON.stringify(body) + DELIMITER;
}

/** Resolves true once the socket drains, false if the response closes first (the client went away). */
function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve(true);
    };
    const onClose = () => {
      res.off('drain', onDrain);
      resolve(false);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
