/**
 * SASL on the Kafka listener: SaslHandshake (17, KIP-43) picks a mechanism, SaslAuthenticate (36,
 * KIP-152) carries its tokens, on the users file the HTTP edge uses too (PLAIN, SCRAM-SHA-256 and
 * SCRAM-SHA-512, KIP-84). After a v0 handshake the tokens come as raw frames instead, as clients
 * older than Kafka 1.0 send them; the listener routes those here as SaslAuthenticate v0.
 *
 * A failed exchange answers SASL_AUTHENTICATION_FAILED with a message and closes the connection, as
 * Kafka does. Nothing of a token is logged.
 */
import { AuthenticationFailedError } from '../../errors.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { API_KEYS } from '../protocol/apis.js';
import type { KafkaApi, KafkaApiContext } from './kafka-api.js';

export function saslHandshakeApi(ctx: KafkaApiContext): KafkaApi {
  const { authenticator } = ctx;
  return {
    apiKey: API_KEYS.SaslHandshake,
    versions: { min: 0, max: 1 },
    handle: async (header, request, context) => {
      const mechanisms = [...(authenticator?.saslMechanisms ?? [])];
      const { sasl } = context;
      if (sasl.authenticated || sasl.server !== null)
        return { errorCode: KAFKA_ERRORS.ILLEGAL_SASL_STATE.code, mechanisms };
      const server = authenticator?.saslServer(request.mechanism as string);
      if (server === undefined) return { errorCode: KAFKA_ERRORS.UNSUPPORTED_SASL_MECHANISM.code, mechanisms };
      sasl.begin(server, header.requestApiVersion === 0);
      return { errorCode: 0, mechanisms };
    },
  };
}

export function saslAuthenticateApi(ctx: KafkaApiContext): KafkaApi {
  const { logger } = ctx;
  return {
    apiKey: API_KEYS.SaslAuthenticate,
    versions: { min: 0, max: 2 },
    handle: async (_header, request, context) => {
      const { sasl } = context;
      const refused = (errorCode: number, errorMessage: string) => {
        sasl.fail();
        return { errorCode, errorMessage, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
      };
      const server = sasl.server;
      if (server === null || sasl.authenticated)
        return refused(KAFKA_ERRORS.ILLEGAL_SASL_STATE.code, 'SaslAuthenticate without a SaslHandshake before it.');
      try {
        const authBytes = await server.evaluate(request.authBytes as Buffer);
        if (server.principal !== undefined) sasl.succeed(server.principal);
        return { errorCode: 0, errorMessage: null, authBytes, sessionLifetimeMs: 0n };
      } catch (err) {
        if (!(err instanceof AuthenticationFailedError)) throw err;
        logger.info(
          {
            event: 'kafka.sasl.failed',
            mechanism: server.mechanism,
            remote: context.remoteAddress,
            reason: err.message,
          },
          'Kafka SASL authentication failed',
        );
        return refused(KAFKA_ERRORS.SASL_AUTHENTICATION_FAILED.code, err.message);
      }
    },
  };
}
