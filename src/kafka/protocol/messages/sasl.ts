import { array, f, message } from '../schema.js';

// KIP-43: the client names a mechanism; the broker answers the ones it enables.
export const SaslHandshakeRequest = message('SaslHandshakeRequest', 17, '0-1', undefined, [
  f('Mechanism', 'string', '0+'),
]);

export const SaslHandshakeResponse = message('SaslHandshakeResponse', 17, '0-1', undefined, [
  f('ErrorCode', 'int16', '0+'),
  f('Mechanisms', array('string'), '0+'),
]);

// KIP-152: SASL tokens inside Kafka requests, so a failure gets an error code and message.
export const SaslAuthenticateRequest = message('SaslAuthenticateRequest', 36, '0-2', '2+', [
  f('AuthBytes', 'bytes', '0+'),
]);

export const SaslAuthenticateResponse = message('SaslAuthenticateResponse', 36, '0-2', '2+', [
  f('ErrorCode', 'int16', '0+'),
  f('ErrorMessage', 'string', '0+', { nullable: '0+' }),
  f('AuthBytes', 'bytes', '0+'),
  f('SessionLifetimeMs', 'int64', '1+', { default: 0 }),
]);
