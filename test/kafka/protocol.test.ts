import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { APIS } from '../../src/kafka/protocol/apis.js';
import { decode, defaultValue, encode, KafkaCodecError, type Message } from '../../src/kafka/protocol/codec.js';
import {
  type Field,
  type FieldType,
  inRange,
  type MessageSchema,
  type Primitive,
  propertyName,
} from '../../src/kafka/protocol/schema.js';

const require = createRequire(import.meta.url);
const first = (list: unknown): Message => (list as Message[])[0] as Message;

function primitive(type: Primitive, nullable: boolean): fc.Arbitrary<unknown> {
  const base: fc.Arbitrary<unknown> = (() => {
    switch (type) {
      case 'bool':
        return fc.boolean();
      case 'int8':
        return fc.integer({ min: -128, max: 127 });
      case 'int16':
        return fc.integer({ min: -32768, max: 32767 });
      case 'uint16':
        return fc.integer({ min: 0, max: 65535 });
      case 'int32':
      case 'varint':
        return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
      case 'int64':
      case 'varlong':
        return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
      case 'float64':
        return fc.double({ noNaN: true });
      case 'uuid':
        return fc.uuid();
      case 'string':
        return fc.string({ maxLength: 20, unit: 'grapheme' });
      case 'bytes':
      case 'records':
        return fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    }
  })();
  return nullable ? fc.option(base, { nil: null }) : base;
}

function typeArbitrary(type: FieldType, version: number, nullable: boolean, depth: number): fc.Arbitrary<unknown> {
  if (typeof type === 'string') return primitive(type, nullable);
  if ('struct' in type) return structArbitrary(type.struct, version, depth + 1);
  const of = type.array;
  const item = typeof of === 'string' ? primitive(of, false) : structArbitrary(of, version, depth + 1);
  const items = fc.array(item, { maxLength: depth > 1 ? 2 : 3 });
  return nullable ? fc.option(items, { nil: null }) : items;
}

/** A value for every field valid in `version`, the default for the rest (what decode yields). */
function structArbitrary(fields: Field[], version: number, depth = 0): fc.Arbitrary<Message> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    record[propertyName(field)] = inRange(field.versions, version)
      ? typeArbitrary(field.type, version, inRange(field.nullableVersions, version), depth)
      : fc.constant(defaultValue(field, version));
  }
  return fc.record(record).map((value) => ({ ...value }));
}

function versions(schema: MessageSchema): number[] {
  const out: number[] = [];
  for (let version = schema.validVersions.min; version <= (schema.validVersions.max as number); version++)
    out.push(version);
  return out;
}

describe('every API description round-trips through the codec', () => {
  for (const api of APIS.values()) {
    for (const schema of [api.request, api.response]) {
      it(`${schema.name} v${schema.validVersions.min}-${schema.validVersions.max}`, () => {
        for (const version of versions(schema)) {
          fc.assert(
            fc.property(structArbitrary(schema.fields, version), (value) => {
              const bytes = encode(value, schema, version);
              assert.deepStrictEqual(decode(bytes, schema, version), value);
            }),
            { numRuns: 30 },
          );
        }
      });
    }
  }
});

/** kafkajs's bytes for one request body (no size, no header). */
async function kafkajsRequest(api: string, version: number, args: object): Promise<Buffer> {
  const build = require(`kafkajs/src/protocol/requests/${api}/v${version}/request`);
  const request = build(args);
  return (await request.encode()).buffer as Buffer;
}

function schemaOf(apiName: string, kind: 'request' | 'response'): MessageSchema {
  const api = [...APIS.values()].find((a) => a.name === apiName);
  assert.ok(api);
  return api[kind];
}

