/**
 * The HTTP edge's server: plain HTTP, or HTTPS with the node's TLS material (reloaded on SIGHUP
 * without dropping open connections: new ones get the new context), and the limits that keep slow
 * and idle clients from holding it:
 *
 * - a connection gate (at most so many connections, and so many per client address), before any
 *   byte is read or a handshake is made;
 * - `handshakeTimeoutMs` for a TLS handshake, `headersTimeoutMs` for the request line and headers
 *   (slowloris), `requestTimeoutMs` for the whole request with its body (a dribbled upload; a v3
 *   streamed produce is one request too, so a long-lived stream needs it raised, or 0 for none), and
 *   `keepAliveTimeoutMs` for an idle keep-alive connection, all enforced by Node's HTTP server;
 * - `idleTimeoutMs`: a connection with no traffic either way for that long is closed, unless an
 *   answer on it is waiting for data with nothing queued (a long-polling records read, a quiet SSE
 *   stream between keep-alive comments). An answer stuck behind a client that stopped reading is
 *   cut.
 *
 * Answers themselves are never bounded in time, so an SSE stream lives as long as its client reads.
 */

import type { RequestListener } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { Logger } from '../logger.js';
import { type PrincipalMappingRules, tlsConnectionPrincipal } from '../security/certificate-principal.js';
import { ConnectionGate, type ConnectionLimits } from '../security/connection-gate.js';
import type { TlsMaterial } from '../security/tls-material.js';
import { rememberCertificatePrincipal } from './client-certificate.js';

export interface HttpTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  handshakeTimeoutMs: number;
}

export interface HttpListenerOptions {
  timeouts: HttpTimeouts;
  limits: ConnectionLimits;
  logger: Logger;
  /** HTTPS with this material; absent: plain HTTP. */
  tls?: { material: TlsMaterial; principalRules: PrincipalMappingRules };
}

/** How often Node checks connections against the headers and request timeouts, at most. */
const MAX_CHECK_INTERVAL_MS = 1_000;

export function createHttpServer(app: RequestListener, opts: HttpListenerOptions): http.Server {
  const { timeouts, logger } = opts;
  // Node wants headersTimeout <= requestTimeout (0: no request timeout); the headers are part of the request anyway.
  const headersTimeout =
    timeouts.requestTimeoutMs > 0
      ? Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs)
      : timeouts.headersTimeoutMs;
  const serverOptions: http.ServerOptions = {
    headersTimeout,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    // Node's default checks every 30 s, so a 10 s headers timeout could take 40 s to bite.
    connectionsCheckingInterval: Math.max(50, Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(headersTimeout / 4))),
  };
  let server: http.Server;
  if (opts.tls) {
    const { material, principalRules } = opts.tls;
    const secure = https.createServer(
      { ...serverOptions, ...material.serverOptions(), handshakeTimeout: timeouts.handshakeTimeoutMs },
      app,
    );
    material.onReload((options) => secure.setSecureContext(options));
    // Decided once per connection; prepended so a refused client never reaches the HTTP parser.
    secure.prependListener('secureConnection', (socket: tls.TLSSocket) => {
      const who = tlsConnectionPrincipal(socket, principalRules);
      if ('refused' in who) {
        logger.warn(
          { event: 'tls.client_refused', listener: 'http', remote: socket.remoteAddress, reason: who.refused },
          'refused a TLS client',
        );
        socket.destroy();
        return;
      }
      if (who.principal.name !== 'ANONYMOUS') rememberCertificatePrincipal(socket, who.principal);
      // The TLS socket carries the traffic from here on (the TCP socket under it sees none in JS).
      watchIdle(socket, timeouts.idleTimeoutMs);
    });
    // A failed handshake (no certificate when one is required, a foreign CA, a plaintext client) is the client's business.
    secure.on('tlsClientError', (err, socket) => {
      logger.debug({ event: 'tls.handshake_failed', listener: 'http', remote: socket.remoteAddress, err: err.message });
      socket.destroy();
    });
    server = secure;
  } else {
    server = http.createServer(serverOptions, app);
  }
  const gate = new ConnectionGate(opts.limits, (report) =>
    logger.warn(
      { event: 'connections_refused', listener: 'http', ...report, limits: opts.limits },
      `refused ${report.refused} HTTP connection(s): ${report.limit} reached`,
    ),
  );
  // First listener: a refused socket is destroyed before TLS or HTTP see a byte of it.
  server.prependListener('connection', (socket: net.Socket) => {
    if (gate.admit(socket) && !opts.tls) watchIdle(socket, timeouts.idleTimeoutMs);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const { socket } = req;
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    res.once('close', () => answering.set(socket, (answering.get(socket) ?? 1) - 1));
  });
  return server;
}

/** Answers in progress on each connection (the TLS socket for HTTPS). */
const answering = new WeakMap<net.Socket, number>();

function watchIdle(socket: net.Socket, idleTimeoutMs: number): void {
  socket.setTimeout(idleTimeoutMs);
  socket.on('timeout', () => {
    const waitingForData = (answering.get(socket) ?? 0) > 0 && socket.writableLength === 0;
    if (waitingForData) socket.setTimeout(idleTimeoutMs);
    else socket.destroy();
  });
}
