/**
 * The narrow hooks through which subsystems that do not exist yet (or live in a layer that must not
 * import this one) feed /metrics. Every hook is a *source the registry pulls at scrape time*, never
 * a counter the subsystem pushes into: the subsystem keeps plain numbers in its own state, imports
 * nothing from prom-client, and reports only what is alive, so deleted groups and closed streams
 * disappear from /metrics by themselves. A source must answer from memory, cheaply: it runs on every
 * scrape.
 *
 * Until a subsystem attaches its source (SamsaMetrics.attach), its families are still exposed, with
 * HELP and TYPE, empty (labelled families) or zero (unlabelled ones), so dashboards and alert rules
 * can be written against them from day one.
 */

/** One consumer group, as the group coordinator (src/groups) knows it. */
export interface ConsumerGroupSnapshot {
  group: string;
  /** Members in the current generation; 0 for a group of standalone consumers (manual assignment). */
  members: number;
  /** Rebalances since start-up (each completed generation bump). Must never decrease while the group lives. */
  rebalancesTotal: number;
  /** The group's committed offsets (the next offset to read, Kafka's convention), one per partition. */
  committedOffsets: Iterable<{ topic: string; partition: number; offset: number }>;
}

export interface ConsumerGroupSource {
  /**
   * Every group with members or committed offsets, including groups of standalone consumers with
   * manual assignment. `samsa_consumer_group_lag` is computed from these and the live log end offsets.
   */
  groups(): Iterable<ConsumerGroupSnapshot>;
  /** REST consumer instances (v2 `POST /consumers/{group}`) currently alive. */
  consumerInstances(): number;
}

export interface SseSource {
  /** Streams currently open. */
  openStreams(): number;
  /** Events written since start-up, per topic; entries of deleted topics are dropped by the registry. */
  eventsTotalByTopic(): Iterable<[topic: string, events: number]>;
  /** Streams closed because the client read too slowly (the bounded buffer filled). */
  droppedSlowTotal(): number;
}

/**
 * Counters of the replication layer (src/replication), which sits below the broker and so cannot
 * import this module. The gauges `samsa_under_replicated_partitions`, `samsa_offline_partitions`,
 * `samsa_replica_lag_records` and `samsa_replica_lag_seconds` need no source: they are computed from
 * each partition's status (replicas, ISR, leader, and on the leader its followers' lag).
 */
export interface ReplicationSource {
  isrShrinksTotal(): number;
  isrExpandsTotal(): number;
  leaderElectionsTotal(): number;
}

export interface MetricSources {
  consumerGroups: ConsumerGroupSource;
  sse: SseSource;
  replication: ReplicationSource;
}