describe('reads what kafkajs writes, byte for byte', () => {
  const cases: Array<[string, string, number, object, (m: Message) => void]> = [
    ['ApiVersions', 'apiVersions', 0, {}, () => {}],
    ['ApiVersions', 'apiVersions', 2, {}, () => {}],
    ...[0, 1, 4, 6].map((version): [string, string, number, object, (m: Message) => void] => [
      'Metadata',
      'metadata',
      version,
      { topics: ['orders', 'audit'], allowAutoTopicCreation: false },
      (m) =>
        assert.deepEqual(
          (m.topics as Message[]).map((t) => t.name),
          ['orders', 'audit'],
        ),
    ]),
    ...[3, 5, 7].map((version): [string, string, number, object, (m: Message) => void] => [
      'Produce',
      'produce',
      version,
      {
        acks: -1,
        timeout: 3000,
        compression: 0,
        topicData: [{ topic: 'orders', partitions: [{ partition: 2, messages: [{ key: 'k', value: 'v' }] }] }],
      },
      (m) => {
        assert.equal(m.acks, -1);
        const partition = first(first(m.topicData).partitionData);
        assert.equal(partition.index, 2);
        assert.ok(Buffer.isBuffer(partition.records) && partition.records.length > 61);
      },
    ]),
    ...[4, 7, 11].map((version): [string, string, number, object, (m: Message) => void] => [
      'Fetch',
      'fetch',
      version,
      {
        replicaId: -1,
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: 1024,
        isolationLevel: 1,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: '42', maxBytes: 100 }] }],
        rackId: '',
      },
      (m) => {
        const partition = first(first(m.topics).partitions);
        assert.equal(partition.fetchOffset, 42n);
        assert.equal(m.maxWaitMs, 500);
      },
    ]),
    ...[0, 1, 2].map((version): [string, string, number, object, (m: Message) => void] => [
      'FindCoordinator',
      'findCoordinator',
      version,
      { groupId: 'billing', coordinatorKey: 'billing', coordinatorType: 0 },
      (m) => assert.equal(m.key, 'billing'),
    ]),
    ...[0, 2, 5].map((version): [string, string, number, object, (m: Message) => void] => [
      'JoinGroup',
      'joinGroup',
      version,
      {
        groupId: 'billing',
        sessionTimeout: 30000,
        rebalanceTimeout: 60000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        groupProtocols: [{ name: 'RoundRobinAssigner', metadata: Buffer.from([0, 1, 2]) }],
      },
      (m) => {
        assert.equal(m.sessionTimeoutMs, 30000);
        assert.deepEqual((m.protocols as Message[])[0]?.metadata, Buffer.from([0, 1, 2]));
      },
    ]),
    ...[0, 1, 3].map((version): [string, string, number, object, (m: Message) => void] => [
      'SyncGroup',
      'syncGroup',
      version,
      {
        groupId: 'billing',
        generationId: 3,
        memberId: 'm-1',
        groupInstanceId: null,
        groupAssignment: [{ memberId: 'm-1', memberAssignment: Buffer.from([9]) }],
      },
      (m) => assert.equal(m.generationId, 3),
    ]),
    ...[0, 1, 3].map((version): [string, string, number, object, (m: Message) => void] => [
      'Heartbeat',
      'heartbeat',
      version,
      { groupId: 'billing', groupGenerationId: 3, memberId: 'm-1', groupInstanceId: null },
      (m) => assert.equal(m.memberId, 'm-1'),
    ]),
    ...[0, 2, 3].map((version): [string, string, number, object, (m: Message) => void] => [
      'OffsetCommit',
      'offsetCommit',
      version,
      {
        groupId: 'billing',
        groupGenerationId: 3,
        memberId: 'm-1',
        retentionTime: -1,
        topics: [{ topic: 'orders', partitions: [{ partition: 1, offset: '17', metadata: null }] }],
      },
      (m) => assert.equal(first(first(m.topics).partitions).committedOffset, 17n),
    ]),
    ...[1, 3, 4].map((version): [string, string, number, object, (m: Message) => void] => [
      'OffsetFetch',
      'offsetFetch',
      version,
      { groupId: 'billing', topics: [{ topic: 'orders', partitions: [{ partition: 1 }] }], requireStable: false },
      (m) => assert.equal(m.groupId, 'billing'),
    ]),
    ...[0, 2, 3].map((version): [string, string, number, object, (m: Message) => void] => [
      'ListOffsets',
      'listOffsets',
      version,
      {
        replicaId: -1,
        isolationLevel: 1,
        topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: '-1' }] }],
      },
      (m) => assert.equal(first(first(m.topics).partitions).timestamp, -1n),
    ]),
  ];
  for (const [name, folder, version, args, check] of cases) {
    it(`${name} v${version}`, async () => {
      const bytes = await kafkajsRequest(folder, version, args);
      const schema = schemaOf(name, 'request');
      const value = decode(bytes, schema, version);
      check(value);
      assert.deepEqual(encode(value, schema, version), bytes);
    });
  }
});

