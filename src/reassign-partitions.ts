/**
 * `samsa reassign`: moves partition replicas between the nodes of a cluster (Kafka's
 * kafka-reassign-partitions), through the HTTP API of any node, never etcd:
 *
 *   samsa reassign --bootstrap URL --topic T --partition P --replicas 2,3,1 [--wait]
 *   samsa reassign --bootstrap URL --topic T --partition P --cancel
 *   samsa reassign --bootstrap URL --drain NODE_ID [--wait]
 *   samsa reassign --bootstrap URL --list
 *
 * `--drain` moves every replica off a node before it is removed: each partition that lists it gets,
 * in its place, a live node that does not hold the partition yet (one in the drained node's rack
 * first, then one in a rack the partition does not use, the least loaded first). `--wait` polls until
 * the moves have completed and prints what is left. Exit codes: 0 done, 1 failure, 2 usage.
 */

/** Most time `--wait` waits, unless `--timeout-ms` says otherwise. */
const DEFAULT_TIMEOUT_MS = 300_000;
/** Bounds of `--timeout-ms`. */
const MAX_TIMEOUT_MS = 3_600_000;
/** How often `--wait` asks how far the moves are. */
const POLL_INTERVAL_MS = 500;
/** Most time one HTTP request may take. */
const REQUEST_TIMEOUT_MS = 15_000;
/** Most replicas one partition may list (the API's own bound). */
const MAX_REPLICAS = 64;
/** Most partitions one `--drain` moves (a bound on the requests it sends). */
const MAX_DRAINED_PARTITIONS = 100_000;

export const REASSIGN_USAGE = `Usage:
  samsa reassign --bootstrap URL --topic T --partition P --replicas 2,3,1 [--wait]
  samsa reassign --bootstrap URL --topic T --partition P --cancel
  samsa reassign --bootstrap URL --drain NODE_ID [--wait]
  samsa reassign --bootstrap URL --list

Moves partition replicas between cluster nodes through the HTTP API of any node.
  --bootstrap URL[,URL...]   a node's HTTP API (the first that answers is used)
  --topic T --partition P    the partition to move (with --replicas or --cancel)
  --replicas 2,3,1           its new replica list, in preference order (the first leads)
  --cancel                   cancel its move in progress (the replicas from before the move)
  --drain NODE_ID            move every replica off the node (then it can be stopped)
  --list                     print the moves in progress
  --wait                     wait until the moves have completed, printing progress
  --timeout-ms N             how long --wait waits (default ${DEFAULT_TIMEOUT_MS})
`;

export type ReassignAction =
  | { kind: 'move'; topic: string; partition: number; replicas: number[] }
  | { kind: 'cancel'; topic: string; partition: number }
  | { kind: 'drain'; nodeId: number }
  | { kind: 'list' };

export interface ReassignConfig {
  bootstrap: string[];
  action: ReassignAction;
  wait: boolean;
  timeoutMs: number;
}

export type ReassignArgs =
  | { kind: 'config'; config: ReassignConfig }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

const VALUE_FLAGS = new Set(['bootstrap', 'topic', 'partition', 'replicas', 'drain', 'timeout-ms']);
const SWITCHES = new Set(['cancel', 'list', 'wait']);

function brokerId(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text.trim())) return undefined;
  const n = Number(text.trim());
  return n <= 2_147_483_647 ? n : undefined;
}

