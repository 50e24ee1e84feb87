/**
 * Admits or refuses each accepted TCP connection of a listener, before any byte of it is read (and
 * before a TLS handshake): at most `maxConnections` open at once, and at most
 * `maxConnectionsPerAddress` from one client address (Kafka's `max.connections` and
 * `max.connections.per.ip`). So one address opening a thousand slow connections takes its share,
 * not the whole server, while other clients keep being served. A refused connection is closed at
 * once; refusals are logged at most once per `REFUSAL_LOG_INTERVAL_MS` per listener, with a count,
 * so a flood cannot flood the log too.
 */
import type net from 'node:net';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export interface RefusalReport {
  /** Refusals since the last report (this one included). */
  refused: number;
  /** The address and limit of the latest refusal. */
  remoteAddress: string;
  limit: 'maxConnections' | 'maxConnectionsPerAddress';
}

const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class ConnectionGate {
  #open = 0;
  readonly #byAddress = new Map<string, number>();
  #refusedSinceReport = 0;
  #lastReportMs = 0;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly onRefusals: (report: RefusalReport) => void,
  ) {}

  get openConnections(): number {
    return this.#open;
  }

  /** Counts `socket` until it closes, or destroys it and returns false when a limit is reached. */
  admit(socket: net.Socket): boolean {
    const address = clientAddress(socket.remoteAddress);
    const fromAddress = this.#byAddress.get(address) ?? 0;
    const limit =
      this.#open >= this.limits.maxConnections
        ? 'maxConnections'
        : fromAddress >= this.limits.maxConnectionsPerAddress
          ? 'maxConnectionsPerAddress'
          : null;
    if (limit !== null) {
      socket.destroy();
      this.#refused(address, limit);
      return false;
    }
    this.#open++;
    this.#byAddress.set(address, fromAddress + 1);
    socket.once('close', () => {
      this.#open--;
      const left = (this.#byAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.#byAddress.delete(address);
      else this.#byAddress.set(address, left);
    });
    return true;
  }

  #refused(remoteAddress: string, limit: RefusalReport['limit']): void {
    this.#refusedSinceReport++;
    const now = Date.now();
    if (now - this.#lastReportMs < REFUSAL_LOG_INTERVAL_MS) return;
    this.#lastReportMs = now;
    const refused = this.#refusedSinceReport;
    this.#refusedSinceReport = 0;
    this.onRefusals({ refused, remoteAddress, limit });
  }
}

/** `::ffff:10.0.0.1` and `10.0.0.1` are one client (a dual-stack listener reports the first). */
function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return '';
  return remote.startsWith('::ffff:') ? remote.slice('::ffff:'.length) : remote;
}
