/**
 * Mutual TLS on the HTTP edge: the principal of the client certificate a connection verified at its
 * handshake (see http-listener.ts, which decides it once per connection) becomes the principal of
 * every request on that connection. A request without a verified certificate is left as it is, for
 * other authentication (Basic, bearer tokens) to name, or ANONYMOUS.
 */
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import type { Principal } from '../security/principal.js';
import { setPrincipal } from './exchange-locals.js';

const principals = new WeakMap<Socket, Principal>();

/** Called by the listener once the handshake of `socket` verified a client certificate naming `principal`. */
export function rememberCertificatePrincipal(socket: Socket, principal: Principal): void {
  principals.set(socket, principal);
}

export function clientCertificate(): RequestHandler {
  return (req, res, next) => {
    const principal = principals.get(req.socket);
    if (principal !== undefined) setPrincipal(res, principal);
    next();
  };
}
