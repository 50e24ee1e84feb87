import { InvalidConfigError } from '../errors.js';
import { TOPIC_CONFIG_DEFS, validateBrokerTopicDefaults } from '../storage/log-config.js';

/**
 * Broker-wide settings, Kafka names. Topic-config synonyms (`log.retention.ms`, ...) are
 * checked by the log config table; the rest are listed here with their defaults.
 */
const BROKER_SETTINGS: Record<string, { default: string; kind: 'int' | 'boolean' | 'string'; min?: number }> = {
  'num.partitions': { default: '1', kind: 'int', min: 1 },
  'default.replication.factor': { default: '1', kind: 'int', min: 1 },
  'auto.create.topics.enable': { default: 'true', kind: 'boolean' },
  'log.retention.check.interval.ms': { default: '300000', kind: 'int', min: 1 },
  'log.flush.scheduler.interval.ms': { default: '1000', kind: 'int', min: 1 },
  'log.flush.offset.checkpoint.interval.ms': { default: '60000', kind: 'int', min: 1 },
  'replica.high.watermark.checkpoint.interval.ms': { default: '5000', kind: 'int', min: 1 },
  'log.cleaner.backoff.ms': { default: '15000', kind: 'int', min: 1 },
  // Replication (cluster mode), Kafka's names and defaults.
  'replica.lag.time.max.ms': { default: '30000', kind: 'int', min: 1 },
  'replica.fetch.wait.max.ms': { default: '500', kind: 'int', min: 1 },
  'replica.fetch.max.bytes': { default: '1048576', kind: 'int', min: 1024 },
  'replica.fetch.backoff.ms': { default: '1000', kind: 'int', min: 1 },
  'unclean.leader.election.enable': { default: 'false', kind: 'boolean' },
  // KRaft's broker.session.timeout.ms: a node whose etcd lease is not renewed this long is dead to the others.
  'broker.session.timeout.ms': { default: '9000', kind: 'int', min: 2000 },
  'offsets.topic.replication.factor': { default: '3', kind: 'int', min: 1 },
  // Samsa's Idempotency-Key memory, per partition (see broker/idempotency-cache.ts).
  'idempotency.max.keys': { default: '10000', kind: 'int', min: 1 },
  'idempotency.ttl.ms': { default: '86400000', kind: 'int', min: 1 },
  // Kafka's: how long a partition remembers an idempotent producer it has not heard from (producer-state-manager.ts).
  'producer.id.expiration.ms': { default: '86400000', kind: 'int', min: 1 },
  // The ACL authorizer's (read only when `--authorizer acl` runs one): Kafka's names and defaults.
  'super.users': { default: '', kind: 'string' },
  'allow.everyone.if.no.acl.found': { default: 'false', kind: 'boolean' },
};

/** Most idempotent producers one partition remembers; the least recently active is forgotten first. */
const MAX_PRODUCERS_PER_PARTITION = 10_000;

/** Every broker setting name `samsa serve` accepts (its own, and the topic-config synonyms). */

export function brokerConfigNames(): string[] {
  return [...Object.keys(BROKER_SETTINGS), ...TOPIC_CONFIG_DEFS.map((d) => d.brokerSynonym)];
}

/** Replication settings (cluster mode), Kafka's `replica.*` names. */
export interface ReplicationSettings {
  lagTimeMaxMs: number;
  fetchWaitMaxMs: number;
  fetchMaxBytes: number;
  fetchBackoffMs: number;
  uncleanLeaderElection: boolean;
  sessionTimeoutMs: number;
  /** `__consumer_offsets` waits for this many live nodes at start (up to a bound), then takes min(this, live). */
  offsetsTopicReplicationFactor: number;
}

export interface BrokerSettings {
  numPartitions: number;
  defaultReplicationFactor: number;
  autoCreateTopics: boolean;
  retentionCheckIntervalMs: number;
  flushCheckIntervalMs: number;
  checkpointIntervalMs: number;
  highWatermarkCheckpointIntervalMs: number;
  cleanerBackoffMs: number;
  replication: ReplicationSettings;
  /** Whether `default.replication.factor` was given (cluster mode otherwise picks min(3, live nodes)). */
  replicationFactorGiven: boolean;
  idempotency: { maxKeys: number; ttlMs: number };
  /** Idempotent Kafka producers remembered per partition (see producer-state-manager.ts). */
  producerState: { expirationMs: number; maxProducers: number };
  /** The ACL authorizer's settings: `super.users` (semicolon-separated principals) and `allow.everyone.if.no.acl.found`. */
  authorization: { superUsers: string; allowEveryoneIfNoAclFound: boolean };
  /** The broker-level topic defaults (synonyms), validated. */
  topicDefaults: Record<string, string>;
  /** Every setting given at start-up (flags, env), validated and normalised; the rest are defaults. */
  staticConfigs: Record<string, string>;
}

