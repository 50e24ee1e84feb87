/**
 * The HTTP edge: an express app whose routes come from openapi.yaml (spec-router.ts), whose
 * handlers call the Broker facade, and whose every error leaves through error-handler.ts.
 */
import express, { type Express } from 'express';
import { splitTpKey } from '../broker/topic-partition.js';
import { DEFAULT_MIN_FREE_DISK_BYTES } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { ConsumerGroupSource } from '../metrics/metric-sources.js';
import { SamsaMetrics } from '../metrics/samsa-metrics.js';
import type { PeerTlsSource } from '../replication/peer-connector.js';
import type { SamsaNode } from '../samsa-node.js';
import { Authenticator } from '../security/authenticator.js';
import type { ClientQuotaManager } from '../security/client-quota-manager.js';
import { apiReferenceHandlers } from './api-reference.js';
import { authentication } from './authentication.js';
import { clientCertificate } from './client-certificate.js';
import { cors } from './cors.js';
import { errorHandler, routeNotFound } from './error-handler.js';
import { groupForwarding } from './group-forwarding.js';
import { healthHandlers, notReadyError } from './health.js';
import { homePageHandlers } from './home-page.js';
import { httpQuotaGate } from './http-quotas.js';
import { internalRoutes } from './internal-routes.js';
import { metricsHandlers } from './metrics-scrape.js';
import { type CompiledApi, loadApi, type OperationId } from './openapi.js';
import { checkOperationAccess } from './request-access.js';
import { observeRequests } from './request-observer.js';
import { buildRouter } from './spec-router.js';
import { sseHandlers } from './sse.js';
import { DEFAULT_SSE_LIMITS, SseHub } from './sse-stream.js';
import { streamTokenHandlers } from './stream-tokens.js';
import { v2BrokerHandlers } from './v2-brokers.js';
import { v2ConsumerHandlers } from './v2-consumers.js';
import { v2PartitionHandlers } from './v2-partitions.js';
import { type ProduceLimits, v2ProduceHandlers, v2ProduceShortcuts } from './v2-produce.js';
import { v2TopicHandlers } from './v2-topics.js';
import { v3AclHandlers } from './v3-acls.js';
import { v3BrokerHandlers } from './v3-brokers.js';
import { v3ClusterConfigHandlers } from './v3-cluster-configs.js';
import { v3ClusterHandlers } from './v3-clusters.js';
import { v3ConfigHandlers } from './v3-configs.js';
import { v3ConsumerGroupHandlers } from './v3-consumer-groups.js';
import { v3PartitionHandlers } from './v3-partitions.js';
import { DEFAULT_V3_PRODUCE_LIMITS, type V3ProduceLimits, v3ProduceHandlers } from './v3-produce.js';
import { v3TopicHandlers } from './v3-topics.js';

export interface HttpLimits extends ProduceLimits, V3ProduceLimits {
  /** Largest request body accepted, in bytes after decompression; larger answers 413. */
  maxRequestBytes: number;
  /** Largest object of a streamed v3 produce body, in bytes; a larger one gets a 413 report. */
  maxStreamedObjectBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxRequestBytes: 16 * 1024 * 1024,
  maxRecordsPerRequest: 10_000,
  ...DEFAULT_V3_PRODUCE_LIMITS,
  maxStreamedObjectBytes: 2 * 1024 * 1024,
};

export interface AppOptions {
  /** The node every handler serves: broker, group coordinator and consumer instances. */
  node: SamsaNode;
  limits?: Partial<HttpLimits>;
  /** A spec compiled earlier; loaded from openapi.yaml when absent. */
  api?: CompiledApi;
  /** API root for v3 links (`metadata.self`), e.g. `https://kafka.example.com`; else taken from each request. */
  advertisedUrl?: string;
  /** The node's metrics registry; a fresh one for this broker when absent. */
  metrics?: SamsaMetrics;
  /** Request lines and server errors go here; when absent, errors only, JSON on stderr. */
  logger?: Logger;
  /** `/readyz` fails (`disk_full`) while the data dir's filesystem has fewer bytes available. */
  minFreeDiskBytes?: number;
  /** The node's SSE streams; the caller keeps it to close every stream at shutdown. */
  sseHub?: SseHub;
  /** Origins whose pages may write (POST, PUT, PATCH, DELETE); any origin may read. */
  corsOrigins?: readonly string[];
  /** Cluster mode: the secret node-to-node calls (`/internal/*`) must carry; those routes exist only then. */
  clusterSecret?: string;
  /** Cluster mode over https: what group calls passed to a coordinator verify it with and show it. */
  peerTls?: PeerTlsSource;
  /** Per-principal client quotas (429 when over), shared with the Kafka listener; none when absent. */
  quotas?: ClientQuotaManager;
  /** Who each request is (Basic, bearer, stream tokens); authentication off when absent. */
  authenticator?: Authenticator;
}

// Probes, scrapes and the pages must answer while the broker recovers; everything else waits for it.
const SERVED_BEFORE_READY: ReadonlySet<OperationId> = new Set<OperationId>([
  'getHealth',
  'getReadiness',
  'getMetrics',
  'getTailPage',
  'getHome',
  'redirectToTailPage',
  'getOpenApiDocument',
  'getApiReference',
  'getApiReferenceStyles',
  'getApiReferenceScript',
]);

