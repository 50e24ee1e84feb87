import type { MetadataStore } from '../cluster/metadata-store.js';
import { InvalidConfigError } from '../errors.js';
import type { BrokerDefaultSources, ConfigSource } from '../storage/log-config.js';
import {
  type BrokerConfigEntry,
  type BrokerSettings,
  type DynamicBrokerLayers,
  describeBrokerSettings,
  dynamicUpdateMode,
  validateDynamicBrokerValue,
} from './broker-config.js';

/** Kafka's entity name for the cluster-wide dynamic broker configs (`kafka-configs --entity-default`). */
const CLUSTER_DEFAULT_ENTITY = '<default>';

/** Where a run-time broker config is set: on this broker only, or cluster-wide (Kafka's default entity). */
export type BrokerConfigScope = 'broker' | 'cluster';

/** One change: a value to set, or null to remove the run-time value at that level. */
export interface BrokerConfigChange {
  name: string;
  value: string | null;
}

/** The broker-wide topic defaults in effect (broker names, `log.retention.ms`, ...) and which level set each. */
export interface EffectiveTopicDefaults {
  values: Readonly<Record<string, string>>;
  sources: BrokerDefaultSources;
}

/**
 * Kafka's dynamic broker configs (KIP-226): values set at run time, per broker or cluster-wide, over
 * the start-up settings. Precedence, most specific first: this broker's value, the cluster-wide
 * value, the start-up flag or variable, the default. Only configs whose Dynamic Update Mode is not
 * read-only can be set. The values persist in the metadata store (the data dir, written
 * atomically), so they survive a restart; the broker applies topic defaults to the live logs.
 */
export class DynamicBrokerConfig {
  private layers: DynamicBrokerLayers;
  private topicDefaultsCache: EffectiveTopicDefaults;

  private constructor(
    private readonly settings: BrokerSettings,
    private readonly store: MetadataStore,
    private readonly nodeId: number,
    layers: DynamicBrokerLayers,
  ) {
    this.layers = layers;
    this.topicDefaultsCache = this.computeTopicDefaults();
  }

  /** Reads this broker's and the cluster-wide run-time values from the store. */
  static async load(settings: BrokerSettings, store: MetadataStore, nodeId: number): Promise<DynamicBrokerConfig> {
    return new DynamicBrokerConfig(settings, store, nodeId, {
      broker: checkStored(await store.getBrokerConfigs(String(nodeId)), `broker ${nodeId}`),
      cluster: checkStored(await store.getBrokerConfigs(CLUSTER_DEFAULT_ENTITY), 'the cluster-wide level'),
    });
  }

  /** The broker-wide topic defaults every topic without its own override uses. Cheap: cached per change. */
  get topicDefaults(): EffectiveTopicDefaults {
    return this.topicDefaultsCache;
  }

  /** Every setting of this broker, with its levels (what `GET /brokers/{id}/configs` shows). */
  describe(): BrokerConfigEntry[] {
    return describeBrokerSettings(this.settings, this.layers);
  }

  /**
   * The settings that have a cluster-wide run-time value, as Kafka describes its default broker
   * entity: the cluster-wide value, then the start-up one and the default (no per-broker level).
   */
  describeClusterWide(): BrokerConfigEntry[] {
    return describeBrokerSettings(this.settings, { broker: {}, cluster: this.layers.cluster }).filter(
      (e) => e.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG',
    );
  }

  /**
   * Sets or removes run-time values at one level (Kafka's IncrementalAlterConfigs on a broker or
   * the default entity): every change is validated first, then all are persisted at once, or none.
   * Returns whether any broker-wide topic default changed, so the caller re-applies the log configs.
   */
  async alter(
    scope: BrokerConfigScope,
    changes: readonly BrokerConfigChange[],
    validateOnly: boolean,
  ): Promise<boolean> {
    const current = scope === 'broker' ? this.layers.broker : this.layers.cluster;
    const next: Record<string, string> = { ...current };
    for (const { name, value } of changes) {
      const mode = dynamicUpdateMode(name);
      if (mode === undefined) throw new InvalidConfigError(`Unknown broker config: ${name}`);
      if (mode === 'read-only') throw readOnlyError(name);
      if (value === null) delete next[name];
      else next[name] = validateDynamicBrokerValue(name, value);
    }
    if (validateOnly) return false;
    const entity = scope === 'broker' ? String(this.nodeId) : CLUSTER_DEFAULT_ENTITY;
    await this.store.putBrokerConfigs(entity, next);
    this.layers = scope === 'broker' ? { ...this.layers, broker: next } : { ...this.layers, cluster: next };
    const before = this.topicDefaultsCache.values;
    this.topicDefaultsCache = this.computeTopicDefaults();
    const after = this.topicDefaultsCache.values;
    const names = new Set([...Object.keys(before), ...Object.keys(after)]);
    return [...names].some((n) => before[n] !== after[n]);
  }

  private computeTopicDefaults(): EffectiveTopicDefaults {
    const values: Record<string, string> = {};
    const sources: Record<string, ConfigSource> = {};
    for (const entry of this.describe()) {
      if (entry.readOnly || entry.source === 'DEFAULT_CONFIG') continue;
      values[entry.name] = entry.value;
      sources[entry.name] = entry.source;
    }
    return { values, sources };
  }
}

/** Kafka answers InvalidRequestException ("Cannot update these configs dynamically"): an InvalidConfigError here. */
function readOnlyError(name: string): InvalidConfigError {
  return new InvalidConfigError(
    `Config ${name} is read-only: it is a start-up setting (a flag or SAMSA_* variable) and changes only with a restart.`,
  );
}

/** Stored values passed validation when written; a hand-edited or stale file fails start-up loudly, naming the config. */
function checkStored(configs: Record<string, string>, level: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(configs)) {
    if (dynamicUpdateMode(name) !== 'cluster-wide') {
      throw new InvalidConfigError(`Stored dynamic broker config ${name} (${level}) cannot be set at run time.`);
    }
    out[name] = validateDynamicBrokerValue(name, value);
  }
  return out;
}
