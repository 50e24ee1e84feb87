/**
 * `POST /stream-tokens`: a short-lived token for the caller's own principal, which a browser page
 * passes as `?access_token=` to open an SSE stream (see security/stream-token.ts for why a token
 * and not a cookie).
 */
import type { Authenticator } from '../security/authenticator.js';
import { principalText } from '../security/principal.js';
import { DEFAULT_STREAM_TOKEN_TTL_MS } from '../security/stream-token.js';
import type { HandlerTable } from './openapi.js';

export function streamTokenHandlers(authenticator: Authenticator): Pick<HandlerTable, 'createStreamToken'> {
  return {
    createStreamToken: ({ body }, http) => {
      const ttlMs = body?.ttl_ms ?? DEFAULT_STREAM_TOKEN_TTL_MS;
      const { token, expiresAtMs } = authenticator.issueStreamToken(http.principal, ttlMs);
      return {
        access_token: token,
        token_type: 'stream' as const,
        principal: principalText(http.principal),
        expires_at: new Date(expiresAtMs).toISOString(),
        expires_in_ms: ttlMs,
      };
    },
  };
}
