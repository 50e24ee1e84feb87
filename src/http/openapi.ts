/**
 * Loads `openapi.yaml` and compiles one validator per operation input (path parameters, query
 * parameters, request body per content type) once, at start-up. The spec is the route table:
 * spec-router.ts turns these operations into express routes, and the handler types below are
 * derived from the same document (via openapi-typescript's api-types.ts), so a handler only ever
 * sees input that already passed the schema it is typed with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { UnprocessableEntityError } from '../errors.js';
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
type BodyContent<O extends OperationId> = operations[O] extends { requestBody: { content: infer C } } ? C : never;
type BodyInput<O extends OperationId> = [BodyContent<O>] extends [never]
  ? { mediaType: undefined; body: undefined }
  : { [M in keyof BodyContent<O>]: { mediaType: M; body: BodyContent<O>[M] } }[keyof BodyContent<O>];

export type HandlerInput<O extends OperationId> = { params: PathParams<O>; query: QueryParams<O> } & BodyInput<O>;
/** A handler returns the 200 body; errors are thrown as SamsaError values. */
export type SuccessBody<O extends OperationId> = operations[O]['responses'] extends { 200: { content: infer C } }
  ? C[keyof C]
  : never;
export type Handler<O extends OperationId> = (input: HandlerInput<O>) => SuccessBody<O> | Promise<SuccessBody<O>>;
/** One handler per operationId in openapi.yaml, no more, no fewer. */
export type HandlerTable = { [O in OperationId]: Handler<O> };

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
  /** Media types (lowercase, no parameters) this operation accepts, each with its body validator. */
  bodyValidators: Map<string, (body: unknown) => void> | null;
  /** Content type of the 200 answer. */
  successContentType: string;
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
      for (const q of queryParams) {
        if (!q.required && q.schema.default === undefined) {
          throw new Error(`${where}: optional query parameter '${q.name}' needs a default (handlers see every one)`);
        }
      }
      operations.push({
        operationId: op.operationId as OperationId,
        method,
        path,
        validateParams: compileParameters(paramAjv, pathParams, 'path parameter'),
        validateQuery: compileParameters(paramAjv, queryParams, 'query parameter'),
        bodyValidators: compileBodies(bodyAjv, doc, op, where),
        successContentType: successContentType(doc, op, where),
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
  kind: 'path parameter' | 'query parameter',
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
    for (const name of names) if (raw[name] !== undefined) input[name] = raw[name];
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

function successContentType(doc: OpenApiDocument, op: OperationObject, where: string): string {
  const ok = op.responses['200'];
  if (!ok) throw new Error(`${where}: only operations answering 200 are supported so far`);
  const contentTypes = Object.keys(resolve<ResponseObject>(doc, ok).content ?? {});
  if (contentTypes.length !== 1 || !contentTypes[0]) throw new Error(`${where}: 200 needs exactly one content type`);
  return contentTypes[0];
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
