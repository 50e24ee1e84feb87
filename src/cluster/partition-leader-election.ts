import type { PartitionState } from './metadata-store.js';

export interface LeaderElectionOptions {
  /** Kafka's `unclean.leader.election.enable`: elect a live replica outside the ISR rather than stay offline (can lose acknowledged records). */
  uncleanLeaderElection: boolean;
}

/**
 * What the controller makes of one partition given the live nodes (Kafka's
 * PartitionStateMachine/PartitionLeaderElectionAlgorithms), or null when nothing changes:
 *
 * - dead replicas leave the ISR, except the last one: an ISR never empties, so the last in-sync
 *   replica can lead again when it comes back and nothing acknowledged is lost;
 * - a dead or missing leader is replaced by the first replica, in preference order, that is alive
 *   and in the ISR; with none, the partition goes offline (leader -1), unless unclean election is
 *   on, which takes any live replica and makes it the ISR;
 * - a live preferred replica (the first of the list) that is in the ISR takes the leadership back
 *   (Kafka's preferred leader election, run at once instead of on an imbalance timer);
 * - every leader change bumps the leader epoch, so followers and clients can tell stale leaders.
 */
export function electLeader(
  state: PartitionState,
  live: ReadonlySet<number>,
  opts: LeaderElectionOptions,
): Omit<PartitionState, 'version'> | null {
  let isr = state.isr.filter((r) => live.has(r));
  if (isr.length === 0) isr = [...state.isr];
  let leader = state.leader;
  const inIsrAlive = (r: number) => live.has(r) && isr.includes(r);
  const preferred = state.replicas[0];
  if (preferred !== undefined && inIsrAlive(preferred)) {
    leader = preferred;
  } else if (leader < 0 || !inIsrAlive(leader)) {
    leader = state.replicas.find(inIsrAlive) ?? -1;
    if (leader < 0 && opts.uncleanLeaderElection) {
      leader = state.replicas.find((r) => live.has(r)) ?? -1;
      if (leader >= 0) isr = [leader];
    }
  }
  const sameIsr = isr.length === state.isr.length && isr.every((r, i) => r === state.isr[i]);
  if (leader === state.leader && sameIsr) return null;
  return {
    ...reassignmentOf(state),
    replicas: [...state.replicas],
    leader,
    leaderEpoch: leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1,
    isr,
  };
}

/** A state's reassignment fields, copied; none when nothing moves (an election leaves a move as it is). */
export function reassignmentOf(state: PartitionState): Pick<PartitionState, 'addingReplicas' | 'removingReplicas'> {
  return {
    ...(state.addingReplicas?.length ? { addingReplicas: [...state.addingReplicas] } : {}),
    ...(state.removingReplicas?.length ? { removingReplicas: [...state.removingReplicas] } : {}),
  };
}