export function parseBrokerConfigs(configs: Record<string, string>): BrokerSettings {
  const topicDefaults = validateBrokerTopicDefaults(configs);
  const values: Record<string, string> = {};
  const staticConfigs: Record<string, string> = { ...topicDefaults };
  for (const [name, def] of Object.entries(BROKER_SETTINGS)) values[name] = def.default;
  for (const [name, raw] of Object.entries(configs)) {
    if (name in topicDefaults) continue;
    const def = BROKER_SETTINGS[name];
    if (!def) throw new InvalidConfigError(`Unknown broker config: ${name}`);
    const v = raw.trim();
    if (def.kind === 'boolean' && v !== 'true' && v !== 'false')
      throw new InvalidConfigError(`${name} must be true or false, got '${raw}'`);
    if (def.kind === 'int' && (!/^\d+$/.test(v) || Number(v) < (def.min ?? 0))) {
      throw new InvalidConfigError(`${name} must be a whole number >= ${def.min ?? 0}, got '${raw}'`);
    }
    values[name] = v;
    staticConfigs[name] = v;
  }
  const int = (n: string) => Number(values[n]);
  return {
    numPartitions: int('num.partitions'),
    defaultReplicationFactor: int('default.replication.factor'),
    autoCreateTopics: values['auto.create.topics.enable'] === 'true',
    retentionCheckIntervalMs: int('log.retention.check.interval.ms'),
    flushCheckIntervalMs: int('log.flush.scheduler.interval.ms'),
    checkpointIntervalMs: int('log.flush.offset.checkpoint.interval.ms'),
    highWatermarkCheckpointIntervalMs: int('replica.high.watermark.checkpoint.interval.ms'),
    cleanerBackoffMs: int('log.cleaner.backoff.ms'),
    replication: {
      lagTimeMaxMs: int('replica.lag.time.max.ms'),
      fetchWaitMaxMs: int('replica.fetch.wait.max.ms'),
      fetchMaxBytes: int('replica.fetch.max.bytes'),
      fetchBackoffMs: int('replica.fetch.backoff.ms'),
      uncleanLeaderElection: values['unclean.leader.election.enable'] === 'true',
      sessionTimeoutMs: int('broker.session.timeout.ms'),
      offsetsTopicReplicationFactor: int('offsets.topic.replication.factor'),
    },
    replicationFactorGiven: 'default.replication.factor' in staticConfigs,
    idempotency: { maxKeys: int('idempotency.max.keys'), ttlMs: int('idempotency.ttl.ms') },
    producerState: { expirationMs: int('producer.id.expiration.ms'), maxProducers: MAX_PRODUCERS_PER_PARTITION },
    authorization: {
      superUsers: values['super.users'] ?? '',
      allowEveryoneIfNoAclFound: values['allow.everyone.if.no.acl.found'] === 'true',
    },
    topicDefaults,
    staticConfigs,
  };
}

/**
 * Kafka's "Dynamic Update Mode" of a broker config: `read-only` takes a restart; `cluster-wide` may be
 * changed at run time as a cluster-wide default (and, as Kafka allows, per broker). Samsa's own
 * settings and the interval settings are start-up only; the broker-wide topic defaults are all
 * cluster-wide in Kafka, and Samsa applies them to the live logs. Undefined for an unknown name.
 */
export type DynamicUpdateMode = 'read-only' | 'cluster-wide';

export function dynamicUpdateMode(name: string): DynamicUpdateMode | undefined {
  if (name in BROKER_SETTINGS) return 'read-only';
  return TOPIC_CONFIG_DEFS.some((d) => d.brokerSynonym === name) ? 'cluster-wide' : undefined;
}

/** Validates a run-time value of a dynamic broker config; returns it normalised (InvalidConfigError otherwise). */
export function validateDynamicBrokerValue(name: string, value: string): string {
  return validateBrokerTopicDefaults({ [name]: value })[name] as string;
}

/** Kafka's config sources of a broker setting, most specific first. */
export type BrokerConfigSource =
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

/** One level's value of a broker setting (Kafka's config synonym). */
export interface BrokerConfigValue {
  value: string;
  source: BrokerConfigSource;
}

/** The run-time levels above the start-up settings: this broker's own values and the cluster-wide ones. */
export interface DynamicBrokerLayers {
  broker: Readonly<Record<string, string>>;
  cluster: Readonly<Record<string, string>>;
}

/** One broker setting as Kafka's DescribeConfigs reports it. */
export interface BrokerConfigEntry {
  name: string;
  value: string;
  /** Where the effective value comes from: the most specific level that has one. */
  source: BrokerConfigSource;
  /** The built-in default, which every other level overrides. */
  defaultValue: string;
  /** Whether it changes only with a restart (Kafka's Dynamic Update Mode `read-only`). */
  readOnly: boolean;
  /** Every level that has a value, most specific first; the default is always last. */
  synonyms: BrokerConfigValue[];
}

/**
 * Every broker setting Samsa reads, sorted by name: its own settings and the broker-wide synonyms
 * of topic configs (`log.retention.ms`, ...), each with its levels: this broker's run-time value,
 * the cluster-wide one, the start-up one, the default.
 */
export function describeBrokerSettings(
  settings: BrokerSettings,
  dynamic: DynamicBrokerLayers = { broker: {}, cluster: {} },
): BrokerConfigEntry[] {
  const defaults = new Map<string, string>(Object.entries(BROKER_SETTINGS).map(([name, def]) => [name, def.default]));
  for (const def of TOPIC_CONFIG_DEFS) defaults.set(def.brokerSynonym, def.default);
  return [...defaults]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, defaultValue]) => {
      const synonyms: BrokerConfigValue[] = [];
      const add = (value: string | undefined, source: BrokerConfigSource) => {
        if (value !== undefined) synonyms.push({ value, source });
      };
      add(dynamic.broker[name], 'DYNAMIC_BROKER_CONFIG');
      add(dynamic.cluster[name], 'DYNAMIC_DEFAULT_BROKER_CONFIG');
      add(settings.staticConfigs[name], 'STATIC_BROKER_CONFIG');
      add(defaultValue, 'DEFAULT_CONFIG');
      const effective = synonyms[0] as BrokerConfigValue;
      return {
        name,
        value: effective.value,
        source: effective.source,
        defaultValue,
        readOnly: dynamicUpdateMode(name) === 'read-only',
        synonyms,
      };
    });
}
