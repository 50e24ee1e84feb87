/**
 * Authorization at the HTTP edge: who the exchange acts as (the principal authentication set, else
 * `User:ANONYMOUS`) and from which address, asked of the node's authorizer. The spec router runs
 * each operation's checks from the access table (src/security/access-table.ts) once its path,
 * query and body are validated and before its handler; handlers that list resources or own
 * consumer instances ask `http.access` themselves.
 */
import type { Request, Response } from 'express';
import { AuthorizationError } from '../errors.js';
import { type AccessCheck, HTTP_ACCESS, type HttpAccess } from '../security/access-table.js';
import type { Authorizer } from '../security/acl-authorizer.js';
import { CLUSTER_RESOURCE_NAME } from '../security/acl-binding.js';
import { principalText } from '../security/principal.js';
import { principalOf } from './exchange-locals.js';
import type { OperationId, RequestAccess } from './openapi.js';

export type { RequestAccess } from './openapi.js';

// Compile-time: the table has exactly one entry per operation of openapi.yaml.
const TABLE: Record<OperationId, HttpAccess> = HTTP_ACCESS satisfies Record<OperationId, HttpAccess>;

/** The access table's entry of an operation. */
export function httpAccessOf(operationId: OperationId): HttpAccess {
  return TABLE[operationId];
}

export function requestAccess(authorizer: Authorizer, req: Request, res: Response): RequestAccess {
  const principal = principalOf(res);
  const address = req.socket.remoteAddress ?? '';
  const host = address.startsWith('::ffff:') ? address.slice(7) : address;
  return {
    principal,
    host,
    may: (operation, resourceType, name) => authorizer.authorize(principal, host, operation, resourceType, name),
    require(operation, resourceType, name) {
      if (!authorizer.authorize(principal, host, operation, resourceType, name))
        throw new AuthorizationError(principalText(principal), operation, resourceType, name);
    },
  };
}

export interface OperationInput {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body?: unknown;
}

/**
 * Runs an operation's table checks. `topicExists` decides whether a produce would auto-create its
 * topic, which then also takes CREATE (Kafka's Metadata auto-create rule).
 */
export function checkOperationAccess(
  operationId: OperationId,
  input: OperationInput,
  access: RequestAccess,
  topicExists: (name: string) => boolean,
): void {
  const rule = TABLE[operationId];
  for (const check of rule.checks) {
    const name = nameOf(check, input);
    if (name === undefined) continue;
    if (check.orCluster && access.may(check.operation, 'CLUSTER', CLUSTER_RESOURCE_NAME)) continue;
    access.require(check.operation, check.resourceType, name);
  }
  if (rule.bodyTopics) for (const t of bodyTopicNames(input.body)) access.require(rule.bodyTopics, 'TOPIC', t);
  if (rule.autoCreate) {
    const topic = input.params.topic;
    if (typeof topic === 'string' && !topicExists(topic) && !access.may('CREATE', 'CLUSTER', CLUSTER_RESOURCE_NAME))
      access.require('CREATE', 'TOPIC', topic);
  }
}

/**
 * The topics a v2 consumer body names: `topics` (a subscription) and the `topic` of each entry of
 * `partitions`, `offsets` and `timestamps` (assignment, commit, seek).
 */
function bodyTopicNames(body: unknown): Set<string> {
  const out = new Set<string>();
  if (typeof body !== 'object' || body === null) return out;
  const b = body as Record<string, unknown>;
  if (Array.isArray(b.topics)) for (const t of b.topics) if (typeof t === 'string') out.add(t);
  for (const field of ['partitions', 'offsets', 'timestamps']) {
    const list = b[field];
    if (!Array.isArray(list)) continue;
    for (const e of list) {
      const t = (e as Record<string, unknown> | null)?.topic;
      if (typeof t === 'string') out.add(t);
    }
  }
  return out;
}

function nameOf(check: AccessCheck, input: OperationInput): string | undefined {
  const { name } = check;
  if (name === 'cluster') return CLUSTER_RESOURCE_NAME;
  const value =
    'param' in name
      ? input.params[name.param]
      : 'query' in name
        ? input.query[name.query]
        : (input.body as Record<string, unknown> | undefined)?.[name.body];
  return typeof value === 'string' ? value : undefined;
}
