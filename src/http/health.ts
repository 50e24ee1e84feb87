/**
 * Liveness and readiness, each saying why it fails: a 503 body is the usual `{error_code, message}`
 * plus `reasons`, machine-readable codes an operator (or a script) can act on.
 *
 * - Liveness (`/healthz`) fails only while the process shuts down. It stays OK while logs recover
 *   (a restart would only start the recovery again) and when the disk is full (a restart frees no
 *   space); readiness takes the node out of rotation for those.
 * - Readiness (`/readyz`) fails while the broker recovers its logs, once shutdown has begun, and while
 *   the data dir's filesystem has less than `minFreeDiskBytes` available. A cluster-registration check
 *   joins `readinessReasons` when cluster mode lands (`not_registered`).
 */
import type { Broker } from '../broker/broker.js';
import { NotReadyError } from '../errors.js';
import type { HandlerTable } from './openapi.js';

export type NotReadyReason = 'recovering_logs' | 'shutting_down' | 'disk_full';

export interface HealthOptions {
  /** Readiness fails while the data dir's filesystem has fewer bytes than this available. */
  minFreeDiskBytes: number;
  /** How long one free-space reading is reused, so probes cost at most one statfs per interval. */
  diskCheckIntervalMs?: number;
}

const PHASE_REASON = { recovering: 'recovering_logs', stopping: 'shutting_down' } as const;
const REASON_TEXT: Record<Exclude<NotReadyReason, 'disk_full'>, string> = {
  recovering_logs: 'the broker is recovering its logs',
  shutting_down: 'the broker is shutting down',
};

/** The 503 for a node that cannot serve yet (or any more), from the broker's phase alone; cheap, synchronous. */
export function notReadyError(phase: 'recovering' | 'stopping'): NotReadyError {
  const reason = PHASE_REASON[phase];
  return new NotReadyError(`Broker is not ready: ${REASON_TEXT[reason]}.`, [reason]);
}

export function healthHandlers(broker: Broker, opts: HealthOptions): Pick<HandlerTable, 'getHealth' | 'getReadiness'> {
  return {
    getHealth: () => {
      if (broker.phase === 'stopping') throw notReadyError('stopping');
      return { status: 'ok' };
    },
    getReadiness: async () => {
      const reasons: NotReadyReason[] = [];
      const texts: string[] = [];
      const { phase } = broker;
      if (phase !== 'ready') {
        reasons.push(PHASE_REASON[phase]);
        texts.push(REASON_TEXT[PHASE_REASON[phase]]);
      }
      const available = await broker.availableDiskBytes(opts.diskCheckIntervalMs);
      if (available !== undefined && available < opts.minFreeDiskBytes) {
        reasons.push('disk_full');
        texts.push(`the data directory has ${available} bytes free, below the minimum of ${opts.minFreeDiskBytes}`);
      }
      if (reasons.length > 0) throw new NotReadyError(`Broker is not ready: ${texts.join('; ')}.`, reasons);
      return { status: 'ready' };
    },
  };
}
