import type { EpochEndOffset } from '../storage/leader-epoch-file-cache.js';

export interface TruncationStep {
  /** Truncate the local log to this offset. */
  offset: number;
  /** False: ask the leader again with the (now older) latest local epoch before fetching. */
  completed: boolean;
}

/**
 * Where a follower truncates before it fetches from a new leader (KIP-101, and KIP-279 for a
 * leader that answers an epoch the follower never had; Kafka's getOffsetTruncationState). The
 * follower asked for the end offset of its latest epoch; the leader answered the largest epoch it
 * knows at or below that one and where that epoch ends on the leader. What the follower holds past
 * that point diverged (a previous leader's tail that was never committed) and goes:
 *
 * - the leader knows nothing (UNDEFINED): fall back to the follower's high watermark, the only
 *   point both sides surely agree on;
 * - the follower has the epoch the leader answered: truncate to the smaller of the two ends, done;
 * - the follower lacks that epoch: truncate to the end of its largest older epoch and ask again;
 * - the follower has no epoch history at all: truncate to the leader's end offset.
 */
export function truncationStep(
  followerLogEndOffset: number,
  followerHighWatermark: number,
  leaderAnswer: EpochEndOffset,
  followerEndOffsetFor: (epoch: number) => EpochEndOffset,
): TruncationStep {
  if (leaderAnswer.endOffset < 0) {
    return { offset: Math.min(followerHighWatermark, followerLogEndOffset), completed: true };
  }
  const own = followerEndOffsetFor(leaderAnswer.epoch);
  if (leaderAnswer.epoch < 0 || own.epoch < 0) {
    return { offset: Math.min(leaderAnswer.endOffset, followerLogEndOffset), completed: true };
  }
  if (own.epoch !== leaderAnswer.epoch) {
    return { offset: Math.min(own.endOffset, followerLogEndOffset), completed: false };
  }
  return { offset: Math.min(own.endOffset, leaderAnswer.endOffset, followerLogEndOffset), completed: true };
}
