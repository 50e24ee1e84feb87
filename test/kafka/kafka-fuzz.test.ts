/**
 * A hostile network against the Kafka listener of a real `samsa serve`: random bytes, truncated
 * frames, sizes that are negative, zero or huge, unknown api keys and versions, and for every
 * advertised API and version headers followed by garbage, by a valid body with bytes flipped, and
 * by well-formed bodies full of odd values (negative indexes, null strings, extreme integers). A
 * seeded PRNG makes every run the same (SAMSA_FUZZ_SEED picks another). Meanwhile a second
 * connection produces and fetches in a loop and must never fail; afterwards the process is up,
 * answers a new connection, and the records written before are unchanged.
 *
 * Each request that Samsa's own codec decodes must be answered (an error code is an answer); a
 * dropped connection there would be a handler failing. Frames that do not decode must close the
 * connection, never the process.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { API_KEYS, APIS, type Api, requestHeaderVersion } from '../../src/kafka/protocol/apis.js';
import { decodeAt, defaultValue, encode, type Message } from '../../src/kafka/protocol/codec.js';
import { RequestHeader } from '../../src/kafka/protocol/messages/headers.js';
import { type Field, type FieldType, inRange, type Primitive, propertyName } from '../../src/kafka/protocol/schema.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';
import { type KafkaServer, RawConnection, readOverV2, startKafkaServer } from './kafka-test-clients.js';

const SEED = Number(process.env.SAMSA_FUZZ_SEED ?? 20261203);
/** Frames sent in all; a few thousand keep the run within ~30 s on a shared 2-core machine. */
const FRAMES = 5000;
const CONCURRENCY = 8;
/** How long a decodable request may take to be answered, or a broken frame to close its connection. */
const ANSWER_TIMEOUT_MS = 10_000;
/** APIs whose answers may wait on purpose (long polls, rebalances) or never come (acks=0). */
const MAY_WAIT = new Set<number>([API_KEYS.Produce, API_KEYS.Fetch, API_KEYS.JoinGroup, API_KEYS.SyncGroup]);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Case = { kind: string; bytes: Buffer; expectAnswer: boolean };

class Fuzzer {
  constructor(
    readonly random: () => number,
    readonly advertised: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>,
  ) {}

  int(max: number): number {
    return Math.floor(this.random() * max);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }

  sized(payload: Buffer): Buffer {
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return Buffer.concat([size, payload]);
  }

  header(api: Api, version: number, correlationId: number): Buffer {
    return encode(
      { requestApiKey: api.apiKey, requestApiVersion: version, correlationId, clientId: 'fuzz' },
      RequestHeader,
      requestHeaderVersion(api, version),
    );
  }

  /** Odd but well-typed values: extremes, nulls where allowed, short arrays, names no topic has. */
  value(type: FieldType, version: number, nullable: boolean, depth: number): unknown {
    if (nullable && this.int(5) === 0) return null;
    if (typeof type === 'string') return this.primitive(type);
    if ('struct' in type) return this.struct(type.struct, version, depth + 1);
    const n = depth > 2 ? 0 : this.int(3);
    const of = type.array;
    return Array.from({ length: n }, () =>
      typeof of === 'string' ? this.primitive(of) : this.struct(of, version, depth + 1),
    );
  }

