/**
 * Confluent REST v3 ACLs, over the node's ACL authorizer (Kafka's DescribeAcls, CreateAcls and
 * DeleteAcls): list with filters, create one, create a batch, delete with filters answering the
 * deleted ones, in Confluent's shapes. Without an authorizer (the default) every operation answers
 * 400 / 40002, Kafka's SecurityDisabledException, as Confluent's proxy answers in front of a Kafka
 * cluster without one. The access table requires CLUSTER DESCRIBE to list and CLUSTER ALTER to change.
 */
import type { Broker } from '../broker/broker.js';
import { SecurityDisabledError } from '../errors.js';
import { AclAuthorizer, type Authorizer } from '../security/acl-authorizer.js';
import { type AclBinding, validAclFilter } from '../security/acl-binding.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { type ClusterUrls, clusterUrls, collection } from './v3-resource.js';

type AclOperation = 'getKafkaAcls' | 'createKafkaAcls' | 'deleteKafkaAcls' | 'batchCreateKafkaAcls';
type AclData = components['schemas']['AclData'];
type CreateAclRequest = components['schemas']['CreateAclRequest'];

/** The filter query parameters, as the spec declares them on GET and DELETE. */
interface AclQuery {
  resource_type?: string;
  resource_name?: string;
  pattern_type?: string;
  principal?: string;
  host?: string;
  operation?: string;
  permission?: string;
}

export function v3AclHandlers(broker: Broker, authorizer: Authorizer): Pick<HandlerTable, AclOperation> {
  // An unknown cluster is still 404 / 404 first, as on every /v3/clusters/{cluster_id} route.
  const acls = (clusterId: string, baseUrl: string): { urls: ClusterUrls; acls: AclAuthorizer } => {
    const urls = clusterUrls(broker, clusterId, baseUrl);
    if (!(authorizer instanceof AclAuthorizer)) throw new SecurityDisabledError();
    return { urls, acls: authorizer };
  };
  return {
    getKafkaAcls: ({ params, query }, http) => {
      const { urls, acls: a } = acls(params.cluster_id, http.baseUrl);
      const found = a.describe(filterOf(query ?? {}));
      return collection(
        'KafkaAclList',
        listUrl(urls, query ?? {}),
        found.map((b) => aclData(urls, b)),
      );
    },
    createKafkaAcls: async ({ params, body }, http) => {
      const { acls: a } = acls(params.cluster_id, http.baseUrl);
      await a.create([bindingInput(body)]);
    },
    batchCreateKafkaAcls: async ({ params, body }, http) => {
      const { acls: a } = acls(params.cluster_id, http.baseUrl);
      await a.create(body.data.map(bindingInput));
    },
    deleteKafkaAcls: async ({ params, query }, http) => {
      const { urls, acls: a } = acls(params.cluster_id, http.baseUrl);
      const deleted = await a.delete([filterOf(query)]);
      return collection(
        'KafkaAclList',
        listUrl(urls, query),
        deleted.map((b) => aclData(urls, b)),
      );
    },
  };
}

function filterOf(query: AclQuery) {
  return validAclFilter({
    resourceType: query.resource_type,
    resourceName: query.resource_name,
    patternType: query.pattern_type,
    principal: query.principal,
    host: query.host,
    operation: query.operation,
    permission: query.permission,
  });
}

function bindingInput(body: CreateAclRequest) {
  return {
    resourceType: body.resource_type,
    resourceName: body.resource_name,
    patternType: body.pattern_type,
    principal: body.principal,
    host: body.host,
    operation: body.operation,
    permission: body.permission,
  };
}

function listUrl(urls: ClusterUrls, query: AclQuery): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (typeof v === 'string') search.set(k, v);
  const text = search.toString();
  return `${urls.url([], 'acls')}${text === '' ? '' : `?${text}`}`;
}

/** One ACL as Confluent shows it; its `self` is the list URL that selects exactly it. */
function aclData(urls: ClusterUrls, b: AclBinding): AclData {
  const self = listUrl(urls, {
    resource_type: b.resourceType,
    resource_name: b.resourceName,
    pattern_type: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permission: b.permission,
  });
  return {
    kind: 'KafkaAcl',
    metadata: { self },
    cluster_id: urls.clusterId,
    resource_type: b.resourceType,
    resource_name: b.resourceName,
    pattern_type: b.patternType,
    principal: b.principal,
    host: b.host,
    operation: b.operation,
    permission: b.permission,
  };
}
