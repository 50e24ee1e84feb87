/**
 * The Kafka wire-protocol listener: a TCP server reading size-prefixed frames (4-byte big-endian
 * length, then a request header and body), handing each request to the handler registered for its
 * api key and writing the answers back in the order the requests came, as Kafka requires of a
 * connection. Limits: `maxRequestBytes` (Kafka's socket.request.max.bytes) is checked from the size
 * prefix before the frame is buffered; at most `maxInFlightRequests` requests per connection are
 * being handled at once (reading pauses beyond that); `maxConnections`; and a connection with
 * nothing in flight and no traffic for `connectionsMaxIdleMs` is closed. A malformed frame closes
 * its own connection with one log line and touches nothing else.
 *
 * Slow and hostile clients: at most `maxConnections` connections, and `maxConnectionsPerAddress`
 * from one address (Kafka's max.connections.per.ip), refused before a byte is read; a frame begun
 * must be complete within `frameTimeoutMs` (a client dribbling half-frames holds no buffer for
 * long). With `tls`, the listener speaks TLS (Kafka's SSL security protocol) with the node's
 * material, reloaded without dropping connections, and a verified client certificate names the
 * connection's principal at accept time.
 * With `authenticationRequired`, a connection may send only ApiVersions, SaslHandshake and
 * SaslAuthenticate until SASL succeeds (or a client certificate named its principal); anything
 * else closes it, as Kafka's SaslServerAuthenticator does. A failed SaslAuthenticate is answered,
 * then the connection is closed.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../logger.js';
import { type PrincipalMappingRules, tlsConnectionPrincipal } from '../security/certificate-principal.js';
import type { ClientQuotaManager } from '../security/client-quota-manager.js';
import { ConnectionGate } from '../security/connection-gate.js';
import { ANONYMOUS, type Principal } from '../security/principal.js';
import type { SaslServer } from '../security/sasl-server.js';
import type { TlsMaterial } from '../security/tls-material.js';
import { API_KEYS, APIS, type Api, requestHeaderVersion, responseHeaderVersion } from './protocol/apis.js';
import { decodeAt, encode, KafkaCodecError, type Message } from './protocol/codec.js';
import { RequestHeader, ResponseHeader } from './protocol/messages/headers.js';
import { inRange } from './protocol/schema.js';

export interface RequestHeaderValue {
  requestApiKey: number;
  requestApiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export interface RequestContext {
  /** The address the client connected to: what Metadata advertises by default. */
  localAddress: string;
  localPort: number;
  /** The client's address (DescribeGroups shows it as the member's client host). */
  remoteAddress: string;
  /** Aborted when the connection closes (or the listener does): a long-polling Fetch stops waiting. */
  signal: AbortSignal;
  /** Who this connection acts as: set by SASL or the client certificate; `User:ANONYMOUS` before. */
  principal: Principal;
  /** This connection's SASL exchange, which the SaslHandshake and SaslAuthenticate handlers advance. */
  sasl: SaslSession;
}

/** Per-connection SASL progress (KIP-43, KIP-152). */
export interface SaslSession {
  /** The exchange SaslHandshake began; null before one, and after it ended. */
  readonly server: SaslServer | null;
  /** SASL succeeded on this connection. */
  readonly authenticated: boolean;
  /** `rawTokens`: a v0 handshake, after which tokens come as bare size-prefixed frames (KIP-152). */
  begin(server: SaslServer, rawTokens: boolean): void;
  /** The connection acts as `principal` from its next request on. */
  succeed(principal: Principal): void;
  /** The connection is closed once the answer in hand is written. */
  fail(): void;
}

/** The answer to a request, or null for none (Produce with acks=0: the client reads no response). */
export type KafkaHandler = (
  header: RequestHeaderValue,
  request: Message,
  context: RequestContext,
) => Promise<Message | null>;

