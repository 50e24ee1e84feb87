import { Pool } from 'undici';
import {
  CLUSTER_SECRET_HEADER,
  decodeWithRecords,
  type EpochEndOffsetsAnswer,
  type EpochEndOffsetsRequest,
  encodeWithRecords,
  type ForwardedProduceAnswer,
  type ForwardedProduceHeader,
  INTERNAL_PATHS,
  type LeaderReadRequest,
  type OffsetForTimestampAnswer,
  type OffsetForTimestampRequest,
  type ReplicaFetchAnswer,
  type ReplicaFetchRequest,
} from './internal-protocol.js';
import { type PeerTlsSource, peerConnector } from './peer-connector.js';

export interface PeerClientOptions {
  /** This node's id, sent so the leader can tell which follower fetches. */
  localId: number;
  /** Where a node is reached (its advertised URL), or undefined while it is not registered. */
  addressOf: (nodeId: number) => string | undefined;
  clusterSecret: string;
  /** Most bytes one answer may have; a peer sending more is cut off (a bound on memory). */
  maxAnswerBytes: number;
  /** Keep-alive connections per peer for forwarded requests (produce); replication has its own. */
  connectionsPerPeer?: number;
  /** Peers at https:// URLs: the CA they are verified against and the certificate shown to them. */
  peerTls?: PeerTlsSource;
}

/**
 * Which connections a call uses. Replication has its own, as Kafka's replica fetchers do: a
 * forwarded acks=all produce holds its connection until the followers have the records, so if
 * fetches queued behind such produces, the followers would never fetch them (a deadlock until
 * the produce timed out). Client reads for partitions the node holds no replica of long-poll on
 * a lane of their own too, so they never hold the connections forwarded produces need.
 */
type Lane = 'replication' | 'forward' | 'reads';

/** Connections per peer for replication: one long-polling fetch loop per leader, plus epoch queries. */
const REPLICATION_CONNECTIONS = 2;
const DEFAULT_FORWARD_CONNECTIONS = 32;
/** Connections per peer for client reads: one long-polling read loop per leader, plus timestamp lookups. */
const READ_CONNECTIONS = 2;

/** A peer that could not be reached, or answered something other than the internal API. */
export class PeerUnavailableError extends Error {
  constructor(
    readonly nodeId: number,
    message: string,
  ) {
    super(`node ${nodeId}: ${message}`);
    this.name = 'PeerUnavailableError';
  }
}

/**
 * The client side of `/internal/`: one keep-alive pool per peer (undici), the cluster secret on
 * every request, bounded answers, and a timeout on each call so a paused peer cannot hold a
 * fetcher forever.
 */
export class PeerClient {
  private readonly pools = new Map<string, Pool>();
  private closed = false;
  private readonly connect: ReturnType<typeof peerConnector>;

  constructor(private readonly opts: PeerClientOptions) {
    this.connect = peerConnector(opts.peerTls);
  }

