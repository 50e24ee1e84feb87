import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker/broker.js';
import {
  ConsumerAlreadyExistsError,
  ConsumerInstanceLimitError,
  ConsumerInstanceNotFoundError,
  InvalidConsumerConfigError,
} from '../errors.js';
import { DEFAULT_ASSIGNOR, parseAssignmentStrategy } from '../groups/assignors.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import { BackgroundTask } from '../storage/background-task.js';
import {
  ConsumerInstance,
  type ConsumerInstanceConfig,
  type EmbeddedFormat,
  type OffsetResetPolicy,
} from './consumer-instance.js';
import { DecodedBatchCache } from './decoded-batch-cache.js';

/** Instance settings as a client sends them (Confluent's names and aliases), all optional. */
export interface ConsumerRequestConfig {
  name?: string;
  format?: string;
  'auto.offset.reset'?: string;
  'auto.commit.enable'?: string | boolean;
  'auto.commit.interval.ms'?: string | number;
  'fetch.min.bytes'?: string | number;
  'consumer.request.timeout.ms'?: string | number;
  'session.timeout.ms'?: string | number;
  'partition.assignment.strategy'?: string;
  'consumer.delay.ms'?: string | number;
  'consumer.instance.timeout.ms'?: string | number;
  'consumer.request.max.bytes'?: string | number;
}

export interface ConsumerManagerOptions {
  /** Server-wide caps and defaults. */
  defaultInstanceTimeoutMs: number;
  maxInstances: number;
  /** Most instances one principal (`User:alice`) may hold on this node (429 above); default `maxInstances`. */
  maxInstancesPerPrincipal?: number;
  maxResponseBytes: number;
  /** How often expired instances are closed and auto-commits run. */
  housekeepingIntervalMs: number;
  onError: (task: string, err: unknown) => void;
}

const FORMATS: readonly EmbeddedFormat[] = ['binary', 'json', 'string'];
const RESETS: readonly OffsetResetPolicy[] = ['earliest', 'latest', 'none'];
/** Kafka's broker-side bounds for `session.timeout.ms` (group.min/max.session.timeout.ms). */
const MIN_SESSION_TIMEOUT_MS = 1000;
const MAX_SESSION_TIMEOUT_MS = 1_800_000;
const INSTANCE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

function intSetting(name: string, raw: string | number | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidConsumerConfigError(`${name} must be a whole number in [${min}, ${max}], got ${String(raw)}`);
  return n;
}

/**
 * Every REST consumer instance of this node (Confluent keeps them in memory per proxy, and so
 * do we): creation with validated configs, lookup, and the housekeeping loop that closes idle
 * instances after `consumer.instance.timeout.ms` and runs auto-commits.
 */
