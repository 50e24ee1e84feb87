import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic-file.js';

export interface TopicMetadata {
  name: string;
  /** Kafka's topic id: 16 random bytes, base64url (22 chars), fixed at creation. */
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** Topic-level config overrides, Kafka names. */
  configs: Record<string, string>;
}

interface StoredMetadata {
  version: 1;
  topics: TopicMetadata[];
}

/**
 * Run-time broker configs (Kafka's dynamic broker configs, which Kafka keeps in its cluster
 * metadata), by entity: a broker id, or `<default>` for the cluster-wide values.
 */
interface StoredBrokerConfigs {
  version: 1;
  entities: Record<string, Record<string, string>>;
}

const METADATA_FILE = 'samsa-metadata.json';
const BROKER_CONFIGS_FILE = 'dynamic-broker-configs.json';
/** Kafka's per-log-dir identity file; we keep its key=value format. */
const META_PROPERTIES_FILE = 'meta.properties';

/** Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 chars). */
export function newKafkaId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * Cluster metadata for the embedded single node: topics with partition counts and config
 * overrides, run-time broker configs, and the cluster id, kept in the data dir. Every change rewrites the file
 * atomically (temp + fsync + rename), so a crash leaves the old or the new metadata.
 * In cluster mode an etcd-backed store takes this role behind the same methods.
 */
export class LocalMetadataStore {
  private readonly topics = new Map<string, TopicMetadata>();
  private readonly brokerConfigs = new Map<string, Record<string, string>>();
  readonly clusterId: string;

  constructor(
    private readonly dataDir: string,
    readonly nodeId: number,
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.clusterId = this.loadOrCreateIdentity();
    const file = path.join(dataDir, METADATA_FILE);
    if (fs.existsSync(file)) {
      const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredMetadata;
      if (stored.version !== 1) throw new Error(`${file}: unsupported metadata version ${String(stored.version)}`);
      for (const t of stored.topics) this.topics.set(t.name, t);
    }
    const configsFile = path.join(dataDir, BROKER_CONFIGS_FILE);
    if (fs.existsSync(configsFile)) {
      const stored = JSON.parse(fs.readFileSync(configsFile, 'utf8')) as StoredBrokerConfigs;
      if (stored.version !== 1) throw new Error(`${configsFile}: unsupported version ${String(stored.version)}`);
      for (const [entity, configs] of Object.entries(stored.entities)) this.brokerConfigs.set(entity, configs);
    }
  }

  private loadOrCreateIdentity(): string {
    const file = path.join(this.dataDir, META_PROPERTIES_FILE);
    if (fs.existsSync(file)) {
      const props = new Map(
        fs
          .readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l.includes('=') && !l.startsWith('#'))
          .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()] as const),
      );
      const id = props.get('cluster.id');
      if (id) return id;
    }
    const id = newKafkaId();
    writeFileAtomic(file, `#Samsa log dir identity\nversion=1\ncluster.id=${id}\nnode.id=${this.nodeId}\n`);
    return id;
  }

  private persist(): void {
    const stored: StoredMetadata = { version: 1, topics: [...this.topics.values()] };
    writeFileAtomic(path.join(this.dataDir, METADATA_FILE), `${JSON.stringify(stored, null, 2)}\n`);
  }

  listTopics(): TopicMetadata[] {
    return [...this.topics.values()];
  }

  getTopic(name: string): TopicMetadata | undefined {
    return this.topics.get(name);
  }

  putTopic(topic: TopicMetadata): void {
    this.topics.set(topic.name, topic);
    this.persist();
  }

  /** The run-time broker configs of `entity` (a broker id, or `<default>` for cluster-wide ones). */
  getBrokerConfigs(entity: string): Record<string, string> {
    return { ...this.brokerConfigs.get(entity) };
  }

  /** Replaces the run-time broker configs of `entity`, atomically on disk (all of them, or none). */
  putBrokerConfigs(entity: string, configs: Record<string, string>): void {
    if (Object.keys(configs).length === 0) this.brokerConfigs.delete(entity);
    else this.brokerConfigs.set(entity, { ...configs });
    const stored: StoredBrokerConfigs = { version: 1, entities: Object.fromEntries(this.brokerConfigs) };
    writeFileAtomic(path.join(this.dataDir, BROKER_CONFIGS_FILE), `${JSON.stringify(stored, null, 2)}\n`);
  }

  deleteTopic(name: string): void {
    if (this.topics.delete(name)) this.persist();
  }
}
