/**
 * Kafka's synonym list of a topic config (DescribeConfigs with `include_synonyms`), shared by the
 * REST v3 config routes and the Kafka listener: the topic override (under the topic config's name),
 * then every broker level with a value (this broker's run-time value, the cluster-wide one, the
 * start-up one) and the built-in default, all under the broker's name, such as `log.retention.ms`
 * for `retention.ms`.
 */
import { type ConfigDef, type ConfigSource, type ResolvedConfig, TOPIC_CONFIG_DEFS } from '../storage/log-config.js';
import type { BrokerConfigEntry } from './broker-config.js';
import { topicConfigDef } from './topic-admin.js';

export interface ConfigSynonym {
  name: string;
  value: string;
  source: ConfigSource;
}

export function topicConfigSynonyms(
  config: ResolvedConfig,
  brokerConfigs: ReadonlyMap<string, BrokerConfigEntry>,
): ConfigSynonym[] {
  const synonyms: ConfigSynonym[] = [];
  if (config.source === 'DYNAMIC_TOPIC_CONFIG') {
    synonyms.push({ name: config.name, value: config.value, source: 'DYNAMIC_TOPIC_CONFIG' });
  }
  const def = topicConfigDef(config.name);
  if (!def) return synonyms;
  const brokerSetting = brokerConfigs.get(def.brokerSynonym);
  if (!brokerSetting) {
    synonyms.push({ name: def.brokerSynonym, value: def.default, source: 'DEFAULT_CONFIG' });
    return synonyms;
  }
  for (const { value, source } of brokerSetting.synonyms) synonyms.push({ name: def.brokerSynonym, value, source });
  return synonyms;
}

const DEFS_BY_BROKER_SYNONYM = new Map(TOPIC_CONFIG_DEFS.map((d) => [d.brokerSynonym, d]));

/** The topic config a broker setting is the broker-wide default of (`log.retention.ms` → `retention.ms`). */
export function topicConfigDefOfBrokerSynonym(brokerName: string): ConfigDef | undefined {
  return DEFS_BY_BROKER_SYNONYM.get(brokerName);
}
