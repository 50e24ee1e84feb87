import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import pino from 'pino';
import { type KafkaHandler, KafkaListener, type KafkaListenerOptions } from '../../src/kafka/kafka-listener.js';
import { API_KEYS, APIS, type Api } from '../../src/kafka/protocol/apis.js';
import { decodeAt, encode, type Message } from '../../src/kafka/protocol/codec.js';
import { RequestHeader } from '../../src/kafka/protocol/messages/headers.js';
import { requestFrame } from './request-frame.js';

const logger = pino({ level: 'silent' });

async function start(options: Partial<KafkaListenerOptions> = {}): Promise<{ listener: KafkaListener; port: number }> {
  const listener = new KafkaListener({ handlers: new Map(), logger, ...options });
  const { port } = await listener.listen(0, '127.0.0.1');
  return { listener, port };
}

/** A raw connection that collects whole response frames. */
class RawClient {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  readonly frames: Buffer[] = [];
  closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('error', () => {});
    this.closed = once(this.socket, 'close').then(() => {});
    this.socket.on('data', (chunk) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4 && this.#buffer.length >= 4 + this.#buffer.readInt32BE(0)) {
        const size = this.#buffer.readInt32BE(0);
        this.frames.push(this.#buffer.subarray(4, 4 + size));
        this.#buffer = this.#buffer.subarray(4 + size);
      }
    });
  }

  async frame(count: number): Promise<Buffer[]> {
    while (this.frames.length < count) {
      await Promise.race([once(this.socket, 'data'), this.closed.then(() => assert.fail('closed'))]);
    }
    return this.frames.slice(0, count);
  }
}

function apiVersionsBody(frame: Buffer, version: number): Message {
  // ApiVersions answers always carry response header v0: just the correlation id.
  return decodeAt(frame, 4, (APIS.get(API_KEYS.ApiVersions) as Api).response, version).value;
}

