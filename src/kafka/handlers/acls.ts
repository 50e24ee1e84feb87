/**
 * DescribeAcls (29), CreateAcls (30) and DeleteAcls (31), over the node's ACL authorizer, the same
 * ACLs the v3 `/acls` routes manage. Listing takes CLUSTER DESCRIBE and changing CLUSTER ALTER
 * (Kafka's rules; CLUSTER_AUTHORIZATION_FAILED otherwise). Without an authorizer every call answers
 * SECURITY_DISABLED, as a Kafka broker without one does. Each creation and each filter succeeds or
 * fails on its own, as in Kafka.
 */
import { SamsaError } from '../../errors.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { AclAuthorizer } from '../../security/acl-authorizer.js';
import {
  ACL_OPERATIONS,
  ACL_PERMISSIONS,
  type AclBinding,
  type AclBindingFilter,
  CLUSTER_RESOURCE_NAME,
  PATTERN_TYPES,
  RESOURCE_TYPES,
  validAclBinding,
  validAclFilter,
} from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import { authorizedFor, errorCodeOf, type KafkaApi, type KafkaApiContext } from './kafka-api.js';

const VERSIONS = { min: 0, max: 3 };
/** Most creations or filters in one request. */
const MAX_ENTRIES_PER_REQUEST = 1000;

const SECURITY_DISABLED_MESSAGE = 'No authorizer is configured on the broker (start Samsa with --authorizer acl).';

interface WireFilter {
  resourceTypeFilter: number;
  resourceNameFilter: string | null;
  patternTypeFilter: number;
  principalFilter: string | null;
  hostFilter: string | null;
  operation: number;
  permissionType: number;
}

interface WireCreation {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

function nameOf(codes: Readonly<Record<string, number>>, code: number): string {
  for (const [name, c] of Object.entries(codes)) if (c === code) return name;
  return `UNKNOWN(${code})`;
}

function filterOf(w: WireFilter): AclBindingFilter {
  return validAclFilter({
    resourceType: nameOf(RESOURCE_TYPES, w.resourceTypeFilter),
    resourceName: w.resourceNameFilter,
    patternType: nameOf(PATTERN_TYPES, w.patternTypeFilter),
    principal: w.principalFilter,
    host: w.hostFilter,
    operation: nameOf(ACL_OPERATIONS, w.operation),
    permission: nameOf(ACL_PERMISSIONS, w.permissionType),
  });
}

function wireAcl(b: AclBinding) {
  return {
    resourceType: RESOURCE_TYPES[b.resourceType],
    resourceName: b.resourceName,
    patternType: PATTERN_TYPES[b.patternType],
    principal: b.principal,
    host: b.host,
    operation: ACL_OPERATIONS[b.operation],
    permissionType: ACL_PERMISSIONS[b.permission],
  };
}

function failure(
  err: unknown,
  ctx: KafkaApiContext,
  during: string,
): { errorCode: number; errorMessage: string | null } {
  return {
    errorCode: errorCodeOf(err, ctx.logger, during),
    errorMessage: err instanceof SamsaError ? err.message : null,
  };
}

export function describeAclsApi(ctx: KafkaApiContext): KafkaApi {
  return {
    apiKey: API_KEYS.DescribeAcls,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const answer = (errorCode: number, errorMessage: string | null, resources: Message[] = []) => ({
        throttleTimeMs: 0,
        errorCode,
        errorMessage,
        resources,
      });
      const acls = ctx.authorizer;
      if (!(acls instanceof AclAuthorizer))
        return answer(KAFKA_ERRORS.SECURITY_DISABLED.code, SECURITY_DISABLED_MESSAGE);
      if (!authorizedFor(ctx, context)('DESCRIBE', 'CLUSTER', CLUSTER_RESOURCE_NAME))
        return answer(KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code, null);
      try {
        const found = acls.describe(filterOf(request as unknown as WireFilter));
        // One entry per resource pattern, its ACLs under it (Kafka's answer shape).
        const byResource = new Map<string, Message & { acls: Message[] }>();
        for (const b of found) {
          const key = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
          let entry = byResource.get(key);
          if (!entry) {
            const w = wireAcl(b);
            entry = {
              resourceType: w.resourceType,
              resourceName: w.resourceName,
              patternType: w.patternType,
              acls: [],
            };
            byResource.set(key, entry);
          }
          const w = wireAcl(b);
          entry.acls.push({
            principal: w.principal,
            host: w.host,
            operation: w.operation,
            permissionType: w.permissionType,
          });
        }
        return answer(0, null, [...byResource.values()]);
      } catch (err) {
        const f = failure(err, ctx, 'DescribeAcls');
        return answer(f.errorCode, f.errorMessage);
      }
    },
  };
}

