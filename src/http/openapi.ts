/**
 * Loads `openapi.yaml` and compiles one validator per operation input (path parameters, query
 * parameters, request body per content type) once, at start-up. The spec is the route table:
 * spec-router.ts turns these operations into express routes, and the handler types below are
 * derived from the same document (via openapi-typescript's api-types.ts), so a handler only ever
 * sees input that already passed the schema it is typed with.
 */

import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { type SamsaError, UnprocessableEntityError } from '../errors.js';
import type { AclOperation, ResourceType } from '../security/acl-binding.js';
import type { Principal } from '../security/principal.js';
import type { operations } from './api-types.js';

// ---- handler types, derived from the generated api-types.ts ----

export type OperationId = keyof operations;

type PathParams<O extends OperationId> = operations[O]['parameters'] extends { path: infer P }
  ? P
  : Record<string, never>;
/**
 * `Required` is sound because loadApi() refuses a spec with an optional query parameter that has
 * no default: after validation (ajv `useDefaults`) every declared query parameter is present.
 */
type QueryParams<O extends OperationId> = Required<NonNullable<operations[O]['parameters']['query']>>;
type DeclaredBody<O extends OperationId> = NonNullable<operations[O]['requestBody']>;
type BodyContent<O extends OperationId> = [DeclaredBody<O>] extends [never]
  ? never
  : DeclaredBody<O> extends { content: infer C }
    ? C
    : never;
type NoBody = { mediaType: undefined; body: undefined };
/** `requestBody.required: false`: a request without a body reaches the handler with `body` undefined. */
type OptionalBody<O extends OperationId> = operations[O] extends { requestBody: object } ? never : NoBody;
type BodyInput<O extends OperationId> = [BodyContent<O>] extends [never]
  ? NoBody
  : { [M in keyof BodyContent<O>]: { mediaType: M; body: BodyContent<O>[M] } }[keyof BodyContent<O>] | OptionalBody<O>;

/** Declared header parameters, under their spec names (e.g. `Idempotency-Key`); optional ones may be absent. */
type HeaderParams<O extends OperationId> = operations[O]['parameters'] extends { header?: infer H }
  ? NonNullable<H>
  : Record<string, never>;

export type HandlerInput<O extends OperationId> = {
  params: PathParams<O>;
  query: QueryParams<O>;
  headers: HeaderParams<O>;
} & BodyInput<O>;
/**
 * The 2xx statuses a handler may answer with, and the redirect (302, no content: the handler sets
 * `Location`); which ones an operation uses is declared in openapi.yaml.
 */
type SuccessStatus = 200 | 201 | 202 | 204 | 207 | 302;
type SuccessStatusOf<O extends OperationId> = keyof operations[O]['responses'] & SuccessStatus;
/** A response without content (204) is `void`: the handler returns nothing. */
// biome-ignore lint/suspicious/noConfusingVoidType: a 204 handler returns nothing, so a plain async function fits.
type ResponseBody<R> = R extends { content: infer C } ? C[keyof C] : void;
/** A handler returns the body of one of its 2xx answers; errors are thrown as SamsaError values. */
export type SuccessBody<O extends OperationId> = {
  [S in SuccessStatusOf<O>]: ResponseBody<operations[O]['responses'][S]>;
}[SuccessStatusOf<O>];
/**
 * What a handler may know of, and say about, the HTTP exchange beyond its typed input: little, on
 * purpose, so handlers stay a few lines that call the broker and shape the answer.
 */