  private pool(nodeId: number, lane: Lane): Pool {
    if (this.closed) throw new PeerUnavailableError(nodeId, 'client closed');
    const url = this.opts.addressOf(nodeId);
    if (url === undefined) throw new PeerUnavailableError(nodeId, 'not registered in the cluster');
    const origin = new URL(url).origin;
    const key = `${lane} ${origin}`;
    let pool = this.pools.get(key);
    if (!pool) {
      const connections =
        lane === 'replication'
          ? REPLICATION_CONNECTIONS
          : lane === 'reads'
            ? READ_CONNECTIONS
            : (this.opts.connectionsPerPeer ?? DEFAULT_FORWARD_CONNECTIONS);
      pool = new Pool(origin, { connections, pipelining: 1, connect: this.connect });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private async post(
    nodeId: number,
    lane: Lane,
    path: string,
    body: Buffer | string,
    contentType: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Buffer> {
    const pool = this.pool(nodeId, lane);
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await pool.request({
        method: 'POST',
        path,
        body,
        headers: { 'content-type': contentType, [CLUSTER_SECRET_HEADER]: this.opts.clusterSecret },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal,
      });
    } catch (err) {
      throw new PeerUnavailableError(nodeId, (err as Error).message);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > this.opts.maxAnswerBytes) {
        res.body.destroy();
        throw new PeerUnavailableError(nodeId, `answer larger than ${this.opts.maxAnswerBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    const buf = Buffer.concat(chunks, size);
    if (res.statusCode !== 200) {
      throw new PeerUnavailableError(nodeId, `${path} answered ${res.statusCode}: ${buf.toString('utf8', 0, 300)}`);
    }
    return buf;
  }

  async replicaFetch(
    leaderId: number,
    request: Omit<ReplicaFetchRequest, 'replicaId'>,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer }> {
    const body = JSON.stringify({ ...request, replicaId: this.opts.localId });
    const buf = await this.post(
      leaderId,
      'replication',
      INTERNAL_PATHS.replicaFetch,
      body,
      'application/json',
      request.maxWaitMs + 10_000,
      signal,
    );
    return this.decodeFetchAnswer(leaderId, buf);
  }

  /** A client read of partitions `leaderId` leads (see Broker's remote reads); the answer's shape is a replica fetch's. */
  async read(
    leaderId: number,
    request: LeaderReadRequest,
    signal?: AbortSignal,
  ): Promise<{ answer: ReplicaFetchAnswer; records: Buffer }> {
    const buf = await this.post(
      leaderId,
      'reads',
      INTERNAL_PATHS.read,
      JSON.stringify(request),
      'application/json',
      request.maxWaitMs + 10_000,
      signal,
    );
    return this.decodeFetchAnswer(leaderId, buf);
  }

  async offsetForTimestamp(
    leaderId: number,
    request: OffsetForTimestampRequest,
    timeoutMs: number,
  ): Promise<OffsetForTimestampAnswer> {
    const buf = await this.post(
      leaderId,
      'reads',
      INTERNAL_PATHS.offsetForTimestamp,
      JSON.stringify(request),
      'application/json',
      timeoutMs,
    );
    return JSON.parse(buf.toString('utf8')) as OffsetForTimestampAnswer;
  }

  private decodeFetchAnswer(leaderId: number, buf: Buffer): { answer: ReplicaFetchAnswer; records: Buffer } {
    try {
      const { header, records } = decodeWithRecords<ReplicaFetchAnswer>(buf);
      return { answer: header, records };
    } catch (err) {
      throw new PeerUnavailableError(leaderId, `bad fetch answer: ${(err as Error).message}`);
    }
  }

  async epochEndOffsets(
    leaderId: number,
    request: Omit<EpochEndOffsetsRequest, 'replicaId'>,
    timeoutMs: number,
  ): Promise<EpochEndOffsetsAnswer> {
    const body = JSON.stringify({ ...request, replicaId: this.opts.localId });
    const buf = await this.post(
      leaderId,
      'replication',
      INTERNAL_PATHS.epochEndOffsets,
      body,
      'application/json',
      timeoutMs,
    );
    return JSON.parse(buf.toString('utf8')) as EpochEndOffsetsAnswer;
  }

  /** Sends one encoded batch to the partition's leader, which appends it as its own (see Broker.produceForwarded). */
  async produce(
    leaderId: number,
    header: ForwardedProduceHeader,
    batch: Buffer,
    signal?: AbortSignal,
  ): Promise<ForwardedProduceAnswer> {
    const buf = await this.post(
      leaderId,
      'forward',
      INTERNAL_PATHS.produce,
      Buffer.concat(encodeWithRecords(header, [batch])),
      'application/octet-stream',
      header.timeoutMs + 10_000,
      signal,
    );
    return JSON.parse(buf.toString('utf8')) as ForwardedProduceAnswer;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => undefined)));
    this.pools.clear();
  }
}
