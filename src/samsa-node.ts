import { Broker, type BrokerOptions, reportBackgroundError, type StartReport } from './broker/broker.js';
import { parseBrokerConfigs, type ReplicationSettings } from './broker/broker-config.js';
import { ClusterRuntime } from './cluster/cluster-runtime.js';
import { EtcdMetadataStore } from './cluster/etcd-metadata-store.js';
import { LocalMetadataStore, type MetadataStore } from './cluster/metadata-store.js';
import { ConsumerManager, type ConsumerManagerOptions } from './consumers/consumer-manager.js';
import { GroupCoordinator } from './groups/group-coordinator.js';
import type { PeerTlsSource } from './replication/peer-connector.js';
import { AclAuthorizer, ALLOW_EVERYTHING, type Authorizer, parseSuperUsers } from './security/acl-authorizer.js';

/** Cluster mode: where etcd is and what this node is called there. Absent: the embedded single node. */
export interface NodeClusterOptions {
  /** etcd client URLs. */
  endpoints: string[];
  /** Every key of the cluster lives under `/samsa/<clusterName>/` in etcd. */
  clusterName: string;
  /** The secret of node-to-node calls; default: one the first node stores in etcd. */
  clusterSecret?: string;
  rack?: string;
  /** Peers at https:// URLs: the CA they are verified against and the certificate shown to them. */
  peerTls?: PeerTlsSource;
}

export interface NodeOptions extends Omit<BrokerOptions, 'cluster' | 'metadataStore'> {
  consumers?: Partial<Omit<ConsumerManagerOptions, 'onError'>>;
  /** How often the coordinator looks for members past their session timeout. */
  sessionCheckIntervalMs?: number;
  cluster?: NodeClusterOptions;
  /** Single node only: where topics are kept (tests); default the local file in `dataDir`. */
  metadataStore?: BrokerOptions['metadataStore'];
  /**
   * `acl`: Kafka's ACL authorizer (ACLs in the metadata store, `super.users`,
   * `allow.everyone.if.no.acl.found`); `none` (default): everyone may do everything.
   */
  authorizer?: 'acl' | 'none';
}

export const DEFAULT_CONSUMER_OPTIONS: Omit<ConsumerManagerOptions, 'onError'> = {
  defaultInstanceTimeoutMs: 300_000,
  maxInstances: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  housekeepingIntervalMs: 1000,
};

/** Metadata is re-read this often in cluster mode even without a watch event (a watch can miss). */
const METADATA_REFRESH_MS = 2_000;
/** At start, how long `__consumer_offsets` waits for offsets.topic.replication.factor live nodes. */
const OFFSETS_TOPIC_WAIT_MS = 30_000;
/** At a clean stop, how long the node waits for its leaderships to move to other nodes. */
const HANDOVER_WAIT_MS = 10_000;

interface ClusterLink {
  opts: NodeClusterOptions;
  /** The replication settings of this node's broker configs (session timeout, unclean election, offsets RF). */
  replication: ReplicationSettings;
  store: EtcdMetadataStore;
  clusterSecret: string;
  runtime: ClusterRuntime | null;
  stopWatch: (() => Promise<void>) | null;
  /** Stops the ACL watch (only with an ACL authorizer). */
  stopAclWatch: (() => Promise<void>) | null;
  refresh: NodeJS.Timeout | null;
}

/**
 * One Samsa node, wired: the broker (logs, topics, partitions), the group coordinator and the
 * REST consumer instances, started and stopped in dependency order; in cluster mode also its
 * membership, the controller campaign and the metadata watch (etcd). Every edge is given a node.
 */
export class SamsaNode {
  private constructor(
    readonly broker: Broker,
    readonly coordinator: GroupCoordinator,
    readonly consumers: ConsumerManager,
    /** Who may do what: the ACL authorizer, or ALLOW_EVERYTHING when none is configured. */
    readonly authorizer: Authorizer,
    private readonly opts: NodeOptions,
    private readonly cluster: ClusterLink | null,
  ) {}

  static async open(opts: NodeOptions): Promise<SamsaNode> {
    const onError = opts.onError ?? reportBackgroundError;
    let cluster: ClusterLink | null = null;
    let broker: Broker;
    let metadataStore: MetadataStore;
    if (opts.cluster) {
      // Invalid settings fail here, before anything is opened in etcd.
      const { replication } = parseBrokerConfigs(opts.brokerConfigs);
      const store = await EtcdMetadataStore.open({
        endpoints: opts.cluster.endpoints,
        clusterName: opts.cluster.clusterName,
      });
      const link: ClusterLink = {
        opts: opts.cluster,
        replication,
        store,
        clusterSecret: opts.cluster.clusterSecret ?? store.clusterSecret,
        runtime: null,
        stopWatch: null,
        stopAclWatch: null,
        refresh: null,
      };
      cluster = link;
      try {
        broker = await Broker.open({
          ...opts,
          onError,
          metadataStore: store,
          cluster: {
            liveNodes: () => link.runtime?.liveNodes() ?? [],
            mayLead: () => link.runtime?.mayLead() ?? false,
            controllerId: () => link.runtime?.controllerId ?? -1,
            clusterSecret: link.clusterSecret,
            ...(opts.cluster.peerTls ? { peerTls: opts.cluster.peerTls } : {}),
          },
        });
      } catch (err) {
        await store.close();
        throw err;
      }
      metadataStore = store;
    } else {
      // Opened here, not by the broker, so that the ACLs live in the same store (the broker closes it).
      metadataStore = opts.metadataStore ?? (await LocalMetadataStore.open(opts.dataDir, opts.nodeId));
      broker = await Broker.open({ ...opts, metadataStore, cluster: undefined, onError });
    }
    let authorizer: Authorizer = ALLOW_EVERYTHING;
    if (opts.authorizer === 'acl') {
      const { authorization } = parseBrokerConfigs(opts.brokerConfigs);
      try {
        const acls = await AclAuthorizer.open(metadataStore, {
          superUsers: parseSuperUsers(authorization.superUsers),
          allowEveryoneIfNoAclFound: authorization.allowEveryoneIfNoAclFound,
        });
        // Cluster mode: another node's change is enforced here as soon as etcd tells us.
        if (cluster) {
          cluster.stopAclWatch = await cluster.store.watchAcls(
            () => void acls.reload().catch((err: unknown) => onError('ACL reload', err)),
          );
        }
        authorizer = acls;
      } catch (err) {
        await broker.shutdown();
        throw err;
      }
    }
    const coordinator = new GroupCoordinator(broker, {
      sessionCheckIntervalMs: opts.sessionCheckIntervalMs ?? 1000,
      onError,
    });
    const consumers = new ConsumerManager(broker, coordinator, {
      ...DEFAULT_CONSUMER_OPTIONS,
      ...opts.consumers,
      onError,
    });
    return new SamsaNode(broker, coordinator, consumers, authorizer, { ...opts, onError }, cluster);
  }

