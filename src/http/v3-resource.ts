/**
 * Confluent REST v3 resource shapes shared by every v3 handler: `kind`, `metadata.self` (an
 * absolute URL), `metadata.resource_name` (a Confluent resource name, `crn:///kafka=<cluster>/...`),
 * `related` links, and the one-page list envelope. URLs are rooted at the API base URL the client
 * used (see base-url.ts), so links work behind a proxy.
 */
import type { Broker } from '../broker/broker.js';
import { UnknownClusterError } from '../errors.js';
import type { components } from './api-types.js';

type Relationship = components['schemas']['Relationship'];
type ResourceMetadata = components['schemas']['ResourceMetadata'];
type CollectionMetadata = components['schemas']['CollectionMetadata'];

/** One step of a resource's path, as both a URL segment and a CRN element: `['topics', 'orders']`. */
export type Step = readonly [collection: string, id: string | number];

// The CRN element name Confluent uses for each collection a path walks through.
const CRN_ELEMENT: Readonly<Record<string, string>> = {
  brokers: 'broker',
  topics: 'topic',
  partitions: 'partition',
  replicas: 'replica',
  configs: 'config',
  'consumer-groups': 'consumer-group',
  consumers: 'consumer',
  assignments: 'assignment',
  lags: 'lag',
};

/** URL and resource-name builders for the one cluster, rooted at the request's base URL. */
export class ClusterUrls {
  readonly clusterId: string;
  private readonly root: string;

  constructor(baseUrl: string, clusterId: string) {
    this.clusterId = clusterId;
    this.root = `${baseUrl}/v3/clusters/${encodeURIComponent(clusterId)}`;
  }

  /** `url([['topics', 'orders']], 'configs')` → `<root>/topics/orders/configs`. */
  url(steps: readonly Step[] = [], ...tail: string[]): string {
    let out = this.root;
    for (const [collection, id] of steps) out += `/${collection}/${encodeURIComponent(String(id))}`;
    for (const segment of tail) out += `/${segment}`;
    return out;
  }

  link(steps: readonly Step[] = [], ...tail: string[]): Relationship {
    return { related: this.url(steps, ...tail) };
  }

  /** `crn:///kafka=<cluster>/topic=orders/partition=0`; the authority is empty, as Confluent's default. */
  resourceName(steps: readonly Step[] = []): string {
    let out = `crn:///kafka=${this.clusterId}`;
    for (const [collection, id] of steps) out += `/${CRN_ELEMENT[collection] ?? collection}=${id}`;
    return out;
  }

  /** `metadata` of a single resource. */
  metadata(steps: readonly Step[] = []): ResourceMetadata {
    return { self: this.url(steps), resource_name: this.resourceName(steps) };
  }
}

/**
 * The cluster named in the path, or 404 / 404 "Cluster X cannot be found." as Confluent answers.
 * Every `/v3/clusters/{cluster_id}/...` handler starts here.
 */
export function clusterUrls(broker: Broker, clusterId: string, baseUrl: string): ClusterUrls {
  if (clusterId !== broker.clusterId) throw new UnknownClusterError(clusterId);
  return new ClusterUrls(baseUrl, clusterId);
}

/** A one-page collection: `next` is always null, as in Confluent. */
export function collection<K extends string, T>(
  kind: K,
  self: string,
  data: T[],
): { kind: K; metadata: CollectionMetadata; data: T[] } {
  return { kind, metadata: { self, next: null }, data };
}
