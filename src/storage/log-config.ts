import { InvalidConfigError } from '../errors.js';
import { CompressionCodec } from './compression.js';

/**
 * Topic-level configs the engine understands, with Kafka's names, defaults and the broker
 * setting that supplies a broker-wide default (Kafka's "synonym"). A topic's effective
 * config is: its own override, else the broker setting, else the default here.
 */
type ConfigType = 'long' | 'int' | 'double' | 'boolean' | 'string' | 'list';

export interface ConfigDef {
  name: string;
  type: ConfigType;
  default: string;
  /** Broker-wide setting that overrides the default for every topic. */
  brokerSynonym: string;
  /** Allowed values for strings and list items. */
  allowed?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
}

const LONG_MAX = '9223372036854775807';
const MIB = 1024 * 1024;

export const TOPIC_CONFIG_DEFS: readonly ConfigDef[] = [
  {
    name: 'cleanup.policy',
    type: 'list',
    default: 'delete',
    brokerSynonym: 'log.cleanup.policy',
    allowed: ['delete', 'compact'],
    doc: 'delete old segments, compact by key, or both',
  },
  {
    name: 'compression.type',
    type: 'string',
    default: 'producer',
    brokerSynonym: 'compression.type',
    allowed: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'],
    doc: 'codec of stored batches; producer keeps a Kafka client batch in its codec',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    default: '86400000',
    brokerSynonym: 'log.cleaner.delete.retention.ms',
    min: 0,
    doc: 'how long tombstones survive compaction',
  },
  {
    name: 'flush.messages',
    type: 'long',
    default: LONG_MAX,
    brokerSynonym: 'log.flush.interval.messages',
    min: 1,
    doc: 'fsync after this many unflushed records',
  },
  {
    name: 'flush.ms',
    type: 'long',
    default: LONG_MAX,
    brokerSynonym: 'log.flush.interval.ms',
    min: 0,
    doc: 'fsync when unflushed data is this old',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    default: '4096',
    brokerSynonym: 'log.index.interval.bytes',
    min: 0,
    doc: 'log bytes between sparse index entries',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    default: String(MIB),
    brokerSynonym: 'message.max.bytes',
    min: 0,
    doc: 'largest record batch accepted',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    default: 'CreateTime',
    brokerSynonym: 'log.message.timestamp.type',
    allowed: ['CreateTime', 'LogAppendTime'],
    doc: 'whose clock stamps records',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    default: '0.5',
    brokerSynonym: 'log.cleaner.min.cleanable.ratio',
    min: 0,
    max: 1,
    doc: 'dirty share of the log that triggers compaction',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    default: '0',
    brokerSynonym: 'log.cleaner.min.compaction.lag.ms',
    min: 0,
    doc: 'records younger than this are not compacted',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    default: '1',
    brokerSynonym: 'min.insync.replicas',
    min: 1,
    doc: 'replicas that must hold an acks=all write',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    default: '-1',
    brokerSynonym: 'log.retention.bytes',
    min: -1,
    doc: 'per-partition size limit, -1 for none',
  },
  {
    name: 'retention.ms',
    type: 'long',
    default: '604800000',
    brokerSynonym: 'log.retention.ms',
    min: -1,
    doc: 'age limit, -1 for none',
  },
  {
    name: 'segment.bytes',
    type: 'int',
    default: String(1024 * MIB),
    brokerSynonym: 'log.segment.bytes',
    min: 14,
    doc: 'segment size that triggers a roll',
  },
  {
    name: 'segment.index.bytes',
    type: 'int',
    default: String(10 * MIB),
    brokerSynonym: 'log.index.size.max.bytes',
    min: 8,
    doc: 'largest index file; a full index rolls the segment',
  },
  {
    name: 'segment.ms',
    type: 'long',
    default: '604800000',
    brokerSynonym: 'log.roll.ms',
    min: 1,
    doc: 'segment age that triggers a roll',
  },
];

const DEFS_BY_NAME = new Map(TOPIC_CONFIG_DEFS.map((d) => [d.name, d]));
const DEFS_BY_SYNONYM = new Map(TOPIC_CONFIG_DEFS.map((d) => [d.brokerSynonym, d]));

export function topicConfigDef(name: string): ConfigDef | undefined {
  return DEFS_BY_NAME.get(name);
}