export interface HttpExchange {
  /** The API root as the client addressed it, e.g. `http://localhost:8082`, never with a trailing slash. */
  readonly baseUrl: string;
  /** Who the exchange acts as (authentication sets it; `User:ANONYMOUS` without credentials). */
  readonly principal: Principal;
  /** Answers with another 2xx status the operation declares (the default is the lowest one declared). */
  setStatus(status: number): void;
  setHeader(name: string, value: string): void;
  /**
   * The content type the answer will carry: when the status declares several (such as `/metrics`),
   * the one the request's Accept header prefers, else the first declared. A JSON type gets the result
   * serialized; any other type sends the string (or Buffer) the handler returns as it is.
   */
  readonly responseType: string;
  /**
   * Which of `types` the request's Accept header prefers (the first when Accept is absent or `*\/*`),
   * or false when it accepts none of them.
   */
  accepts(types: readonly string[]): string | false;
  /**
   * Answers with this content type, one the status declares (the v2 records answer carries the
   * consumer instance's embedded format, whatever Accept preferred among the declared ones).
   */
  setResponseType(type: string): void;
  /** Aborted when the client goes away before the answer is written (a long poll stops waiting). */
  readonly signal: AbortSignal;
  /**
   * Hands the raw request and response to the handler, which then writes the answer itself (a
   * `text/event-stream`, written for as long as the stream lives). Whatever the handler returns
   * afterwards is ignored; errors thrown before this call still become JSON error bodies.
   */
  takeOver(): { req: IncomingMessage; res: ServerResponse };
  /** Who the caller is and what the authorizer lets it do (listings, owned consumer instances). */
  readonly access: RequestAccess;
}
/** What a handler may ask about its caller's rights. */
export interface RequestAccess {
  readonly principal: Principal;
  /** The client's IP address, as ACL hosts name it. */
  readonly host: string;
  /** Whether the caller may do `operation` to the resource (always true without an authorizer). */
  may(operation: AclOperation, resourceType: ResourceType, resourceName: string): boolean;
  /** Throws AuthorizationError (403 / 40301) unless the caller may. */
  require(operation: AclOperation, resourceType: ResourceType, resourceName: string): void;
}

/**
 * A JSON success body that its handler wrote itself, as UTF-8 bytes, for a hot path where building
 * objects only for JSON.stringify costs more than writing the text (v2 produce: one offset per
 * record). `T` is the body type the bytes stand for, so a handler still answers with its declared type.
 */
export class RenderedJson<T> {
  declare readonly body?: T;
  constructor(readonly utf8: Buffer) {}
}

export type Handler<O extends OperationId> = (
  input: HandlerInput<O>,
  http: HttpExchange,
) => SuccessBody<O> | RenderedJson<SuccessBody<O>> | Promise<SuccessBody<O> | RenderedJson<SuccessBody<O>>>;

/**
 * A faster reading of one operation's raw request body, for the shape it knows: `scan` returns
 * null for any other body, and the request then goes the spec's way (parse, validate, handler).
 * What `scan` keeps the spec's validators would accept, and `handle` answers as the handler would
 * have: each shortcut's tests hold it to that.
 */
export interface BodyShortcut<O extends OperationId, S> {
  scan(raw: Buffer, mediaType: string): S | null;
  handle(scanned: S, input: Omit<HandlerInput<O>, 'body'>, http: HttpExchange): ReturnType<Handler<O>>;
}

/** Shortcuts by operation, their scanned form erased (each is typed where it is defined). */
export type BodyShortcutTable = { [O in OperationId]?: BodyShortcut<O, unknown> };

/** Erases a shortcut's scanned type for the table: its own `scan` feeds its own `handle`. */
export function bodyShortcut<O extends OperationId, S>(shortcut: BodyShortcut<O, S>): BodyShortcut<O, unknown> {
  return shortcut as BodyShortcut<O, unknown>;
}

/**
 * Operations whose request body is a stream of concatenated JSON objects (`x-samsa-streaming-body:
 * true` in openapi.yaml; loadApi checks the two lists agree). The router validates each object on its
 * own against the operation's body schema and writes each answer as soon as the handler yields it.
 */
export const STREAMING_OPERATIONS = ['produceRecordsV3'] as const;
type StreamingOperationId = (typeof STREAMING_OPERATIONS)[number];

/** One object of a streamed body: valid against the schema, or the error that object earns. */
export type StreamedBody<O extends OperationId> =
  | { body: BodyContent<O>[keyof BodyContent<O>]; error?: undefined }
  | { body?: undefined; error: SamsaError };
export type StreamingHandlerInput<O extends OperationId> = {
  params: PathParams<O>;
  query: QueryParams<O>;
  headers: HeaderParams<O>;
  mediaType: keyof BodyContent<O>;
  /** The body's objects in order, read (with backpressure) only as fast as the handler pulls them. */
  bodies: AsyncIterable<StreamedBody<O>>;
};
/**
 * Yields one answer per body object, in order: a success body, or a SamsaError that becomes an
 * `{error_code, message}` report while the stream goes on. Throwing before the first yield answers
 * with an ordinary error response; after it, the error ends the stream as its last report.
 */
