/**
 * `npm run bench -- <name>`: runs one benchmark module of this folder. Each prints its figures
 * beside a baseline measured in the same run, and the ratio between them.
 */
const BENCHES: Record<string, () => Promise<() => Promise<void>>> = {
  storage: async () => (await import('./storage.js')).runStorageBench,
  produce: async () => (await import('./produce.js')).runProduceBench,
  metrics: async () => (await import('./metrics.js')).runMetricsBench,
  sse: async () => (await import('./sse.js')).runSseBench,
  consume: async () => (await import('./consume.js')).runConsumeBench,
};

const name = process.argv[2];
const load = name === undefined ? undefined : BENCHES[name];
if (load === undefined) {
  console.error(`usage: npm run bench -- <name>\navailable: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
await (await load())();
