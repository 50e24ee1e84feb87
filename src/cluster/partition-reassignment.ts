/**
 * A partition's replicas moving between nodes, as Kafka's controller moves them (KIP-455; KRaft's
 * PartitionReassignmentReplicas and PartitionReassignmentRevert): pure state changes, each stored by
 * one compare-and-swap by its caller.
 *
 * - Starting a move from replicas O to a target T stores replicas = T followed by O − T (the union,
 *   target first, so the preferred leader is already T[0]), addingReplicas = T − O, removingReplicas
 *   = O − T. The added replicas open and follow the leader; it puts them into the ISR once caught up.
 * - The move completes once every adding replica is in the ISR (and the ISR keeps a target replica):
 *   replicas = T, ISR = ISR ∩ T, the reassignment fields cleared; a leader that is being removed hands
 *   over to an in-sync target replica in a new leader epoch. The removed replicas then stop.
 * - Cancelling is moving to the original replicas (the union without the adding ones, in the union's
 *   order): the added replicas are dropped at once, as Kafka reverts.
 * - A new target while a move is in progress replaces it, counted from the original replicas.
 */
import { InvalidReplicaAssignmentError } from '../errors.js';
import type { PartitionState } from './metadata-store.js';
import { electLeader, type LeaderElectionOptions } from './partition-leader-election.js';

type StateFields = Omit<PartitionState, 'version'>;

/** Whether replicas are being added or removed. */
export function isReassigning(state: PartitionState): boolean {
  return (state.addingReplicas?.length ?? 0) > 0 || (state.removingReplicas?.length ?? 0) > 0;
}

/** The replicas the partition had before the move in progress (all of them when nothing moves). */
export function originalReplicas(state: PartitionState): number[] {
  const adding = state.addingReplicas ?? [];
  return state.replicas.filter((r) => !adding.includes(r));
}

/** The replicas the partition will have once the move in progress completes. */
export function targetReplicas(state: PartitionState): number[] {
  const removing = state.removingReplicas ?? [];
  return state.replicas.filter((r) => !removing.includes(r));
}

/**
 * The state that starts moving `state`'s partition to `target` (ids checked by the caller: live
 * brokers, each once, at least one). Throws InvalidReplicaAssignmentError when no in-sync replica
 * would remain. The leader stays unless the new list drops it (it was an added replica of the move
 * this one replaces); then one is elected as the controller would.
 */
export function reassign(
  name: { topic: string; partition: number },
  state: PartitionState,
  target: readonly number[],
  live: ReadonlySet<number>,
  opts: LeaderElectionOptions,
): StateFields {
  const origin = originalReplicas(state);
  const adding = target.filter((r) => !origin.includes(r));
  const removing = origin.filter((r) => !target.includes(r));
  const replicas = [...target, ...removing];
  const isr = state.isr.filter((r) => replicas.includes(r));
  if (isr.length === 0) {
    throw new InvalidReplicaAssignmentError(
      name.topic,
      name.partition,
      `it would leave no in-sync replica (in sync now: ${state.isr.join(', ')}).`,
    );
  }
  const next: StateFields = {
    replicas,
    leader: state.leader,
    leaderEpoch: state.leaderEpoch,
    isr,
    ...(adding.length > 0 ? { addingReplicas: adding } : {}),
    ...(removing.length > 0 ? { removingReplicas: removing } : {}),
  };
  if (isr.includes(state.leader)) return next;
  // The leader must stay a replica: hand over now, under the same rule as the controller's.
  return electLeader({ ...next, version: state.version }, live, opts) ?? next;
}

/**
 * The state once the move in progress completes, or null while it cannot: an adding replica is not
 * in the ISR yet, or no in-sync replica would remain. A leader the move removes hands over.
 */
export function completeReassignment(
  state: PartitionState,
  live: ReadonlySet<number>,
  opts: LeaderElectionOptions,
): StateFields | null {
  if (!isReassigning(state)) return null;
  if (!(state.addingReplicas ?? []).every((r) => state.isr.includes(r))) return null;
  const target = targetReplicas(state);
  const isr = state.isr.filter((r) => target.includes(r));
  if (isr.length === 0) return null;
  const completed: StateFields = { replicas: target, leader: state.leader, leaderEpoch: state.leaderEpoch, isr };
  return electLeader({ ...completed, version: state.version }, live, opts) ?? completed;
}
