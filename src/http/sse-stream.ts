import type { ServerResponse } from 'node:http';
import type { Broker } from '../broker/broker.js';
import type { DecodedRecord } from '../broker/fetched-records.js';
import type { ConsumedRecord, ConsumerInstance, EmbeddedFormat } from '../consumers/consumer-instance.js';
import {
  KafkaStorageError,
  SamsaError,
  ServiceUnavailableError,
  StreamFailedError,
  TooManyRequestsError,
  TopicDeletedError,
} from '../errors.js';
import { httpAnswerOf } from './error-codes.js';
import { renderBytes, renderHeaders } from './record-rendering.js';
import { encodeResumeToken, type ResumeScope, resumeScope, type StreamSelection } from './sse-resume-token.js';

export interface SseLimits {
  /** A `: keep-alive` comment after this long without an event. */
  keepAliveMs: number;
  /** Most bytes a stream may have queued in its socket; more and the client is dropped. */
  maxBufferedBytesPerStream: number;
  /** How long a stream waits for a full socket to drain before dropping the client. */
  slowClientTimeoutMs: number;
  /** Most open streams on this node (503 above). */
  maxStreams: number;
  /** Most open streams from one client address (429 above). */
  maxStreamsPerClient: number;
  /** Most open streams of one principal (429 above), whatever addresses they come from. */
  maxStreamsPerPrincipal: number;
  /** The reconnect delay sent once as `retry:`. */
  retryMs: number;
  /** Most bytes of whole event runs kept for streams that read in step (see SseHub.sharedChunk). */
  maxSharedChunkBytes: number;
}

export const DEFAULT_SSE_LIMITS: SseLimits = {
  keepAliveMs: 15_000,
  maxBufferedBytesPerStream: 1024 * 1024,
  slowClientTimeoutMs: 30_000,
  maxStreams: 1000,
  maxStreamsPerClient: 50,
  maxStreamsPerPrincipal: 1000,
  retryMs: 2000,
  maxSharedChunkBytes: 16 * 1024 * 1024,
};

/** A run of `record` events, encoded once, that every stream in the same state writes as it is. */
export interface SharedChunk {
  bytes: Buffer;
  events: number;
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}

/** Most differently-positioned runs kept per first record (streams rarely disagree more). */
const MAX_CHUNKS_PER_RECORD = 8;
/**
 * Most first records with runs kept. A kept record holds its decoded batch, which can be far larger
 * than the runs counted in `maxSharedChunkBytes`; in-step streams only need the newest few.
 */
const MAX_CHUNK_FIRST_RECORDS = 256;

export interface SseStats {
  open: number;
  eventsTotal: Map<string, number>;
  droppedSlowTotal: number;
}

/**
 * Every open SSE stream of this node: admission limits (per node and per client address), a
 * shared cache of rendered `data:` text so a record is serialized once however many streams
 * render it the same way, and the counters metrics read.
 */
export class SseHub {
  private readonly perClient = new Map<string, number>();
  private readonly perPrincipal = new Map<string, number>();
  private readonly rendered: Record<EmbeddedFormat, WeakMap<DecodedRecord, string>> = {
    json: new WeakMap(),
    string: new WeakMap(),
    binary: new WeakMap(),
  };
  readonly stats: SseStats = { open: 0, eventsTotal: new Map(), droppedSlowTotal: 0 };
  private readonly streams = new Set<SseStream>();
  /** Newest first-record last; a stream's poll is keyed by the shared decoded record it starts with. */
  private readonly chunks = new Map<DecodedRecord, Map<string, SharedChunk>>();
  private chunkBytes = 0;

  constructor(readonly limits: SseLimits) {}

