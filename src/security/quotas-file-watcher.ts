import fs from 'node:fs';
import type { ClientQuotaManager } from './client-quota-manager.js';
import { ClientQuotas } from './client-quotas.js';

/** How often the quotas file's metadata is looked at (one stat call). */
const POLL_INTERVAL_MS = 1000;

/**
 * Dynamic quotas without a restart: when the quotas file changes (its size or modification time),
 * it is read again and applied to the next request, as Kafka applies `kafka-configs --alter` on
 * quotas at once. A file that no longer parses changes nothing: the quotas in force stay, and
 * `onError` says why. Answers the function that stops watching.
 */
export function watchQuotasFile(
  file: string,
  quotas: ClientQuotaManager,
  on: { reloaded: () => void; error: (err: Error) => void },
): () => void {
  const listener = (curr: fs.Stats, prev: fs.Stats) => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size) return;
    try {
      quotas.update(ClientQuotas.readFile(file));
      on.reloaded();
    } catch (err) {
      on.error(err as Error);
    }
  };
  // Not persistent: watching never keeps the process alive after shutdown.
  fs.watchFile(file, { interval: POLL_INTERVAL_MS, persistent: false }, listener);
  return () => fs.unwatchFile(file, listener);
}