export type StreamingHandler<O extends OperationId> = (
  input: StreamingHandlerInput<O>,
  http: HttpExchange,
) => AsyncIterable<SuccessBody<O> | SamsaError>;

/** One handler per operationId in openapi.yaml, no more, no fewer. */
export type HandlerTable = {
  [O in OperationId]: O extends StreamingOperationId ? StreamingHandler<O> : Handler<O>;
};

// ---- the compiled spec ----

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
const HTTP_METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch'];

export interface CompiledOperation {
  operationId: OperationId;
  method: HttpMethod;
  /** The spec path, such as `/topics/{topic}`. */
  path: string;
  /** Throws UnprocessableEntityError; coerces strings to the declared types. Returns a fresh object. */
  validateParams(raw: Record<string, unknown>): Record<string, unknown>;
  validateQuery(raw: Record<string, unknown>): Record<string, unknown>;
  /** Reads declared header parameters from node's lower-cased headers; returns them under their spec names. */
  validateHeaders(raw: Record<string, unknown>): Record<string, unknown>;
  /** `x-samsa-streaming-body: true`: the body is a stream of JSON objects, see StreamingHandler. */
  streamingBody: boolean;
  /** `security: []`: served without credentials even when authentication is on (probes, static pages). */
  open: boolean;
  /** Media types (lowercase, no parameters) this operation accepts, each with its body validator. */
  bodyValidators: Map<string, (body: unknown) => void> | null;
  /** False when the spec says `requestBody.required: false`: a request may come without a body. */
  bodyRequired: boolean;
  /** The 2xx answers the operation declares: status → content type (null for a body-less 204). */
  successResponses: Map<number, string | null>;
  /** 2xx statuses that declare several content types, with all of them in document order, for negotiation. */
  negotiatedContentTypes: Map<number, readonly string[]>;
  /** The lowest declared 2xx status: what the operation answers unless its handler picks another. */
  successStatus: number;
}

export interface CompiledApi {
  /** Spec paths in document order, each with its operations. */
  paths: Map<string, CompiledOperation[]>;
}

// The subset of OpenAPI 3.1 this module reads. The document itself is checked by `npm run lint:api`.
type JsonSchema = Record<string, unknown>;
interface Reference {
  $ref: string;
}
interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: JsonSchema;
  'x-samsa-absent'?: boolean;
}
interface MediaTypeObject {
  schema?: JsonSchema;
}
interface RequestBodyObject {
  required?: boolean;
  content: Record<string, MediaTypeObject>;
}
interface ResponseObject {
  content?: Record<string, MediaTypeObject>;
}
interface OperationObject {
  operationId?: string;
  parameters?: (ParameterObject | Reference)[];
  requestBody?: RequestBodyObject | Reference;
  responses: Record<string, ResponseObject | Reference>;
  'x-samsa-streaming-body'?: boolean;
  security?: unknown[];
}
type PathItemObject = Partial<Record<HttpMethod, OperationObject>> & { parameters?: (ParameterObject | Reference)[] };
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, PathItemObject>;
  components?: Record<string, Record<string, unknown>>;
}

/** Where the spec's component schemas live inside ajv; every `#/components/schemas/X` points here. */
const COMPONENTS_ID = 'samsa:components';

/**
 * Finds openapi.yaml at the package root: two levels above this file both as `src/http/openapi.ts`
 * (tsx) and as `dist/http/openapi.js` (after tsc), but walk up anyway so a different layout fails
 * with a clear message instead of a wrong path.
 */
export function findSpecPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, 'openapi.yaml');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`openapi.yaml not found above ${fileURLToPath(import.meta.url)}`);
}

