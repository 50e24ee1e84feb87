/**
 * The node-to-node API of cluster mode (`/internal/*`, see src/replication/internal-protocol.ts):
 * replica fetches, epoch end offsets and forwarded produces. It is not part of openapi.yaml, the
 * public contract: only nodes of one cluster call it, and every call must carry the cluster
 * secret (401 otherwise). Bodies are bounded; a malformed one is a 400 JSON error, never a crash.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Broker } from '../broker/broker.js';
import { SamsaError } from '../errors.js';
import {
  CLUSTER_SECRET_HEADER,
  decodeWithRecords,
  type EpochEndOffsetsRequest,
  encodeWithRecords,
  type ForwardedProduceHeader,
  INTERNAL_PATHS,
  type LeaderReadRequest,
  MAX_INTERNAL_PARTITIONS,
  type OffsetForTimestampRequest,
  type ReplicaFetchRequest,
} from '../replication/internal-protocol.js';

export interface InternalRoutesOptions {
  clusterSecret: string;
  /** Largest forwarded produce body (one batch and its header), in bytes. */
  maxProduceBytes: number;
}

/** Largest JSON body of a replica fetch or epoch request: 10 000 partitions of short names fit. */
const MAX_JSON_BODY_BYTES = 4 * 1024 * 1024;

class InternalRequestError extends Error {}