export function parseReassignArgs(argv: readonly string[]): ReassignArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--')) return usage(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (SWITCHES.has(name) && eq === -1) {
      switches.add(name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) return usage(`unknown flag '--${name}'`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || value === '' || (eq === -1 && value.startsWith('--')))
      return usage(`flag '--${name}' needs a value`);
    values.set(name, value);
  }
  const bootstrap = (values.get('bootstrap') ?? '')
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u.length > 0);
  if (bootstrap.length === 0) return usage('--bootstrap is required');
  for (const url of bootstrap) if (!/^https?:\/\/[^/]+/.test(url)) return usage(`--bootstrap '${url}' is not a URL`);
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const timeout = values.get('timeout-ms');
  if (timeout !== undefined) {
    const n = /^\d+$/.test(timeout) ? Number(timeout) : Number.NaN;
    if (!(n >= 1 && n <= MAX_TIMEOUT_MS)) return usage(`--timeout-ms must be from 1 to ${MAX_TIMEOUT_MS}`);
    timeoutMs = n;
  }
  const modes = [values.has('replicas'), switches.has('cancel'), values.has('drain'), switches.has('list')];
  if (modes.filter(Boolean).length !== 1) return usage('give exactly one of --replicas, --cancel, --drain, --list');
  const wait = switches.has('wait');
  const config = (action: ReassignAction): ReassignArgs => ({
    kind: 'config',
    config: { bootstrap, action, wait, timeoutMs },
  });
  if (switches.has('list')) return config({ kind: 'list' });
  const drain = values.get('drain');
  if (drain !== undefined) {
    const nodeId = brokerId(drain);
    return nodeId === undefined
      ? usage(`--drain must be a broker id, got '${drain}'`)
      : config({ kind: 'drain', nodeId });
  }
  const topic = values.get('topic');
  const partitionText = values.get('partition');
  if (topic === undefined || partitionText === undefined) return usage('--topic and --partition are required');
  const partition = brokerId(partitionText);
  if (partition === undefined) return usage(`--partition must be a partition id, got '${partitionText}'`);
  if (switches.has('cancel')) return config({ kind: 'cancel', topic, partition });
  const ids = (values.get('replicas') as string).split(',').map(brokerId);
  if (ids.length > MAX_REPLICAS || ids.some((r) => r === undefined))
    return usage(`--replicas must be at most ${MAX_REPLICAS} comma-separated broker ids`);
  const replicas = ids as number[];
  if (new Set(replicas).size !== replicas.length) return usage('--replicas names a broker twice');
  return config({ kind: 'move', topic, partition, replicas });
}

function usage(message: string): ReassignArgs {
  return { kind: 'usage-error', message };
}

// ---- the drain plan (pure, so its choices can be tested without a cluster) ----

export interface PlanBroker {
  brokerId: number;
  rack: string | null;
}

/** A partition's replica list now, and the replicas it is already dropping (a move in progress). */
export interface PlanPartition {
  topic: string;
  partition: number;
  replicas: number[];
  removing: number[];
}

export interface PlannedMove {
  topic: string;
  partition: number;
  from: number[];
  to: number[];
}

/**
 * Where each partition that lists `nodeId` goes: its target list (replicas without those already
 * being removed) with `nodeId` replaced, in its place, by a live broker that holds no replica of the
 * partition. Rack-aware as far as racks are known: the drained node's rack first, then a rack the
 * partition does not use yet, then any; among those the broker holding the fewest replicas (`load`:
 * replicas per broker now, plus the moves planned so far), then the lowest id. A partition no broker
 * can take is `stuck`.
 */
export function planDrain(
  nodeId: number,
  partitions: readonly PlanPartition[],
  live: readonly PlanBroker[],
  replicasPerBroker: ReadonlyMap<number, number> = new Map(),
): { moves: PlannedMove[]; stuck: PlanPartition[] } {
  const rackOf = new Map(live.map((b) => [b.brokerId, b.rack]));
  const load = new Map<number, number>(live.map((b) => [b.brokerId, replicasPerBroker.get(b.brokerId) ?? 0]));
  const drainedRack = rackOf.get(nodeId) ?? null;
  const moves: PlannedMove[] = [];
  const stuck: PlanPartition[] = [];
  for (const p of partitions) {
    const target = p.replicas.filter((r) => !p.removing.includes(r));
    if (!target.includes(nodeId)) continue;
    const usedRacks = new Set(target.filter((r) => r !== nodeId).map((r) => rackOf.get(r) ?? null));
    const candidates = live.filter((b) => b.brokerId !== nodeId && !p.replicas.includes(b.brokerId));
    const score = (b: PlanBroker) => {
      if (drainedRack !== null && b.rack === drainedRack) return 0;
      if (b.rack !== null && !usedRacks.has(b.rack)) return 1;
      return 2;
    };
    const best = [...candidates].sort(
      (a, b) =>
        score(a) - score(b) || (load.get(a.brokerId) ?? 0) - (load.get(b.brokerId) ?? 0) || a.brokerId - b.brokerId,
    )[0];
    if (!best) {
      stuck.push(p);
      continue;
    }
    load.set(best.brokerId, (load.get(best.brokerId) ?? 0) + 1);
    moves.push({
      topic: p.topic,
      partition: p.partition,
      from: [...p.replicas],
      to: target.map((r) => (r === nodeId ? best.brokerId : r)),
    });
  }
  return { moves, stuck };
}

