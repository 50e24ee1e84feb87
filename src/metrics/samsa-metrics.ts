/**
 * Every metric family /metrics exposes, in one prom-client registry per node. Three kinds of family:
 *
 * - Scrape-time families (partition offsets and sizes, per-topic traffic, replication state, and
 *   whatever the attached MetricSources report): computed in `collect()` from in-memory state when
 *   Prometheus scrapes, never by walking the disk, and rebuilt from scratch each time, so a deleted
 *   topic or group is simply absent from the next scrape.
 * - Event families the HTTP edge and the storage layer feed as things happen (request durations,
 *   produce requests, log flushes) through the `observe*` methods; storage reaches them only through
 *   the callback the broker hands it (layers point down).
 * - prom-client's default process and Node.js metrics under their standard names (`process_*`,
 *   `nodejs_*`, no prefix), the names Prometheus' client-library guidelines give them and the
 *   common Node.js dashboards and alerts query; Samsa's own families all start with `samsa_`.
 *
 * Label values are bounded by construction: topics and partitions that exist, groups that exist,
 * replica ids of partitions this node leads, OpenAPI route templates (never raw URLs), and fixed enums.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry, type RegistryContentType } from 'prom-client';
import type { Broker, PartitionStatus, TopicTraffic } from '../broker/broker.js';
import { tpKey } from '../broker/topic-partition.js';
import type { MetricSources } from './metric-sources.js';

/** One follower's lag as the partition's status reports it. */
type ReplicaLag = PartitionStatus['replicaLag'][number];

export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Content types of the two formats, as prom-client writes them (both UTF-8). */
export const EXPOSITION_CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

/** The API a produce request came through: Confluent REST v2 or v3. */
export type ProduceApi = 'v2' | 'v3';
/** acks as the label shows it: `-1` is reported as `all`, as Kafka's producer config spells it. */
export type AcksLabel = '0' | '1' | 'all';
/** success, refused because of the request (4xx), or failed on our side (5xx, including not enough replicas). */
export type ProduceOutcome = 'success' | 'client_error' | 'server_error';

/** The label value of every request no OpenAPI path matched, so unknown URLs add one series, not one each. */
export const UNMATCHED_ROUTE = 'unmatched';

// Request durations span a cached metadata read (sub-millisecond) to a long-poll fetch (seconds).
const HTTP_DURATION_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
// An fsync takes tens of microseconds on a fast SSD and seconds on a struggling disk.
const FLUSH_DURATION_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];

export class SamsaMetrics {
  private readonly registry = new Registry<RegistryContentType>();
  private readonly sources: Partial<MetricSources> = {};
  /** Renders one at a time; see render(). */
  private rendering: Promise<unknown> = Promise.resolve();
  private readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly produceRequests: Counter<'api' | 'acks' | 'outcome'>;
  private readonly logFlushDuration: Histogram;

  constructor(broker: Broker) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // prom-client also exports the sums of active handles, requests and resources as *gauges* named
    // `_total`, which `promtool check metrics` rejects; the same counts remain, by type, in the
    // families without the suffix (sum by type to get them back).
    for (const kind of ['handles', 'requests', 'resources']) {
      this.registry.removeSingleMetric(`nodejs_active_${kind}_total`);
    }