  /**
   * Reserves a slot for `client` (an address) and `principal` (`User:alice`), or throws 503 (node
   * full) / 429 (client or principal over its share).
   */
  admit(client: string, principal = 'User:ANONYMOUS'): () => void {
    if (this.stats.open >= this.limits.maxStreams)
      throw new ServiceUnavailableError(`This node already serves its maximum of ${this.limits.maxStreams} streams.`);
    const mine = this.perClient.get(client) ?? 0;
    if (mine >= this.limits.maxStreamsPerClient)
      throw new TooManyRequestsError(`This client already has ${mine} open streams, the most allowed.`);
    const principals = this.perPrincipal.get(principal) ?? 0;
    if (principals >= this.limits.maxStreamsPerPrincipal)
      throw new TooManyRequestsError(`${principal} already has ${principals} open streams, the most allowed.`);
    this.perClient.set(client, mine + 1);
    this.perPrincipal.set(principal, principals + 1);
    this.stats.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.stats.open--;
      decrement(this.perClient, client);
      decrement(this.perPrincipal, principal);
    };
  }

  /**
   * The `data:` JSON of a record in a format, rendered once and shared by every stream that
   * renders it the same way. The text hangs off the node's shared decoded record (weakly), so
   * it lives exactly as long as the decoded batch cache keeps that record, and the key is the
   * object itself: no string keys to build per event.
   */
  render(r: ConsumedRecord, format: EmbeddedFormat): string {
    const cache = this.rendered[format];
    const hit = r.source === undefined ? undefined : cache.get(r.source);
    if (hit !== undefined) return hit;
    const k = renderBytes(r.key, format, true);
    const v = renderBytes(r.value, format, true);
    const text = JSON.stringify({
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp,
      key: k.value,
      value: v.value,
      headers: renderHeaders(r.headers, format),
      key_format: k.format,
      value_format: v.format,
    });
    if (r.source !== undefined) cache.set(r.source, text);
    return text;
  }

  /**
   * Streams tailing a topic in step (a hundred browsers on one live topic) poll the same records
   * from the same positions, so their whole run of events, ids included, is the same bytes. The
   * run is keyed by the shared decoded record it starts with (identity, so a topic deleted and
   * created again never matches) and by `state`: the format, key filter and the positions before
   * and after the run, which together fix the records and their ids. The first stream renders;
   * the others write its bytes. Bounded by `maxSharedChunkBytes` and MAX_CHUNK_FIRST_RECORDS, oldest
   * first out.
   */
  sharedChunk(first: DecodedRecord, state: string, build: () => SharedChunk): SharedChunk {
    let byState = this.chunks.get(first);
    const hit = byState?.get(state);
    if (hit !== undefined) return hit;
    const chunk = build();
    const size = chunk.bytes.length;
    if (size > this.limits.maxSharedChunkBytes) return chunk;
    if (byState === undefined) {
      byState = new Map();
      this.chunks.set(first, byState);
    }
    if (byState.size >= MAX_CHUNKS_PER_RECORD) return chunk;
    byState.set(state, chunk);
    this.chunkBytes += size;
    while (this.chunkBytes > this.limits.maxSharedChunkBytes || this.chunks.size > MAX_CHUNK_FIRST_RECORDS) {
      const [oldest, runs] = this.chunks.entries().next().value as [DecodedRecord, Map<string, SharedChunk>];
      this.chunks.delete(oldest);
      for (const run of runs.values()) this.chunkBytes -= run.bytes.length;
    }
    return chunk;
  }

  countEvents(topic: string, n: number): void {
    this.stats.eventsTotal.set(topic, (this.stats.eventsTotal.get(topic) ?? 0) + n);
  }

  track(stream: SseStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  /** Ends every stream (shutdown). */
  closeAll(): void {
    for (const s of this.streams) s.close();
  }
}

export interface SseStreamOptions {
  topic: string;
  format: EmbeddedFormat;
  /** Only records whose key equals these bytes. */
  key: Buffer | null;
  /** Group streams commit what they write; others only carry positions in their ids. */
  group: boolean;
  /** How the stream chose its partitions; its ids are bound to it and to the topic. */
  selection: StreamSelection;
  /** Bytes read per poll: bounds what one write can queue. */
  maxBatchBytes: number;
  /**
   * Counts bytes written against the principal's `consumer_byte_rate` and answers how long to wait
   * before the next poll (0: none), as a Kafka broker delays a throttled fetch.
   */
  throttle?: (bytesWritten: number) => number;
}