/** api key → handler. The listener advertises exactly these keys (ApiVersions is always added). */
export type KafkaHandlers = ReadonlyMap<number, KafkaHandler>;

/** An inclusive range of an API's versions. */
export interface ApiVersionRange {
  min: number;
  max: number;
}

export interface KafkaListenerOptions {
  handlers: KafkaHandlers;
  /**
   * The versions each handler implements (advertised by ApiVersions, and the only ones accepted);
   * an api key absent here gets every version its schema describes.
   */
  versions?: ReadonlyMap<number, ApiVersionRange>;
  logger: Logger;
  /** socket.request.max.bytes: the largest frame accepted (Kafka's default 100 MiB). */
  maxRequestBytes?: number;
  maxConnections?: number;
  /** Most open connections from one client address. */
  maxConnectionsPerAddress?: number;
  /** A frame whose first bytes came must be whole within this long, or the connection is closed. */
  frameTimeoutMs?: number;
  /** connections.max.idle.ms (Kafka's default 10 minutes). */
  connectionsMaxIdleMs?: number;
  maxInFlightRequests?: number;
  /** TLS (Kafka's SSL security protocol) with this material; absent: plaintext. */
  tls?: { material: TlsMaterial; principalRules: PrincipalMappingRules; handshakeTimeoutMs: number };
  /**
   * Client quotas (shared with HTTP): every request counts against the principal's request_rate,
   * Produce frames against producer_byte_rate, Fetch answers against consumer_byte_rate. Over a
   * quota, the answer still goes out, with throttle_time_ms set, and the connection reads nothing
   * more for that long (KIP-219).
   */
  quotas?: ClientQuotaManager;
  /** Only ApiVersions and SASL until a connection has authenticated. */
  authenticationRequired?: boolean;
}

export const DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024;
const DEFAULT_MAX_CONNECTIONS = 1000;
const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECTIONS_MAX_IDLE_MS = 600_000;
const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 100;
/** api key, api version, correlation id: the least a request header holds. */
const MIN_FRAME_BYTES = 8;
const UNSUPPORTED_VERSION = 35;
/** What a connection may ask before it has authenticated. */
const BEFORE_AUTHENTICATION: ReadonlySet<number> = new Set([
  API_KEYS.ApiVersions,
  API_KEYS.SaslHandshake,
  API_KEYS.SaslAuthenticate,
]);

/**
 * The ApiVersions answer for the api keys in `handlers`, at the versions `versions` gives them, or
 * else the versions their schemas describe.
 */
export function apiVersionsHandler(
  handlers: () => Iterable<number>,
  versions: ReadonlyMap<number, ApiVersionRange> = new Map(),
): KafkaHandler {
  return async () => {
    const apiKeys = [...handlers()]
      .map((key) => APIS.get(key))
      .filter((api): api is Api => api !== undefined)
      .sort((a, b) => a.apiKey - b.apiKey)
      .map((api) => {
        const range = versionsOf(api, versions);
        return { apiKey: api.apiKey, minVersion: range.min, maxVersion: range.max };
      });
    return { errorCode: 0, apiKeys, throttleTimeMs: 0 };
  };
}

function versionsOf(api: Api, versions: ReadonlyMap<number, ApiVersionRange>): ApiVersionRange {
  const schema = api.request.validVersions;
  const given = versions.get(api.apiKey);
  // A narrower range than the schema's, never a wider one: the codec knows only the schema's versions.
  const min = Math.max(given?.min ?? schema.min, schema.min);
  const max = Math.min(given?.max ?? (schema.max as number), schema.max as number);
  return { min, max };
}

export class KafkaListener {
  readonly #server: net.Server;
  readonly #handlers: Map<number, KafkaHandler>;
  readonly #logger: Logger;
  readonly #maxRequestBytes: number;
  readonly #frameTimeoutMs: number;
  readonly #idleMs: number;
  readonly #maxInFlight: number;
  readonly #versions: Map<number, ApiVersionRange>;
  readonly #sockets = new Set<net.Socket>();
  /** @internal read by Connection */
  readonly quotas: ClientQuotaManager | undefined;
  readonly #authenticationRequired: boolean;

