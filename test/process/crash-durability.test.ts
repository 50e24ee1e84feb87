import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import { decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';
import { startServer } from './server-process.js';

const TOPIC = 'durable';
const PARTITIONS = 3;
const PRODUCERS = 8;

interface Acked {
  partition: number;
  offset: number;
  value: string;
}

/** Produces single-record requests in a loop until `stop` is set; collects what was acknowledged. */
async function producer(baseUrl: string, id: number, acked: Acked[], state: { stop: boolean }): Promise<void> {
  for (let n = 0; !state.stop; n++) {
    const value = { producer: id, n };
    try {
      const res = await fetch(`${baseUrl}/topics/${TOPIC}?acks=all`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ key: `p${id}-${n % 7}`, value }, { value: { ...value, second: true } }] }),
      });
      if (res.status !== 200) continue;
      const body = (await res.json()) as {
        offsets: { partition: number; offset: number; error_code: number | null }[];
      };
      body.offsets.forEach((o, i) => {
        assert.equal(o.error_code, null);
        acked.push({
          partition: o.partition,
          offset: o.offset,
          value: JSON.stringify(i === 0 ? value : { ...value, second: true }),
        });
      });
    } catch {
      return; // the server died under us: whatever had no answer was never acknowledged
    }
  }
}

async function readAll(dataDir: string): Promise<Map<string, string>> {
  const broker = await Broker.open({ dataDir, nodeId: 0, brokerConfigs: {} });
  await broker.start();
  const stored = new Map<string, string>();
  try {
    for (let p = 0; p < PARTITIONS; p++) {
      let offset = 0;
      for (;;) {
        const { records, highWatermark } = await broker.fetch(TOPIC, p, offset, 1024 * 1024);
        forEachBatch(records, (header, batch) => {
          for (const r of decodeRecordBatch(batch)) stored.set(`${p}:${r.offset}`, r.value?.toString('utf8') ?? '');
          offset = header.lastOffset + 1;
        });
        if (offset >= highWatermark || records.length === 0) break;
      }
    }
  } finally {
    await broker.shutdown();
  }
  return stored;
}

test('kill -9 while producing loses no acknowledged record, and the restarted node continues the offsets', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-crash-'));
  try {
    for (let round = 0; round < 3; round++) {
      const server = await startServer(dataDir, [
        '--num.partitions',
        String(PARTITIONS),
        '--log.segment.bytes',
        '65536',
      ]);
      const acked: Acked[] = [];
      const state = { stop: false };
      const producers = Array.from({ length: PRODUCERS }, (_, i) =>
        producer(server.baseUrl, round * 100 + i, acked, state),
      );
      // Let some hundreds of requests land, then kill mid-stream with requests in flight.
      const deadline = Date.now() + 10_000;
      while (acked.length < 600 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      server.child.kill('SIGKILL');
      assert.equal(await server.exited, 'SIGKILL');
      state.stop = true;
      await Promise.all(producers);
      assert.ok(acked.length >= 600, `only ${acked.length} records acknowledged before the kill`);

      // A restart recovers, serves every acknowledged record, and appends after them.
      const restarted = await startServer(dataDir);
      const res = await fetch(`${restarted.baseUrl}/topics/${TOPIC}/partitions/0/offsets`);
      assert.equal(res.status, 200);
      restarted.child.kill('SIGTERM');
      assert.equal(await restarted.exited, 0, restarted.stderr());

      const stored = await readAll(dataDir);
      let missing = 0;
      for (const a of acked) {
        const v = stored.get(`${a.partition}:${a.offset}`);
        if (v !== a.value) missing++;
      }
      assert.equal(
        missing,
        0,
        `${missing} of ${acked.length} acknowledged records missing or different after kill -9 (round ${round})`,
      );
      for (let p = 0; p < PARTITIONS; p++) {
        const offsets = [...stored.keys()].filter((k) => k.startsWith(`${p}:`)).map((k) => Number(k.split(':')[1]));
        offsets.sort((a, b) => a - b);
        for (const [i, o] of offsets.entries()) assert.equal(o, i, `partition ${p} offsets are dense from 0`);
      }
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
