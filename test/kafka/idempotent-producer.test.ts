/**
 * Idempotent producers through the Kafka listener of a real `samsa serve` process: InitProducerId,
 * and a partition that keeps each producer's records exactly once and in order. Raw protocol for
 * the rules (a retry answered with its first offsets, a gap refused, an older epoch fenced, all of
 * it after a kill -9 and restart too), then the real clients with idempotence on: kafkajs,
 * librdkafka through python3-confluent-kafka, and kcat. Transactions are refused clearly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@node-rs/crc32';
import { Kafka, logLevel } from 'kafkajs';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { type DecodedRecord, decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';
import { freePort, type ServerProcess, startServer } from '../process/server-process.js';
import { initProducerId, produceOne as produce, producerBatch } from './producer-requests.js';
import { RawConnection } from './raw-connection.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONFLUENT_CLIENT = path.join(HERE, 'confluent-kafka-client.py');
const CLIENT_TIMEOUT_MS = 60_000;

const ERRORS = {
  NONE: 0,
  UNKNOWN_PRODUCER_ID: 59,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  INVALID_PRODUCER_EPOCH: 47,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  INVALID_REQUEST: 42,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
};

function kcatBinary(): string | null {
  return spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0 ? 'kcat' : null;
}

/** Debian's python3-confluent-kafka lives in the system interpreter. */
function pythonWithConfluentKafka(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', 'import confluent_kafka'], { stdio: 'ignore' }).status === 0) return python;
  }
  return null;
}

const KCAT = kcatBinary();
const PYTHON = pythonWithConfluentKafka();

/** Skips a test when a client is missing, except under CI, where a missing client is a failure. */
function need(t: TestContext, tool: string | null, name: string): tool is string {
  if (tool !== null) return true;
  const message = `${name} is not installed (Debian: apt-get install kcat python3-confluent-kafka; .ci/run installs them)`;
  if (process.env.CI === 'true') assert.fail(message);
  t.skip(message);
  return false;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, timeout: CLIENT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  if (result.error) throw result.error;
  assert.equal(
    result.status,
    0,
    `${command} ${args.join(' ')} exited ${result.status}\n${result.stdout?.toString()}\n${result.stderr?.toString()}`,
  );
  return result.stdout.toString();
}

/** Every record of partition 0 from offset 0, through Fetch. */
async function readAll(conn: RawConnection, topic: string): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for (;;) {
    const answer = await conn.call(API_KEYS.Fetch, 4, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: BigInt(out.length), partitionMaxBytes: 1 << 20 }] }],
    });
    const t = (answer.responses as Message[])[0] as Message;
    const p = (t.partitions as Message[])[0] as Message;
    assert.equal(p.errorCode, 0);
    const before = out.length;
    forEachBatch(p.records as Buffer, (_h, bytes) => {
      for (const r of decodeRecordBatch(bytes)) if (r.offset >= out.length) out.push(r);
    });
    if (out.length === before) return out;
  }
}

const valuesOf = (records: DecodedRecord[]) => records.map((r) => r.value?.toString());