export function secretMatches(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function int(v: unknown, what: string, min = Number.MIN_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new InternalRequestError(`${what} must be an integer >= ${min}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 249)
    throw new InternalRequestError(`${what} must be a topic name`);
  return v;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_INTERNAL_PARTITIONS) {
    throw new InternalRequestError(`${what} must be an array of at most ${MAX_INTERNAL_PARTITIONS}`);
  }
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InternalRequestError(`${what} must be an object`);
  return v as Record<string, unknown>;
}

/**
 * The fields a replica fetch and a leader read share: the wait, the byte limits, and per partition
 * where to read from (`minFetchOffset`: 0 for a replica, -1 for a read that wants offsets only).
 */
function fetchFields(b: Record<string, unknown>, minFetchOffset: number) {
  return {
    maxWaitMs: int(b.maxWaitMs, 'maxWaitMs', 0),
    minBytes: int(b.minBytes, 'minBytes', 0),
    maxBytes: int(b.maxBytes, 'maxBytes', 1),
    partitions: list(b.partitions, 'partitions').map((raw, i) => {
      const p = obj(raw, `partitions[${i}]`);
      return {
        raw: p,
        topic: str(p.topic, `partitions[${i}].topic`),
        partition: int(p.partition, `partitions[${i}].partition`, 0),
        fetchOffset: int(p.fetchOffset, `partitions[${i}].fetchOffset`, minFetchOffset),
        maxBytes: int(p.maxBytes, `partitions[${i}].maxBytes`, 1),
      };
    }),
  };
}

function replicaFetchRequest(body: unknown): ReplicaFetchRequest {
  const b = obj(body, 'body');
  const fields = fetchFields(b, 0);
  return {
    replicaId: int(b.replicaId, 'replicaId', 0),
    ...fields,
    partitions: fields.partitions.map(({ raw, ...p }, i) => ({
      ...p,
      leaderEpoch: int(raw.leaderEpoch, `partitions[${i}].leaderEpoch`, -1),
    })),
  };
}

function leaderReadRequest(body: unknown): LeaderReadRequest {
  const fields = fetchFields(obj(body, 'body'), -1);
  return { ...fields, partitions: fields.partitions.map(({ raw: _raw, ...p }) => p) };
}

function offsetForTimestampRequest(body: unknown): OffsetForTimestampRequest {
  const b = obj(body, 'body');
  return {
    topic: str(b.topic, 'topic'),
    partition: int(b.partition, 'partition', 0),
    timestamp: int(b.timestamp, 'timestamp', Number.MIN_SAFE_INTEGER),
  };
}

function epochEndOffsetsRequest(body: unknown): EpochEndOffsetsRequest {
  const b = obj(body, 'body');
  return {
    replicaId: int(b.replicaId, 'replicaId', 0),
    partitions: list(b.partitions, 'partitions').map((raw, i) => {
      const p = obj(raw, `partitions[${i}]`);
      return {
        topic: str(p.topic, `partitions[${i}].topic`),
        partition: int(p.partition, `partitions[${i}].partition`, 0),
        currentLeaderEpoch: int(p.currentLeaderEpoch, `partitions[${i}].currentLeaderEpoch`, -1),
        epoch: int(p.epoch, `partitions[${i}].epoch`, -1),
      };
    }),
  };
}

function produceHeader(raw: unknown): ForwardedProduceHeader {
  const h = obj(raw, 'header');
  const acks = h.acks;
  if (acks !== 0 && acks !== 1 && acks !== -1) throw new InternalRequestError('acks must be 0, 1 or -1');
  return {
    topic: str(h.topic, 'topic'),
    partition: int(h.partition, 'partition', 0),
    acks,
    timeoutMs: Math.min(int(h.timeoutMs, 'timeoutMs', 0), 600_000),
    ...(h.producerId === undefined ? {} : { producerId: int(h.producerId, 'producerId', 0) }),
  };
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new InternalRequestError('body is not JSON');
  }
}

function fail(res: Response, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bad = err instanceof InternalRequestError || err instanceof RangeError;
  const domain = err instanceof SamsaError && err.kafkaError !== null;
  const status = bad ? 400 : domain ? 503 : 500;
  // No stack, ever: the message only (a bug shows as "internal error").
  const message = bad || domain ? (err as Error).message : 'internal error';
  res.status(status).json({ error_code: status, message });
}

/**
 * Sends a header and the stored batches it describes as one sized answer: the chunks are written
 * corked, so the answer leaves in one writev and not one syscall (and chunked-encoding frame) each.
 */
function sendWithRecords(res: Response, answer: object, records: readonly Buffer[]): void {
  const chunks = encodeWithRecords(answer, records);
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': length });
  res.cork();
  for (const chunk of chunks) res.write(chunk);
  res.end();
  res.uncork();
}

/** The `/internal/*` router; mount it only in cluster mode. */
export function internalRoutes(broker: Broker, opts: InternalRoutesOptions): Router {
  const router = express.Router();
  router.use('/internal', (req, res, next) => {
    if (!secretMatches(req.get(CLUSTER_SECRET_HEADER), opts.clusterSecret)) {
      res.status(401).json({ error_code: 401, message: 'Node-to-node calls need the cluster secret.' });
      return;
    }
    next();
  });
  const jsonBody = express.raw({ type: () => true, limit: MAX_JSON_BODY_BYTES });
  const produceBody = express.raw({ type: () => true, limit: opts.maxProduceBytes });

  router.post(INTERNAL_PATHS.replicaFetch, jsonBody, async (req: Request, res: Response) => {
    try {
      const request = replicaFetchRequest(parseJson(req.body as Buffer));
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const { answer, records } = await broker.replicaFetch(request, abort.signal);
      sendWithRecords(res, answer, records);
    } catch (err) {
      fail(res, err);
    }
  });

  router.post(INTERNAL_PATHS.read, jsonBody, async (req: Request, res: Response) => {
    try {
      const request = leaderReadRequest(parseJson(req.body as Buffer));
      const abort = new AbortController();
      res.on('close', () => abort.abort());
      const { answer, records } = await broker.leaderRead(request, abort.signal);
      sendWithRecords(res, answer, records);
    } catch (err) {
      fail(res, err);
    }
  });

  router.post(INTERNAL_PATHS.offsetForTimestamp, jsonBody, (req: Request, res: Response) => {
    try {
      res.status(200).json(broker.leaderOffsetForTimestamp(offsetForTimestampRequest(parseJson(req.body as Buffer))));
    } catch (err) {
      fail(res, err);
    }
  });

  router.post(INTERNAL_PATHS.epochEndOffsets, jsonBody, (req: Request, res: Response) => {
    try {
      res.status(200).json(broker.epochEndOffsets(epochEndOffsetsRequest(parseJson(req.body as Buffer))));
    } catch (err) {
      fail(res, err);
    }
  });

  router.post(INTERNAL_PATHS.produce, produceBody, async (req: Request, res: Response) => {
    try {
      let decoded: { header: unknown; records: Buffer };
      try {
        decoded = decodeWithRecords<unknown>(req.body as Buffer, 64 * 1024);
      } catch (err) {
        throw new InternalRequestError((err as Error).message);
      }
      // A copy: the batch belongs to the log once appended, not to the request body's memory.
      const batch = Buffer.from(decoded.records);
      res.status(200).json(await broker.produceForwarded(produceHeader(decoded.header), batch));
    } catch (err) {
      fail(res, err);
    }
  });
  return router;
}
