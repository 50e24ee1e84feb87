/**
 * The layers of DESIGN.md, checked by `npm run lint` (dependency-cruiser):
 *
 *   http ──► consumers ──► groups ──► broker ──► replication ──► cluster ──► storage
 *   metrics ──► broker (its facade only)
 *   kafka ──► consumers / groups / broker (the wire-protocol edge beside http; never imports http)
 *
 * Arrows point down only; nothing imports http but the composition roots (cli.ts, samsa-node.ts
 * builds the node below it); the log itself (partition logs, segments, record batches) is reached
 * only through the broker; no cycles. Shared leaves every layer may use: errors.ts, logger.ts,
 * wasm-module.ts, and the generic background-task / atomic-file helpers in storage.
 */
const above = {
  storage: '^src/(broker|groups|consumers|replication|cluster|http|metrics|kafka)/',
  cluster: '^src/(broker|groups|consumers|replication|http|metrics|kafka)/',
  replication: '^src/(broker|groups|consumers|http|metrics|kafka)/',
  broker: '^src/(groups|consumers|http|metrics|kafka)/',
  groups: '^src/(consumers|http|metrics|kafka)/',
  consumers: '^src/(http|metrics|kafka)/',
  metrics: '^src/(http|groups|consumers|kafka)/',
  // The authorizer sits beside broker/, below both edges that enforce it.
  security: '^src/(http|kafka|groups|consumers|metrics)/',
};

module.exports = {
  forbidden: [
    ...Object.entries(above).map(([layer, upper]) => ({
      name: `${layer}-imports-nothing-above-it`,
      comment: `src/${layer} sits below ${upper}: an import upward means a callback or a moved type is missing.`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: upper },
    })),
    {
      name: 'only-the-roots-import-http',
      comment: 'Only src/http knows express, content types and Confluent codes; the CLI wires it up.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(http/|cli\\.ts$)' },
      to: { path: '^src/http/' },
    },
    {
      name: 'only-the-roots-import-kafka',
      comment: 'src/kafka is an edge beside src/http: it calls broker/groups/consumers, and only the CLI wires it up.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(kafka/|cli\\.ts$|samsa-node\\.ts$)' },
      to: { path: '^src/kafka/' },
    },
    {
      name: 'the-log-is-reached-through-the-broker',
      comment:
        'PartitionLog, segments and the record batch codec are storage internals: every edge reads and writes through the broker facade (one place for high watermark bounds, forwarding to leaders, authorization).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(storage|broker|replication|cluster)/' },
      to: { path: '^src/storage/', pathNot: '^src/storage/(background-task|atomic-file)\\.ts$' },
    },
    {
      name: 'partition-is-broker-private',
      comment: 'Partition objects (leadership, ISR, high watermark) stay inside the broker; others ask the facade.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(broker|replication)/' },
      to: { path: '^src/broker/partition\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle means two modules are one concept, or a type lives in the wrong one.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
