/**
 * Real Kafka clients against a real `samsa serve` process, through the Kafka listener: kcat
 * (librdkafka 2.0.2, Debian) and kafka-python 2.0.2 (Debian python3-kafka), beside the HTTP API on
 * the same logs. Records go in one way and come out the other with the same offsets, keys, values
 * and headers, byte for byte. The clients are found on the machine; when one is missing the tests
 * that need it are skipped locally and fail under CI=true (.ci/run installs `kcat python3-kafka`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@node-rs/crc32';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { CODEC_NAMES } from '../../src/storage/compression.js';
import { compressionOf, encodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';
import {
  BINARY_V2,
  b64,
  jsonLines,
  type KafkaServer,
  KCAT,
  type KcatRecord,
  need,
  PYTHON,
  RawConnection,
  readOverSse,
  readOverV2,
  run,
  startKafkaServer,
} from './kafka-test-clients.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON_CLIENT = path.join(HERE, 'kafka-python-client.py');
/** kafka-python's snappy, lz4 and zstd need python3-snappy, python3-lz4 and python3-zstandard (.ci/run installs them). */
const PYTHON_CODECS =
  PYTHON !== null && spawnSync(PYTHON, ['-c', 'import snappy, lz4.frame, zstandard'], { stdio: 'ignore' }).status === 0
    ? PYTHON
    : null;