  constructor(options: KafkaListenerOptions) {
    this.quotas = options.quotas;
    this.#authenticationRequired = options.authenticationRequired ?? false;
    this.#logger = options.logger;
    this.#maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.#frameTimeoutMs = options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.#idleMs = options.connectionsMaxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS;
    this.#maxInFlight = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS;
    this.#handlers = new Map(options.handlers);
    this.#versions = new Map();
    for (const key of [...this.#handlers.keys(), API_KEYS.ApiVersions]) {
      const api = APIS.get(key);
      if (api) this.#versions.set(key, versionsOf(api, options.versions ?? new Map()));
    }
    if (!this.#handlers.has(API_KEYS.ApiVersions)) {
      this.#handlers.set(
        API_KEYS.ApiVersions,
        apiVersionsHandler(() => this.#handlers.keys(), this.#versions),
      );
    }
    const limits = {
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      maxConnectionsPerAddress: options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    };
    const gate = new ConnectionGate(limits, (report) =>
      this.#logger.warn(
        { event: 'connections_refused', listener: 'kafka', ...report, limits },
        `refused ${report.refused} Kafka connection(s): ${report.limit} reached`,
      ),
    );
    const secure = options.tls;
    if (secure) {
      const server = tls.createServer(
        { ...secure.material.serverOptions(), handshakeTimeout: secure.handshakeTimeoutMs },
        (socket) => {
          const who = tlsConnectionPrincipal(socket, secure.principalRules);
          if ('refused' in who) this.reject(socket, who.refused);
          else this.#accept(socket, who.principal);
        },
      );
      secure.material.onReload((context) => server.setSecureContext(context));
      // A failed handshake (no or a foreign certificate, a plaintext client) closes that connection only.
      server.on('tlsClientError', (err, socket) => {
        this.#logger.debug({
          event: 'tls.handshake_failed',
          listener: 'kafka',
          remote: socket.remoteAddress,
          err: err.message,
        });
        socket.destroy();
      });
      this.#server = server;
    } else {
      this.#server = net.createServer((socket) => this.#accept(socket, ANONYMOUS));
    }
    // First listener: a refused socket is closed before TLS or the frame reader see a byte of it.
    this.#server.prependListener('connection', (socket: net.Socket) => {
      if (gate.admit(socket)) this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  listen(port: number, host?: string): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as net.AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: net.Socket, principal: Principal): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    const connection = new Connection(socket, this, principal);
    socket.on('data', (chunk) => connection.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
    // Idle means no traffic and nothing being answered: a long-polling Fetch is not idle.
    const onIdle = () => {
      if (connection.inFlight === 0) socket.destroy();
      else socket.setTimeout(this.#idleMs, onIdle);
    };
    socket.setTimeout(this.#idleMs, onIdle);
  }

  /** @internal used by Connection */
  get limits() {
    return {
      maxRequestBytes: this.#maxRequestBytes,
      maxInFlight: this.#maxInFlight,
      frameTimeoutMs: this.#frameTimeoutMs,
      authenticationRequired: this.#authenticationRequired,
    };
  }

  /** @internal */
  handler(apiKey: number): KafkaHandler | undefined {
    return this.#handlers.get(apiKey);
  }

  /** @internal the versions of `apiKey` this listener accepts */
  versions(apiKey: number): ApiVersionRange | undefined {
    return this.#versions.get(apiKey);
  }

  /** @internal */
  reject(socket: net.Socket, reason: string): void {
    this.#logger.warn(
      { event: 'kafka.connection.closed', remote: `${socket.remoteAddress}:${socket.remotePort}`, reason },
      'closed a Kafka connection',
    );
    socket.destroy();
  }
}