/**
 * One open `text/event-stream` response: polls its consumer instance, writes one `record`
 * event per record with a resume-token `id:`, waits for a full socket to drain before reading
 * more (backpressure), sends keep-alive comments, and drops a client that stays stuck.
 */
export class SseStream {
  private closed = false;
  /** Set when the topic is deleted; the poll is woken so the client hears of it at once. */
  private topicDeleted = false;
  private readonly abort = new AbortController();
  private lastGeneration = -1;
  private readonly scope: ResumeScope;

  constructor(
    private readonly hub: SseHub,
    private readonly broker: Broker,
    private readonly res: ServerResponse,
    private readonly consumer: ConsumerInstance,
    private readonly opts: SseStreamOptions,
  ) {
    this.scope = resumeScope(opts.topic, opts.selection);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (!this.res.writableEnded) this.res.end();
  }

  private errorEvent(err: SamsaError): void {
    if (this.res.writableEnded) return;
    this.res.write(
      `event: error\ndata: ${JSON.stringify({ error_code: httpAnswerOf(err).errorCode, message: err.message })}\n\n`,
    );
  }

  /** Waits for `drain`; false if the client stayed stuck past the slow-client timeout or left. */
  private drained(): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.res.off('drain', onDrain);
        this.res.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), this.hub.limits.slowClientTimeoutMs);
      this.res.on('drain', onDrain);
      this.res.on('close', onClose);
    });
  }

  /**
   * Commits what was written. A full or read-only disk refuses the commit: the stream goes on, and
   * the next commit carries these positions too (a reconnect before then may see the events again).
   */
  private commitWritten(): void {
    try {
      this.consumer.commit();
    } catch (err) {
      if (!(err instanceof KafkaStorageError)) throw err;
    }
  }

  /** Waits `ms` (a quota's throttle), or less when the stream closes or its topic is deleted meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.abort.signal.addEventListener('abort', done);
    });
  }

  /** Runs until the client leaves, the topic goes away, or the server closes the stream. */
  async run(): Promise<void> {
    const untrack = this.hub.track(this);
    this.res.on('close', () => this.close());
    const { topic } = this.opts;
    // A deleted partition never wakes the readers waiting on it: the deletion must end the wait.
    const unwatch = this.broker.onTopicChange((change) => {
      if (change.kind !== 'deleted' || change.topic !== topic) return;
      this.topicDeleted = true;
      this.abort.abort();
    });
    try {
      this.res.write(`retry: ${this.hub.limits.retryMs}\n\n`);
      if (!this.broker.hasTopic(topic)) this.topicDeleted = true;
      while (!this.closed) {
        if (this.topicDeleted) {
          this.errorEvent(new TopicDeletedError(topic));
          break;
        }
        const positions = this.consumer.positionsOf(topic);
        const records = await this.consumer.poll({
          timeoutMs: this.hub.limits.keepAliveMs,
          maxBytes: this.opts.maxBatchBytes,
          signal: this.abort.signal,
          returnOnRebalance: this.opts.group,
        });
        if (this.closed) break;
        if (this.topicDeleted) continue;
        let out: string | Buffer = '';
        let events = 0;
        if (this.opts.group && this.consumer.currentGeneration !== this.lastGeneration) {
          this.lastGeneration = this.consumer.currentGeneration;
          const partitions = this.consumer
            .assignments()
            .filter((tp) => tp.topic === topic)
            .map((tp) => tp.partition);
          out = `event: rebalance\ndata: ${JSON.stringify({ generation: this.lastGeneration, partitions })}\n\n`;
        }
        const first = records[0]?.source;
        if (!this.opts.group && first !== undefined) {
          const chunk = this.sharedRun(first, records, positions);
          out = chunk.bytes;
          events = chunk.events;
        } else if (records.length > 0) {
          // Group runs end in a commit and differ by assignment: rendered per stream.
          const run = this.renderText(records, positions);
          out += run.text;
          events = run.events;
          if (events === 0 && !this.opts.group) out = `: skipped\nid: ${encodeResumeToken(this.scope, positions)}\n\n`;
        }
        if (out.length === 0) out = ': keep-alive\n\n';
        const flowing = this.res.write(out);
        if (events > 0) this.hub.countEvents(topic, events);
        if (this.opts.group && records.length > 0) this.commitWritten();
        if (this.res.writableLength > this.hub.limits.maxBufferedBytesPerStream) {
          this.dropSlow();
          break;
        }
        if (!flowing && !(await this.drained())) {
          if (!this.closed) this.dropSlow();
          break;
        }
        const throttleMs = this.opts.throttle?.(Buffer.byteLength(out)) ?? 0;
        if (throttleMs > 0) await this.pause(throttleMs);
      }
    } catch (err) {
      this.errorEvent(err instanceof SamsaError ? err : new StreamFailedError());
      if (!(err instanceof SamsaError)) throw err;
    } finally {
      unwatch();
      untrack();
      this.consumer.close();
      this.close();
    }
  }

  /** One `record` event per record that passes the key filter, each with the positions after it. */
  private renderText(
    records: readonly ConsumedRecord[],
    positions: Map<number, number>,
  ): { text: string; events: number } {
    const { format, key } = this.opts;
    let text = '';
    let events = 0;
    for (const r of records) {
      positions.set(r.partition, r.offset + 1);
      if (key !== null && (r.key === null || !r.key.equals(key))) continue;
      text += `event: record\nid: ${encodeResumeToken(this.scope, positions)}\ndata: ${this.hub.render(r, format)}\n\n`;
      events++;
    }
    return { text, events };
  }

  /**
   * The run of events for `records` (a non-group stream's poll), shared with every stream in the
   * same state (SseHub.sharedChunk): the format, the key filter and the positions before and after
   * fix the records and every id. When the key filter let nothing through, a comment still moves
   * the client's resume point past the skipped records. Moves `positions` past the run.
   */
  private sharedRun(
    first: DecodedRecord,
    records: readonly ConsumedRecord[],
    positions: Map<number, number>,
  ): SharedChunk {
    const { format, key } = this.opts;
    const before = encodeResumeToken(this.scope, positions);
    const after = this.consumer.positionsOf(this.opts.topic);
    const filter = key === null ? '' : `k${key.toString('hex')}`;
    const state = `${format}\u0000${filter}\u0000${before}\u0000${encodeResumeToken(this.scope, after)}\u0000${records.length}`;
    const chunk = this.hub.sharedChunk(first, state, () => {
      const { text, events } = this.renderText(records, new Map(positions));
      const bytes = Buffer.from(
        events > 0 ? text : `: skipped\nid: ${encodeResumeToken(this.scope, after)}\n\n`,
        'utf8',
      );
      return { bytes, events };
    });
    for (const [partition, next] of after) positions.set(partition, next);
    return chunk;
  }

  private dropSlow(): void {
    this.hub.stats.droppedSlowTotal++;
    this.errorEvent(new TooManyRequestsError('The client reads too slowly; reconnect with Last-Event-ID to resume.'));
    // The client is not reading: it gets one more slow-client timeout to take what is queued (the
    // error event last), then its socket goes. Otherwise a client that never reads again would
    // keep its queued bytes for as long as it stays connected, after its stream slot is free.
    const timer = setTimeout(() => this.res.destroy(), this.hub.limits.slowClientTimeoutMs);
    const settled = () => clearTimeout(timer);
    this.res.once('finish', settled);
    this.res.once('close', settled);
  }
}