// ---- talking to a node ----

export interface ReassignIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of several v3 shapes, read field by field
type Json = any;

class Api {
  private constructor(
    private readonly base: string,
    readonly clusterId: string,
  ) {}

  /** The first bootstrap URL whose node answers, and its cluster id. */
  static async connect(bootstrap: readonly string[]): Promise<Api> {
    let last: unknown;
    for (const base of bootstrap) {
      try {
        const body = await request(`${base}/v3/clusters`, 'GET');
        const id = body?.data?.[0]?.cluster_id;
        if (typeof id === 'string') return new Api(base, id);
        last = new Error(`${base}: no cluster in the answer`);
      } catch (err) {
        last = err;
      }
    }
    throw new Error(`no bootstrap node answered: ${(last as Error)?.message ?? last}`);
  }

  call(method: string, path: string, body?: unknown): Promise<Json> {
    return request(`${this.base}/v3/clusters/${encodeURIComponent(this.clusterId)}${path}`, method, body);
  }

  partitionPath(topic: string, partition: number): string {
    return `/topics/${encodeURIComponent(topic)}/partitions/${partition}`;
  }
}

async function request(url: string, method: string, body?: unknown): Promise<Json> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  let parsed: Json = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: the status says enough
  }
  if (!res.ok)
    throw new ApiError(res.status, `${method} ${url}: ${res.status} ${parsed?.message ?? text.slice(0, 200)}`);
  return parsed;
}

interface Moving {
  topic: string;
  partition: number;
  adding: number[];
  removing: number[];
}

async function movesInProgress(api: Api): Promise<Moving[]> {
  const body = await api.call('GET', '/topics/-/partitions/-/reassignment');
  return (body.data as Json[]).map((r) => ({
    topic: r.topic_name as string,
    partition: r.partition_id as number,
    adding: r.adding_replicas as number[],
    removing: r.removing_replicas as number[],
  }));
}

function describe(m: Moving): string {
  return `${m.topic}-${m.partition} adding [${m.adding.join(',')}] removing [${m.removing.join(',')}]`;
}

/** The partitions that list `nodeId` now, with their replica lists and the replicas they are dropping. */
async function partitionsOf(api: Api, nodeId: number): Promise<PlanPartition[]> {
  const hosted = await api.call('GET', `/brokers/${nodeId}/partition-replicas`);
  const moving = new Map((await movesInProgress(api)).map((m) => [`${m.topic}\0${m.partition}`, m.removing]));
  const out: PlanPartition[] = [];
  for (const r of (hosted.data as Json[]).slice(0, MAX_DRAINED_PARTITIONS)) {
    const replicas = await api.call('GET', `${api.partitionPath(r.topic_name, r.partition_id)}/replicas`);
    out.push({
      topic: r.topic_name,
      partition: r.partition_id,
      replicas: (replicas.data as Json[]).map((x) => x.broker_id as number),
      removing: moving.get(`${r.topic_name}\0${r.partition_id}`) ?? [],
    });
  }
  return out;
}