  /** Cluster mode: the secret node-to-node calls carry (the HTTP edge checks it); undefined on a single node. */
  get clusterSecret(): string | undefined {
    return this.cluster?.clusterSecret;
  }

  /** Whether this node is the cluster's controller now (cluster mode). */
  get isController(): boolean {
    return this.cluster?.runtime?.isController ?? false;
  }

  /**
   * Cluster mode: registers this node (reachable at `advertisedUrl`, and by Kafka clients at
   * `kafkaListener` when it runs one) under its etcd lease, campaigns for controller and watches
   * the metadata. Call once the HTTP edge (and the Kafka listener) listens, before `start`.
   */
  async joinCluster(advertisedUrl: string, kafkaListener?: { host: string; port: number }): Promise<void> {
    const link = this.cluster;
    if (!link || link.runtime) return;
    const onError = this.opts.onError ?? reportBackgroundError;
    const refresh = () => void this.broker.refreshMetadata().catch((err: unknown) => onError('metadata refresh', err));
    link.runtime = await ClusterRuntime.start({
      endpoints: link.opts.endpoints,
      clusterName: link.opts.clusterName,
      node: {
        nodeId: this.broker.nodeId,
        advertisedUrl,
        ...(link.opts.rack ? { rack: link.opts.rack } : {}),
        ...(kafkaListener ? { kafkaListener } : {}),
      },
      store: link.store,
      sessionTimeoutMs: link.replication.sessionTimeoutMs,
      uncleanLeaderElection: link.replication.uncleanLeaderElection,
      onError,
      onMembershipChange: refresh,
    });
    link.stopWatch = await link.store.watch(refresh);
    link.refresh = setInterval(refresh, METADATA_REFRESH_MS);
    link.refresh.unref();
  }

  /** Recovers the logs, loads committed offsets, then starts the consumer housekeeping. */
  async start(): Promise<StartReport> {
    const report = await this.broker.start();
    if (this.cluster) {
      await this.broker.refreshMetadata();
      await this.waitForOffsetsTopicNodes();
    }
    await this.coordinator.start();
    this.consumers.start();
    return report;
  }

  /** Kafka creates `__consumer_offsets` only once offsets.topic.replication.factor brokers are up; so do we, within a bound. */
  private async waitForOffsetsTopicNodes(): Promise<void> {
    const wanted = this.cluster?.replication.offsetsTopicReplicationFactor ?? 1;
    const deadline = Date.now() + OFFSETS_TOPIC_WAIT_MS;
    while (Date.now() < deadline && !this.broker.hasTopic('__consumer_offsets')) {
      if ((this.cluster?.runtime?.liveNodes().length ?? 0) >= wanted) return;
      await new Promise((r) => setTimeout(r, 200));
      await this.broker.refreshMetadata();
    }
  }

  get ready(): boolean {
    return this.broker.ready;
  }

  /**
   * Closes consumers (auto-committing), stops the coordinator, then flushes and closes the logs.
   * In cluster mode, once the consumers are closed, the node leaves (resigning as controller) and
   * waits for the controller to move its leaderships to in-sync followers, so clients fail over
   * without waiting for a lease.
   */
  async shutdown(): Promise<void> {
    // Instances commit and leave their groups while this node still coordinates them.
    await this.consumers.stop();
    const link = this.cluster;
    if (link) {
      if (link.refresh) clearInterval(link.refresh);
      await link.runtime?.leave();
      const deadline = Date.now() + HANDOVER_WAIT_MS;
      while (Date.now() < deadline && this.leadsAny()) {
        await new Promise((r) => setTimeout(r, 200));
        await this.broker.refreshMetadata().catch(() => undefined);
      }
      await link.stopWatch?.();
      await link.stopAclWatch?.();
    }
    await this.coordinator.stop();
    await this.broker.shutdown();
  }

  /** Whether a partition this node leads has an in-sync replica elsewhere that could take over. */
  private leadsAny(): boolean {
    const me = this.broker.nodeId;
    return this.broker.describePartitions().some((p) => p.leader === me && p.isr.some((r) => r !== me));
  }
}