export function loadApi(specPath: string = findSpecPath()): CompiledApi {
  // Cast: the document's shape is checked by redocly lint in CI; a malformed one fails below loudly.
  const doc = parseYaml(readFileSync(specPath, 'utf8')) as OpenApiDocument;
  if (!doc.openapi?.startsWith('3.1')) throw new Error(`${specPath}: expected OpenAPI 3.1, got ${doc.openapi}`);
  const schemas = rewriteRefs(doc.components?.schemas ?? {}) as Record<string, JsonSchema>;

  // Two instances because coercion is per instance: path and query values arrive as strings and
  // are coerced to their declared types; bodies are JSON and must already have the right types.
  const paramAjv = newAjv({ coerceTypes: true, useDefaults: true });
  const bodyAjv = newAjv({ coerceTypes: false, useDefaults: false });
  for (const ajv of [paramAjv, bodyAjv]) ajv.addSchema({ $id: COMPONENTS_ID, $defs: schemas });

  const paths = new Map<string, CompiledOperation[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    const operations: CompiledOperation[] = [];
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!op.operationId) throw new Error(`${where}: operationId missing`);
      // Operation-level parameters override path-level ones with the same name and location.
      const parameters = new Map<string, ParameterObject>();
      for (const p of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        const param = resolve<ParameterObject>(doc, p);
        parameters.set(`${param.in}:${param.name}`, param);
      }
      const pathParams = [...parameters.values()].filter((p) => p.in === 'path');
      const queryParams = [...parameters.values()].filter((p) => p.in === 'query');
      const headerParams = [...parameters.values()].filter((p) => p.in === 'header');
      const streamingBody = op['x-samsa-streaming-body'] === true;
      if (streamingBody !== (STREAMING_OPERATIONS as readonly string[]).includes(op.operationId)) {
        throw new Error(`${where}: x-samsa-streaming-body and STREAMING_OPERATIONS in openapi.ts disagree`);
      }
      if (streamingBody && !op.requestBody) throw new Error(`${where}: a streaming body needs a requestBody`);
      for (const q of queryParams) {
        // `x-samsa-absent: true` marks an optional parameter whose absence means something (an SSE
        // stream's `offset`); its handler must treat it as possibly undefined despite the type.
        if (!q.required && q.schema.default === undefined && q['x-samsa-absent'] !== true) {
          throw new Error(
            `${where}: optional query parameter '${q.name}' needs a default or x-samsa-absent (handlers see every one)`,
          );
        }
      }
      operations.push({
        operationId: op.operationId as OperationId,
        method,
        path,
        validateParams: compileParameters(paramAjv, pathParams, 'path parameter'),
        validateQuery: compileParameters(paramAjv, queryParams, 'query parameter'),
        // Node lower-cases header names; the handler sees the spec's spelling.
        validateHeaders: compileParameters(paramAjv, headerParams, 'header', (name) => name.toLowerCase()),
        streamingBody,
        open: Array.isArray(op.security) && op.security.length === 0,
        bodyValidators: compileBodies(bodyAjv, doc, op, where),
        bodyRequired: op.requestBody ? resolve<RequestBodyObject>(doc, op.requestBody).required === true : false,
        ...successResponses(doc, op, where),
      });
    }
    if (operations.length > 0) paths.set(path, operations);
  }
  return { paths };
}

function newAjv(opts: { coerceTypes: boolean; useDefaults: boolean }): Ajv2020 {
  // strict: a typo'd keyword in openapi.yaml fails start-up instead of silently validating nothing.
  const ajv = new Ajv2020({ strict: true, allErrors: false, ...opts });
  // OpenAPI annotations that are not JSON Schema 2020-12 keywords.
  ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
  return ajv;
}

/** Points `#/components/schemas/X` at the ajv copy of the component schemas. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof child === 'string' && child.startsWith('#/components/schemas/')
        ? `${COMPONENTS_ID}#/$defs/${child.slice('#/components/schemas/'.length)}`
        : rewriteRefs(child);
  }
  return out;
}

/** Follows local `#/components/...` references of non-schema objects (parameters, bodies, responses). */
function resolve<T>(doc: OpenApiDocument, value: T | Reference): T {
  let current: unknown = value;
  for (let hops = 0; hops < 10; hops++) {
    if (current === null || typeof current !== 'object' || !('$ref' in current)) return current as T;
    const ref = (current as Reference).$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
    current = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], doc);
    if (current === undefined) throw new Error(`unresolved reference ${ref}`);
  }
  throw new Error('reference chain too long');
}