/** Throws InvalidConfigError unless `value` is a valid value of `def`. Returns it normalised. */
function checkValue(def: ConfigDef, value: string, label: string): string {
  const v = value.trim();
  const fail = (why: string): never => {
    throw new InvalidConfigError(`Invalid value '${value}' for configuration ${label}: ${why}`);
  };
  switch (def.type) {
    case 'long':
    case 'int': {
      if (!/^-?\d+$/.test(v)) fail('not a whole number');
      const n = Number(v);
      if (def.type === 'int' && (n > 2147483647 || n < -2147483648)) fail('out of 32-bit range');
      if (def.min !== undefined && n < def.min) fail(`must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`must be at most ${def.max}`);
      return v;
    }
    case 'double': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) fail('not a number');
      if (def.min !== undefined && n < def.min) fail(`must be at least ${def.min}`);
      if (def.max !== undefined && n > def.max) fail(`must be at most ${def.max}`);
      return v;
    }
    case 'boolean':
      if (v !== 'true' && v !== 'false') fail('must be true or false');
      return v;
    case 'string':
      if (def.allowed && !def.allowed.includes(v)) fail(`must be one of ${def.allowed.join(', ')}`);
      return v;
    case 'list': {
      const items = v.split(',').map((s) => s.trim());
      if (items.length === 0 || items.some((i) => i === '')) fail('empty list item');
      for (const i of items)
        if (def.allowed && !def.allowed.includes(i)) fail(`items must be among ${def.allowed.join(', ')}`);
      return items.join(',');
    }
  }
}

/** Validates topic-level overrides (Kafka names). Unknown names are an error, as in Kafka. */
export function validateTopicConfigs(overrides: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(overrides)) {
    const def = DEFS_BY_NAME.get(name);
    if (!def) throw new InvalidConfigError(`Unknown topic config name: ${name}`);
    out[name] = checkValue(def, String(value), name);
  }
  return out;
}

/** Validates broker-wide settings that are synonyms of topic configs; returns only those. */
export function validateBrokerTopicDefaults(brokerConfigs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(brokerConfigs)) {
    const def = DEFS_BY_SYNONYM.get(name);
    if (def) out[name] = checkValue(def, value, name);
  }
  return out;
}

/** Kafka's config sources a topic config can have: its own override, a broker level (run-time or start-up), the default. */
export type ConfigSource =
  | 'DYNAMIC_TOPIC_CONFIG'
  | 'DYNAMIC_BROKER_CONFIG'
  | 'DYNAMIC_DEFAULT_BROKER_CONFIG'
  | 'STATIC_BROKER_CONFIG'
  | 'DEFAULT_CONFIG';

/** Which broker level supplied each broker-wide default (broker names); STATIC_BROKER_CONFIG where absent. */
export type BrokerDefaultSources = Readonly<Record<string, ConfigSource>>;

export interface ResolvedConfig {
  name: string;
  value: string;
  source: ConfigSource;
}

/** Every topic config with its effective value and where that value comes from. */
export function resolveTopicConfigs(
  overrides: Record<string, string>,
  brokerDefaults: Record<string, string>,
  brokerSources: BrokerDefaultSources = {},
): ResolvedConfig[] {
  return TOPIC_CONFIG_DEFS.map((def) => {
    const own = overrides[def.name];
    if (own !== undefined) return { name: def.name, value: own, source: 'DYNAMIC_TOPIC_CONFIG' };
    const broker = brokerDefaults[def.brokerSynonym];
    if (broker !== undefined) {
      return { name: def.name, value: broker, source: brokerSources[def.brokerSynonym] ?? 'STATIC_BROKER_CONFIG' };
    }
    return { name: def.name, value: def.default, source: 'DEFAULT_CONFIG' };
  });
}

/** Kafka's Long.MAX_VALUE as "never"; JavaScript numbers lose precision there, so clamp. */
function toMs(value: string): number {
  const n = Number(value);
  return n >= Number.MAX_SAFE_INTEGER ? Number.POSITIVE_INFINITY : n;
}

/** `compression.type` values that name the codec of stored batches (`producer` names none). */
const COMPRESSION_TYPES: Record<string, CompressionCodec> = {
  uncompressed: CompressionCodec.None,
  gzip: CompressionCodec.Gzip,
  snappy: CompressionCodec.Snappy,
  lz4: CompressionCodec.Lz4,
  zstd: CompressionCodec.Zstd,
};

/** The typed view the engine runs on. Built once per config change, never per append. */
export interface LogConfig {
  cleanupPolicyDelete: boolean;
  cleanupPolicyCompact: boolean;
  /**
   * The codec `compression.type` names (uncompressed: None), or null for `producer`: a Kafka
   * client's batch is stored in the codec it came in and HTTP produce writes uncompressed batches.
   */
  compression: CompressionCodec | null;
  deleteRetentionMs: number;
  flushMessages: number;
  flushMs: number;
  indexIntervalBytes: number;
  maxMessageBytes: number;
  logAppendTime: boolean;
  minCleanableDirtyRatio: number;
  minCompactionLagMs: number;
  minInsyncReplicas: number;
  retentionBytes: number;
  retentionMs: number;
  segmentBytes: number;
  segmentIndexBytes: number;
  segmentMs: number;
}

export function buildLogConfig(overrides: Record<string, string>, brokerDefaults: Record<string, string>): LogConfig {
  const v = new Map(resolveTopicConfigs(overrides, brokerDefaults).map((c) => [c.name, c.value]));
  const get = (name: string): string => v.get(name) as string;
  const policy = get('cleanup.policy').split(',');
  return {
    cleanupPolicyDelete: policy.includes('delete'),
    cleanupPolicyCompact: policy.includes('compact'),
    compression: COMPRESSION_TYPES[get('compression.type')] ?? null,
    deleteRetentionMs: toMs(get('delete.retention.ms')),
    flushMessages: toMs(get('flush.messages')),
    flushMs: toMs(get('flush.ms')),
    indexIntervalBytes: Number(get('index.interval.bytes')),
    maxMessageBytes: Number(get('max.message.bytes')),
    logAppendTime: get('message.timestamp.type') === 'LogAppendTime',
    minCleanableDirtyRatio: Number(get('min.cleanable.dirty.ratio')),
    minCompactionLagMs: toMs(get('min.compaction.lag.ms')),
    minInsyncReplicas: Number(get('min.insync.replicas')),
    retentionBytes: Number(get('retention.bytes')),
    retentionMs: toMs(get('retention.ms')),
    segmentBytes: Number(get('segment.bytes')),
    segmentIndexBytes: Number(get('segment.index.bytes')),
    segmentMs: toMs(get('segment.ms')),
  };
}