/** Polls `left` until it names nothing, printing what is left whenever that changes; false after `timeoutMs`. */
async function waitUntil(io: ReassignIo, timeoutMs: number, left: () => Promise<string[]>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let said = '';
  for (;;) {
    const now = await left();
    if (now.length === 0) return true;
    const line = `waiting for ${now.length} partition(s): ${now.slice(0, 5).join('; ')}${now.length > 5 ? '; ...' : ''}`;
    if (line !== said) io.out(line);
    said = line;
    if (Date.now() > deadline) {
      io.err(`samsa reassign: still not done after ${timeoutMs} ms`);
      return false;
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}

/** Runs one `samsa reassign` and answers its exit code. */
export async function runReassign(config: ReassignConfig, io: ReassignIo): Promise<number> {
  let api: Api;
  try {
    api = await Api.connect(config.bootstrap);
  } catch (err) {
    io.err(`samsa reassign: ${(err as Error).message}`);
    return 1;
  }
  try {
    return await act(api, config, io);
  } catch (err) {
    io.err(`samsa reassign: ${(err as Error).message}`);
    return 1;
  }
}

async function act(api: Api, config: ReassignConfig, io: ReassignIo): Promise<number> {
  const { action } = config;
  if (action.kind === 'list') {
    const moving = await movesInProgress(api);
    if (moving.length === 0) io.out('no reassignment in progress');
    for (const m of moving) io.out(describe(m));
    return 0;
  }
  if (action.kind === 'cancel') {
    await api.call('DELETE', `${api.partitionPath(action.topic, action.partition)}/reassignment`);
    io.out(`${action.topic}-${action.partition}: reassignment cancelled`);
    return 0;
  }
  if (action.kind === 'move') {
    const stored = await api.call('PATCH', `${api.partitionPath(action.topic, action.partition)}/reassignment`, {
      replicas: action.replicas,
    });
    io.out(
      `${action.topic}-${action.partition}: moving to [${action.replicas.join(',')}] ` +
        `(adding [${stored.adding_replicas.join(',')}], removing [${stored.removing_replicas.join(',')}])`,
    );
    if (!config.wait) return 0;
    const done = await waitUntil(io, config.timeoutMs, async () =>
      (await movesInProgress(api))
        .filter((m) => m.topic === action.topic && m.partition === action.partition)
        .map(describe),
    );
    if (done) io.out(`${action.topic}-${action.partition}: done`);
    return done ? 0 : 1;
  }
  return drain(api, action.nodeId, config, io);
}

async function drain(api: Api, nodeId: number, config: ReassignConfig, io: ReassignIo): Promise<number> {
  const brokers = await api.call('GET', '/brokers');
  const live: PlanBroker[] = (brokers.data as Json[]).map((b) => ({ brokerId: b.broker_id, rack: b.rack ?? null }));
  const partitions = await partitionsOf(api, nodeId);
  // Every replica a live broker holds counts towards its load, not only those of the drained partitions.
  const load = new Map<number, number>();
  for (const b of live) {
    if (b.brokerId === nodeId) continue;
    const hosted = await api.call('GET', `/brokers/${b.brokerId}/partition-replicas`);
    load.set(b.brokerId, (hosted.data as Json[]).length);
  }
  const { moves, stuck } = planDrain(nodeId, partitions, live, load);
  io.out(`draining node ${nodeId}: ${moves.length} partition(s) to move`);
  let failed = stuck.length;
  for (const p of stuck)
    io.err(
      `${p.topic}-${p.partition}: no live broker outside [${p.replicas.join(',')}] can take node ${nodeId}'s replica`,
    );
  for (const m of moves) {
    try {
      await api.call('PATCH', `${api.partitionPath(m.topic, m.partition)}/reassignment`, { replicas: m.to });
      io.out(`${m.topic}-${m.partition}: [${m.from.join(',')}] -> [${m.to.join(',')}]`);
    } catch (err) {
      failed++;
      io.err(`${m.topic}-${m.partition}: ${(err as Error).message}`);
    }
  }
  // A partition left on the node keeps it from ever being drained: waiting would only time out.
  if (config.wait && failed === 0) {
    const done = await waitUntil(io, config.timeoutMs, async () => {
      const hosted = await api.call('GET', `/brokers/${nodeId}/partition-replicas`).catch((err: unknown) => {
        // A dead node that nothing lists any more is unknown: nothing is left on it.
        if (err instanceof ApiError && err.status === 404) return { data: [] };
        throw err;
      });
      return (hosted.data as Json[]).map((r) => `${r.topic_name}-${r.partition_id}`);
    });
    if (!done) return 1;
    io.out(`node ${nodeId} holds no replica`);
  }
  return failed > 0 ? 1 : 0;
}
