/**
 * What the multi-process cluster tests share: JSON calls, a partition's leader and ISR as a node
 * reports them, acks=all producers through the live nodes, and the stored log bytes of a replica.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';
import type { ServerProcess } from '../process/server-process.js';
import { until } from './etcd-fixture.js';

// biome-ignore lint/suspicious/noExplicitAny: v3 answers of several shapes, read field by field
export async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(20_000), ...init });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

export interface PartitionView {
  leader: number;
  isr: number[];
}

/** A partition's leader and ISR as `via` describes them (v3 replicas). */
export async function partitionView(
  via: ServerProcess,
  clusterId: string,
  topic: string,
  p: number,
): Promise<PartitionView> {
  const { body } = await json(`${via.baseUrl}/v3/clusters/${clusterId}/topics/${topic}/partitions/${p}/replicas`);
  const replicas = (body?.data ?? []) as { broker_id: number; is_leader: boolean; is_in_sync: boolean }[];
  return {
    leader: replicas.find((r) => r.is_leader)?.broker_id ?? -1,
    isr: replicas
      .filter((r) => r.is_in_sync)
      .map((r) => r.broker_id)
      .sort(),
  };
}

/**
 * Waits until each of `via` lists exactly `nodeIds` as the cluster's brokers: a node serves as soon
 * as it joined, maybe before it saw the others, and a topic of replication factor 3 needs three.
 */
export async function everyNodeLists(
  via: readonly ServerProcess[],
  clusterId: string,
  nodeIds: readonly number[],
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const s of via) {
    await until(
      `${s.baseUrl} to list brokers ${nodeIds.join()}`,
      async () => {
        const got = await json(`${s.baseUrl}/v3/clusters/${clusterId}/brokers`).catch(() => undefined);
        const ids = (got?.body?.data as { broker_id: number }[] | undefined)?.map((b) => b.broker_id);
        return ids?.join() === nodeIds.join() ? true : undefined;
      },
      Math.max(0, deadline - Date.now()),
    );
  }
}

/** Creates `topic` through `via`'s v3 API with `partitions`, replication factor 3 and min.insync.replicas 2. */
export async function createReplicatedTopic(
  via: ServerProcess,
  clusterId: string,
  topic: string,
  partitions: number,
): Promise<void> {
  const created = await json(`${via.baseUrl}/v3/clusters/${clusterId}/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      topic_name: topic,
      partitions_count: partitions,
      replication_factor: 3,
      configs: [{ name: 'min.insync.replicas', value: '2' }],
    }),
  });
  if (created.status !== 201) throw new Error(`create ${topic}: ${created.status} ${JSON.stringify(created.body)}`);
}

/** The log end offsets a node's /metrics reports for `topic`, by partition. */
export async function logEndOffsets(server: ServerProcess, topic: string): Promise<number[]> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const out: number[] = [];
  const line = /^samsa_partition_log_end_offset\{topic="([^"]+)",partition="(\d+)"\} (\d+)$/gm;
  for (const m of text.matchAll(line)) if (m[1] === topic) out[Number(m[2])] = Number(m[3]);
  return out;
}

/** SIGTERM to each server in turn; each must stop cleanly (exit 0), its stderr shown when it does not. */
export async function stopCleanly(list: readonly ServerProcess[]): Promise<void> {
  for (const s of list) {
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0, s.stderr());
  }
}

export function isRunning(s: ServerProcess): boolean {
  return s.child.exitCode === null && s.child.signalCode === null;
}

export interface Acked {
  partition: number;
  offset: number;
  value: string;
  /** When the request was sent, and when its acknowledgement came (Date.now()). */
  sentAtMs: number;
  ackedAtMs: number;
}

/**
 * acks=all produces of one record each, to partition n % `partitions`, through `targets()` in
 * turn, until `state.stop`; collects the acknowledged ones. A failed or cut request is not one.
 */
export async function producer(
  id: number,
  topic: string,
  partitions: number,
  targets: () => ServerProcess[],
  acked: Acked[],
  state: { stop: boolean; failed: number },
): Promise<void> {
  for (let n = 0; !state.stop; n++) {
    const live = targets();
    const server = live[n % Math.max(1, live.length)];
    const value = JSON.stringify({ producer: id, n });
    const sentAtMs = Date.now();
    try {
      if (!server) throw new Error('no live node');
      const res = await fetch(`${server.baseUrl}/topics/${topic}?acks=all`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.json.v2+json' },
        body: JSON.stringify({ records: [{ partition: n % partitions, value: JSON.parse(value) }] }),
        signal: AbortSignal.timeout(20_000),
      });
      const body = (await res.json()) as {
        offsets?: { partition: number; offset: number; error_code: number | null }[];
      };
      const o = body.offsets?.[0];
      if (res.status === 200 && o && o.error_code === null)
        acked.push({ partition: o.partition, offset: o.offset, value, sentAtMs, ackedAtMs: Date.now() });
      else state.failed++;
    } catch {
      state.failed++; // the node died under the request: not acknowledged
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Every batch of a partition's log in `dataDir`, concatenated in offset order (segment files in name order). */
export function storedBytes(dataDir: string, topic: string, p: number): Buffer {
  const dir = path.join(dataDir, `${topic}-${p}`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
  return Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f))));
}

/**
 * One partition's stored logs, read from each node's data dir after the nodes stopped: the same
 * bytes on every node, offsets dense from 0 when `dense`, and every acknowledged record of the
 * partition at its acknowledged offset. Returns offset → value of the stored records.
 */
export function assertReplicasAgree(opts: {
  dataDirOf: (nodeId: number) => string;
  nodes: readonly number[];
  topic: string;
  partition: number;
  acked: readonly Acked[];
  dense: boolean;
}): Map<number, string> {
  const { nodes, topic, partition: p } = opts;
  const bytes = nodes.map((id) => storedBytes(opts.dataDirOf(id), topic, p));
  for (const [i, b] of bytes.entries()) {
    assert.ok(b.equals(bytes[0] as Buffer), `partition ${p}: node ${nodes[i]}'s log differs from node ${nodes[0]}'s`);
  }
  const stored = storedRecords(bytes[0] as Buffer);
  if (opts.dense) {
    const offsets = [...stored.keys()].sort((a, b) => a - b);
    assert.deepEqual(offsets, [...offsets.keys()], `partition ${p} offsets are dense from 0`);
  }
  const lost = opts.acked.filter((a) => a.partition === p && stored.get(a.offset) !== a.value);
  assert.deepEqual(lost, [], `partition ${p}: acknowledged records missing or changed`);
  return stored;
}

/** Offset → value (UTF-8) of every record in `bytes`. */
export function storedRecords(bytes: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  forEachBatch(bytes, (_header, batch) => {
    for (const r of decodeRecordBatch(batch)) out.set(r.offset, r.value?.toString('utf8') ?? '');
  });
  return out;
}