  primitive(type: Primitive): unknown {
    const ints = (bits: number) => {
      const max = 2 ** (bits - 1) - 1;
      return this.pick([0, 1, -1, max, -max - 1, this.int(2 * max + 1) - max]);
    };
    switch (type) {
      case 'bool':
        return this.int(2) === 0;
      case 'int8':
        return ints(8);
      case 'int16':
        return ints(16);
      case 'uint16':
        return this.int(65536);
      case 'int32':
      case 'varint':
        return ints(32);
      case 'int64':
      case 'varlong':
        return this.pick([0n, -1n, -2n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(this.int(2 ** 31))]);
      case 'float64':
        return this.pick([0, -1, 1e308, Number.NaN]);
      case 'uuid':
        return this.pick(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']);
      case 'string':
        // Never the names of the topics the test keeps: '!' makes no valid topic name.
        return this.pick(['', 'fuzz!', 'ünï\u0000cøde', 'x'.repeat(300), `f!${this.int(1e6)}`]);
      case 'bytes':
      case 'records':
        return this.bytes(this.int(80));
    }
  }

  struct(fields: Field[], version: number, depth = 0): Message {
    const out: Message = {};
    for (const field of fields) {
      const key = propertyName(field);
      out[key] = inRange(field.versions, version)
        ? this.value(field.type, version, inRange(field.nullableVersions, version), depth)
        : defaultValue(field, version);
    }
    return out;
  }

  /** A request of an advertised API and version: header, then a body of one of several shapes. */
  advertisedCase(correlationId: number, given?: { apiKey: number; version: number; shape: number }): Case {
    const { apiKey, minVersion, maxVersion } = given
      ? { apiKey: given.apiKey, minVersion: given.version, maxVersion: given.version }
      : this.pick(this.advertised);
    const api = APIS.get(apiKey) as Api;
    const version = minVersion + this.int(maxVersion - minVersion + 1);
    const header = this.header(api, version, correlationId);
    const shape = given?.shape ?? this.int(4);
    let body: Buffer;
    let kind: string;
    if (shape === 0) {
      kind = 'garbage body';
      body = this.bytes(this.int(120));
    } else if (shape === 1) {
      kind = 'odd values';
      body = encode(this.struct(api.request.fields, version), api.request, version);
    } else {
      kind = shape === 2 ? 'flipped bytes' : 'truncated body';
      body = Buffer.from(encode(this.struct(api.request.fields, version), api.request, version));
      if (shape === 2) {
        for (let flips = 1 + this.int(3); flips > 0 && body.length > 0; flips--)
          body[this.int(body.length)] = this.int(256);
      } else body = body.subarray(0, this.int(body.length + 1));
    }
    const payload = Buffer.concat([header, body]);
    // The listener's rule: a frame that decodes is handled; one that does not closes the connection.
    const headerEnd = header.length;
    let decodes = true;
    try {
      decodeAt(payload, headerEnd, api.request, version);
    } catch {
      decodes = false;
    }
    return {
      kind: `${api.name} v${version} ${kind}`,
      bytes: this.sized(payload),
      expectAnswer: decodes && !MAY_WAIT.has(apiKey),
    };
  }

  /** First every advertised API at every version, with garbage and with odd values; then at random. */
  *cases(): Generator<[number, Case]> {
    let id = 0;
    for (const { apiKey, minVersion, maxVersion } of this.advertised) {
      for (let version = minVersion; version <= maxVersion; version++) {
        for (const shape of [0, 1]) {
          id++;
          yield [id, this.advertisedCase(id, { apiKey, version, shape })];
        }
      }
    }
    while (id < FRAMES) {
      id++;
      yield [id, this.next(id)];
    }
  }

  next(correlationId: number): Case {
    const roll = this.int(10);
    if (roll === 0) return { kind: 'random bytes', bytes: this.bytes(1 + this.int(200)), expectAnswer: false };
    if (roll === 1) {
      const size = this.pick([-1, -2147483648, 0, 1, 2147483647, 100 * 1024 * 1024 + 1]);
      const head = Buffer.alloc(4);
      head.writeInt32BE(size);
      return {
        kind: `frame size ${size}`,
        bytes: Buffer.concat([head, this.bytes(this.int(16))]),
        expectAnswer: false,
      };
    }
    if (roll === 2) {
      // A whole frame cut short: the listener waits for the rest, and the client goes away.
      const full = this.advertisedCase(correlationId).bytes;
      return { kind: 'truncated frame', bytes: full.subarray(0, 1 + this.int(full.length - 1)), expectAnswer: false };
    }
    if (roll === 3) {
      const unknownKey = this.pick([-1, 4, 5, 7, 17, 24, 57, 1000, 32767]);
      const payload = Buffer.alloc(8 + this.int(20));
      payload.writeInt16BE(unknownKey, 0);
      payload.writeInt16BE(this.int(20), 2);
      payload.writeInt32BE(correlationId, 4);
      return { kind: `unknown api key ${unknownKey}`, bytes: this.sized(payload), expectAnswer: false };
    }
    if (roll === 4) {
      const { apiKey, maxVersion } = this.pick(this.advertised.filter((a) => a.apiKey !== API_KEYS.ApiVersions));
      const payload = Buffer.alloc(8 + this.int(20));
      payload.writeInt16BE(apiKey, 0);
      payload.writeInt16BE(this.pick([maxVersion + 1, 999, -1]), 2);
      payload.writeInt32BE(correlationId, 4);
      return { kind: `api key ${apiKey} unknown version`, bytes: this.sized(payload), expectAnswer: false };
    }
    return this.advertisedCase(correlationId);
  }
}

/**
 * Sends one case on a fresh connection. A decodable request must be answered with its correlation
 * id; anything else must end with the server closing the connection (after the client half-closes,
 * for a frame the server is still waiting to complete).
 */
function send(port: number, c: Case, correlationId: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${c.kind}: no ${c.expectAnswer ? 'answer' : 'close'} within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    const done = (err?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (c.expectAnswer && received.length >= 8) {
        const id = received.readInt32BE(4);
        done(id === correlationId ? undefined : new Error(`${c.kind}: answered correlation id ${id}`));
      }
    });
    socket.on('close', () => {
      done(c.expectAnswer ? new Error(`${c.kind}: connection closed without an answer`) : undefined);
    });
    socket.write(c.bytes, () => {
      if (!c.expectAnswer) socket.end();
    });
  });
}

