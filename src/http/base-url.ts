/**
 * The absolute URL of the API root as the client sees it, for v3 `metadata.self` and `related`
 * links (Confluent builds them the same way: request scheme and authority, or an advertised
 * listener). Behind a proxy, `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Prefix`
 * say what the client addressed. Values that are not a plain scheme, host or path are ignored
 * rather than echoed into links.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

const SCHEME = /^https?$/i;
// A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;
const PREFIX = /^(?:\/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$/;

/** `advertisedUrl` (e.g. `https://kafka.example.com/rest`) wins over everything the request says. */
export function baseUrlOf(req: IncomingMessage, advertisedUrl?: string): string {
  if (advertisedUrl) return advertisedUrl.replace(/\/+$/, '');
  const forwardedProto = firstValue(req.headers['x-forwarded-proto']);
  const scheme =
    forwardedProto && SCHEME.test(forwardedProto)
      ? forwardedProto.toLowerCase()
      : (req.socket as TLSSocket).encrypted
        ? 'https'
        : 'http';
  const forwardedHost = firstValue(req.headers['x-forwarded-host']);
  const host = req.headers.host;
  const authority =
    forwardedHost && AUTHORITY.test(forwardedHost) ? forwardedHost : host && AUTHORITY.test(host) ? host : 'localhost';
  const forwardedPrefix = firstValue(req.headers['x-forwarded-prefix'])?.replace(/\/+$/, '');
  const prefix = forwardedPrefix && PREFIX.test(forwardedPrefix) ? forwardedPrefix : '';
  return `${scheme}://${authority}${prefix}`;
}

/** `X-Forwarded-*` may list one value per proxy hop; the first is what the client sent. */
function firstValue(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',', 1)[0]?.trim() || undefined;
}