describe('writes what kafkajs reads', () => {
  async function kafkajsDecode(folder: string, version: number, bytes: Buffer): Promise<Message> {
    const { decode: read, parse } = require(`kafkajs/src/protocol/requests/${folder}/v${version}/response`);
    const decoded = await read(bytes);
    return parse ? (parse(decoded).catch?.(() => decoded) ?? decoded) : decoded;
  }

  it('ApiVersions v0-v2', async () => {
    for (const version of [0, 1, 2]) {
      const bytes = encode(
        { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0 },
        schemaOf('ApiVersions', 'response'),
        version,
      );
      const decoded = await kafkajsDecode('apiVersions', version, bytes);
      assert.deepEqual(decoded.apiVersions, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
    }
  });

  it('Metadata v0, v1, v4, v6', async () => {
    for (const version of [0, 1, 4, 6]) {
      const response = {
        brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
        clusterId: 'c1',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 'orders',
            partitions: [
              { errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] },
            ],
          },
        ],
      };
      const decoded = await kafkajsDecode(
        'metadata',
        version,
        encode(response, schemaOf('Metadata', 'response'), version),
      );
      assert.deepEqual(
        (decoded.brokers as Message[])[0],
        version === 0
          ? { nodeId: 1, host: 'localhost', port: 9092 }
          : { nodeId: 1, host: 'localhost', port: 9092, rack: null },
      );
      assert.equal((decoded.topicMetadata as Message[])[0]?.topic, 'orders');
    }
  });

  it('FindCoordinator v0-v2 and Heartbeat v0-v3', async () => {
    for (const version of [0, 1, 2]) {
      const bytes = encode(
        { errorCode: 0, nodeId: 7, host: 'h', port: 9 },
        schemaOf('FindCoordinator', 'response'),
        version,
      );
      const decoded = await kafkajsDecode('findCoordinator', version, bytes);
      assert.deepEqual(decoded.coordinator, { nodeId: 7, host: 'h', port: 9 });
    }
    for (const version of [0, 1, 3]) {
      const decoded = await kafkajsDecode(
        'heartbeat',
        version,
        encode({ errorCode: 0 }, schemaOf('Heartbeat', 'response'), version),
      );
      assert.equal(decoded.errorCode, 0);
    }
  });
});

describe('malformed input throws the codec error', () => {
  const metadata = schemaOf('Metadata', 'request');
  const good = encode({ topics: [{ name: 'orders' }] }, metadata, 9);

  it('every truncation of a valid message', () => {
    for (let length = 0; length < good.length; length++) {
      assert.throws(() => decode(good.subarray(0, length), metadata, 9), KafkaCodecError);
    }
  });

  it('a huge or negative array length', () => {
    const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert.throws(() => decode(huge, metadata, 9), KafkaCodecError);
    const negative = Buffer.alloc(4);
    negative.writeInt32BE(-5);
    assert.throws(() => decode(negative, metadata, 4), KafkaCodecError);
    const big = Buffer.alloc(8);
    big.writeInt32BE(2 ** 30);
    assert.throws(() => decode(big, metadata, 4), KafkaCodecError);
  });

  it('a string longer than the frame, a tagged field overrunning its section, tags out of order', () => {
    const join = schemaOf('Heartbeat', 'request');
    assert.throws(() => decode(Buffer.from([0x7f, 0xff, 0x61]), join, 0), KafkaCodecError);
    // ApiVersions v3 request: two empty compact strings, then one tagged field claiming 9 bytes.
    const apiVersions = schemaOf('ApiVersions', 'request');
    assert.throws(() => decode(Buffer.from([1, 1, 1, 5, 9, 0]), apiVersions, 3), KafkaCodecError);
    assert.throws(() => decode(Buffer.from([1, 1, 2, 5, 0, 4, 0]), apiVersions, 3), KafkaCodecError);
  });

  it('skips a tag it does not know', () => {
    const apiVersions = schemaOf('ApiVersions', 'request');
    assert.deepEqual(decode(Buffer.from([2, 0x61, 1, 1, 42, 2, 7, 7]), apiVersions, 3), {
      clientSoftwareName: 'a',
      clientSoftwareVersion: '',
    });
  });

  it('a version the description does not have', () => {
    assert.throws(() => decode(Buffer.alloc(0), metadata, 13), KafkaCodecError);
  });
});
