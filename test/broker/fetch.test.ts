import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Broker } from '../../src/broker/broker.js';
import type { FetchedPartition, FetchRequest } from '../../src/broker/fetch.js';
import { forEachFetchedBatch } from '../../src/broker/fetched-records.js';
import { LocalMetadataStore } from '../../src/cluster/metadata-store.js';

const v = (s: string) => Buffer.from(s);

/** The offsets and values of the records at or after `from` in a fetched partition. */
function recordsOf(fetched: FetchedPartition, from: number): { offset: number; value: string }[] {
  const out: { offset: number; value: string }[] = [];
  forEachFetchedBatch(fetched.records, (batch) => {
    batch.forEachRecord(from, (r) => {
      out.push({ offset: r.offset, value: r.value()?.toString() ?? '<null>' });
      return true;
    });
    return true;
  });
  return out;
}

function request(partial: Partial<FetchRequest> & Pick<FetchRequest, 'partitions'>): FetchRequest {
  return { maxBytes: 1 << 20, minBytes: 0, maxWaitMs: 0, isolation: 'high_watermark', ...partial };
}

describe('the broker fetch facade', () => {
  let dir: string;
  let broker: Broker;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-fetch-'));
    broker = await Broker.open({ dataDir: dir, nodeId: 0, brokerConfigs: {} });
    await broker.start();
    await broker.createTopic('many', { partitions: 3 });
    // Ten one-record batches per partition, values naming partition and offset.
    for (let p = 0; p < 3; p++) {
      for (let i = 0; i < 10; i++) {
        await broker.produce('many', [{ partition: p, key: null, value: v(`p${p}-${i}`) }], {
          acks: 1,
          timeoutMs: 1000,
        });
      }
    }
  });

  after(async () => {
    await broker.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('reads many partitions in one call, each from its own offset', async () => {
    const answer = await broker.fetchPartitions(
      request({
        partitions: [0, 1, 2].map((p) => ({ topic: 'many', partition: p, offset: p * 3, maxBytes: 1 << 20 })),
      }),
    );
    assert.equal(answer.partitions.length, 3);
    for (const [p, fetched] of answer.partitions.entries()) {
      assert.equal(fetched.error, null);
      assert.equal(fetched.highWatermark, 10);
      assert.deepEqual(
        recordsOf(fetched, p * 3).map((r) => r.value),
        Array.from({ length: 10 - p * 3 }, (_, i) => `p${p}-${i + p * 3}`),
      );
    }
    assert.equal(
      answer.sizeBytes,
      answer.partitions.reduce((n, f) => n + f.records.length, 0),
    );
  });

  test('honours the per-partition byte limit, and always returns one whole batch', async () => {
    const one = broker.readPartitions({
      partitions: [{ topic: 'many', partition: 0, offset: 0, maxBytes: 1 }],
      maxBytes: 1 << 20,
      isolation: 'high_watermark',
    }).partitions[0] as FetchedPartition;
    assert.deepEqual(
      recordsOf(one, 0).map((r) => r.offset),
      [0],
    );
    const batchBytes = one.records.length;
    const three = broker.readPartitions({
      partitions: [{ topic: 'many', partition: 0, offset: 0, maxBytes: batchBytes * 3 }],
      maxBytes: 1 << 20,
      isolation: 'high_watermark',
    }).partitions[0] as FetchedPartition;
    assert.deepEqual(
      recordsOf(three, 0).map((r) => r.offset),
      [0, 1, 2],
    );
  });

  test('honours the total byte limit across partitions', async () => {
    const batchBytes = (
      broker.readPartitions({
        partitions: [{ topic: 'many', partition: 0, offset: 0, maxBytes: 1 }],
        maxBytes: 1,
        isolation: 'high_watermark',
      }).partitions[0] as FetchedPartition
    ).records.length;
    const answer = broker.readPartitions({
      partitions: [0, 1, 2].map((p) => ({ topic: 'many', partition: p, offset: 0, maxBytes: 1 << 20 })),
      maxBytes: batchBytes * 12,
      isolation: 'high_watermark',
    });
    const counts = answer.partitions.map((f) => recordsOf(f, 0).length);
    assert.deepEqual(counts, [10, 2, 0]);
    assert.ok(answer.sizeBytes <= batchBytes * 12);
  });

  test('reports an unknown partition or an offset out of range per partition, and reads the others', async () => {
    const answer = await broker.fetchPartitions(
      request({
        partitions: [
          { topic: 'many', partition: 7, offset: 0, maxBytes: 1 << 20 },
          { topic: 'many', partition: 1, offset: 99, maxBytes: 1 << 20 },
          { topic: 'many', partition: 2, offset: 9, maxBytes: 1 << 20 },
        ],
      }),
    );
    assert.match(String(answer.partitions[0]?.error?.message), /Partition 7/);
    assert.match(String(answer.partitions[1]?.error?.message), /out of range/);
    assert.deepEqual(
      recordsOf(answer.partitions[2] as FetchedPartition, 9).map((r) => r.value),
      ['p2-9'],
    );
  });

  test('a long poll answers when data arrives, and waits for minBytes', { timeout: 20_000 }, async () => {
    await broker.createTopic('poll', { partitions: 2 });
    const fetching = broker.fetchPartitions(
      request({
        partitions: [0, 1].map((p) => ({ topic: 'poll', partition: p, offset: 0, maxBytes: 1 << 20 })),
        minBytes: 150,
        // Far longer than the test's timeout: only the appends can end this wait in time.
        maxWaitMs: 600_000,
      }),
    );
    let answered = false;
    void fetching.then(() => {
      answered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await broker.produce('poll', [{ partition: 1, key: null, value: v('first') }], { acks: 1, timeoutMs: 1000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(answered, false, 'one small batch is fewer bytes than minBytes: the fetch keeps waiting');
    await broker.produce('poll', [{ partition: 0, key: null, value: v('x'.repeat(200)) }], {
      acks: 1,
      timeoutMs: 1000,
    });
    const answer = await fetching;
    assert.deepEqual(
      answer.partitions.map((f) => recordsOf(f, 0).length),
      [1, 1],
    );
  });

  test('an abort ends a long poll with what there is', { timeout: 20_000 }, async () => {
    const abort = new AbortController();
    const fetching = broker.fetchPartitions(
      request({
        partitions: [{ topic: 'many', partition: 0, offset: 10, maxBytes: 1 << 20 }],
        minBytes: 1,
        maxWaitMs: 600_000,
        signal: abort.signal,
      }),
    );
    setTimeout(() => abort.abort(), 20);
    const answer = await fetching;
    assert.equal(answer.sizeBytes, 0);
  });

  test('clients read below the high watermark, replicas to the log end', async (t) => {
    // A partition led by this node with node 1 in its ISR: node 1 reports only offsets 0 and 1,
    // so the high watermark stays at 2 while the log end is 5 (a lagging in-sync follower).
    const laggingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-fetch-isr-'));
    const first = await Broker.open({ dataDir: laggingDir, nodeId: 0, brokerConfigs: {} });
    await first.start();
    await first.createTopic('behind', { partitions: 1 });
    await first.shutdown();
    const store = await LocalMetadataStore.open(laggingDir, 0);
    await store.updatePartitionState('behind', 0, { replicas: [0, 1], leader: 0, leaderEpoch: 1, isr: [0, 1] }, 0);
    await store.close();
    const broker = await Broker.open({ dataDir: laggingDir, nodeId: 0, brokerConfigs: {} });
    await broker.start();
    t.after(async () => {
      await broker.shutdown();
      fs.rmSync(laggingDir, { recursive: true, force: true });
    });
    for (let i = 0; i < 5; i++)
      await broker.produce('behind', [{ partition: 0, key: null, value: v(`b${i}`) }], { acks: 1, timeoutMs: 1000 });
    broker.updateFollowerEndOffset('behind', 0, 1, 2);
    const read = (isolation: FetchRequest['isolation']) =>
      broker.readPartitions({
        partitions: [{ topic: 'behind', partition: 0, offset: 0, maxBytes: 1 << 20 }],
        maxBytes: 1 << 20,
        isolation,
      }).partitions[0] as FetchedPartition;
    const client = read('high_watermark');
    assert.equal(client.highWatermark, 2);
    assert.equal(client.logEndOffset, 5);
    assert.deepEqual(
      recordsOf(client, 0).map((r) => r.value),
      ['b0', 'b1'],
    );
    assert.deepEqual(
      recordsOf(read('log_end'), 0).map((r) => r.value),
      ['b0', 'b1', 'b2', 'b3', 'b4'],
    );
    const past = broker.readPartitions({
      partitions: [{ topic: 'behind', partition: 0, offset: 3, maxBytes: 1 << 20 }],
      maxBytes: 1 << 20,
      isolation: 'high_watermark',
    }).partitions[0] as FetchedPartition;
    assert.equal(past.error, null);
    assert.equal(past.records.length, 0, 'nothing past the high watermark for a client');
  });
});
