/**
 * One node's part in the cluster's coordination, on etcd: it registers under a lease (and registers
 * again if the lease is lost), keeps the live node list current, campaigns for controller and, while
 * it holds the office, runs the Controller (leader elections). What the broker asks of it: the live
 * nodes (placement, peer addresses) and whether its lease is confirmed (PartitionRole.mayLead).
 */
import { Controller } from './controller.js';
import { ControllerElection } from './controller-election.js';
import type { EtcdClusterOptions } from './etcd-client.js';
import type { MetadataStore } from './metadata-store.js';
import { type ClusterNode, NodeIdInUseError, NodeRegistry } from './node-registry.js';

export interface ClusterRuntimeOptions extends EtcdClusterOptions {
  node: ClusterNode;
  store: MetadataStore;
  /** The lease TTL: a node silent this long is dead to the others (Kafka's broker.session.timeout.ms). */
  sessionTimeoutMs: number;
  uncleanLeaderElection: boolean;
  onError: (task: string, err: unknown) => void;
  /** Told when the live node set changes (the broker re-reads metadata then). */
  onMembershipChange?: (nodes: ClusterNode[]) => void;
}

/** How often the live node list is re-read even without a watch event. */
const MEMBERSHIP_POLL_MS = 2_000;
/** Pause between attempts to register again after the lease was lost. */
const REJOIN_BACKOFF_MS = 1_000;
/** Stop leading this long before the lease could expire: the margin for clocks and the controller. */
const LEASE_MARGIN_MS = 2_000;

export class ClusterRuntime {
  private registry: NodeRegistry;
  private nodes: ClusterNode[] = [];
  /** The controller's node id as last read from the election (-1: none known). */
  private electedId = -1;
  private readonly election: ControllerElection;
  private readonly controller: Controller;
  private poll: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly opts: ClusterRuntimeOptions,
    registry: NodeRegistry,
  ) {
    this.registry = registry;
    this.controller = new Controller({
      store: opts.store,
      uncleanLeaderElection: opts.uncleanLeaderElection,
      liveNodes: async () => new Set((await this.registry.liveNodes()).map((n) => n.nodeId)),
      onError: (err) => opts.onError('controller pass', err),
    });
    this.election = ControllerElection.start(
      { ...opts, nodeId: opts.node.nodeId, ttlSeconds: this.ttlSeconds },
      (isController) => {
        if (isController) {
          this.electedId = opts.node.nodeId;
          this.controller.start();
        } else {
          void this.controller.stop();
          void this.refreshController();
        }
      },
    );
  }

  private get ttlSeconds(): number {
    return Math.max(2, Math.ceil(this.opts.sessionTimeoutMs / 1000));
  }

  static async start(opts: ClusterRuntimeOptions): Promise<ClusterRuntime> {
    const registry = await NodeRegistry.join({
      ...opts,
      leaseTtlSeconds: Math.max(2, Math.ceil(opts.sessionTimeoutMs / 1000)),
    });
    const runtime = new ClusterRuntime(opts, registry);
    await runtime.watchRegistry();
    runtime.poll = setInterval(() => void runtime.refreshNodes(), MEMBERSHIP_POLL_MS);
    runtime.poll.unref();
    return runtime;
  }

  private async watchRegistry(): Promise<void> {
    const registry = this.registry;
    registry.onLost((err) => {
      this.opts.onError('cluster lease', err);
      void this.rejoin(registry);
    });
    await registry.onChange((nodes) => this.setNodes(nodes));
    await this.refreshNodes();
  }

  private setNodes(nodes: ClusterNode[]): void {
    const before = this.nodes.map((n) => n.nodeId).join(',');
    this.nodes = nodes;
    if (nodes.map((n) => n.nodeId).join(',') !== before) {
      if (this.election.isController) void this.controller.reconcileNow().catch(() => undefined);
      this.opts.onMembershipChange?.(nodes);
    }
  }

  private async refreshNodes(): Promise<void> {
    try {
      this.setNodes(await this.registry.liveNodes());
    } catch {
      // etcd unreachable: keep the last list; the lease check stops this node leading if it lasts
    }
    await this.refreshController();
  }

  private async refreshController(): Promise<void> {
    try {
      this.electedId = (await this.election.currentController()) ?? -1;
    } catch {
      // etcd unreachable: keep the last one seen (Kafka clients only send admin requests there)
    }
  }

  /** The lease expired (etcd unreachable, or this process was paused): register again once possible. */
  private async rejoin(lost: NodeRegistry): Promise<void> {
    await lost.leave().catch(() => undefined);
    while (!this.stopped) {
      try {
        this.registry = await NodeRegistry.join({ ...this.opts, leaseTtlSeconds: this.ttlSeconds });
        await this.watchRegistry();
        return;
      } catch (err) {
        // NodeIdInUse: the old key has not expired yet; anything else: etcd still unreachable.
        if (!(err instanceof NodeIdInUseError)) this.opts.onError('cluster rejoin', err);
        await new Promise((r) => setTimeout(r, REJOIN_BACKOFF_MS));
      }
    }
  }

  /** The live nodes as last seen, sorted by id. */
  liveNodes(): ClusterNode[] {
    return this.nodes;
  }

  /** Whether this node may take writes as a leader now (its lease is surely alive). */
  mayLead(): boolean {
    return this.registry.confirmed(Math.min(LEASE_MARGIN_MS, this.opts.sessionTimeoutMs / 4));
  }

  get isController(): boolean {
    return this.election.isController;
  }

  /** The controller's node id as last seen (re-read with the live nodes), -1 while none is known. */
  get controllerId(): number {
    return this.electedId;
  }

  /**
   * Leaves the cluster: resigns as controller (another node takes over at once), then deregisters,
   * so the controller moves this node's leaderships to in-sync followers.
   */
  async leave(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    await this.controller.stop();
    await this.election.stop();
    await this.registry.leave();
  }
}