function compileParameters(
  ajv: Ajv2020,
  params: ParameterObject[],
  kind: 'path parameter' | 'query parameter' | 'header',
  rawName: (name: string) => string = (name) => name,
): (raw: Record<string, unknown>) => Record<string, unknown> {
  const schema = {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, rewriteRefs(p.schema)])),
    required: params.filter((p) => p.required).map((p) => p.name),
  };
  const validate = ajv.compile(schema);
  const names = params.map((p) => p.name);
  return (raw) => {
    // Copy only declared parameters: ajv coerces in place, and undeclared ones are ignored as Confluent does.
    const input: Record<string, unknown> = {};
    for (const name of names) if (raw[rawName(name)] !== undefined) input[name] = raw[rawName(name)];
    if (!validate(input)) throw validationError(validate, (field) => `${kind} '${field}'`);
    return input;
  };
}

function compileBodies(
  ajv: Ajv2020,
  doc: OpenApiDocument,
  op: OperationObject,
  where: string,
): Map<string, (body: unknown) => void> | null {
  if (!op.requestBody) return null;
  const requestBody = resolve<RequestBodyObject>(doc, op.requestBody);
  const validators = new Map<string, (body: unknown) => void>();
  for (const [mediaType, { schema }] of Object.entries(requestBody.content)) {
    if (!schema) throw new Error(`${where}: ${mediaType} has no schema`);
    const validate = ajv.compile(rewriteRefs(schema) as JsonSchema);
    validators.set(mediaType.toLowerCase(), (body) => {
      if (!validate(body)) throw validationError(validate, (field) => field || 'request body');
    });
  }
  return validators;
}

function successResponses(
  doc: OpenApiDocument,
  op: OperationObject,
  where: string,
): {
  successResponses: Map<number, string | null>;
  negotiatedContentTypes: Map<number, readonly string[]>;
  successStatus: number;
} {
  const responses = new Map<number, string | null>();
  const negotiated = new Map<number, readonly string[]>();
  for (const [code, response] of Object.entries(op.responses)) {
    if (!/^2\d\d$/.test(code) && code !== '302') continue;
    const contentTypes = Object.keys(resolve<ResponseObject>(doc, response).content ?? {});
    if (code === '204' || code === '302') {
      if (contentTypes.length > 0) throw new Error(`${where}: ${code} cannot have content`);
      responses.set(Number(code), null);
    } else if (code === '201' && contentTypes.length === 0) {
      // A 201 with no body, as Confluent's ACL create answers.
      responses.set(201, null);
    } else {
      const [contentType] = contentTypes;
      if (!contentType) throw new Error(`${where}: ${code} needs a content type`);
      responses.set(Number(code), contentType);
      if (contentTypes.length > 1) negotiated.set(Number(code), contentTypes);
    }
  }
  if (responses.size === 0) throw new Error(`${where}: no 2xx (or 302) response declared`);
  return {
    successResponses: responses,
    negotiatedContentTypes: negotiated,
    successStatus: Math.min(...responses.keys()),
  };
}

/** The first schema violation as a 422 whose message names the field, e.g. `records[0].key must be string,null`. */
function validationError(validate: ValidateFunction, label: (field: string) => string): UnprocessableEntityError {
  const error: ErrorObject | undefined = validate.errors?.[0];
  if (!error) return new UnprocessableEntityError('Request is invalid.');
  const base = fieldName(error.instancePath);
  const child = (name: string) => (base ? `${base}.${name}` : name);
  let message: string;
  switch (error.keyword) {
    case 'required':
      message = `${label(child(String(error.params.missingProperty)))} is required`;
      break;
    case 'additionalProperties':
      message = `${label(child(String(error.params.additionalProperty)))} is not allowed`;
      break;
    case 'unevaluatedProperties':
      message = `${label(child(String(error.params.unevaluatedProperty)))} is not allowed`;
      break;
    case 'enum':
      message = `${label(base)} must be one of: ${(error.params.allowedValues as unknown[]).join(', ')}`;
      break;
    default:
      message = `${label(base)} ${error.message ?? 'is invalid'}`;
  }
  return new UnprocessableEntityError(message);
}

/** `/records/0/key` → `records[0].key` (JSON Pointer escapes `~1` and `~0` undone). */
function fieldName(instancePath: string): string {
  let out = '';
  for (const raw of instancePath.split('/').slice(1)) {
    const part = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}
