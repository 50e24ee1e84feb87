import type { Campaign, Election, Etcd3 } from 'etcd3';
import { connectEtcd, type EtcdClusterOptions } from './etcd-client.js';

export interface ControllerElectionOptions extends EtcdClusterOptions {
  nodeId: number;
  /** A controller that stops renewing (crash, partition) loses the office this long after. */
  ttlSeconds?: number;
  /** Pause before campaigning again after etcd failed the campaign. */
  retryBackoffMs?: number;
}

const DEFAULT_TTL_SECONDS = 10;
const DEFAULT_RETRY_BACKOFF_MS = 1_000;

/**
 * One controller at a time (Kafka's active controller), chosen by an etcd election: every node
 * campaigns, the first holds the office while its lease lives, the next in line takes over when it
 * resigns (clean shutdown) or its lease expires (crash). `onChange(true)` fires when this node
 * becomes controller and `onChange(false)` when it stops being one; the caller starts and stops the
 * controller's work (leader elections, ISR changes) on those.
 */
export class ControllerElection {
  private campaign: Campaign | null = null;
  private elected = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly election: Election;

  private constructor(
    private readonly client: Etcd3,
    election: Election,
    private readonly opts: ControllerElectionOptions,
    private readonly onChange: (isController: boolean) => void,
  ) {
    this.election = election;
  }

  static start(opts: ControllerElectionOptions, onChange: (isController: boolean) => void): ControllerElection {
    const { client, kv } = connectEtcd(opts);
    const election = kv.election('controller', opts.ttlSeconds ?? DEFAULT_TTL_SECONDS);
    const e = new ControllerElection(client, election, opts, onChange);
    e.run();
    return e;
  }

  get isController(): boolean {
    return this.elected;
  }

  /** The node id holding the office now, or null while nobody does. */
  async currentController(): Promise<number | null> {
    const leader = await this.election.leader();
    return leader === undefined ? null : Number(leader);
  }

  private run(): void {
    if (this.stopped) return;
    const campaign = this.election.campaign(String(this.opts.nodeId));
    this.campaign = campaign;
    campaign.on('elected', () => {
      if (this.stopped || this.campaign !== campaign) return;
      this.elected = true;
      this.onChange(true);
    });
    campaign.on('error', () => {
      // The lease is lost or etcd refused: this node is no controller any more; campaign again.
      if (this.campaign !== campaign) return;
      this.campaign = null;
      if (this.elected) {
        this.elected = false;
        this.onChange(false);
      }
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => this.run(), this.opts.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS);
      }
    });
  }

  /** Resigns (the next node takes over at once) and closes the connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const campaign = this.campaign;
    this.campaign = null;
    await campaign?.resign().catch(() => undefined);
    if (this.elected) {
      this.elected = false;
      this.onChange(false);
    }
    this.client.close();
  }
}