export function createApp({
  node,
  limits: overrides,
  api = loadApi(),
  advertisedUrl,
  metrics = new SamsaMetrics(node.broker),
  logger = createLogger({ level: 'error' }),
  minFreeDiskBytes = DEFAULT_MIN_FREE_DISK_BYTES,
  sseHub = new SseHub(DEFAULT_SSE_LIMITS),
  corsOrigins = [],
  clusterSecret,
  peerTls,
  quotas,
  authenticator = Authenticator.disabled(),
}: AppOptions): Express {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...overrides };
  // Probes, scrapes and pages draw on no quota: a throttled principal must still see the node's health.
  const quotaGate = quotas === undefined ? undefined : httpQuotaGate(quotas, SERVED_BEFORE_READY);
  const { broker } = node;
  const app = express();
  app.disable('x-powered-by');
  // No ETags: nothing here is cacheable, and hashing every answer (a records answer can be many MiB) costs CPU.
  app.set('etag', false);
  // Node-to-node calls first: a follower's fetch every few hundred ms is no request to log or count.
  if (clusterSecret !== undefined && broker.clustered) {
    app.use(internalRoutes(broker, { clusterSecret, maxProduceBytes: limits.maxRequestBytes + 64 * 1024 }));
  }
  app.use(observeRequests({ logger, metrics, quietOperations: SERVED_BEFORE_READY }));
  app.use(clientCertificate());
  app.use(cors(corsOrigins, advertisedUrl));
  // After CORS (preflights carry no credentials; a 401 must be readable by the page), before
  // forwarding: the node a client reaches checks its credentials, and the coordinator checks them again.
  app.use(authentication({ authenticator, api }));
  // Cluster mode: group calls go to the group's coordinator, before any body is read here.
  if (clusterSecret !== undefined && broker.clustered)
    app.use(groupForwarding(broker, node.coordinator, { clusterSecret, ...(peerTls ? { peerTls } : {}) }));
  metrics.attach({
    sse: {
      openStreams: () => sseHub.stats.open,
      eventsTotalByTopic: () => sseHub.stats.eventsTotal,
      droppedSlowTotal: () => sseHub.stats.droppedSlowTotal,
    },
  });
  metrics.attach({ consumerGroups: consumerGroupSource(node) });
  metrics.attach({
    replication: {
      isrShrinksTotal: () => broker.replicationStats().isrShrinksTotal,
      isrExpandsTotal: () => broker.replicationStats().isrExpandsTotal,
      leaderElectionsTotal: () => broker.replicationStats().leaderElectionsTotal,
    },
  });
  app.use(
    buildRouter(
      api,
      {
        ...healthHandlers(broker, { minFreeDiskBytes }),
        ...metricsHandlers(metrics),
        ...homePageHandlers(),
        ...apiReferenceHandlers(),
        ...v2ProduceHandlers(broker, limits, metrics),
        ...v2PartitionHandlers(broker),
        ...v2TopicHandlers(broker),
        ...v2BrokerHandlers(broker),
        ...v3ClusterHandlers(broker),
        ...v3AclHandlers(broker, node.authorizer),
        ...v3BrokerHandlers(broker),
        ...v3ClusterConfigHandlers(broker),
        ...v3TopicHandlers(broker),
        ...v3ConfigHandlers(broker),
        ...v3PartitionHandlers(broker),
        ...v3ProduceHandlers(broker, limits, metrics),
        ...sseHandlers(node, sseHub, quotas),
        ...v2ConsumerHandlers(broker, node.consumers),
        ...v3ConsumerGroupHandlers(broker, node.coordinator),
        ...streamTokenHandlers(authenticator),
      },
      {
        maxRequestBytes: limits.maxRequestBytes,
        maxStreamedObjectBytes: limits.maxStreamedObjectBytes,
        bodyShortcuts: v2ProduceShortcuts(broker, limits, metrics),
        advertisedUrl,
        beforeOperation: (operationId, req, res) => {
          const { phase } = broker;
          if (phase !== 'ready' && !SERVED_BEFORE_READY.has(operationId)) throw notReadyError(phase);
          quotaGate?.(operationId, req, res);
        },
        // Authorization (issue 17): the access table's checks, when an authorizer runs.
        ...(node.authorizer.enabled
          ? {
              authorizer: node.authorizer,
              authorizeOperation: (operationId, input, access) =>
                checkOperationAccess(operationId, input, access, (topic) => broker.hasTopic(topic)),
            }
          : {}),
      },
    ),
  );
  app.use(routeNotFound);
  app.use(errorHandler({ maxRequestBytes: limits.maxRequestBytes, logger }));
  return app;
}

/** What /metrics reads of the consumer groups at each scrape: members, rebalances and committed offsets. */
function consumerGroupSource(node: SamsaNode): ConsumerGroupSource {
  const { coordinator, consumers } = node;
  return {
    *groups() {
      for (const groupId of coordinator.listGroups()) {
        const group = coordinator.describeGroup(groupId);
        const committed = coordinator.committed(groupId);
        yield {
          group: groupId,
          members: group.members.length,
          rebalancesTotal: group.rebalances,
          committedOffsets: [...committed].map(([k, c]) => ({ ...splitTpKey(k), offset: c.offset })),
        };
      }
    },
    consumerInstances: () => consumers.size,
  };
}