export class ConsumerManager {
  private readonly instances = new Map<string, ConsumerInstance>();
  /** Who created each REST instance (`User:alice`); weak, so an instance dropped anywhere takes its entry along. */
  private readonly owners = new WeakMap<ConsumerInstance, string>();
  /** One decode per batch for every reader of the node (REST consumers and streams). */
  private readonly decoded = new DecodedBatchCache();
  private readonly housekeeping: BackgroundTask;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly coordinator: GroupCoordinator,
    private readonly opts: ConsumerManagerOptions,
  ) {
    this.housekeeping = new BackgroundTask(
      'consumer-housekeeping',
      opts.housekeepingIntervalMs,
      () => this.runHousekeeping(Date.now()),
      opts.onError,
    );
  }

  start(): void {
    this.unsubscribe = this.coordinator.onGroupsLost((groups) => this.abandonGroups(groups));
    this.housekeeping.start();
  }

  /** Cluster mode: these groups' coordinator moved to another node, so their instances here end. */
  private abandonGroups(groups: readonly string[]): void {
    const lost = new Set(groups);
    for (const [k, instance] of this.instances) {
      if (!lost.has(instance.group)) continue;
      this.instances.delete(k);
      instance.abandon();
    }
  }

  /** Closes every instance (committing where auto-commit is on) and stops the loop. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.housekeeping.stop();
    for (const instance of this.instances.values()) {
      try {
        instance.close();
      } catch (err) {
        // Its last auto-commit failed (the coordinator moved meanwhile): the others still close.
        this.opts.onError('consumer close', err);
      }
    }
    this.instances.clear();
  }

  private key(group: string, name: string): string {
    return `${group}\u0000${name}`;
  }

  parseConfig(req: ConsumerRequestConfig): { name: string; config: ConsumerInstanceConfig } {
    const name = req.name ?? `rest-consumer-${randomUUID()}`;
    if (!INSTANCE_NAME.test(name))
      throw new InvalidConsumerConfigError(`name must be 1-200 characters of [A-Za-z0-9._-], got '${name}'`);
    const format = (req.format ?? 'binary').toLowerCase();
    if (!FORMATS.includes(format as EmbeddedFormat)) {
      throw new InvalidConsumerConfigError(
        `format must be one of ${FORMATS.join(', ')} (schema formats are not supported yet), got '${req.format}'`,
      );
    }
    const reset = (req['auto.offset.reset'] ?? 'latest').toLowerCase();
    if (!RESETS.includes(reset as OffsetResetPolicy))
      throw new InvalidConsumerConfigError(`auto.offset.reset must be earliest, latest or none, got '${reset}'`);
    const autoCommitRaw = String(req['auto.commit.enable'] ?? 'true').toLowerCase();
    if (autoCommitRaw !== 'true' && autoCommitRaw !== 'false')
      throw new InvalidConsumerConfigError(`auto.commit.enable must be true or false`);
    const assignors = parseAssignmentStrategy(req['partition.assignment.strategy'] ?? DEFAULT_ASSIGNOR);
    if (assignors === null)
      throw new InvalidConsumerConfigError(`partition.assignment.strategy must name range, roundrobin or sticky`);
    return {
      name,
      config: {
        format: format as EmbeddedFormat,
        autoOffsetReset: reset as OffsetResetPolicy,
        autoCommitEnable: autoCommitRaw === 'true',
        autoCommitIntervalMs: intSetting(
          'auto.commit.interval.ms',
          req['auto.commit.interval.ms'],
          5000,
          0,
          86_400_000,
        ),
        fetchMinBytes: intSetting('fetch.min.bytes', req['fetch.min.bytes'], -1, -1, 10_000_000),
        requestTimeoutMs: intSetting(
          'consumer.request.timeout.ms',
          req['consumer.request.timeout.ms'],
          1000,
          0,
          300_000,
        ),
        maxResponseBytes: intSetting(
          'consumer.request.max.bytes',
          req['consumer.request.max.bytes'],
          this.opts.maxResponseBytes,
          1,
          this.opts.maxResponseBytes,
        ),
        sessionTimeoutMs: intSetting(
          'session.timeout.ms',
          req['session.timeout.ms'],
          45_000,
          MIN_SESSION_TIMEOUT_MS,
          MAX_SESSION_TIMEOUT_MS,
        ),
        assignors,
        delayMs: intSetting('consumer.delay.ms', req['consumer.delay.ms'], 0, 0, 7 * 86_400_000),
        instanceTimeoutMs: intSetting(
          'consumer.instance.timeout.ms',
          req['consumer.instance.timeout.ms'],
          this.opts.defaultInstanceTimeoutMs,
          1000,
          86_400_000,
        ),
      },
    };
  }

  /** `owner` is the principal creating it (`User:alice`), counted against `maxInstancesPerPrincipal`. */
  create(group: string, req: ConsumerRequestConfig, owner = 'User:ANONYMOUS'): ConsumerInstance {
    const { name, config } = this.parseConfig(req);
    if (group.length === 0 || group.length > 249)
      throw new InvalidConsumerConfigError('group id must be 1-249 characters');
    const k = this.key(group, name);
    if (this.instances.has(k)) throw new ConsumerAlreadyExistsError(group, name);
    if (this.instances.size >= this.opts.maxInstances) {
      throw new InvalidConsumerConfigError(
        `this node already holds its maximum of ${this.opts.maxInstances} consumer instances`,
      );
    }
    const perPrincipal = this.opts.maxInstancesPerPrincipal ?? this.opts.maxInstances;
    let owned = 0;
    // A scan of at most maxInstances entries, at creation only; owners are kept beside, never to clean up.
    for (const i of this.instances.values()) if (this.owners.get(i) === owner) owned++;
    if (owned >= perPrincipal) {
      throw new ConsumerInstanceLimitError(
        `${owner} already holds ${owned} consumer instances on this node, the most allowed.`,
      );
    }
    const instance = new ConsumerInstance(group, name, config, this.broker, this.coordinator, this.decoded);
    this.instances.set(k, instance);
    this.owners.set(instance, owner);
    return instance;
  }

  /**
   * A consumer for an edge that manages its own lifetime (an SSE stream): not addressable over
   * the REST API, never expired by housekeeping, no auto-commit (the stream commits what it
   * writes). `group` null means no group: manual assignment only.
   */
  createStreamConsumer(
    group: string | null,
    opts: { autoOffsetReset: OffsetResetPolicy; requestTimeoutMs: number; maxResponseBytes: number },
  ): ConsumerInstance {
    const config: ConsumerInstanceConfig = {
      format: 'binary',
      autoOffsetReset: opts.autoOffsetReset,
      autoCommitEnable: false,
      autoCommitIntervalMs: 0,
      fetchMinBytes: -1,
      requestTimeoutMs: opts.requestTimeoutMs,
      maxResponseBytes: opts.maxResponseBytes,
      sessionTimeoutMs: 45_000,
      assignors: [DEFAULT_ASSIGNOR],
      delayMs: 0,
      instanceTimeoutMs: Number.POSITIVE_INFINITY,
    };
    return new ConsumerInstance(
      group ?? '',
      `stream-${randomUUID()}`,
      config,
      this.broker,
      this.coordinator,
      this.decoded,
    );
  }

  /** The live instance; touching it counts as a heartbeat. Expired or unknown: ConsumerInstanceNotFoundError. */
  get(group: string, name: string): ConsumerInstance {
    const instance = this.instances.get(this.key(group, name));
    if (!instance || instance.closed) throw new ConsumerInstanceNotFoundError(group, name);
    instance.touch();
    return instance;
  }

  delete(group: string, name: string): void {
    const instance = this.get(group, name);
    this.instances.delete(this.key(group, name));
    instance.close();
  }

  get size(): number {
    return this.instances.size;
  }

  runHousekeeping(now: number): void {
    for (const [k, instance] of this.instances) {
      if (now - instance.lastUsedMs > instance.config.instanceTimeoutMs) {
        this.instances.delete(k);
        instance.close();
        continue;
      }
      if (instance.config.autoCommitEnable && now - instance.lastAutoCommitMs >= instance.config.autoCommitIntervalMs) {
        instance.lastAutoCommitMs = now;
        instance.autoCommit();
      }
    }
  }
}