export function createAclsApi(ctx: KafkaApiContext): KafkaApi {
  return {
    apiKey: API_KEYS.CreateAcls,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const creations = request.creations as WireCreation[];
      const acls = ctx.authorizer;
      const all = (errorCode: number, errorMessage: string | null) => ({
        throttleTimeMs: 0,
        results: creations.map(() => ({ errorCode, errorMessage })),
      });
      if (!(acls instanceof AclAuthorizer)) return all(KAFKA_ERRORS.SECURITY_DISABLED.code, SECURITY_DISABLED_MESSAGE);
      if (!authorizedFor(ctx, context)('ALTER', 'CLUSTER', CLUSTER_RESOURCE_NAME))
        return all(KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code, null);
      if (creations.length > MAX_ENTRIES_PER_REQUEST)
        return all(KAFKA_ERRORS.INVALID_REQUEST.code, `at most ${MAX_ENTRIES_PER_REQUEST} creations per request`);
      const results: Array<{ errorCode: number; errorMessage: string | null }> = [];
      const valid: Array<{ at: number; binding: AclBinding }> = [];
      for (const [at, c] of creations.entries()) {
        try {
          const binding = validAclBinding({
            resourceType: nameOf(RESOURCE_TYPES, c.resourceType),
            resourceName: c.resourceName,
            patternType: nameOf(PATTERN_TYPES, c.resourcePatternType),
            principal: c.principal,
            host: c.host,
            operation: nameOf(ACL_OPERATIONS, c.operation),
            permission: nameOf(ACL_PERMISSIONS, c.permissionType),
          });
          valid.push({ at, binding });
          results.push({ errorCode: 0, errorMessage: null });
        } catch (err) {
          results.push(failure(err, ctx, 'CreateAcls'));
        }
      }
      if (valid.length > 0) {
        try {
          await acls.create(valid.map((v) => v.binding));
        } catch (err) {
          const f = failure(err, ctx, 'CreateAcls');
          for (const v of valid) results[v.at] = f;
        }
      }
      return { throttleTimeMs: 0, results };
    },
  };
}

export function deleteAclsApi(ctx: KafkaApiContext): KafkaApi {
  return {
    apiKey: API_KEYS.DeleteAcls,
    versions: VERSIONS,
    handle: async (_header, request, context) => {
      const filters = request.filters as WireFilter[];
      const acls = ctx.authorizer;
      const all = (errorCode: number, errorMessage: string | null) => ({
        throttleTimeMs: 0,
        filterResults: filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
      });
      if (!(acls instanceof AclAuthorizer)) return all(KAFKA_ERRORS.SECURITY_DISABLED.code, SECURITY_DISABLED_MESSAGE);
      if (!authorizedFor(ctx, context)('ALTER', 'CLUSTER', CLUSTER_RESOURCE_NAME))
        return all(KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code, null);
      if (filters.length > MAX_ENTRIES_PER_REQUEST)
        return all(KAFKA_ERRORS.INVALID_REQUEST.code, `at most ${MAX_ENTRIES_PER_REQUEST} filters per request`);
      const filterResults: Message[] = [];
      for (const w of filters) {
        try {
          const deleted = await acls.delete([filterOf(w)]);
          filterResults.push({
            errorCode: 0,
            errorMessage: null,
            matchingAcls: deleted.map((b) => ({ errorCode: 0, errorMessage: null, ...wireAcl(b) })),
          });
        } catch (err) {
          filterResults.push({ ...failure(err, ctx, 'DeleteAcls'), matchingAcls: [] });
        }
      }
      return { throttleTimeMs: 0, filterResults };
    },
  };
}
