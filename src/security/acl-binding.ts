/**
 * Kafka's ACL model (org.apache.kafka.common.acl and .resource): an ACL binding is a resource
 * pattern (type, name, LITERAL or PREFIXED) and an entry (principal, host, operation, ALLOW or
 * DENY). Filters, with their ANY and MATCH values, select bindings for DescribeAcls, DeleteAcls
 * and the v3 `/acls` routes. Names and numbers are Kafka's, so the Kafka ACL APIs carry them as
 * they are and `kafka-acls.sh` output reads the same.
 */
import net from 'node:net';
import { InvalidRequestError } from '../errors.js';
import { parsePrincipal } from './principal.js';

/** Kafka's ResourceType codes. */
export const RESOURCE_TYPES = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
} as const;
export type ResourceTypeName = keyof typeof RESOURCE_TYPES;
/** The resource types an ACL can be stored for. */
export type ResourceType = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID';

/** Kafka's PatternType codes. */
export const PATTERN_TYPES = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;
export type PatternTypeName = keyof typeof PATTERN_TYPES;
export type PatternType = 'LITERAL' | 'PREFIXED';

/** Kafka's AclOperation codes. */
export const ACL_OPERATIONS = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
} as const;
export type AclOperationName = keyof typeof ACL_OPERATIONS;
/** An operation an ACL can name (ALL stands for every one). */
export type AclOperation = Exclude<AclOperationName, 'UNKNOWN' | 'ANY'>;

/** Kafka's AclPermissionType codes. */
export const ACL_PERMISSIONS = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;
export type AclPermissionName = keyof typeof ACL_PERMISSIONS;
export type AclPermission = 'ALLOW' | 'DENY';

/** Kafka's ResourcePattern.WILDCARD_RESOURCE: a LITERAL ACL on `*` covers every resource of its type. */
export const WILDCARD_RESOURCE = '*';
/** The only name a CLUSTER resource has (Kafka's CLUSTER_NAME). */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** An ACL for `User:*` matches every principal; host `*` every client address. */
export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';

/** Longest resource name, principal or host an ACL may hold (the v3 schema says the same). */
export const MAX_ACL_FIELD_CHARS = 1024;

export interface AclBinding {
  resourceType: ResourceType;
  resourceName: string;
  patternType: PatternType;
  /** `User:alice`, or `User:*`. */
  principal: string;
  /** A client IP address, or `*`. */
  host: string;
  operation: AclOperation;
  permission: AclPermission;
}

/** A selection of bindings: null (and ANY) match every value; pattern MATCH matches what would apply to that name. */
export interface AclBindingFilter {
  resourceType: ResourceTypeName;
  resourceName: string | null;
  patternType: PatternTypeName;
  principal: string | null;
  host: string | null;
  operation: AclOperationName;
  permission: AclPermissionName;
}

export const MATCH_EVERY_ACL: AclBindingFilter = Object.freeze({
  resourceType: 'ANY',
  resourceName: null,
  patternType: 'ANY',
  principal: null,
  host: null,
  operation: 'ANY',
  permission: 'ANY',
});

/**
 * What each resource type's ACLs may name (Kafka's AclEntry.supportedOperations); ALL is valid
 * everywhere. An ACL outside these would never be checked, so creating one is refused.
 */