describe('Kafka listener', () => {
  it('answers ApiVersions with exactly the handlers it has', async () => {
    const heartbeat: KafkaHandler = async () => ({ errorCode: 0 });
    const { listener, port } = await start({ handlers: new Map([[API_KEYS.Heartbeat, heartbeat]]) });
    try {
      const client = new RawClient(port);
      client.socket.write(
        requestFrame(API_KEYS.ApiVersions, 3, 7, { clientSoftwareName: 'x', clientSoftwareVersion: '1' }),
      );
      const [frame] = await client.frame(1);
      assert.equal(frame?.readInt32BE(0), 7);
      const body = apiVersionsBody(frame as Buffer, 3);
      assert.equal(body.errorCode, 0);
      assert.deepEqual(body.apiKeys, [
        { apiKey: 12, minVersion: 0, maxVersion: 4 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
      ]);
      client.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('advertises and accepts only the versions it is given for a handler', async () => {
    const heartbeat: KafkaHandler = async () => ({ errorCode: 0 });
    const { listener, port } = await start({
      handlers: new Map([[API_KEYS.Heartbeat, heartbeat]]),
      versions: new Map([[API_KEYS.Heartbeat, { min: 1, max: 2 }]]),
    });
    try {
      const client = new RawClient(port);
      client.socket.write(requestFrame(API_KEYS.ApiVersions, 0, 1, {}));
      const [frame] = await client.frame(1);
      assert.deepEqual(apiVersionsBody(frame as Buffer, 0).apiKeys, [
        { apiKey: 12, minVersion: 1, maxVersion: 2 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
      ]);
      client.socket.write(requestFrame(API_KEYS.Heartbeat, 2, 2, { groupId: 'g', generationId: 1, memberId: 'm' }));
      assert.equal((await client.frame(2))[1]?.readInt32BE(0), 2);
      // Version 3 exists in the schema but is not offered: the connection is closed, as Kafka does.
      const other = new RawClient(port);
      other.socket.write(requestFrame(API_KEYS.Heartbeat, 3, 3, { groupId: 'g', generationId: 1, memberId: 'm' }));
      await other.closed;
      assert.equal(other.frames.length, 0);
      client.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('writes no answer for a request its handler answers with null, and keeps the others in order', async () => {
    const heartbeat: KafkaHandler = async (header) => (header.correlationId === 1 ? null : { errorCode: 0 });
    const { listener, port } = await start({ handlers: new Map([[API_KEYS.Heartbeat, heartbeat]]) });
    try {
      const client = new RawClient(port);
      const body = { groupId: 'g', generationId: 1, memberId: 'm' };
      client.socket.write(Buffer.concat([0, 1, 2].map((id) => requestFrame(API_KEYS.Heartbeat, 1, id, body))));
      const frames = await client.frame(2);
      assert.deepEqual(
        frames.map((f) => f.readInt32BE(0)),
        [0, 2],
      );
      client.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('aborts the request signal when the connection closes', async () => {
    let aborted: Promise<void> = Promise.resolve();
    const heartbeat: KafkaHandler = (_header, _request, context) => {
      aborted = new Promise((resolve) => context.signal.addEventListener('abort', () => resolve()));
      return aborted.then(() => ({ errorCode: 0 }));
    };
    const { listener, port } = await start({ handlers: new Map([[API_KEYS.Heartbeat, heartbeat]]) });
    try {
      const client = new RawClient(port);
      client.socket.write(requestFrame(API_KEYS.Heartbeat, 1, 1, { groupId: 'g', generationId: 1, memberId: 'm' }));
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.socket.destroy();
      await aborted;
    } finally {
      await listener.close();
    }
  });

  it('answers an ApiVersions version it does not know with UNSUPPORTED_VERSION in v0', async () => {
    const { listener, port } = await start();
    try {
      const client = new RawClient(port);
      // Version 9: flexible header, a body we cannot read.
      const header = encode(
        { requestApiKey: 18, requestApiVersion: 9, correlationId: 5, clientId: 'c' },
        RequestHeader,
        2,
      );
      const payload = Buffer.concat([header, Buffer.from([0xde, 0xad])]);
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      client.socket.write(Buffer.concat([size, payload]));
      const [frame] = await client.frame(1);
      const body = apiVersionsBody(frame as Buffer, 0);
      assert.equal(body.errorCode, 35);
      assert.deepEqual(body.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
      client.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('answers in request order when handlers finish out of order', async () => {
    const delays = [60, 0, 30, 5];
    const heartbeat: KafkaHandler = async (header) => {
      await new Promise((resolve) => setTimeout(resolve, delays[header.correlationId] ?? 0));
      return { errorCode: header.correlationId };
    };
    const { listener, port } = await start({
      handlers: new Map([[API_KEYS.Heartbeat, heartbeat]]),
      maxInFlightRequests: 2,
    });
    try {
      const client = new RawClient(port);
      client.socket.write(
        Buffer.concat(
          delays.map((_, id) =>
            requestFrame(API_KEYS.Heartbeat, 1, id, { groupId: 'g', generationId: 1, memberId: 'm' }),
          ),
        ),
      );
      const frames = await client.frame(delays.length);
      assert.deepEqual(
        frames.map((f) => f.readInt32BE(0)),
        [0, 1, 2, 3],
      );
      assert.deepEqual(
        frames.map((f) => f.readInt16BE(8)),
        [0, 1, 2, 3],
      );
      client.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('closes a connection whose frame is over maxRequestBytes, and only that one', async () => {
    const { listener, port } = await start({ maxRequestBytes: 1024 });
    try {
      const good = new RawClient(port);
      const bad = new RawClient(port);
      const size = Buffer.alloc(4);
      size.writeInt32BE(1025);
      bad.socket.write(size);
      await bad.closed;
      good.socket.write(requestFrame(API_KEYS.ApiVersions, 0, 1, {}));
      const [frame] = await good.frame(1);
      assert.equal(apiVersionsBody(frame as Buffer, 0).errorCode, 0);
      good.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('refuses connections over maxConnections', async () => {
    const { listener, port } = await start({ maxConnections: 1 });
    try {
      const first = new RawClient(port);
      first.socket.write(requestFrame(API_KEYS.ApiVersions, 0, 1, {}));
      await first.frame(1);
      const second = new RawClient(port);
      await second.closed;
      assert.equal(second.frames.length, 0);
      first.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  it('closes a connection idle for connectionsMaxIdleMs', async () => {
    const { listener, port } = await start({ connectionsMaxIdleMs: 50 });
    try {
      const client = new RawClient(port);
      await client.closed;
    } finally {
      await listener.close();
    }
  });

  it('survives random, truncated and unknown frames; other connections keep working', async () => {
    const { listener, port } = await start();
    try {
      const watcher = new RawClient(port);
      const frame = fc.oneof(
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        fc
          .record({
            key: fc.integer({ min: -5, max: 80 }),
            version: fc.integer({ min: -2, max: 20 }),
            body: fc.uint8Array({ maxLength: 32 }),
          })
          .map(({ key, version, body }) => {
            const payload = Buffer.alloc(8 + body.length);
            payload.writeInt16BE(key, 0);
            payload.writeInt16BE(version, 2);
            payload.writeInt32BE(1, 4);
            Buffer.from(body).copy(payload, 8);
            const size = Buffer.alloc(4);
            size.writeInt32BE(payload.length);
            return Buffer.concat([size, payload]);
          }),
        fc.constant(
          requestFrame(API_KEYS.ApiVersions, 3, 1, { clientSoftwareName: 'a', clientSoftwareVersion: 'b' }).subarray(
            0,
            15,
          ),
        ),
      );
      await fc.assert(
        fc.asyncProperty(frame, async (bytes) => {
          const fuzzer = new RawClient(port);
          fuzzer.socket.end(bytes);
          await fuzzer.closed;
        }),
        { numRuns: 150 },
      );
      watcher.socket.write(requestFrame(API_KEYS.ApiVersions, 2, 99, {}));
      const [answer] = await watcher.frame(1);
      assert.equal(answer?.readInt32BE(0), 99);
      watcher.socket.destroy();
    } finally {
      await listener.close();
    }
  });

  describe('with kafkajs', () => {
    let listener: KafkaListener;
    let port: number;
    before(async () => {
      // A fixed Metadata answer, for this test only: one broker (us), no topics.
      const metadata: KafkaHandler = async (_header, _request, context) => ({
        brokers: [{ nodeId: 1, host: context.localAddress, port: context.localPort, rack: null }],
        clusterId: 'samsa-test',
        controllerId: 1,
        topics: [],
      });
      ({ listener, port } = await start({ handlers: new Map([[API_KEYS.Metadata, metadata]]) }));
    });
    after(() => listener.close());

    it('admin.connect() negotiates versions and reads metadata', async () => {
      const kafka = new Kafka({
        brokers: [`127.0.0.1:${port}`],
        clientId: 'listener-test',
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      await admin.connect();
      const cluster = await admin.describeCluster();
      assert.equal(cluster.clusterId, 'samsa-test');
      assert.deepEqual(cluster.brokers, [{ nodeId: 1, host: '127.0.0.1', port }]);
      await admin.disconnect();
    });
  });
});
