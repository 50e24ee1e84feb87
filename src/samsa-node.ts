import { Broker, type BrokerOptions, reportBackgroundError, type StartReport } from './broker/broker.js';
import { ConsumerManager, type ConsumerManagerOptions } from './consumers/consumer-manager.js';
import { GroupCoordinator } from './groups/group-coordinator.js';

export interface NodeOptions extends BrokerOptions {
  consumers?: Partial<Omit<ConsumerManagerOptions, 'onError'>>;
  /** How often the coordinator looks for members past their session timeout. */
  sessionCheckIntervalMs?: number;
}

export const DEFAULT_CONSUMER_OPTIONS: Omit<ConsumerManagerOptions, 'onError'> = {
  defaultInstanceTimeoutMs: 300_000,
  maxInstances: 10_000,
  maxResponseBytes: 64 * 1024 * 1024,
  housekeepingIntervalMs: 1000,
};

/**
 * One Samsa node, wired: the broker (logs, topics, partitions), the group coordinator and the
 * REST consumer instances, started and stopped in dependency order. Every edge (HTTP today)
 * is given a node.
 */
export class SamsaNode {
  private constructor(
    readonly broker: Broker,
    readonly coordinator: GroupCoordinator,
    readonly consumers: ConsumerManager,
  ) {}

  static async open(opts: NodeOptions): Promise<SamsaNode> {
    const onError = opts.onError ?? reportBackgroundError;
    const broker = await Broker.open({ ...opts, onError });
    const coordinator = new GroupCoordinator(broker, {
      sessionCheckIntervalMs: opts.sessionCheckIntervalMs ?? 1000,
      onError,
    });
    const consumers = new ConsumerManager(broker, coordinator, {
      ...DEFAULT_CONSUMER_OPTIONS,
      ...opts.consumers,
      onError,
    });
    return new SamsaNode(broker, coordinator, consumers);
  }

  /** Recovers the logs, loads committed offsets, then starts the consumer housekeeping. */
  async start(): Promise<StartReport> {
    const report = await this.broker.start();
    await this.coordinator.start();
    this.consumers.start();
    return report;
  }

  get ready(): boolean {
    return this.broker.ready;
  }

  /** Closes consumers (auto-committing), stops the coordinator, then flushes and closes the logs. */
  async shutdown(): Promise<void> {
    await this.consumers.stop();
    await this.coordinator.stop();
    await this.broker.shutdown();
  }
}