class Connection {
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Answers in request order; each settles to the frame to write, or null (no answer: acks=0). */
  #queue: Array<Promise<Buffer | null>> = [];
  #writing = false;
  #corked = false;
  #closed = false;
  readonly #aborter = new AbortController();
  /** Fires `frameTimeoutMs` after a frame's first bytes came, unless the frame completed (refreshed per frame). */
  #frameTimer: NodeJS.Timeout | null = null;
  #partialFrame = false;
  inFlight = 0;
  /** A quota throttle mutes the connection (reads nothing) until then (KIP-219). */
  #mutedUntilMs = 0;
  #unmuteTimer: NodeJS.Timeout | null = null;
  #saslServer: SaslServer | null = null;
  #rawSaslTokens = false;
  #saslAuthenticated = false;
  #closeAfterAnswer = false;
  readonly #sasl: SaslSession;

  constructor(
    readonly socket: net.Socket,
    readonly listener: KafkaListener,
    /** Who this connection acts as: its client certificate's principal, else ANONYMOUS until SASL says otherwise. */
    public principal: Principal = ANONYMOUS,
  ) {
    const connection = this;
    this.#sasl = {
      get server() {
        return connection.#saslServer;
      },
      get authenticated() {
        return connection.#saslAuthenticated;
      },
      begin(server, rawTokens) {
        connection.#saslServer = server;
        connection.#rawSaslTokens = rawTokens;
      },
      succeed(principal) {
        connection.#saslServer = null;
        connection.#rawSaslTokens = false;
        connection.#saslAuthenticated = true;
        connection.principal = principal;
      },
      fail() {
        connection.#saslServer = null;
        connection.#closeAfterAnswer = true;
      },
    };
    socket.on('close', () => {
      this.#closed = true;
      this.#aborter.abort();
      if (this.#frameTimer) clearTimeout(this.#frameTimer);
      if (this.#unmuteTimer !== null) clearTimeout(this.#unmuteTimer);
    });
  }

  /** Keeps the frame deadline in step with the buffer: armed while a frame is partly read. */
  #trackPartialFrame(): void {
    const partial = this.#buffered > 0 && !this.#closed;
    if (partial && !this.#partialFrame) {
      if (this.#frameTimer) this.#frameTimer.refresh();
      else this.#frameTimer = setTimeout(() => this.#frameDeadline(), this.listener.limits.frameTimeoutMs);
    }
    this.#partialFrame = partial;
  }

  #frameDeadline(): void {
    if (!this.#partialFrame || this.#closed) return;
    // Reading is paused while too many requests are being answered: the wait is ours, not the client's.
    if (this.socket.isPaused()) this.#frameTimer?.refresh();
    else this.#fail(`request frame incomplete after ${this.listener.limits.frameTimeoutMs} ms`);
  }

  receive(chunk: Buffer): void {
    if (this.#closed) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 4 && !this.#closed) {
      const head = this.#peek(4);
      const size = head.readInt32BE(0);
      // A raw SASL token (after a v0 handshake) may be shorter than any request header.
      const minBytes = this.#rawSaslTokens ? 0 : MIN_FRAME_BYTES;
      if (size < minBytes || size > this.listener.limits.maxRequestBytes) {
        this.#fail(`frame size ${size} outside ${minBytes}..${this.listener.limits.maxRequestBytes} bytes`);
        return;
      }
      if (this.#buffered < 4 + size) break;
      const frame = this.#take(4 + size).subarray(4);
      // A new frame starts with the next byte: its deadline starts when that byte comes.
      this.#partialFrame = false;
      this.#dispatch(frame);
    }
    this.#trackPartialFrame();
  }

  #peek(n: number): Buffer {
    if ((this.#chunks[0] as Buffer).length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return (this.#chunks[0] as Buffer).subarray(0, n);
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return frame;
  }

  #fail(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.listener.reject(this.socket, reason);
  }

  #dispatch(frame: Buffer): void {
    let answer: Promise<Buffer | null>;
    try {
      answer = this.#handle(frame);
    } catch (error) {
      this.#fail(error instanceof KafkaCodecError ? error.message : String(error));
      return;
    }
    this.inFlight++;
    if (this.inFlight >= this.listener.limits.maxInFlight) this.socket.pause();
    // Awaited in order by #flush; this stops a later failure counting as unhandled meanwhile.
    answer.catch(() => {});
    this.#queue.push(answer);
    void this.#flush();
  }

  /** Decodes synchronously (a malformed frame throws here); the handler's work is the promise. */
  #handle(frame: Buffer): Promise<Buffer | null> {
    if (this.#rawSaslTokens) return this.#rawSaslToken(frame);
    const apiKey = frame.readInt16BE(0);
    if (
      this.listener.limits.authenticationRequired &&
      !this.#saslAuthenticated &&
      this.principal === ANONYMOUS &&
      !BEFORE_AUTHENTICATION.has(apiKey)
    ) {
      throw new KafkaCodecError(`api key ${apiKey} before SASL authentication (authentication is required)`);
    }
    const apiVersion = frame.readInt16BE(2);
    const api = APIS.get(apiKey);
    const handler = this.listener.handler(apiKey);
    const versions = this.listener.versions(apiKey);
    if (api === undefined || handler === undefined || versions === undefined)
      throw new KafkaCodecError(`unsupported api key ${apiKey}`);
    const known = apiVersion >= versions.min && apiVersion <= versions.max;
    if (!known && apiKey !== API_KEYS.ApiVersions) {
      throw new KafkaCodecError(`unsupported ${api.name} version ${apiVersion}`);
    }
    // An ApiVersions version newer than ours still comes with a flexible (v2) header.
    const headerVersion = inRange(api.request.validVersions, apiVersion)
      ? requestHeaderVersion(api, apiVersion)
      : apiVersion >= 3
        ? 2
        : 1;
    const { value: header, end } = decodeAt(frame, 0, RequestHeader, headerVersion);
    const requestHeader = header as unknown as RequestHeaderValue;
    if (!known) {
      // KIP-511: answer in v0 with the versions we do support, so the client can pick one.
      const body = { errorCode: UNSUPPORTED_VERSION, apiKeys: [] as Message[] };
      return handler(requestHeader, {}, this.#context()).then((supported) => {
        body.apiKeys = (supported?.apiKeys as Message[]) ?? [];
        return this.#frame(api, 0, requestHeader.correlationId, body);
      });
    }
    const { value: request } = decodeAt(frame, end, api.request, apiVersion);
    return handler(requestHeader, request, this.#context()).then((response) => {
      if (this.listener.quotas === undefined) {
        return response === null ? null : this.#frame(api, apiVersion, requestHeader.correlationId, response);
      }
      return this.#throttledAnswer(api, apiVersion, requestHeader.correlationId, response, frame.length);
    });
  }

  /**
   * The answer with the client quotas applied (KIP-219): the usage is counted, the answer carries the
   * throttle in `throttle_time_ms` (re-encoded only when throttled), and the connection is muted.
   */
  #throttledAnswer(
    api: Api,
    version: number,
    correlationId: number,
    response: Message | null,
    requestBytes: number,
  ): Buffer | null {
    const quotas = this.listener.quotas as ClientQuotaManager;
    const principal = this.principal;
    let frame = response === null ? null : this.#frame(api, version, correlationId, response);
    let throttleMs = quotas.recordAndGetThrottleTimeMs(principal, 'request_rate', 1);
    if (api.apiKey === API_KEYS.Produce)
      throttleMs = Math.max(
        throttleMs,
        quotas.recordAndGetThrottleTimeMs(principal, 'producer_byte_rate', requestBytes),
      );
    else if (api.apiKey === API_KEYS.Fetch && frame !== null)
      throttleMs = Math.max(
        throttleMs,
        quotas.recordAndGetThrottleTimeMs(principal, 'consumer_byte_rate', frame.length),
      );
    if (throttleMs <= 0) return frame;
    this.#mutedUntilMs = Math.max(this.#mutedUntilMs, Date.now() + throttleMs);
    if (response !== null && 'throttleTimeMs' in response) {
      response.throttleTimeMs = throttleMs;
      frame = this.#frame(api, version, correlationId, response);
    }
    return frame;
  }

  /** Stops reading until the throttle ends; false when the connection is not muted. */
  #muteIfThrottled(): boolean {
    const waitMs = this.#mutedUntilMs - Date.now();
    if (waitMs <= 0) return false;
    this.socket.pause();
    if (this.#unmuteTimer === null) {
      this.#unmuteTimer = setTimeout(() => {
        this.#unmuteTimer = null;
        if (this.#closed || this.#muteIfThrottled()) return;
        if (this.inFlight < this.listener.limits.maxInFlight) this.socket.resume();
      }, waitMs);
    }
    return true;
  }

  #context(): RequestContext {
    return {
      localAddress: this.socket.localAddress ?? '',
      localPort: this.socket.localPort ?? 0,
      remoteAddress: this.socket.remoteAddress ?? '',
      signal: this.#aborter.signal,
      principal: this.principal,
      sasl: this.#sasl,
    };
  }

  /**
   * A SASL token sent bare after a v0 SaslHandshake (clients before KIP-152): evaluated as a
   * SaslAuthenticate v0 would be, answered as a bare size-prefixed token; a failure closes the
   * connection without an answer, the only signal that framing has.
   */
  #rawSaslToken(token: Buffer): Promise<Buffer | null> {
    const handler = this.listener.handler(API_KEYS.SaslAuthenticate);
    if (handler === undefined) throw new KafkaCodecError('raw SASL token but no SaslAuthenticate handler');
    const header: RequestHeaderValue = {
      requestApiKey: API_KEYS.SaslAuthenticate,
      requestApiVersion: 0,
      correlationId: 0,
      clientId: null,
    };
    return handler(header, { authBytes: token }, this.#context()).then((answer) => {
      if (answer === null || answer.errorCode !== 0) {
        throw new Error(`SASL authentication failed: ${String(answer?.errorMessage ?? 'no answer')}`);
      }
      const bytes = answer.authBytes as Buffer;
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(bytes.length, 0);
      return Buffer.concat([size, bytes]);
    });
  }

  #frame(api: Api, version: number, correlationId: number, response: Message): Buffer {
    const header = encode({ correlationId }, ResponseHeader, responseHeaderVersion(api, version));
    const body = encode(response, api.response, version);
    const size = Buffer.allocUnsafe(4);
    size.writeInt32BE(header.length + body.length, 0);
    return Buffer.concat([size, header, body]);
  }

  /**
   * Answers settled in the same turn of the event loop (a client's pipelined requests, read from
   * one chunk) go out in one write: the socket is corked at the first and uncorked once the turn's
   * I/O is done, instead of one syscall per answer.
   */
  #write(frame: Buffer): void {
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      setImmediate(() => {
        this.#corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(frame);
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        let frame: Buffer | null;
        try {
          frame = await (this.#queue[0] as Promise<Buffer | null>);
        } catch (error) {
          this.#fail(`handler failed: ${(error as Error).message}`);
          return;
        }
        this.#queue.shift();
        this.inFlight--;
        if (this.#closed) return;
        if (frame !== null) this.#write(frame);
        if (this.#closeAfterAnswer) {
          // Kafka's rule after a failed authentication: answer, then close (end() flushes the answer).
          this.#closed = true;
          this.socket.end(() => this.socket.destroy());
          return;
        }
        if (this.#muteIfThrottled()) continue;
        if (this.inFlight < this.listener.limits.maxInFlight) this.socket.resume();
      }
    } finally {
      this.#writing = false;
    }
  }
}
