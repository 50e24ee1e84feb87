/**
 * Waiters parked until the next `wakeAll()` (new data, a group transition), a timeout, or an
 * abort, whichever comes first. A waiter that leaves early takes its timer with it, so a reader
 * woken by one partition leaves nothing behind on the others.
 */
export class WaitQueue {
  private waiters = new Set<() => void>();

  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(0, timeoutMs));
      this.waiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  wakeAll(): void {
    const waiting = this.waiters;
    this.waiters = new Set();
    for (const wake of waiting) wake();
  }

  #wakeScheduled = false;

  /**
   * Wakes every waiter once the event loop has run the I/O it already has (setImmediate): appends
   * arriving in the same turn (several producers' requests read at once) then reach a waiting
   * follower fetch in one answer instead of one answer each.
   */
  wakeAllSoon(): void {
    if (this.#wakeScheduled || this.waiters.size === 0) return;
    this.#wakeScheduled = true;
    setImmediate(() => {
      this.#wakeScheduled = false;
      this.wakeAll();
    });
  }
}
