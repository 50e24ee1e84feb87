/**
 * A real Broker on a fresh temp directory behind the real express app: what the HTTP tests drive.
 * Nothing is mocked; every test leaves its directory behind only if it crashes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { Broker } from '../../src/broker/broker.js';
import { createApp, type HttpLimits } from '../../src/http/app.js';
import { type NodeOptions, SamsaNode } from '../../src/samsa-node.js';
import { type DecodedRecord, decodeRecordBatch, forEachBatch } from '../../src/storage/record-batch.js';

export interface TestNode {
  /** The whole node (broker, group coordinator, consumer instances). */
  samsa: SamsaNode;
  broker: Broker;
  app: Express;
  dataDir: string;
  close(): Promise<void>;
}

export async function openNode(
  opts: {
    brokerConfigs?: Record<string, string>;
    limits?: Partial<HttpLimits>;
    start?: boolean;
    /** Consumer-instance settings, e.g. `{ housekeepingIntervalMs: 50 }` for expiry tests. */
    consumers?: NodeOptions['consumers'];
    /** How often the coordinator expires silent group members. */
    sessionCheckIntervalMs?: number;
    /** Reuse a data directory (a restart); a fresh temp directory when absent. */
    dataDir?: string;
    /** `acl`: Kafka's ACL authorizer on (issue 17). */
    authorizer?: NodeOptions['authorizer'];
  } = {},
): Promise<TestNode> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-'));
  const samsa = await SamsaNode.open({
    dataDir,
    nodeId: 0,
    brokerConfigs: opts.brokerConfigs ?? {},
    consumers: opts.consumers,
    sessionCheckIntervalMs: opts.sessionCheckIntervalMs,
    authorizer: opts.authorizer,
  });
  if (opts.start !== false) await samsa.start();
  const { broker } = samsa;
  return {
    samsa,
    broker,
    app: createApp({ node: samsa, limits: opts.limits ?? {} }),
    dataDir,
    async close() {
      await samsa.shutdown();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every record stored in one partition, decoded, from offset 0. */
/**
 * Every record of a partition up to its high watermark. A fetch answers from one segment at most,
 * as Kafka's does (a record with an old timestamp rolls the segment), so this fetches on from
 * where each answer ended, as a consumer would.
 */
export async function readPartition(broker: Broker, topic: string, partition: number): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  let offset = 0;
  for (;;) {
    const { records, highWatermark } = await broker.fetch(topic, partition, offset, 64 * 1024 * 1024);
    if (records.length === 0 || offset >= highWatermark) return out;
    forEachBatch(records, (header, batch) => {
      for (const r of decodeRecordBatch(batch)) if (r.offset >= offset) out.push(r);
      offset = header.lastOffset + 1;
    });
  }
}

export const JSON_V2 = 'application/vnd.kafka.json.v2+json';
export const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';
export const STRING_V2 = 'application/vnd.kafka.string.v2+json';
