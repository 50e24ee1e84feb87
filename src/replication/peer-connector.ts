/**
 * How a node opens connections to its peers (replication, forwarded produces, remote reads, group
 * calls passed to a coordinator): undici's own connector, built for each new connection with the TLS
 * material in use at that moment, so a certificate reloaded on SIGHUP is what the next connection
 * shows, and a peer CA what it verifies. Plain `http://` peers get a plain TCP connection from the
 * same connector (undici ignores the TLS options for them).
 */
import { buildConnector } from 'undici';
import type { PeerTlsOptions } from '../security/tls-material.js';

/** Where the TLS material for peer connections comes from; read at each connect. */
export type PeerTlsSource = () => PeerTlsOptions;

export function peerConnector(peerTls: PeerTlsSource | undefined, timeoutMs?: number): buildConnector.connector {
  const base = timeoutMs === undefined ? {} : { timeout: timeoutMs };
  if (peerTls === undefined) return buildConnector(base);
  return (options, callback) => buildConnector({ ...base, ...peerTls() })(options, callback);
}
