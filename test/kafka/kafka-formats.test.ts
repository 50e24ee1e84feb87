/**
 * Old clients and new API versions through the Kafka listener of a real `samsa serve`, and records
 * crossing between the Kafka protocol and HTTP byte for byte. kafka-python told it talks to Kafka
 * 0.8.2, 0.9 or 0.10.0, and kcat with `api.version.request=false` and an old
 * `broker.version.fallback`, speak Produce v0–2 and Fetch v0–2 with message formats v0/v1: the
 * broker stores one v2 batch per message set and converts back down for them. The newest versions
 * (Produce v9, Fetch v12–13, Metadata v12, ListOffsets v7, OffsetForLeaderEpoch v4) are driven
 * through Samsa's own codec. Missing clients fail under CI=true (.ci/run installs them).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { encodeMessageSet } from '../../src/storage/legacy-record.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';
import type { ServerProcess } from '../process/server-process.js';
import {
  BINARY_V2,
  b64,
  type KafkaServer,
  KCAT,
  need,
  PYTHON,
  RawConnection,
  readOverSse,
  readOverV2,
  run,
  startKafkaServer,
} from './kafka-test-clients.js';

const PYTHON_CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'kafka-python-client.py');
const JSON_V2 = 'application/vnd.kafka.json.v2+json';
const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

const first = (list: unknown): Message => (list as Message[])[0] as Message;

describe('old clients, new API versions and records across protocols', () => {
  let server: ServerProcess;
  let broker: string;
  let clusterId: string;

  let running: KafkaServer;

  before(async () => {
    running = await startKafkaServer('kafka-formats');
    ({ server, clusterId } = running);
    broker = running.broker;
  });

  after(() => running.stop());

  async function createTopic(name: string, partitions: number): Promise<void> {
    const res = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic_name: name, partitions_count: partitions }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  function python(request: object): Message {
    return JSON.parse(run(PYTHON as string, [PYTHON_CLIENT], JSON.stringify(request)).toString()) as Message;
  }

  /** kcat as a client of an old broker: no ApiVersions request, the protocol of `fallback`. */
  const oldKcat = (fallback: string) => [
    '-X',
    'api.version.request=false',
    '-X',
    `broker.version.fallback=${fallback}`,
  ];

  // kafka-python picks Produce v0/Fetch v0 for 0.8.2, v1/v1 for 0.9 (both message format v0) and
  // v2/v2 for 0.10.0 (message format v1, with timestamps).
  for (const [release, apiVersion, hasTimestamps] of [
    ['0.8.2', [0, 8, 2], false],
    ['0.9', [0, 9], false],
    ['0.10.0', [0, 10, 0], true],
  ] as const) {
    it(`kafka-python speaking Kafka ${release} produces (plain and gzip) and consumes; HTTP reads the same records`, (t) => {
      if (!need(t, PYTHON, 'python3-kafka (kafka-python)')) return;
      return (async () => {
        const topic = `py-${release.replaceAll('.', '-')}`;
        await createTopic(topic, 1);
        const records = [
          { topic, key: b64('k1'), value: b64('vålue'), timestamp: 1_700_000_000_001 },
          { topic, key: null, value: b64('no key'), timestamp: 1_700_000_000_002 },
          { topic, key: b64('k3'), value: null, timestamp: 1_700_000_000_003 },
        ];
        for (const compression of [null, 'gzip']) {
          const answer = python({ bootstrap: broker, api_version: apiVersion, compression, produce: records });
          const base = compression === null ? 0 : 3;
          assert.deepEqual(
            answer.produced,
            [0, 1, 2].map((i) => ({ partition: 0, offset: base + i })),
          );
        }
        const expected = [...records, ...records].map((r, offset) => ({
          offset,
          key: r.key,
          value: r.value,
          headers: [],
          // Message format v0 has no timestamp: stored as Kafka's NO_TIMESTAMP, -1.
          timestamp: hasTimestamps ? r.timestamp : -1,
        }));
        const consumed = python({
          bootstrap: broker,
          api_version: apiVersion,
          consume: { topic, partition: 0, offset: 1, count: 5, timestamps: true },
        });
        assert.deepEqual(
          consumed.consumed,
          expected.slice(1).map((r) => ({ ...r, timestamp: hasTimestamps ? r.timestamp : null })),
        );
        assert.deepEqual(await readOverV2(server.baseUrl, topic, 0, 0, 6, { timestamps: true }), expected);
        // And today's kafka-python (record batches v2) reads what its old self wrote.
        const current = python({ bootstrap: broker, consume: { topic, partition: 0, offset: 0, count: 6 } });
        assert.deepEqual(
          current.consumed,
          expected.map(({ timestamp: _, ...r }) => r),
        );
      })();
    });
  }

  for (const [fallback, hasTimestamps] of [
    ['0.9.0', false],
    ['0.10.0', true],
  ] as const) {
    it(`kcat with broker.version.fallback=${fallback} produces (plain and gzip) and consumes message format v${hasTimestamps ? 1 : 0}`, (t) => {
      if (!need(t, KCAT, 'kcat')) return;
      return (async () => {
        const topic = `kcat-${fallback.replaceAll('.', '-')}`;
        await createTopic(topic, 1);
        const before = Date.now();
        for (const codec of ['none', 'gzip'])
          run(
            KCAT as string,
            ['-b', broker, '-P', '-t', topic, '-K:', '-z', codec, ...oldKcat(fallback)],
            'a:alpha\nb:βeta\n',
          );
        const after = Date.now();
        const lines = run(KCAT as string, [
          '-b',
          broker,
          '-C',
          '-t',
          topic,
          '-o',
          '1',
          '-e',
          '-q',
          ...oldKcat(fallback),
          '-f',
          '%o|%k|%s|%T\n',
        ])
          .toString()
          .trim()
          .split('\n')
          .map((line) => line.split('|'));
        assert.deepEqual(
          lines.map(([offset, key, value]) => [offset, key, value]),
          [
            ['1', 'b', 'βeta'],
            ['2', 'a', 'alpha'],
            ['3', 'b', 'βeta'],
          ],
        );
        for (const [, , , ts] of lines) {
          if (hasTimestamps) assert.ok(Number(ts) >= before && Number(ts) <= after, `timestamp ${ts}`);
          else assert.equal(ts, '0', 'librdkafka shows a message v0 (no timestamp) as 0');
        }
        const overHttp = await readOverV2(server.baseUrl, topic, 0, 0, 4, { timestamps: true });
        assert.deepEqual(
          overHttp.map((r) => [r.key, r.value]),
          [
            [b64('a'), b64('alpha')],
            [b64('b'), b64('βeta')],
            [b64('a'), b64('alpha')],
            [b64('b'), b64('βeta')],
          ],
        );
        if (!hasTimestamps) assert.deepEqual(new Set(overHttp.map((r) => r.timestamp)), new Set([-1]));
      })();
    });
  }

  it('Produce v0–2 refuse a damaged message set per partition; Fetch v0 gives a message larger than max bytes whole', async () => {
    await createTopic('legacy-wire', 1);
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const big = Buffer.alloc(5000, 7);
      const set = encodeMessageSet(1, 0, [
        { key: Buffer.from('k'), value: Buffer.from('small'), timestamp: 1_700_000_000_000 },
        { key: null, value: big, timestamp: 1_700_000_000_001 },
      ]);
      const damaged = Buffer.from(set);
      damaged.writeUInt8(damaged.readUInt8(30) ^ 1, 30);
      const produce = (version: number, records: Buffer) =>
        conn.call(API_KEYS.Produce, version, {
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: 'legacy-wire', partitionData: [{ index: 0, records }] }],
        });
      const answerOf = (m: Message) => first(first(m.responses).partitionResponses);
      assert.equal(answerOf(await produce(2, damaged)).errorCode, 2); // CORRUPT_MESSAGE (CRC-32)
      assert.equal(answerOf(await produce(2, set.subarray(0, set.length - 1))).errorCode, 2);
      assert.deepEqual(
        {
          errorCode: answerOf(await produce(2, set)).errorCode,
          baseOffset: answerOf(await produce(0, set)).baseOffset,
        },
        { errorCode: 0, baseOffset: 2n },
      );
      // Produce v0–2 also take a v2 batch (Kafka never checked the magic there); v3+ refuses v0/v1.
      const batch = encodeRecordBatch([{ key: null, value: Buffer.from('v2'), timestamp: 1 }], { baseOffset: 0 });
      assert.equal(answerOf(await produce(1, batch)).baseOffset, 4n);
      assert.equal(answerOf(await produce(3, set)).errorCode, 43); // UNSUPPORTED_FOR_MESSAGE_FORMAT

      const fetchV0 = await conn.call(API_KEYS.Fetch, 0, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        topics: [{ topic: 'legacy-wire', partitions: [{ partition: 0, fetchOffset: 1n, partitionMaxBytes: 100 }] }],
      });
      const partition = first(first(fetchV0.responses).partitions);
      assert.equal(partition.errorCode, 0);
      assert.equal(partition.highWatermark, 5n);
      const records = partition.records as Buffer;
      // One whole message v0 (offset 1, the 5000-byte value), though 100 bytes were asked for.
      assert.equal(records.readBigInt64BE(0), 1n);
      assert.equal(records.readInt8(16), 0);
      assert.equal(records.length, 12 + 14 + 5000);
      assert.deepEqual(records.subarray(records.length - 5000), big);
    } finally {
      conn.close();
    }
  });

  it('the flexible and topic-id versions: Produce v9, Metadata v12 by id, Fetch v12 and v13, ListOffsets v7, OffsetForLeaderEpoch v0 and v4', async () => {
    await createTopic('newest', 2);
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const now = Date.now();
      const batch = encodeRecordBatch(
        [
          { key: Buffer.from('a'), value: Buffer.from('early'), timestamp: now - 1000 },
          { key: Buffer.from('b'), value: Buffer.from('latest'), timestamp: now + 5000 },
          { key: Buffer.from('c'), value: Buffer.from('middle'), timestamp: now },
        ],
        { baseOffset: 0 },
      );
      const produced = await conn.call(API_KEYS.Produce, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 1000,
        topicData: [{ name: 'newest', partitionData: [{ index: 1, records: batch }] }],
      });
      assert.equal(first(first(produced.responses).partitionResponses).errorCode, 0);

      const byName = await conn.call(API_KEYS.Metadata, 12, { topics: [{ topicId: ZERO_UUID, name: 'newest' }] });
      const topicId = first(byName.topics).topicId as string;
      assert.notEqual(topicId, ZERO_UUID);
      const byId = await conn.call(API_KEYS.Metadata, 12, {
        topics: [
          { topicId, name: null },
          { topicId: '11111111-2222-3333-4444-555555555555', name: null },
        ],
      });
      assert.deepEqual(
        (byId.topics as Message[]).map((t) => [t.errorCode, t.name, t.topicId]).sort(),
        [
          [0, 'newest', topicId],
          [100, null, '11111111-2222-3333-4444-555555555555'], // UNKNOWN_TOPIC_ID
        ].sort(),
      );
      const v10 = await conn.call(API_KEYS.Metadata, 10, { topics: [{ topicId: ZERO_UUID, name: 'newest' }] });
      assert.equal(first(v10.topics).topicId, topicId);

      const fetchRequest = (version: number, topic: Message) =>
        conn.call(API_KEYS.Fetch, version, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          topics: [{ ...topic, partitions: [{ partition: 1, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
      const v12 = first(first((await fetchRequest(12, { topic: 'newest' })).responses).partitions);
      // The stored batch as sent from the magic byte on (the log stamped base offset and leader epoch before it).
      assert.deepEqual((v12.records as Buffer).subarray(16), batch.subarray(16));
      const v13 = await fetchRequest(13, { topicId });
      assert.equal(first(v13.responses).topicId, topicId);
      assert.deepEqual(first(first(v13.responses).partitions).records, v12.records);
      const unknown = await fetchRequest(13, { topicId: '11111111-2222-3333-4444-555555555555' });
      assert.equal(first(first(unknown.responses).partitions).errorCode, 100);

      const listOffsets = (version: number, timestamp: bigint) =>
        conn.call(API_KEYS.ListOffsets, version, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: 'newest', partitions: [{ partitionIndex: 1, timestamp }] }],
        });
      const max = first(first((await listOffsets(7, -3n)).topics).partitions);
      assert.deepEqual([max.errorCode, max.offset, max.timestamp], [0, 1n, BigInt(now + 5000)]);
      const emptyMax = await conn.call(API_KEYS.ListOffsets, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: 'newest', partitions: [{ partitionIndex: 0, timestamp: -3n }] }],
      });
      assert.equal(first(first(emptyMax.topics).partitions).offset, -1n);
      assert.equal(first(first((await listOffsets(6, -3n)).topics).partitions).errorCode, 42); // INVALID_REQUEST
      assert.equal(first(first((await listOffsets(6, -1n)).topics).partitions).offset, 3n);

      for (const version of [0, 2, 4]) {
        const answer = await conn.call(API_KEYS.OffsetForLeaderEpoch, version, {
          replicaId: -1,
          topics: [
            {
              topic: 'newest',
              partitions: [
                { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 },
                { partition: 1, currentLeaderEpoch: 7, leaderEpoch: 0 },
                { partition: 9, currentLeaderEpoch: -1, leaderEpoch: 0 },
              ],
            },
          ],
        });
        assert.deepEqual(
          (first(answer.topics).partitions as Message[]).map((p) => [p.errorCode, p.endOffset]),
          [
            [0, 3n], // epoch 0 is the current one: it ends at the log end
            [version >= 2 ? 75 : 0, version >= 2 ? -1n : 3n], // UNKNOWN_LEADER_EPOCH (v2+ carry the current epoch)
            [3, -1n],
          ],
        );
        if (version >= 1) assert.equal((first(answer.topics).partitions as Message[])[0]?.leaderEpoch, 0);
      }
    } finally {
      conn.close();
    }
  });

  it('records produced over HTTP v2 (json and binary) and v3 are read by kcat byte for byte: key, value, headers, timestamp, partition, offset', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('http-bytes', 1);
      const post = async (url: string, contentType: string, body: unknown) => {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': contentType },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, await res.text());
      };
      const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      await post(`${server.baseUrl}/topics/http-bytes`, JSON_V2, {
        records: [{ key: { id: 1 }, value: { name: 'ünï', n: [1, 2.5] } }],
      });
      await post(`${server.baseUrl}/topics/http-bytes`, BINARY_V2, {
        records: [{ key: b64('bin-key'), value: allBytes.toString('base64') }],
      });
      await post(`${server.baseUrl}/v3/clusters/${clusterId}/topics/http-bytes/records`, 'application/json', {
        partition_id: 0,
        timestamp: '2024-05-01T12:00:00.123Z',
        headers: [
          { name: 'trace', value: b64('t-1') },
          { name: 'ü', value: b64('ÿ') },
        ],
        key: { type: 'STRING', data: 'k-v3' },
        value: { type: 'BINARY', data: Buffer.from([0, 10, 13, 255]).toString('base64') },
      });
      const httpRecords = await readOverV2(server.baseUrl, 'http-bytes', 0, 0, 3, { timestamps: true });
      const read = (offset: number) =>
        run(KCAT as string, [
          '-b',
          broker,
          '-C',
          '-t',
          'http-bytes',
          '-o',
          String(offset),
          '-c',
          '1',
          '-q',
          '-f',
          '%K|%k|%S|%s|%h|%T|%p|%o',
        ]);
      const expect = (offset: number, key: Buffer, value: Buffer, headers: string) =>
        assert.deepEqual(
          read(offset),
          Buffer.concat([
            Buffer.from(`${key.length}|`),
            key,
            Buffer.from(`|${value.length}|`),
            value,
            Buffer.from(`|${headers}|${httpRecords[offset]?.timestamp}|0|${offset}`),
          ]),
        );
      // The json format stores each JSON value as its text.
      expect(0, Buffer.from('{"id":1}'), Buffer.from('{"name":"ünï","n":[1,2.5]}'), '');
      expect(1, Buffer.from('bin-key'), allBytes, '');
      expect(2, Buffer.from('k-v3'), Buffer.from([0, 10, 13, 255]), 'trace=t-1,ü=ÿ');
      assert.equal(httpRecords[2]?.timestamp, Date.parse('2024-05-01T12:00:00.123Z'));
    })();
  });

  it('records produced by kcat (keys, headers, timestamps) read over the v2 consumer and SSE with the same bytes and timestamps', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('kcat-bytes', 1);
      run(
        KCAT as string,
        ['-b', broker, '-P', '-t', 'kcat-bytes', '-K:', '-H', 'h=1', '-H', 'emoji=😀', '-Z'],
        'k1:v1\nk2:\n:no key\n',
      );
      const kcatView = run(KCAT as string, [
        '-b',
        broker,
        '-C',
        '-t',
        'kcat-bytes',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%o|%T\n',
      ])
        .toString()
        .trim()
        .split('\n')
        .map((line) => Number(line.split('|')[1]));
      const headers = [
        { key: 'h', value: b64('1') },
        { key: 'emoji', value: b64('😀') },
      ];
      // kcat -Z sends an empty value as null; an empty key before ':' as null too.
      const expected = [
        { offset: 0, key: b64('k1'), value: b64('v1'), headers, timestamp: kcatView[0] },
        { offset: 1, key: b64('k2'), value: null, headers, timestamp: kcatView[1] },
        { offset: 2, key: null, value: b64('no key'), headers, timestamp: kcatView[2] },
      ];
      assert.deepEqual(await readOverV2(server.baseUrl, 'kcat-bytes', 0, 0, 3, { timestamps: true }), expected);
      assert.deepEqual(await readOverSse(server.baseUrl, 'kcat-bytes', 3, { timestamps: true }), expected);
    })();
  });

  it('the same key lands on the same partition from HTTP, kafkajs and kcat with partitioner=murmur2_random (not with kcat’s default)', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
      for (const topic of ['place-http', 'place-kafkajs', 'place-kcat', 'place-kcat-default'])
        await createTopic(topic, 6);
      const res = await fetch(`${server.baseUrl}/topics/place-http`, {
        method: 'POST',
        headers: { 'Content-Type': BINARY_V2 },
        body: JSON.stringify({ records: keys.map((k) => ({ key: b64(k), value: b64('v') })) }),
      });
      const http = (await res.json()) as { offsets: Array<{ partition: number }> };
      const overHttp = new Map(keys.map((k, i) => [k, http.offsets[i]?.partition]));

      const kafka = new Kafka({ brokers: [broker], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        for (const k of keys) await producer.send({ topic: 'place-kafkajs', messages: [{ key: k, value: 'v' }] });
      } finally {
        await producer.disconnect();
      }
      const input = keys.map((k) => `${k}:v\n`).join('');
      run(KCAT as string, ['-b', broker, '-P', '-t', 'place-kcat', '-K:', '-X', 'partitioner=murmur2_random'], input);
      run(KCAT as string, ['-b', broker, '-P', '-t', 'place-kcat-default', '-K:'], input);
      const placed = (topic: string) =>
        new Map(
          run(KCAT as string, ['-b', broker, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k %p\n'])
            .toString()
            .trim()
            .split('\n')
            .map((line) => line.split(' '))
            .map(([k, p]) => [k as string, Number(p)]),
        );
      const sorted = (m: Map<string, number | undefined>) => [...m.entries()].sort();
      assert.deepEqual(sorted(placed('place-kafkajs')), sorted(overHttp));
      assert.deepEqual(sorted(placed('place-kcat')), sorted(overHttp));
      // librdkafka's default, consistent_random, hashes with CRC32: other partitions for most keys.
      const differing = keys.filter((k) => placed('place-kcat-default').get(k) !== overHttp.get(k));
      assert.ok(differing.length > 0, 'consistent_random placed every key as murmur2 does');
    })();
  });
});
