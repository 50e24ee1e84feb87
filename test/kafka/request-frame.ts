/** A Kafka request as it goes on the wire: size, request header, body (what the listener tests send). */
import assert from 'node:assert/strict';
import { APIS, requestHeaderVersion } from '../../src/kafka/protocol/apis.js';
import { encode, type Message } from '../../src/kafka/protocol/codec.js';
import { RequestHeader } from '../../src/kafka/protocol/messages/headers.js';

export function requestFrame(apiKey: number, version: number, correlationId: number, body: Message): Buffer {
  const api = APIS.get(apiKey);
  assert.ok(api, `no description of api key ${apiKey}`);
  const header = encode(
    { requestApiKey: apiKey, requestApiVersion: version, correlationId, clientId: 'test' },
    RequestHeader,
    requestHeaderVersion(api, version),
  );
  const payload = Buffer.concat([header, encode(body, api.request, version)]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}
