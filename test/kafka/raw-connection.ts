/** One Kafka connection speaking the protocol through Samsa's own codec, requests in order (what raw-protocol tests drive). */
import assert from 'node:assert/strict';
import net from 'node:net';
import { APIS, type Api, responseHeaderVersion } from '../../src/kafka/protocol/apis.js';
import { decodeAt, type Message } from '../../src/kafka/protocol/codec.js';
import { ResponseHeader } from '../../src/kafka/protocol/messages/headers.js';
import { requestFrame } from './request-frame.js';

export class RawConnection {
  readonly #socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #correlationId = 0;
  readonly #waiting: Array<(frame: Buffer) => void> = [];

  constructor(port: number) {
    this.#socket = net.connect(port, '127.0.0.1');
    this.#socket.on('error', () => {});
    this.#socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4 && this.#buffer.length >= 4 + this.#buffer.readInt32BE(0)) {
        const size = this.#buffer.readInt32BE(0);
        const frame = this.#buffer.subarray(4, 4 + size);
        this.#buffer = this.#buffer.subarray(4 + size);
        this.#waiting.shift()?.(frame);
      }
    });
  }

  async call(apiKey: number, version: number, body: Message): Promise<Message> {
    const api = APIS.get(apiKey) as Api;
    const correlationId = ++this.#correlationId;
    const frame = await new Promise<Buffer>((resolve, reject) => {
      this.#waiting.push(resolve);
      this.#socket.once('close', () => reject(new Error('connection closed')));
      this.#socket.write(requestFrame(apiKey, version, correlationId, body));
    });
    const { value: responseHeader, end } = decodeAt(frame, 0, ResponseHeader, responseHeaderVersion(api, version));
    assert.equal(responseHeader.correlationId, correlationId);
    return decodeAt(frame, end, api.response, version).value;
  }

  close(): void {
    this.#socket.destroy();
  }
}
