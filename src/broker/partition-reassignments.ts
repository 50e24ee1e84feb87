/**
 * Kafka's AlterPartitionReassignments (KIP-455) on this node: a partition's new target replica list
 * (or a cancel) is checked against the live brokers and stored by compare-and-swap on the
 * partition's state in the metadata store. Nothing else happens here: the nodes the store now lists
 * open the partition and follow its leader (topic-admin.ts), the leader takes them into the ISR once
 * caught up (replica-manager.ts), and the controller completes the move (controller.ts).
 */
import { MetadataConflictError, type MetadataStore, type PartitionState } from '../cluster/metadata-store.js';
import { isReassigning, originalReplicas, reassign } from '../cluster/partition-reassignment.js';
import {
  InvalidReplicaAssignmentError,
  NoReassignmentError,
  ServiceUnavailableError,
  UnknownPartitionError,
  UnknownTopicError,
} from '../errors.js';

/** Most replicas one partition may list (the contract's bound too). */
export const MAX_REPLICAS_PER_PARTITION = 64;
/** Compare-and-swaps lost to leaders' ISR changes or the controller before the change gives up. */
const MAX_ATTEMPTS = 8;

export interface PartitionReassignmentsContext {
  nodeId: number;
  store: MetadataStore;
  /** Cluster mode: the live brokers' ids now; null on a single node. */
  liveNodeIds: (() => ReadonlySet<number>) | null;
  uncleanLeaderElection: boolean;
}

/**
 * Stores a reassignment of `topic`-`partition` to `target`, or cancels the one in progress when
 * `target` is null, and answers the state stored (unchanged when nothing was to change).
 */
export async function alterPartitionReassignment(
  ctx: PartitionReassignmentsContext,
  topic: string,
  partition: number,
  target: readonly number[] | null,
): Promise<PartitionState> {
  const name = { topic, partition };
  if (target !== null) checkList(name, target);
  if (ctx.liveNodeIds === null) return singleNode(ctx, name, target);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // The store's state, not this node's copy: a swap from a stale version would only lose.
    const state = await storedState(ctx.store, name);
    const live = ctx.liveNodeIds();
    for (const r of target ?? []) {
      if (!live.has(r)) {
        const ids = [...live].sort((a, b) => a - b).join(', ');
        throw new InvalidReplicaAssignmentError(
          topic,
          partition,
          `broker ${r} is not a live broker of this cluster (live: ${ids}).`,
        );
      }
    }
    if (target === null && !isReassigning(state)) throw new NoReassignmentError(topic, partition);
    const next = reassign(name, state, target ?? originalReplicas(state), live, {
      uncleanLeaderElection: ctx.uncleanLeaderElection,
    });
    if (sameState(state, next)) return state;
    try {
      return await ctx.store.updatePartitionState(topic, partition, next, state.version);
    } catch (err) {
      if (!(err instanceof MetadataConflictError)) throw err;
    }
  }
  throw new ServiceUnavailableError(
    `The state of partition ${topic}-${partition} kept changing during ${MAX_ATTEMPTS} attempts to store the reassignment; retry.`,
  );
}

/** What the contract also checks, for callers that do not come through it: ids are broker ids, each once, at least one. */
function checkList(name: { topic: string; partition: number }, target: readonly number[]): void {
  const fail = (reason: string) => new InvalidReplicaAssignmentError(name.topic, name.partition, reason);
  if (target.length === 0) throw fail('the replica list is empty.');
  if (target.length > MAX_REPLICAS_PER_PARTITION)
    throw fail(`at most ${MAX_REPLICAS_PER_PARTITION} replicas, got ${target.length}.`);
  if (new Set(target).size !== target.length) throw fail(`broker ids repeat in [${target.join(', ')}].`);
  const bad = target.find((r) => !Number.isInteger(r) || r < 0);
  if (bad !== undefined) throw fail(`${bad} is not a broker id.`);
}

/** One node holds every replica: the only list is its own id, and nothing ever moves. */
async function singleNode(
  ctx: PartitionReassignmentsContext,
  name: { topic: string; partition: number },
  target: readonly number[] | null,
): Promise<PartitionState> {
  const state = await storedState(ctx.store, name);
  if (target === null) throw new NoReassignmentError(name.topic, name.partition);
  if (target.length !== 1 || target[0] !== ctx.nodeId) {
    throw new InvalidReplicaAssignmentError(
      name.topic,
      name.partition,
      `this node runs alone (no cluster), so its only broker is ${ctx.nodeId}; replicas can move only in cluster mode.`,
    );
  }
  return state;
}

async function storedState(store: MetadataStore, name: { topic: string; partition: number }): Promise<PartitionState> {
  const meta = await store.getTopic(name.topic);
  if (!meta) throw new UnknownTopicError(name.topic);
  const state = meta.partitionStates[name.partition];
  if (!state) throw new UnknownPartitionError(name.topic, name.partition);
  return state;
}

function sameList(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => r === y[i]);
}

function sameState(state: PartitionState, next: Omit<PartitionState, 'version'>): boolean {
  return (
    state.leader === next.leader &&
    state.leaderEpoch === next.leaderEpoch &&
    sameList(state.replicas, next.replicas) &&
    sameList(state.isr, next.isr) &&
    sameList(state.addingReplicas, next.addingReplicas) &&
    sameList(state.removingReplicas, next.removingReplicas)
  );
}