describe('the Kafka listener under fuzzing', () => {
  let running: KafkaServer;
  let port: number;

  before(async () => {
    running = await startKafkaServer('kafka-fuzz');
    port = running.server.kafkaPort as number;
    for (const topic of ['fuzz-keep', 'fuzz-live']) {
      const res = await fetch(`${running.server.baseUrl}/v3/clusters/${running.clusterId}/topics`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ topic_name: topic, partitions_count: 1 }),
      });
      assert.equal(res.status, 201, await res.text());
    }
  });

  after(() => running.stop());

  it('survives thousands of hostile frames while another connection keeps producing and fetching', async () => {
    const live = new RawConnection(port);
    const produce = (topic: string, values: string[]) =>
      live.call(API_KEYS.Produce, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [
          {
            name: topic,
            partitionData: [
              {
                index: 0,
                records: encodeRecordBatch(
                  values.map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() })),
                  { baseOffset: 0 },
                ),
              },
            ],
          },
        ],
      });
    const kept = Array.from({ length: 20 }, (_, i) => `kept-${i}`);
    await produce('fuzz-keep', kept);
    const before = await readOverV2(running.server.baseUrl, 'fuzz-keep', 0, 0, kept.length);
    assert.equal(before.length, kept.length);

    const versions = await live.call(API_KEYS.ApiVersions, 3, {
      clientSoftwareName: 'fuzz',
      clientSoftwareVersion: '1',
    });
    const fuzzer = new Fuzzer(
      prng(SEED),
      versions.apiKeys as Array<{ apiKey: number; minVersion: number; maxVersion: number }>,
    );

    // The bystander: produce one record, fetch it back, again and again, until the fuzzing ends.
    let fuzzing = true;
    let rounds = 0;
    const bystander = (async () => {
      while (fuzzing) {
        const value = `live-${rounds}`;
        const produced = await produce('fuzz-live', [value]);
        const partition = (
          ((produced.responses as Message[])[0] as Message).partitionResponses as Message[]
        )[0] as Message;
        assert.equal(partition.errorCode, 0, `bystander produce ${rounds}`);
        const fetched = await live.call(API_KEYS.Fetch, 11, {
          replicaId: -1,
          maxWaitMs: 100,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic: 'fuzz-live',
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: -1,
                  fetchOffset: partition.baseOffset,
                  logStartOffset: -1n,
                  partitionMaxBytes: 1 << 20,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
        const got = (((fetched.responses as Message[])[0] as Message).partitions as Message[])[0] as Message;
        assert.equal(got.errorCode, 0, `bystander fetch ${rounds}`);
        assert.ok((got.records as Buffer).includes(Buffer.from(value)), `bystander read back ${value}`);
        rounds++;
      }
    })();

    const startedMs = Date.now();
    const kinds = new Map<string, number>();
    let answered = 0;
    const cases = fuzzer.cases();
    const worker = async () => {
      for (let item = cases.next(); !item.done; item = cases.next()) {
        const [id, c] = item.value;
        if (c.expectAnswer) answered++;
        const family = c.kind.replace(/ -?\d+$/, '');
        kinds.set(family, (kinds.get(family) ?? 0) + 1);
        await send(port, c, id);
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      fuzzing = false;
      await bystander;
    }
    const tookMs = Date.now() - startedMs;
    if (process.env.SAMSA_FUZZ_DEBUG) console.log(JSON.stringify({ rounds, tookMs, answered, kinds: [...kinds] }));
    assert.ok(rounds > 10, `the bystander made only ${rounds} rounds in ${tookMs} ms`);
    // Every advertised API was fuzzed at every version, with garbage and with odd but well-formed values.
    for (const { apiKey, minVersion, maxVersion } of versions.apiKeys as Message[]) {
      const name = (APIS.get(apiKey as number) as Api).name;
      for (let version = minVersion as number; version <= (maxVersion as number); version++) {
        for (const shape of ['garbage body', 'odd values']) {
          assert.ok((kinds.get(`${name} v${version} ${shape}`) ?? 0) > 0, `${name} v${version} got no ${shape}`);
        }
      }
    }
    assert.ok(answered > 500, `only ${answered} requests decoded`);
    assert.ok(tookMs < 60_000, `fuzzing took ${tookMs} ms`);

    assert.equal(running.server.child.exitCode, null, 'the process is up');
    // No handler met an error it did not expect (those are logged and answered UNKNOWN_SERVER_ERROR).
    // Errors are logged on stderr.
    const unexpected = running.server
      .stderr()
      .split('\n')
      .filter((line) => line.includes('kafka.handler_failed'));
    assert.deepEqual(unexpected.slice(0, 3), [], `${unexpected.length} unexpected handler failures`);
    const fresh = new RawConnection(port);
    try {
      const answer = await fresh.call(API_KEYS.ApiVersions, 0, {});
      assert.equal(answer.errorCode, 0);
    } finally {
      fresh.close();
    }
    live.close();
    assert.deepEqual(await readOverV2(running.server.baseUrl, 'fuzz-keep', 0, 0, kept.length), before);
  });
});
