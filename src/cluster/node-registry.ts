import type { Etcd3, Lease, Namespace, Watcher } from 'etcd3';
import { connectEtcd, type EtcdClusterOptions } from './etcd-client.js';

/** A live node as the others see it: where to reach it, and its rack for replica placement. */
export interface ClusterNode {
  nodeId: number;
  advertisedUrl: string;
  rack?: string;
  /**
   * Where Kafka clients reach this node's Kafka listener (what every node's Metadata and
   * FindCoordinator hand out for it); absent when the node runs without one (`--kafka-port 0`).
   */
  kafkaListener?: { host: string; port: number };
}

export interface NodeRegistryOptions extends EtcdClusterOptions {
  node: ClusterNode;
  /** A node whose keep-alives stop (crash, partition) is gone this long after (Kafka: broker session timeout). */
  leaseTtlSeconds?: number;
}

/** Another live node holds this node id: two nodes with one id would corrupt each other's replicas. */
export class NodeIdInUseError extends Error {
  constructor(readonly nodeId: number) {
    super(`Node id ${nodeId} is already registered by a live node; give every node its own --node-id.`);
    this.name = 'NodeIdInUseError';
  }
}

const DEFAULT_LEASE_TTL_SECONDS = 10;

/**
 * Cluster membership: each node holds `nodes/<id>` under an etcd lease it keeps alive, so the key
 * disappears when the node leaves (revoke) or dies (the lease expires after `leaseTtlSeconds`). The
 * controller watches the set to elect leaders from the ISR when a node goes.
 */
export class NodeRegistry {
  private watcher: Watcher | null = null;
  private readonly listeners = new Set<(nodes: ClusterNode[]) => void>();
  private lostListener: ((err: Error) => void) | null = null;
  private left = false;
  private lost = false;
  /** When etcd last confirmed the lease (monotonic clock): the key is surely there until about a TTL after. */
  private confirmedAtMs = performance.now();

  private constructor(
    private readonly client: Etcd3,
    private readonly kv: Namespace,
    private readonly lease: Lease,
    readonly self: ClusterNode,
    readonly leaseTtlMs: number,
  ) {
    lease.on('keepaliveSucceeded', () => {
      this.confirmedAtMs = performance.now();
    });
    lease.on('lost', (err) => {
      this.lost = true;
      if (!this.left) this.lostListener?.(err);
    });
  }

  /**
   * Whether this node's registration surely still stands: etcd confirmed the lease less than
   * `marginMs` short of its TTL ago. A node paused past that (SIGSTOP, a long GC, a network cut)
   * may have been declared dead and replaced as leader, so it must not take writes as one.
   */
  confirmed(marginMs: number): boolean {
    return !this.left && !this.lost && performance.now() - this.confirmedAtMs < this.leaseTtlMs - marginMs;
  }

  /** Registers `opts.node`; fails with NodeIdInUseError when a live node already has its id. */
  static async join(opts: NodeRegistryOptions): Promise<NodeRegistry> {
    const { client, kv } = connectEtcd(opts);
    const ttlSeconds = opts.leaseTtlSeconds ?? DEFAULT_LEASE_TTL_SECONDS;
    const lease = kv.lease(ttlSeconds);
    try {
      const leaseId = await lease.grant();
      const key = `nodes/${opts.node.nodeId}`;
      const result = await kv
        .if(key, 'Create', '==', 0)
        .then(kv.put(key).value(JSON.stringify(opts.node)).lease(leaseId))
        .commit();
      if (!result.succeeded) throw new NodeIdInUseError(opts.node.nodeId);
      return new NodeRegistry(client, kv, lease, { ...opts.node }, ttlSeconds * 1000);
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      client.close();
      throw err;
    }
  }

  /** Told once when this node's registration is lost (its lease expired: etcd unreachable too long). */
  onLost(listener: (err: Error) => void): void {
    this.lostListener = listener;
  }

  async liveNodes(): Promise<ClusterNode[]> {
    const values = await this.kv.getAll().prefix('nodes/').strings();
    return Object.values(values)
      .map((v) => JSON.parse(v) as ClusterNode)
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  /** Calls `listener` with the live set after every join or leave. Returns an unsubscribe. */
  async onChange(listener: (nodes: ClusterNode[]) => void): Promise<() => void> {
    this.listeners.add(listener);
    if (this.watcher === null) {
      this.watcher = await this.kv.watch().prefix('nodes/').create();
      const changed = () => {
        this.liveNodes().then(
          (nodes) => {
            for (const l of [...this.listeners]) l(nodes);
          },
          () => undefined, // etcd unreachable: the next change (or the lease loss) tells
        );
      };
      this.watcher.on('put', changed).on('delete', changed);
    }
    return () => this.listeners.delete(listener);
  }

  /** Leaves at once (the key goes with the lease) and closes the connection. */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    await this.watcher?.cancel().catch(() => undefined);
    await this.lease.revoke().catch(() => undefined);
    this.client.close();
  }
}