const SUPPORTED_OPERATIONS: Record<ResourceType, ReadonlySet<AclOperation>> = {
  TOPIC: new Set(['READ', 'WRITE', 'CREATE', 'DESCRIBE', 'DELETE', 'ALTER', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS']),
  GROUP: new Set(['READ', 'DESCRIBE', 'DELETE']),
  CLUSTER: new Set([
    'CREATE',
    'CLUSTER_ACTION',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
    'IDEMPOTENT_WRITE',
    'ALTER',
    'DESCRIBE',
  ]),
  TRANSACTIONAL_ID: new Set(['DESCRIBE', 'WRITE']),
};

/** The fields of a binding as a client sent them (v3 body, CreateAcls), checked by `validAclBinding`. */
export interface AclBindingInput {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permission: string;
}

/**
 * A binding from a client's fields, or InvalidRequestError (Kafka's answer to CreateAcls with a
 * bad entry) saying which field is wrong. Kafka's rules: a concrete resource type, LITERAL or
 * PREFIXED, a concrete operation the type supports, ALLOW or DENY, a `User:` principal, a
 * non-empty name, and `kafka-cluster` as the only CLUSTER name. Hosts are `*` or an IP address
 * (Kafka matches the client's address as text, so a host name would never match).
 */
export function validAclBinding(input: AclBindingInput): AclBinding {
  const { resourceType, patternType, operation, permission, resourceName, principal, host } = input;
  if (!isStorableResourceType(resourceType))
    throw invalid(`resource_type must be TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID, got '${resourceType}'`);
  if (patternType !== 'LITERAL' && patternType !== 'PREFIXED')
    throw invalid(`pattern_type must be LITERAL or PREFIXED, got '${patternType}'`);
  if (!isAclOperation(operation)) throw invalid(`operation '${operation}' cannot be stored in an ACL`);
  if (operation !== 'ALL' && !SUPPORTED_OPERATIONS[resourceType].has(operation))
    throw invalid(`operation ${operation} does not apply to resource type ${resourceType}`);
  if (permission !== 'ALLOW' && permission !== 'DENY')
    throw invalid(`permission must be ALLOW or DENY, got '${permission}'`);
  if (resourceName === '' || resourceName.length > MAX_ACL_FIELD_CHARS)
    throw invalid(`resource_name must have 1 to ${MAX_ACL_FIELD_CHARS} characters`);
  if (resourceType === 'CLUSTER' && resourceName !== CLUSTER_RESOURCE_NAME)
    throw invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`);
  if (principal.length > MAX_ACL_FIELD_CHARS || parsePrincipal(principal) === undefined)
    throw invalid(`principal must be User:<name> or User:*, got '${principal.slice(0, 100)}'`);
  if (host !== WILDCARD_HOST && net.isIP(host) === 0)
    throw invalid(`host must be * or an IP address, got '${host.slice(0, 100)}'`);
  return { resourceType, resourceName, patternType, principal, host, operation, permission };
}

/** A filter from a client's fields; unknown names are InvalidRequestError. Absent fields match anything. */
export function validAclFilter(
  input: Partial<Record<keyof AclBindingFilter, string | null | undefined>>,
): AclBindingFilter {
  const pick = <T extends string>(field: string, value: string | null | undefined, names: Record<T, number>): T => {
    const v = value ?? 'ANY';
    if (!(v in names) || v === 'UNKNOWN') throw invalid(`${field} '${v}' is not one Kafka knows`);
    return v as T;
  };
  return {
    resourceType: pick('resource_type', input.resourceType, RESOURCE_TYPES),
    resourceName: input.resourceName ?? null,
    patternType: pick('pattern_type', input.patternType, PATTERN_TYPES),
    principal: input.principal ?? null,
    host: input.host ?? null,
    operation: pick('operation', input.operation, ACL_OPERATIONS),
    permission: pick('permission', input.permission, ACL_PERMISSIONS),
  };
}

/**
 * Whether `filter` selects `binding` (Kafka's AclBindingFilter.matches). Pattern MATCH with a name
 * selects every binding that would apply to a resource of that name: the LITERAL one, the
 * LITERAL `*` one and each PREFIXED one whose prefix starts the name.
 */
export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== 'ANY' && filter.resourceType !== binding.resourceType) return false;
  if (filter.operation !== 'ANY' && filter.operation !== binding.operation) return false;
  if (filter.permission !== 'ANY' && filter.permission !== binding.permission) return false;
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  const name = filter.resourceName;
  switch (filter.patternType) {
    case 'ANY':
      return name === null || name === binding.resourceName;
    case 'MATCH':
      if (name === null) return true;
      if (binding.patternType === 'LITERAL')
        return binding.resourceName === name || binding.resourceName === WILDCARD_RESOURCE;
      return name.startsWith(binding.resourceName);
    case 'LITERAL':
    case 'PREFIXED':
      return binding.patternType === filter.patternType && (name === null || name === binding.resourceName);
    default:
      return false;
  }
}

/** One text per distinct binding: the identity used to store it once and to find it again. */
export function aclKey(b: AclBinding): string {
  return JSON.stringify([
    b.resourceType,
    b.patternType,
    b.resourceName,
    b.principal,
    b.host,
    b.operation,
    b.permission,
  ]);
}

function isStorableResourceType(t: string): t is ResourceType {
  return t === 'TOPIC' || t === 'GROUP' || t === 'CLUSTER' || t === 'TRANSACTIONAL_ID';
}

function isAclOperation(op: string): op is AclOperation {
  return op in ACL_OPERATIONS && op !== 'ANY' && op !== 'UNKNOWN';
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(message);
}
