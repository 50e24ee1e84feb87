/**
 * `npm run bench -- <name>` runs one benchmark module of this folder; `npm run bench` runs them
 * all, one after the other. Each prints its figures beside a baseline measured in the same run,
 * and the ratio between them.
 */
const BENCHES: Record<string, () => Promise<() => Promise<void>>> = {
  storage: async () => (await import('./storage.js')).runStorageBench,
  // Produce, then the same produce path with authentication and ACLs on beside them off.
  produce: async () => {
    const [{ runProduceBench }, { runAuthenticationBench }] = await Promise.all([
      import('./produce.js'),
      import('./authentication.js'),
    ]);
    return async () => {
      await runProduceBench();
      console.log();
      await runAuthenticationBench();
    };
  },
  consume: async () => (await import('./consume.js')).runConsumeBench,
  sse: async () => (await import('./sse.js')).runSseBench,
  metrics: async () => (await import('./metrics.js')).runMetricsBench,
  replication: async () => (await import('./replication.js')).runReplicationBench,
  kafka: async () => (await import('./kafka.js')).runKafkaBench,
  authentication: async () => (await import('./authentication.js')).runAuthenticationBench,
};

const name = process.argv[2];
if (name === undefined) {
  for (const [benchName, load] of Object.entries(BENCHES)) {
    if (benchName === 'authentication') continue; // run as part of produce

    console.log(`\n=== ${benchName}`);
    await (await load())();
  }
} else {
  const load = BENCHES[name];
  if (load === undefined) {
    console.error(`usage: npm run bench [-- <name>]\navailable: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  await (await load())();
}