    // ---- traffic, per topic, from the broker's running totals ----
    const traffic = broker.topicTraffic();
    const trafficCounter = (name: string, help: string, read: (t: Readonly<TopicTraffic>) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          // The broker holds the absolute totals; the counter mirrors them, so a deleted topic vanishes.
          this.reset();
          for (const [topic, totals] of traffic) this.inc({ topic }, read(totals));
        },
      });
    trafficCounter(
      'samsa_records_in_total',
      'Records appended by producers, per topic, since start-up.',
      (t) => t.recordsIn,
    );
    trafficCounter('samsa_bytes_in_total', 'Record batch bytes appended by producers, per topic.', (t) => t.bytesIn);
    trafficCounter(
      'samsa_records_out_total',
      'Records delivered to consumers and streams, per topic, since start-up.',
      (t) => t.recordsOut,
    );
    trafficCounter(
      'samsa_bytes_out_total',
      'Record batch bytes delivered to consumers and streams.',
      (t) => t.bytesOut,
    );

    // ---- HTTP edge ----
    this.produceRequests = new Counter({
      name: 'samsa_produce_requests_total',
      help: 'Produce requests that reached a produce handler, by API, acks and outcome.',
      labelNames: ['api', 'acks', 'outcome'],
      registers,
    });
    // Zero series for every combination, so rate() and ratios work before the first failure.
    for (const api of ['v2', 'v3'] as const)
      for (const acks of ['0', '1', 'all'] as const)
        for (const outcome of ['success', 'client_error', 'server_error'] as const)
          this.produceRequests.inc({ api, acks, outcome }, 0);
    this.httpRequestDuration = new Histogram({
      name: 'samsa_http_request_duration_seconds',
      help: 'HTTP request duration, from the first byte read to the last byte written, by OpenAPI route template.',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_DURATION_BUCKETS_S,
      registers,
    });

    // ---- partitions, from the in-memory logs ----
    const partitionGauge = (name: string, help: string, read: (p: PartitionStatus) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const p of broker.describePartitions())
            this.set({ topic: p.topic, partition: String(p.partition) }, read(p));
        },
      });
    partitionGauge(
      'samsa_partition_log_start_offset',
      'First offset still stored in the partition log.',
      (p) => p.logStartOffset,
    );
    partitionGauge(
      'samsa_partition_log_end_offset',
      'Offset the next record appended to the partition log will get.',
      (p) => p.logEndOffset,
    );
    partitionGauge(
      'samsa_partition_high_watermark',
      'Offset below which records are committed (replicated to the ISR) and readable.',
      (p) => p.highWatermark,
    );
    partitionGauge('samsa_partition_log_size_bytes', 'Bytes of all segments of the partition log.', (p) => p.sizeBytes);
    partitionGauge('samsa_partition_segments', 'Segments in the partition log.', (p) => p.segmentCount);

    // ---- consumer groups (source: the group coordinator) ----
    const sources = this.sources;
    new Gauge({
      name: 'samsa_consumer_group_lag',
      help: 'Log end offset minus the committed offset, per group and partition with a committed offset.',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        const groups = sources.consumerGroups?.groups();
        if (!groups) return;
        const logEndOffsets = new Map<string, number>();
        for (const p of broker.describePartitions()) logEndOffsets.set(tpKey(p.topic, p.partition), p.logEndOffset);
        for (const g of groups) {
          for (const c of g.committedOffsets) {
            const end = logEndOffsets.get(tpKey(c.topic, c.partition));
            // A commit for a partition that no longer exists (topic deleted) has no lag to report.
            if (end === undefined) continue;
            this.set({ group: g.group, topic: c.topic, partition: String(c.partition) }, Math.max(0, end - c.offset));
          }
        }
      },
    });
    new Gauge({
      name: 'samsa_consumer_group_members',
      help: 'Members in the current generation of each consumer group.',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of sources.consumerGroups?.groups() ?? []) this.set({ group: g.group }, g.members);
      },
    });
    new Counter({
      name: 'samsa_consumer_group_rebalances_total',
      help: 'Rebalances of each consumer group since start-up.',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of sources.consumerGroups?.groups() ?? []) this.inc({ group: g.group }, g.rebalancesTotal);
      },
    });
    new Gauge({
      name: 'samsa_consumer_instances',
      help: 'REST consumer instances currently alive.',
      registers,
      collect() {
        this.set(sources.consumerGroups?.consumerInstances() ?? 0);
      },
    });

    // ---- server-sent events (source: the SSE edge) ----
    new Gauge({
      name: 'samsa_sse_streams',
      help: 'Server-sent event streams currently open.',
      registers,
      collect() {
        this.set(sources.sse?.openStreams() ?? 0);
      },
    });
    new Counter({
      name: 'samsa_sse_events_total',
      help: 'Server-sent events written, per topic, since start-up.',
      labelNames: ['topic'],
      registers,
      collect() {
        this.reset();
        const events = sources.sse?.eventsTotalByTopic();
        if (!events) return;
        const liveTopics = new Set<string>();
        for (const p of broker.describePartitions()) liveTopics.add(p.topic);
        for (const [topic, count] of events) if (liveTopics.has(topic)) this.inc({ topic }, count);
      },
    });
    new Counter({
      name: 'samsa_sse_dropped_slow_total',
      help: 'Server-sent event streams closed because the client read too slowly.',
      registers,
      collect() {
        this.reset();
        this.inc(sources.sse?.droppedSlowTotal() ?? 0);
      },
    });

    // ---- replication: state from the partitions, events from the replication layer's source ----
    new Gauge({
      name: 'samsa_under_replicated_partitions',
      help: 'Partitions led by this node whose ISR is smaller than their replica set.',
      registers,
      collect() {
        let count = 0;
        for (const p of broker.describePartitions())
          if (p.leader === broker.nodeId && p.isr.length < p.replicas.length) count++;
        this.set(count);
      },
    });
    new Gauge({
      name: 'samsa_offline_partitions',
      help: 'Partitions hosted here that have no leader (leader id -1), so neither produce nor fetch is possible.',
      registers,
      collect() {
        let count = 0;
        for (const p of broker.describePartitions()) if (p.leader < 0) count++;
        this.set(count);
      },
    });
    const replicationCounter = (name: string, help: string, read: (s: MetricSources['replication']) => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          const source = sources.replication;
          this.inc(source ? read(source) : 0);
        },
      });
    replicationCounter('samsa_isr_shrinks_total', 'Times an ISR lost a replica.', (s) => s.isrShrinksTotal());
    replicationCounter('samsa_isr_expands_total', 'Times an ISR regained a replica.', (s) => s.isrExpandsTotal());
    replicationCounter('samsa_leader_elections_total', 'Leader elections.', (s) => s.leaderElectionsTotal());
    // Per follower of each partition this node leads, from what the leader keeps of it (Kafka's
    // follower log end offset and lastCaughtUpTimeMs). Rebuilt each scrape: a partition whose
    // leadership moved elsewhere, or that was deleted, leaves no series behind.
    const replicaLagGauge = (name: string, help: string, read: (lag: ReplicaLag) => number | null) =>
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition', 'replica'],
        registers,
        collect() {
          this.reset();
          for (const p of broker.describePartitions()) {
            if (p.leader !== broker.nodeId) continue;
            for (const lag of p.replicaLag) {
              const value = read(lag);
              if (value === null) continue;
              this.set({ topic: p.topic, partition: String(p.partition), replica: String(lag.replicaId) }, value);
            }
          }
        },
      });
    replicaLagGauge(
      'samsa_replica_lag_records',
      "On the leader, per follower: the log end offset minus the follower's, as its last fetch showed it (no series before its first fetch).",
      (lag) => lag.lagRecords,
    );
    replicaLagGauge(
      'samsa_replica_lag_seconds',
      'On the leader, per follower: time since it was last caught up with the log end, 0 while it is; past replica.lag.time.max.ms it leaves the ISR.',
      (lag) => lag.lagMs / 1000,
    );
    new Gauge({
      name: 'samsa_replica_lag_time_max_seconds',
      help: "This node's replica.lag.time.max.ms, in seconds: an in-sync follower not caught up for this long leaves the ISR.",
      registers,
      collect() {
        const entry = broker.brokerConfigs().find((e) => e.name === 'replica.lag.time.max.ms');
        this.set(entry ? Number(entry.value) / 1000 : 0);
      },
    });

    // ---- storage ----
    this.logFlushDuration = new Histogram({
      name: 'samsa_log_flush_duration_seconds',
      help: 'Time to fsync a partition log (flush policy, segment roll, shutdown).',
      buckets: FLUSH_DURATION_BUCKETS_S,
      registers,
    });
    new Gauge({
      name: 'samsa_recovery_duration_seconds',
      help: 'Time the last start-up took to recover every partition log; 0 until recovery completes.',
      registers,
      collect() {
        const report = broker.lastStartReport;
        this.set(report ? report.durationMs / 1000 : 0);
      },
    });

    broker.setLogFlushObserver((durationMs) => this.logFlushDuration.observe(durationMs / 1000));
  }

  /** Attaches the source of a subsystem (see metric-sources.ts); replaces an earlier one. */
  attach(sources: Partial<MetricSources>): void {
    Object.assign(this.sources, sources);
  }

  observeHttpRequest(method: string, route: string, status: number, durationSeconds: number): void {
    this.httpRequestDuration.observe({ method, route, status: String(status) }, durationSeconds);
  }

  /**
   * Called once per produce request by the produce handlers, with how it ended; the HTTP edge tells a
   * client's mistake from a server's, since only it knows what each error answers.
   */
  observeProduce(api: ProduceApi, acks: 0 | 1 | -1, outcome: ProduceOutcome = 'success'): void {
    this.produceRequests.inc({ api, acks: acks === -1 ? 'all' : acks === 0 ? '0' : '1', outcome });
  }

  /**
   * The whole exposition in one format. Renders run one after another: prom-client keeps the format
   * as registry state and, for OpenMetrics, strips `_total` from counter names in place, so two
   * concurrent renders in different formats would corrupt each other; the names are restored after.
   */
  render(format: ExpositionFormat): Promise<string> {
    const run = this.rendering.then(() => this.renderNow(format));
    this.rendering = run.catch(() => undefined);
    return run;
  }

  private async renderNow(format: ExpositionFormat): Promise<string> {
    if (format === 'prometheus') return this.registry.metrics();
    const names = this.registry.getMetricsAsArray().map((m) => [m, m.name] as const);
    this.registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return await this.registry.metrics();
    } finally {
      this.registry.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of names) metric.name = name;
    }
  }
}