describe('idempotent producers against samsa serve', () => {
  let dataDir: string;
  let server: ServerProcess;
  let clusterId: string;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idempotence-'));
    server = await startServer(dataDir, ['--kafka-port', String(await freePort())]);
    const clusters = (await (await fetch(`${server.baseUrl}/v3/clusters`)).json()) as {
      data: Array<{ cluster_id: string }>;
    };
    clusterId = clusters.data[0]?.cluster_id as string;
  });

  after(async () => {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.stderr());
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function createTopic(name: string, partitions = 1): Promise<void> {
    const res = await fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ topic_name: name, partitions_count: partitions }),
    });
    assert.equal(res.status, 201, await res.text());
  }

  /** Kills the server with SIGKILL (no clean shutdown) and starts it again on the same data dir. */
  async function killAndRestart(): Promise<void> {
    server.child.kill('SIGKILL');
    await server.exited;
    server = await startServer(dataDir, ['--kafka-port', String(await freePort())]);
  }

  it('InitProducerId hands out a new producer id each time, unique across restarts; v3 bumps a known id’s epoch', async () => {
    let conn = new RawConnection(server.kafkaPort as number);
    const ids = new Set<bigint>();
    try {
      for (const version of [0, 1, 2, 3, 4]) {
        const answer = await initProducerId(conn, version);
        assert.equal(answer.errorCode, ERRORS.NONE);
        assert.equal(answer.producerEpoch, 0);
        ids.add(answer.producerId as bigint);
      }
      assert.equal(ids.size, 5);
      const first = [...ids][0] as bigint;
      const bumped = await initProducerId(conn, 3, { producerId: first, producerEpoch: 0 });
      assert.deepEqual([bumped.errorCode, bumped.producerId, bumped.producerEpoch], [0, first, 1]);
      const half = await initProducerId(conn, 3, { producerId: first, producerEpoch: -1 });
      assert.equal(half.errorCode, ERRORS.INVALID_REQUEST);
    } finally {
      conn.close();
    }
    await killAndRestart();
    conn = new RawConnection(server.kafkaPort as number);
    try {
      const answer = await initProducerId(conn, 4);
      assert.equal(answer.errorCode, ERRORS.NONE);
      assert.ok(!ids.has(answer.producerId as bigint), 'a restarted node hands out an id it never gave');
      assert.ok((answer.producerId as bigint) < 2n ** 52n);
    } finally {
      conn.close();
    }
  });

  it('a retried batch is answered with its first offset and not written again; a gap and an older epoch are refused', async () => {
    await createTopic('idem-raw');
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const { producerId } = await initProducerId(conn, 4);
      const id = Number(producerId);
      const first = producerBatch(id, 0, 0, ['a', 'b']);
      assert.deepEqual(await produceOffsets(conn, first), { errorCode: 0, baseOffset: 0n });
      assert.deepEqual(await produceOffsets(conn, producerBatch(id, 0, 2, ['c'])), { errorCode: 0, baseOffset: 2n });
      // The answer to `first` was lost; the producer sends the same batch again.
      assert.deepEqual(await produceOffsets(conn, producerBatch(id, 0, 0, ['a', 'b'])), {
        errorCode: 0,
        baseOffset: 0n,
      });
      assert.deepEqual(await produceOffsets(conn, producerBatch(id, 0, 5, ['gap'])), {
        errorCode: ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER,
        baseOffset: -1n,
      });
      // A newer epoch of the same id (after InitProducerId v3) starts at sequence 0 and fences the old one.
      const bumped = await initProducerId(conn, 3, { producerId, producerEpoch: 0 });
      assert.equal(bumped.producerEpoch, 1);
      assert.deepEqual(await produceOffsets(conn, producerBatch(id, 1, 0, ['d'])), { errorCode: 0, baseOffset: 3n });
      assert.deepEqual(await produceOffsets(conn, producerBatch(id, 0, 3, ['zombie'])), {
        errorCode: ERRORS.INVALID_PRODUCER_EPOCH,
        baseOffset: -1n,
      });
      assert.deepEqual(valuesOf(await readAll(conn, 'idem-raw')), ['a', 'b', 'c', 'd']);
    } finally {
      conn.close();
    }

    async function produceOffsets(c: RawConnection, batch: Buffer) {
      const p = await produce(c, 'idem-raw', batch);
      return { errorCode: p.errorCode, baseOffset: p.baseOffset };
    }
  });

  it('producer state is rebuilt from the log after kill -9: retries still get their first offsets, gaps are still refused', async () => {
    await createTopic('idem-restart');
    let conn = new RawConnection(server.kafkaPort as number);
    let id: number;
    try {
      id = Number((await initProducerId(conn, 4)).producerId);
      for (let seq = 0; seq < 6; seq++) {
        const p = await produce(conn, 'idem-restart', producerBatch(id, 0, seq, [`r${seq}`]));
        assert.equal(p.baseOffset, BigInt(seq));
      }
    } finally {
      conn.close();
    }
    await killAndRestart();
    conn = new RawConnection(server.kafkaPort as number);
    try {
      // The last five batches are remembered: each retry is answered with where it went.
      for (let seq = 1; seq < 6; seq++) {
        const p = await produce(conn, 'idem-restart', producerBatch(id, 0, seq, [`r${seq}`]));
        assert.deepEqual([p.errorCode, p.baseOffset], [0, BigInt(seq)]);
      }
      const gap = await produce(conn, 'idem-restart', producerBatch(id, 0, 8, ['gap']));
      assert.equal(gap.errorCode, ERRORS.OUT_OF_ORDER_SEQUENCE_NUMBER);
      const next = await produce(conn, 'idem-restart', producerBatch(id, 0, 6, ['r6']));
      assert.deepEqual([next.errorCode, next.baseOffset], [0, 6n]);
      assert.deepEqual(valuesOf(await readAll(conn, 'idem-restart')), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    } finally {
      conn.close();
    }
  });

  it('Kafka producers and HTTP Idempotency-Keys share a partition without taking each other’s batches', async () => {
    await createTopic('idem-mixed');
    const conn = new RawConnection(server.kafkaPort as number);
    const httpProduce = () =>
      fetch(`${server.baseUrl}/v3/clusters/${clusterId}/topics/idem-mixed/records`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'order-17' },
        body: JSON.stringify({ partition_id: 0, value: { type: 'STRING', data: 'http' } }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { offset: number } }));
    try {
      const id = Number((await initProducerId(conn, 4)).producerId);
      assert.equal((await produce(conn, 'idem-mixed', producerBatch(id, 0, 0, ['k0']))).errorCode, 0);
      const http = await httpProduce();
      assert.equal(http.status, 200, JSON.stringify(http.body));
      assert.equal(http.body.offset, 1);
      assert.equal((await produce(conn, 'idem-mixed', producerBatch(id, 0, 1, ['k1']))).baseOffset, 2n);
      assert.equal((await httpProduce()).body.offset, 1, 'the HTTP retry finds its own batch');
      assert.equal((await produce(conn, 'idem-mixed', producerBatch(id, 0, 1, ['k1']))).baseOffset, 2n);
      // An id in the Idempotency-Key range was never given to a Kafka producer.
      const forged = await produce(conn, 'idem-mixed', producerBatch(2 ** 52 + 1, 0, 0, ['forged']));
      assert.equal(forged.errorCode, ERRORS.UNKNOWN_PRODUCER_ID);
      assert.deepEqual(valuesOf(await readAll(conn, 'idem-mixed')), ['k0', 'http', 'k1']);
    } finally {
      conn.close();
    }
  });

  it('transactions are refused clearly: a transactional InitProducerId, coordinator lookup and batch', async () => {
    await createTopic('idem-txn');
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const init = await initProducerId(conn, 4, { transactionalId: 'tx-1' });
      assert.deepEqual([init.errorCode, init.producerId], [ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, -1n]);
      const coordinator = await conn.call(API_KEYS.FindCoordinator, 2, { key: 'tx-1', keyType: 1 });
      assert.equal(coordinator.errorCode, ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      assert.match(coordinator.errorMessage as string, /transactions are not supported/);
      const id = Number((await initProducerId(conn, 4)).producerId);
      const transactional = producerBatch(id, 0, 0, ['in-txn']);
      transactional.writeInt16BE(transactional.readInt16BE(21) | 0x10, 21);
      transactional.writeUInt32BE(crc32c(transactional.subarray(21)), 17);
      const p = await produce(conn, 'idem-txn', transactional);
      assert.equal(p.errorCode, ERRORS.UNSUPPORTED_FOR_MESSAGE_FORMAT);
      assert.match(p.errorMessage as string, /transactions are not supported/);
      assert.deepEqual(await readAll(conn, 'idem-txn'), []);
    } finally {
      conn.close();
    }
  });

  it('kafkajs with idempotent: true writes every record once, in order', async () => {
    await createTopic('idem-kafkajs');
    const kafka = new Kafka({
      clientId: 'idem',
      brokers: [`127.0.0.1:${server.kafkaPort}`],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
    await producer.connect();
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      const messagesOf = (i: number) => Array.from({ length: 5 }, (_, j) => ({ value: `m${i * 5 + j}` }));
      for (let i = 0; i < 10; i++) await producer.send({ topic: 'idem-kafkajs', acks: -1, messages: messagesOf(i) });
      // Sends in flight at once: kafkajs numbers each when it goes out, so their order is its own.
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          producer.send({ topic: 'idem-kafkajs', acks: -1, messages: messagesOf(10 + i) }),
        ),
      );
      const stored = valuesOf(await readAll(conn, 'idem-kafkajs'));
      const expected = Array.from({ length: 100 }, (_, i) => `m${i}`);
      assert.deepEqual(stored.slice(0, 50), expected.slice(0, 50));
      assert.deepEqual([...stored].sort(), [...expected].sort(), 'every record once');
      for (let at = 50; at < 100; at += 5) {
        const first = Number(stored[at]?.slice(1));
        assert.deepEqual(stored.slice(at, at + 5), expected.slice(first, first + 5), 'each send whole and in order');
      }
    } finally {
      conn.close();
      await producer.disconnect();
    }
  });

  it('librdkafka (python3-confluent-kafka) with enable.idempotence writes every record once, in order; a transactional one is refused at once', async (t) => {
    if (!need(t, PYTHON, 'python3-confluent-kafka')) return;
    await createTopic('idem-librdkafka');
    const broker = `127.0.0.1:${server.kafkaPort}`;
    const out = JSON.parse(run(PYTHON, [CONFLUENT_CLIENT, 'produce', broker, 'idem-librdkafka', '500'])) as {
      errors: string[];
      offsets: number[];
    };
    assert.deepEqual(out.errors, []);
    assert.deepEqual(
      out.offsets,
      Array.from({ length: 500 }, (_, i) => i),
    );
    const conn = new RawConnection(server.kafkaPort as number);
    try {
      assert.deepEqual(
        valuesOf(await readAll(conn, 'idem-librdkafka')),
        Array.from({ length: 500 }, (_, i) => `v${i}`),
      );
    } finally {
      conn.close();
    }
    const txn = JSON.parse(run(PYTHON, [CONFLUENT_CLIENT, 'transaction', broker, 'idem-librdkafka'])) as {
      name: string;
      fatal: boolean;
      message: string;
    };
    assert.equal(txn.name, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    assert.equal(txn.fatal, true);
    assert.match(txn.message, /transactions are not supported/);
  });

  it('kcat -X enable.idempotence=true writes every line once, in order', async (t) => {
    if (!need(t, KCAT, 'kcat')) return;
    await createTopic('idem-kcat');
    const broker = `127.0.0.1:${server.kafkaPort}`;
    const lines = Array.from({ length: 200 }, (_, i) => `line-${i}`);
    run(
      KCAT,
      ['-b', broker, '-P', '-t', 'idem-kcat', '-p', '0', '-X', 'enable.idempotence=true'],
      `${lines.join('\n')}\n`,
    );
    const read = run(KCAT, [
      '-b',
      broker,
      '-C',
      '-t',
      'idem-kcat',
      '-p',
      '0',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      '%o %s\n',
    ]);
    assert.deepEqual(
      read.trim().split('\n'),
      lines.map((line, i) => `${i} ${line}`),
    );
  });
});