describe('Kafka clients against samsa serve', () => {
  let dataDir: string;
  let server: ServerProcess;
  let broker: string;
  let clusterId: string;

  let running: KafkaServer;

  before(async () => {
    running = await startKafkaServer('kafka-clients');
    ({ dataDir, server, clusterId } = running);
    broker = running.broker;
  });

  after(() => running.stop());

  async function createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
    const res = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        topic_name: name,
        partitions_count: partitions,
        configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  it('ApiVersions advertises exactly the APIs served, at the versions implemented', async () => {
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const answer = await conn.call(API_KEYS.ApiVersions, 3, {
        clientSoftwareName: 'test',
        clientSoftwareVersion: '1',
      });
      assert.equal(answer.errorCode, 0);
      assert.deepEqual(
        (answer.apiKeys as Message[]).map((k) => [k.apiKey, k.minVersion, k.maxVersion]),
        [
          [0, 0, 9], // Produce
          [1, 0, 13], // Fetch
          [2, 0, 7], // ListOffsets
          [3, 0, 12], // Metadata
          [8, 0, 8], // OffsetCommit
          [9, 0, 8], // OffsetFetch
          [10, 0, 4], // FindCoordinator (v4 batched, KIP-699)
          [11, 0, 9], // JoinGroup
          [12, 0, 4], // Heartbeat
          [13, 0, 5], // LeaveGroup
          [14, 0, 5], // SyncGroup
          [15, 0, 5], // DescribeGroups
          [16, 0, 4], // ListGroups
          [17, 0, 1], // SaslHandshake
          [18, 0, 3], // ApiVersions
          [19, 0, 7], // CreateTopics
          [20, 0, 6], // DeleteTopics
          [21, 0, 2], // DeleteRecords
          [22, 0, 4], // InitProducerId
          [23, 0, 4], // OffsetForLeaderEpoch
          [29, 0, 3], // DescribeAcls
          [30, 0, 3], // CreateAcls
          [31, 0, 3], // DeleteAcls
          [32, 0, 4], // DescribeConfigs
          [33, 0, 2], // AlterConfigs
          [36, 0, 2], // SaslAuthenticate
          [37, 0, 3], // CreatePartitions
          [42, 0, 2], // DeleteGroups
          [44, 0, 1], // IncrementalAlterConfigs
          [60, 0, 0], // DescribeCluster
        ],
      );
    } finally {
      conn.close();
    }
  });

  it('kcat -L lists this broker at the address the client used, and each partition with leader, replicas and ISR', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('meta', 3);
      const metadata = JSON.parse(run(KCAT, ['-b', broker, '-L', '-J', '-t', 'meta']).toString()) as {
        brokers: Array<{ id: number; name: string }>;
        controllerid: number;
        topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number; replicas: unknown[] }> }>;
      };
      assert.deepEqual(metadata.brokers, [{ id: 0, name: broker }]);
      assert.equal(metadata.controllerid, 0);
      assert.deepEqual(metadata.topics, [
        {
          topic: 'meta',
          partitions: [0, 1, 2].map((partition) => ({
            partition,
            leader: 0,
            replicas: [{ id: 0 }],
            isrs: [{ id: 0 }],
          })),
        },
      ]);
    })();
  });

  it('kcat -P with keys and headers, read back by kcat -C byte for byte', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    const input = 'k1:v1 ünïcødé "quoted"\nk2:{"json":true}\nk3:\ttabbed value\n';
    run(KCAT, ['-b', broker, '-P', '-t', 'kcat-in', '-K:', '-H', 'trace=abc', '-H', 'ünï=ÿes'], input);
    const records = jsonLines<KcatRecord>(
      run(KCAT, ['-b', broker, '-C', '-t', 'kcat-in', '-o', 'beginning', '-e', '-q', '-J']).toString(),
    );
    assert.deepEqual(
      records.map((r) => ({ offset: r.offset, key: r.key, payload: r.payload, headers: r.headers })),
      [
        { offset: 0, key: 'k1', payload: 'v1 ünïcødé "quoted"', headers: ['trace', 'abc', 'ünï', 'ÿes'] },
        { offset: 1, key: 'k2', payload: '{"json":true}', headers: ['trace', 'abc', 'ünï', 'ÿes'] },
        { offset: 2, key: 'k3', payload: '\ttabbed value', headers: ['trace', 'abc', 'ünï', 'ÿes'] },
      ],
    );
    return (async () => {
      const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
      assert.match(metrics, /^samsa_records_in_total\{topic="kcat-in"\} 3$/m);
      assert.match(metrics, /^samsa_records_out_total\{topic="kcat-in"\} 3$/m);
    })();
  });

  it('records produced by kcat are read over HTTP (v2 consumer, SSE) with the same offsets, keys, values and headers', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      run(KCAT, ['-b', broker, '-P', '-t', 'kcat-to-http', '-K:', '-H', 'h=1', '-H', 'ü=ÿ'], 'a:alpha\nb:βeta\n');
      const expected = [
        {
          offset: 0,
          key: b64('a'),
          value: b64('alpha'),
          headers: [
            { key: 'h', value: b64('1') },
            { key: 'ü', value: b64('ÿ') },
          ],
        },
        {
          offset: 1,
          key: b64('b'),
          value: b64('βeta'),
          headers: [
            { key: 'h', value: b64('1') },
            { key: 'ü', value: b64('ÿ') },
          ],
        },
      ];
      assert.deepEqual(await readOverV2(server.baseUrl, 'kcat-to-http', 0, 0, 2), expected);
      assert.deepEqual(await readOverSse(server.baseUrl, 'kcat-to-http', 2), expected);
    })();
  });

  it('records produced over HTTP v2 and v3 are read by kcat with the same offsets, keys, values and headers', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const v2 = await fetch(`${server.baseUrl}/topics/http-to-kcat`, {
        method: 'POST',
        headers: { 'Content-Type': BINARY_V2 },
        body: JSON.stringify({
          records: [
            { key: b64('k-v2'), value: allBytes.toString('base64') },
            { key: null, value: b64('no key') },
          ],
        }),
      });
      assert.equal(v2.status, 200, await v2.text());
      const v3 = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics/http-to-kcat/records`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          partition_id: 0,
          headers: [
            { name: 'trace', value: b64('t-1') },
            { name: 'empty', value: null },
          ],
          key: { type: 'STRING', data: 'k-v3' },
          value: { type: 'STRING', data: 'vålue' },
        }),
      });
      assert.equal(v3.status, 200, await v3.text());
      const records = jsonLines<KcatRecord>(
        run(KCAT, ['-b', broker, '-C', '-t', 'http-to-kcat', '-o', 'beginning', '-e', '-q', '-J']).toString(),
      );
      assert.deepEqual(
        records.map((r) => ({ offset: r.offset, key: r.key, headers: r.headers ?? [] })),
        [
          { offset: 0, key: 'k-v2', headers: [] },
          { offset: 1, key: null, headers: [] },
          { offset: 2, key: 'k-v3', headers: ['trace', 't-1', 'empty', null] },
        ],
      );
      assert.equal(records[1]?.payload, 'no key');
      assert.equal(records[2]?.payload, 'vålue');
      // Raw bytes, not JSON: key length, key, value length, value, for the record of all 256 byte values.
      const raw = run(KCAT, [
        '-b',
        broker,
        '-C',
        '-t',
        'http-to-kcat',
        '-o',
        '0',
        '-c',
        '1',
        '-q',
        '-f',
        '%K|%k|%S|%s',
      ]);
      assert.deepEqual(raw, Buffer.concat([Buffer.from('4|k-v2|256|'), allBytes]));
    })();
  });

  it('kcat produces with acks=0, acks=1 and acks=all; ListOffsets answers earliest, latest and by timestamp', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('acks', 1);
      const before = Date.now();
      for (const acks of ['0', '1', 'all'])
        run(KCAT, ['-b', broker, '-P', '-t', 'acks', '-X', `acks=${acks}`], `${acks}\n`);
      const offsets = await (await fetch(`${server.baseUrl}/topics/acks/partitions/0/offsets`)).json();
      assert.deepEqual(offsets, { beginning_offset: 0, end_offset: 3 });
      const query = (ts: number) =>
        run(KCAT as string, ['-b', broker, '-Q', '-t', `acks:0:${ts}`])
          .toString()
          .trim();
      assert.equal(query(-2), 'acks [0] offset 0');
      assert.equal(query(-1), 'acks [0] offset 3');
      assert.equal(query(before - 60_000), 'acks [0] offset 0');
      assert.equal(query(Date.now() + 3_600_000), 'acks [0] offset -1');
      const tail = run(KCAT, ['-b', broker, '-C', '-t', 'acks', '-o', '-1', '-e', '-q', '-f', '%o %s\n']).toString();
      assert.equal(tail, '2 all\n');
    })();
  });

  it('a LogAppendTime topic stamps the broker clock on a client batch (header and CRC rewritten)', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('append-time', 1, { 'message.timestamp.type': 'LogAppendTime' });
      const before = Date.now();
      run(KCAT, ['-b', broker, '-P', '-t', 'append-time', '-X', 'check.crcs=true'], 'stamped\n');
      const after = Date.now();
      const [record] = jsonLines<KcatRecord & { tstype: string; ts: number }>(
        run(KCAT, [
          '-b',
          broker,
          '-C',
          '-t',
          'append-time',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-J',
          '-X',
          'check.crcs=true',
        ]).toString(),
      );
      assert.equal(record?.tstype, 'logappend');
      assert.ok((record?.ts as number) >= before && (record?.ts as number) <= after, `ts ${record?.ts}`);
      const [overHttp] = await readOverV2(server.baseUrl, 'append-time', 0, 0, 1);
      assert.equal(overHttp?.value, b64('stamped'));
    })();
  });

  /** The codec of each batch stored for partition 0 of `topic`, in offset order, read from its segment files. */
  function storedCodecs(topic: string): string[] {
    const dir = path.join(dataDir, `${topic}-0`);
    const codecs: string[] = [];
    for (const file of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.log'))
      .sort())
      forEachBatch(fs.readFileSync(path.join(dir, file)), (h) =>
        codecs.push(CODEC_NAMES[compressionOf(h.attributes)] as string),
      );
    return codecs;
  }

  /** Records worth compressing: keys, headers, and values that repeat themselves. */
  const compressible = (codec: string) =>
    [0, 1, 2].map((i) => ({ key: `${codec}-${i}`, value: `${codec} value ${i} `.repeat(40).trim() }));

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    it(`kcat -z ${codec}: the batch is stored as it came and read back over HTTP (v2 consumer, SSE) and by kcat`, (t) => {
      if (!need(t, KCAT, 'kcat')) return;
      return (async () => {
        const topic = `kcat-z-${codec}`;
        const records = compressible(codec);
        const input = records.map((r) => `${r.key}:${r.value}\n`).join('');
        run(KCAT, ['-b', broker, '-P', '-t', topic, '-z', codec, '-K:', '-H', `codec=${codec}`], input);
        assert.deepEqual(new Set(storedCodecs(topic)), new Set([codec]), 'every batch in the codec it came in');
        const expected = records.map((r, offset) => ({
          offset,
          key: b64(r.key),
          value: b64(r.value),
          headers: [{ key: 'codec', value: b64(codec) }],
        }));
        assert.deepEqual(await readOverV2(server.baseUrl, topic, 0, 0, 3), expected);
        assert.deepEqual(await readOverSse(server.baseUrl, topic, 3), expected);
        const read = jsonLines<KcatRecord>(
          run(KCAT, [
            '-b',
            broker,
            '-C',
            '-t',
            topic,
            '-o',
            'beginning',
            '-e',
            '-q',
            '-J',
            '-X',
            'check.crcs=true',
          ]).toString(),
        );
        assert.deepEqual(
          read.map((r) => ({ offset: r.offset, key: r.key, payload: r.payload })),
          records.map((r, offset) => ({ offset, key: r.key, payload: r.value })),
        );
      })();
    });

    it(`kafka-python compression_type='${codec}': stored as it came, read back over HTTP and by kafka-python`, (t) => {
      if (!need(t, PYTHON, 'python3-kafka (kafka-python)')) return;
      if (!need(t, PYTHON_CODECS, 'python3-snappy, python3-lz4 and python3-zstandard')) return;
      return (async () => {
        const topic = `python-${codec}`;
        await createTopic(topic, 1);
        const records = compressible(codec);
        const request = {
          bootstrap: broker,
          compression: codec,
          produce: records.map((r) => ({ topic, partition: 0, key: b64(r.key), value: b64(r.value) })),
          consume: { topic, partition: 0, offset: 0, count: 3 },
        };
        const answer = JSON.parse(run(PYTHON as string, [PYTHON_CLIENT], JSON.stringify(request)).toString()) as {
          produced: unknown[];
          consumed: unknown[];
        };
        const expected = records.map((r, offset) => ({ offset, key: b64(r.key), value: b64(r.value), headers: [] }));
        assert.deepEqual(
          answer.produced,
          [0, 1, 2].map((offset) => ({ partition: 0, offset })),
        );
        assert.deepEqual(answer.consumed, expected);
        assert.deepEqual(new Set(storedCodecs(topic)), new Set([codec]), 'every batch in the codec it came in');
        assert.deepEqual(await readOverV2(server.baseUrl, topic, 0, 0, 3), expected);
      })();
    });
  }

  it('compression.type=zstd: HTTP produce writes zstd batches, a kcat gzip or snappy batch is recompressed once, kcat reads them all', (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    return (async () => {
      await createTopic('zstd-topic', 1, { 'compression.type': 'zstd' });
      const produced = await fetch(`${server.baseUrl}/topics/zstd-topic`, {
        method: 'POST',
        headers: { 'Content-Type': BINARY_V2 },
        body: JSON.stringify({ records: [{ key: b64('http'), value: b64('over http '.repeat(30)) }] }),
      });
      assert.equal(produced.status, 200, await produced.text());
      run(KCAT, ['-b', broker, '-P', '-t', 'zstd-topic', '-z', 'gzip', '-K:'], `kcat-gzip:${'gzipped '.repeat(30)}\n`);
      run(
        KCAT,
        ['-b', broker, '-P', '-t', 'zstd-topic', '-z', 'snappy', '-K:'],
        `kcat-snappy:${'snappy '.repeat(30)}\n`,
      );
      run(KCAT, ['-b', broker, '-P', '-t', 'zstd-topic', '-K:'], 'kcat-none:plain\n');
      assert.deepEqual(storedCodecs('zstd-topic'), ['zstd', 'zstd', 'zstd', 'zstd']);
      const read = jsonLines<KcatRecord>(
        run(KCAT, [
          '-b',
          broker,
          '-C',
          '-t',
          'zstd-topic',
          '-o',
          'beginning',
          '-e',
          '-q',
          '-J',
          '-X',
          'check.crcs=true',
        ]).toString(),
      );
      assert.deepEqual(
        read.map((r) => [r.offset, r.key, r.payload]),
        [
          [0, 'http', 'over http '.repeat(30)],
          [1, 'kcat-gzip', 'gzipped '.repeat(30)],
          [2, 'kcat-snappy', 'snappy '.repeat(30)],
          [3, 'kcat-none', 'plain'],
        ],
      );
      // compression.type=uncompressed undoes a client's codec.
      await createTopic('uncompressed-topic', 1, { 'compression.type': 'uncompressed' });
      run(KCAT, ['-b', broker, '-P', '-t', 'uncompressed-topic', '-z', 'lz4', '-K:'], `k:${'lz4 '.repeat(40)}\n`);
      assert.deepEqual(storedCodecs('uncompressed-topic'), ['none']);
      assert.deepEqual(
        (await readOverV2(server.baseUrl, 'uncompressed-topic', 0, 0, 1)).map((r) => r.value),
        [b64('lz4 '.repeat(40))],
      );
    })();
  });

  it('kafka-python produces and consumes without a group (assign + seek), and reads what kcat wrote', (t) => {
    if (!need(t, PYTHON, 'python3-kafka (kafka-python)')) return;
    return (async () => {
      await createTopic('python', 2);
      const request = {
        bootstrap: broker,
        produce: [
          {
            topic: 'python',
            partition: 1,
            key: b64('p1'),
            value: b64('one'),
            headers: [{ key: 'h', value: b64('x') }],
          },
          { topic: 'python', partition: 1, key: null, value: b64('twö') },
          { topic: 'python', partition: 1, key: b64('p3'), value: null },
        ],
        consume: { topic: 'python', partition: 1, offset: 1, count: 2 },
      };
      const answer = JSON.parse(run(PYTHON as string, [PYTHON_CLIENT], JSON.stringify(request)).toString()) as {
        produced: Array<{ partition: number; offset: number }>;
        consumed: Array<{ offset: number; key: string | null; value: string | null; headers: unknown[] }>;
        beginning: number;
        end: number;
      };
      assert.deepEqual(answer.produced, [
        { partition: 1, offset: 0 },
        { partition: 1, offset: 1 },
        { partition: 1, offset: 2 },
      ]);
      assert.deepEqual(answer.consumed, [
        { offset: 1, key: null, value: b64('twö'), headers: [] },
        { offset: 2, key: b64('p3'), value: null, headers: [] },
      ]);
      assert.equal(answer.beginning, 0);
      assert.equal(answer.end, 3);
      // The same records over HTTP, and kafka-python reading what another client wrote.
      assert.deepEqual(await readOverV2(server.baseUrl, 'python', 1, 0, 3), [
        { offset: 0, key: b64('p1'), value: b64('one'), headers: [{ key: 'h', value: b64('x') }] },
        { offset: 1, key: null, value: b64('twö'), headers: [] },
        { offset: 2, key: b64('p3'), value: null, headers: [] },
      ]);
      if (KCAT === null) return;
      run(KCAT, ['-b', broker, '-P', '-t', 'python', '-p', '0', '-K:', '-H', 'from=kcat'], 'kk:vv\n');
      const read = JSON.parse(
        run(
          PYTHON as string,
          [PYTHON_CLIENT],
          JSON.stringify({ bootstrap: broker, consume: { topic: 'python', partition: 0, offset: 0, count: 1 } }),
        ).toString(),
      ) as { consumed: unknown[] };
      assert.deepEqual(read.consumed, [
        { offset: 0, key: b64('kk'), value: b64('vv'), headers: [{ key: 'from', value: b64('kcat') }] },
      ]);
    })();
  });

  it('kafka-python commits offsets as a standalone consumer (no group membership); the HTTP side sees them', (t) => {
    if (!need(t, PYTHON, 'python3-kafka (kafka-python)')) return;
    return (async () => {
      await createTopic('committed', 1);
      const request = {
        bootstrap: broker,
        commit: { group: 'py-standalone', topic: 'committed', partition: 0, offset: 7, metadata: 'note' },
      };
      const answer = JSON.parse(run(PYTHON as string, [PYTHON_CLIENT], JSON.stringify(request)).toString());
      assert.deepEqual(answer, { committed: 7 });
      // The v3 lag route reads the same committed offsets.
      const lag = await fetch(
        `${server.baseUrl}/v3/clusters/${clusterId}/consumer-groups/py-standalone/lags/committed/partitions/0`,
      );
      assert.equal(lag.status, 200);
      assert.equal(((await lag.json()) as { current_offset: number }).current_offset, 7);
    })();
  });

  it('OffsetCommit and OffsetFetch over the wire: per-partition errors, null topics fetch all, a member id is unknown', async () => {
    await createTopic('wire-commits', 2);
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const coordinator = await conn.call(API_KEYS.FindCoordinator, 1, { key: 'wire', keyType: 0 });
      assert.deepEqual(
        { errorCode: coordinator.errorCode, nodeId: coordinator.nodeId, port: coordinator.port },
        { errorCode: 0, nodeId: 0, port: server.kafkaPort },
      );
      const txn = await conn.call(API_KEYS.FindCoordinator, 1, { key: 'tx', keyType: 1 });
      assert.equal(txn.errorCode, 53); // TRANSACTIONAL_ID_AUTHORIZATION_FAILED: no transactions
      const commit = await conn.call(API_KEYS.OffsetCommit, 2, {
        groupId: 'wire',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        retentionTimeMs: -1,
        topics: [
          {
            name: 'wire-commits',
            partitions: [
              { partitionIndex: 0, committedOffset: 5n, committedMetadata: 'a' },
              { partitionIndex: 9, committedOffset: 1n, committedMetadata: null },
              { partitionIndex: 1, committedOffset: 6n, committedMetadata: 'x'.repeat(5000) },
            ],
          },
          { name: 'no-such-topic', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] },
        ],
      });
      assert.deepEqual(
        (commit.topics as Message[]).map((tp) => (tp.partitions as Message[]).map((p) => p.errorCode)),
        [[0, 3, 12], [3]],
      );
      const fetchAll = await conn.call(API_KEYS.OffsetFetch, 3, { groupId: 'wire', topics: null });
      assert.deepEqual(fetchAll.topics, [
        {
          name: 'wire-commits',
          partitions: [
            { partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, metadata: 'a', errorCode: 0 },
          ],
        },
      ]);
      const fetchOne = await conn.call(API_KEYS.OffsetFetch, 1, {
        groupId: 'wire',
        topics: [{ name: 'wire-commits', partitionIndexes: [1] }],
      });
      assert.equal(firstOf(fetchOne.topics).committedOffset, -1n);
      const asMember = await conn.call(API_KEYS.OffsetCommit, 2, {
        groupId: 'wire',
        generationIdOrMemberEpoch: 1,
        memberId: 'someone',
        retentionTimeMs: -1,
        topics: [
          { name: 'wire-commits', partitions: [{ partitionIndex: 0, committedOffset: 9n, committedMetadata: null }] },
        ],
      });
      assert.equal(firstOf(asMember.topics).errorCode, 25);
    } finally {
      conn.close();
    }
  });

  it('kafkajs creates, describes and deletes topics, produces with keys and headers, and reads offsets', async () => {
    const kafka = new Kafka({
      brokers: [broker],
      clientId: 'samsa-test',
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await admin.connect();
    await producer.connect();
    try {
      assert.equal(
        await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }], waitForLeaders: true }),
        true,
      );
      assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 2 }] }), false);
      await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad name!' }] }), /invalid|Topic/i);
      const { topics } = await admin.fetchTopicMetadata({ topics: ['kjs'] });
      assert.deepEqual(
        topics[0]?.partitions.map((p) => ({ id: p.partitionId, leader: p.leader, isr: p.isr })),
        [
          { id: 0, leader: 0, isr: [0] },
          { id: 1, leader: 0, isr: [0] },
        ],
      );
      const sent = await producer.send({
        topic: 'kjs',
        messages: [
          { partition: 1, key: 'a', value: 'one', headers: { h: 'x' } },
          { partition: 1, key: null, value: 'two' },
        ],
      });
      assert.deepEqual(
        sent.map((r) => ({ partition: r.partition, errorCode: r.errorCode, baseOffset: r.baseOffset })),
        [{ partition: 1, errorCode: 0, baseOffset: '0' }],
      );
      const offsets = await admin.fetchTopicOffsets('kjs');
      assert.deepEqual(
        offsets
          .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
          .sort((x, y) => x.partition - y.partition),
        [
          { partition: 0, low: '0', high: '0' },
          { partition: 1, low: '0', high: '2' },
        ],
      );
      assert.deepEqual(await readOverV2(server.baseUrl, 'kjs', 1, 0, 2), [
        { offset: 0, key: b64('a'), value: b64('one'), headers: [{ key: 'h', value: b64('x') }] },
        { offset: 1, key: null, value: b64('two'), headers: [] },
      ]);
      await admin.deleteTopics({ topics: ['kjs'] });
      assert.equal((await fetch(`${server.baseUrl}/topics/kjs`)).status, 404);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('a bad batch is answered with its Kafka error for that partition, and the connection stays usable', async () => {
    await createTopic('bad-batches', 1);
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const good = encodeRecordBatch([{ key: null, value: Buffer.from('fine'), headers: [], timestamp: Date.now() }], {
        baseOffset: 0,
      });
      const badCrc = Buffer.from(good);
      badCrc.writeUInt8(badCrc.readUInt8(badCrc.length - 1) ^ 0xff, badCrc.length - 1);
      const magic1 = Buffer.from(good);
      magic1.writeInt8(1, 16);
      // The CRC holds, but the first record says it is longer than the batch.
      const badRecord = withCrc(Buffer.from(good), (b) => b.writeInt8(0x7e, 61));
      const codec7 = withCrc(Buffer.from(good), (b) => b.writeInt16BE(7, 21));
      const gzip = encodeRecordBatch(
        [{ key: null, value: Buffer.from('zipped'), headers: [], timestamp: Date.now() }],
        {
          baseOffset: 0,
          compression: 1,
        },
      );
      const cases: Array<[string, Buffer | null, number]> = [
        ['bad-batches', badCrc, 2], // CORRUPT_MESSAGE
        ['bad-batches', magic1, 43], // UNSUPPORTED_FOR_MESSAGE_FORMAT
        ['bad-batches', good.subarray(0, 40), 2],
        ['bad-batches', badRecord, 2],
        ['bad-batches', codec7, 76], // UNSUPPORTED_COMPRESSION_TYPE
        ['bad-batches', null, 87], // INVALID_RECORD
        ['compacted', good, 87], // no key
        ['bad-batches', good, 0],
        ['bad-batches', gzip, 0],
      ];
      await createTopic('compacted', 1, { 'cleanup.policy': 'compact' });
      for (const [topic, records, errorCode] of cases) {
        const answer = await conn.call(API_KEYS.Produce, 7, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 1000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        });
        const partition = firstPartition(answer);
        assert.equal(partition.errorCode, errorCode, `answered ${partition.errorCode}: ${partition.errorMessage}`);
      }
      const unknown = await conn.call(API_KEYS.Produce, 7, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 1000,
        topicData: [{ name: 'no-such-topic', partitionData: [{ index: 0, records: good }] }],
      });
      assert.equal(firstPartition(unknown).errorCode, 3);
    } finally {
      conn.close();
    }
    const offsets = await (await fetch(`${server.baseUrl}/topics/bad-batches/partitions/0/offsets`)).json();
    assert.deepEqual(offsets, { beginning_offset: 0, end_offset: 2 });
    // The gzip batch is stored as it came and the HTTP side reads it.
    assert.deepEqual(
      (await readOverV2(server.baseUrl, 'bad-batches', 0, 0, 2)).map((r) => r.value),
      [b64('fine'), b64('zipped')],
    );
  });

  it('Metadata creates a topic a client names only when the client allows it (auto.create.topics.enable is on)', async () => {
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const refused = await conn.call(API_KEYS.Metadata, 4, {
        topics: [{ name: 'auto-1' }],
        allowAutoTopicCreation: false,
      });
      assert.equal((refused.topics as Message[])[0]?.errorCode, 3);
      const created = await conn.call(API_KEYS.Metadata, 4, {
        topics: [{ name: 'auto-1' }],
        allowAutoTopicCreation: true,
      });
      const topic = (created.topics as Message[])[0] as Message;
      assert.equal(topic.errorCode, 0);
      assert.equal((topic.partitions as Message[]).length, 1);
      const invalid = await conn.call(API_KEYS.Metadata, 4, {
        topics: [{ name: 'bad name!' }],
        allowAutoTopicCreation: true,
      });
      assert.equal((invalid.topics as Message[])[0]?.errorCode, 17);
    } finally {
      conn.close();
    }
    assert.equal((await fetch(`${server.baseUrl}/topics/auto-1`)).status, 200);
  });

  it('survives random and truncated frames for every api it serves; other connections keep working', async () => {
    const port = server.kafkaPort as number;
    const watcher = new RawConnection(port);
    const keys = [
      API_KEYS.Produce,
      API_KEYS.Fetch,
      API_KEYS.ListOffsets,
      API_KEYS.Metadata,
      19,
      20,
      18,
      9,
      11,
      14,
      15,
      16,
      23,
      42,
      77,
    ];
    const frame = fc
      .record({
        key: fc.constantFrom(...keys),
        version: fc.integer({ min: -1, max: 14 }),
        body: fc.uint8Array({ maxLength: 96 }),
        cut: fc.nat({ max: 120 }),
      })
      .map(({ key, version, body, cut }) => {
        const payload = Buffer.alloc(10 + body.length);
        payload.writeInt16BE(key, 0);
        payload.writeInt16BE(version, 2);
        payload.writeInt32BE(1, 4);
        payload.writeInt16BE(-1, 8);
        Buffer.from(body).copy(payload, 10);
        const size = Buffer.alloc(4);
        size.writeInt32BE(payload.length);
        return Buffer.concat([size, payload]).subarray(0, 4 + cut);
      });
    try {
      await fc.assert(
        fc.asyncProperty(frame, async (bytes) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('error', () => {});
          socket.on('data', () => {});
          socket.end(bytes);
          await new Promise<void>((resolve) => {
            socket.once('close', () => resolve());
            setTimeout(() => {
              socket.destroy();
              resolve();
            }, 200);
          });
        }),
        { numRuns: 200 },
      );
      const metadata = await watcher.call(API_KEYS.Metadata, 1, { topics: null });
      assert.equal((metadata.brokers as Message[]).length, 1);
      assert.equal(server.child.exitCode, null, 'the server is still running');
      assert.equal((await fetch(`${server.baseUrl}/readyz`)).status, 200);
    } finally {
      watcher.close();
    }
  });
});

/** Changes a batch after its CRC was computed, then computes the CRC again (so only the change is wrong). */
function withCrc(batch: Buffer, change: (b: Buffer) => void): Buffer {
  change(batch);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** The first partition's answer of a Produce response. */
function firstPartition(answer: Message): Message {
  const topic = (answer.responses as Message[])[0] as Message;
  return (topic.partitionResponses as Message[])[0] as Message;
}

/** The first partition of the first topic of an OffsetCommit or OffsetFetch answer. */
function firstOf(topics: unknown): Message {
  const topic = (topics as Message[])[0] as Message;
  return (topic.partitions as Message[])[0] as Message;
}

describe('Kafka listener settings of samsa serve', () => {
  it('--kafka-advertised-listener is what Metadata hands out; with auto-creation off an unknown topic is UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-kafka-settings-'));
    const server = await startServer(dataDir, [
      '--kafka-port',
      String(await freePort()),
      '--kafka-advertised-listener',
      'kafka.example.com:19093',
      '--auto.create.topics.enable',
      'false',
    ]);
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const answer = await conn.call(API_KEYS.Metadata, 4, {
        topics: [{ name: 'nope' }],
        allowAutoTopicCreation: true,
      });
      assert.deepEqual(answer.brokers, [{ nodeId: 0, host: 'kafka.example.com', port: 19093, rack: null }]);
      assert.equal((answer.topics as Message[])[0]?.errorCode, 3);
      assert.equal((await fetch(`${server.baseUrl}/topics/nope`)).status, 404);
    } finally {
      conn.close();
      server.child.kill('SIGTERM');
      await server.exited;
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
