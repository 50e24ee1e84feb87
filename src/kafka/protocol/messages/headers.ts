// Kafka's RequestHeader.json and ResponseHeader.json. The header version follows from the API and
// its version (api-header-versions.ts), not from a field.
import { f, message } from '../schema.js';

export const RequestHeader = message('RequestHeader', undefined, '0-2', '2+', [
  f('RequestApiKey', 'int16', '0+'),
  f('RequestApiVersion', 'int16', '0+'),
  f('CorrelationId', 'int32', '0+'),
  // Kept a classic (int16-length) string even in header v2, so any broker can read the client id.
  f('ClientId', 'string', '1+', { nullable: '1+', flexible: false }),
]);

export const ResponseHeader = message('ResponseHeader', undefined, '0-1', '1+', [f('CorrelationId', 'int32', '0+')]);
