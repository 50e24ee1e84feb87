#!/usr/bin/env node
/**
 * `samsa reassign [flags]` moves partition replicas through a running cluster's HTTP API (see
 * reassign-partitions.ts).
 *
 * `samsa serve [flags]`: opens the broker, listens at once (so /healthz answers and /readyz says 503
 * while logs recover), then recovers. SIGTERM/SIGINT stop accepting, let in-flight requests finish
 * (bounded by shutdownTimeoutMs), shut the broker down and exit 0. Logs are pino JSON lines (see
 * logger.ts): one per lifecycle event (`"event":"listening"` carries the port) and one per request on
 * stdout, errors on stderr; pretty-printed on a terminal; `--log-level` picks how much.
 * Exit codes: 0 clean stop, 1 failure, 2 usage or configuration error.
 *
 * `samsa users add|remove|add-key <name>` edits the users file (see users-command.ts); a running
 * server re-reads it (and the JWKS file) when it changes and on SIGHUP.
 */
import { watch } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import type { StartReport } from './broker/broker.js';
import { authenticationConfigured, isLoopbackHost, parseServeArgs, type ServerConfig, USAGE } from './config.js';
import { InvalidConfigError } from './errors.js';
import { createApp } from './http/app.js';
import { createHttpServer } from './http/http-listener.js';
import { DEFAULT_SSE_LIMITS, SseHub } from './http/sse-stream.js';
import { kafkaApis, parseListener } from './kafka/kafka-apis.js';
import { KafkaListener } from './kafka/kafka-listener.js';
import { createLogger, type Logger } from './logger.js';
import { SamsaMetrics } from './metrics/samsa-metrics.js';
import { parseReassignArgs, REASSIGN_USAGE, runReassign } from './reassign-partitions.js';
import { PeerUnavailableError } from './replication/peer-client.js';
import { SamsaNode } from './samsa-node.js';
import { Authenticator } from './security/authenticator.js';
import { PrincipalMappingRules } from './security/certificate-principal.js';
import { ClientQuotaManager } from './security/client-quota-manager.js';
import { ClientQuotas } from './security/client-quotas.js';
import { watchQuotasFile } from './security/quotas-file-watcher.js';
import { TlsMaterial } from './security/tls-material.js';
import { readPasswordFromProcess, runUsers, USERS_USAGE } from './users-command.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** While draining, how often to close keep-alive connections whose last response has finished. */
const DRAIN_POLL_MS = 100;
/** A users file change is read this long after the last event about it. */
const USERS_FILE_SETTLE_MS = 100;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n${REASSIGN_USAGE}\n${USERS_USAGE}`);
    return EXIT_OK;
  }
  if (command === 'reassign') return reassign(rest);
  if (command === 'users') {
    return runUsers(rest, process.env, {
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
      readPassword: readPasswordFromProcess,
    });
  }
  if (command !== 'serve') {
    process.stderr.write(
      `samsa: ${command === undefined ? 'missing command' : `unknown command '${command}'`}\n\n${USAGE}\n${REASSIGN_USAGE}`,
    );
    return EXIT_USAGE;
  }
  const parsed = parseServeArgs(rest, process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`samsa: ${parsed.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return serve(parsed.config);
}

/** `samsa reassign ...` (see reassign-partitions.ts): a client of a running cluster's HTTP API. */
async function reassign(argv: readonly string[]): Promise<number> {
  const parsed = parseReassignArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(REASSIGN_USAGE);
    return EXIT_OK;
  }
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`samsa reassign: ${parsed.message}\n\n${REASSIGN_USAGE}`);
    return EXIT_USAGE;
  }
  return runReassign(parsed.config, {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
}

/** Resolves with the exit code once the node has stopped. */
async function serve(config: ServerConfig): Promise<number> {
  const logger = createLogger({ level: config.logLevel });
  const transport = loadTransport(config, logger);
  if (typeof transport === 'string') {
    process.stderr.write(`samsa: ${transport}\n`);
    return EXIT_USAGE;
  }
  const { tls } = transport;
  // Client quotas: one manager for both edges, so HTTP and Kafka draw on one budget per principal.
  // Without a quotas file nothing is measured at all (no cost on the produce path).
  let quotas: ClientQuotaManager | undefined;
  try {
    if (config.quotasFile !== '') {
      quotas = new ClientQuotaManager(ClientQuotas.readFile(config.quotasFile), {
        samples: config.quotaWindowNum,
        sampleMs: config.quotaWindowSizeSeconds * 1000,
      });
    }
  } catch (err) {
    process.stderr.write(`samsa: --quotas-file: ${(err as Error).message}\n`);
    return EXIT_USAGE;
  }
  const stopWatchingQuotas =
    quotas === undefined
      ? () => {}
      : watchQuotasFile(config.quotasFile, quotas, {
          reloaded: () => logger.info({ event: 'quotas_reloaded', file: config.quotasFile }, 'quotas file reloaded'),
          error: (err) =>
            logger.error(
              { event: 'quotas_reload_failed', file: config.quotasFile, err },
              'quotas file not reloaded; the quotas in force stay',
            ),
        });
  // Signals can arrive at any point, even while the broker opens; remember the first one.
  let stopSignal: NodeJS.Signals | undefined;
  let onStop: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    onStop = resolve;
  });
  const requestStop = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      // A second signal means the operator no longer wants to wait.
      logger.fatal({ event: 'forced_exit', signal }, `second ${signal} while shutting down`);
      process.exit(EXIT_FAILURE);
    }
    stopSignal = signal;
    onStop?.();
  };
  process.on('SIGTERM', requestStop);
  process.on('SIGINT', requestStop);

  const etcd = config.etcd
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  let node: SamsaNode;
  try {
    node = await SamsaNode.open({
      dataDir: config.dataDir,
      nodeId: config.nodeId,
      brokerConfigs: config.brokerConfigs,
      consumers: { maxInstancesPerPrincipal: config.maxConsumerInstancesPerPrincipal },
      authorizer: config.authorizer,
      cluster:
        etcd.length === 0
          ? undefined
          : {
              endpoints: etcd,
              clusterName: config.clusterName,
              clusterSecret: config.clusterSecret === '' ? undefined : config.clusterSecret,
              rack: config.rack === '' ? undefined : config.rack,
              ...(tls ? { peerTls: () => tls.material.peerOptions() } : {}),
            },
      onError: (task, err) => {
        // A peer that cannot be reached is the cluster's weather (a node stopping, restarting or
        // partitioned), not a fault of this node: a warning naming it, without a stack.
        if (err instanceof PeerUnavailableError) {
          logger.warn(
            { event: 'peer_unavailable', task, nodeId: err.nodeId, reason: err.message },
            `${task}: ${err.message}`,
          );
          return;
        }
        logger.error({ event: 'background_task_failed', task, err }, `${task} failed`);
      },
    });
  } catch (err) {
    if (err instanceof InvalidConfigError) {
      process.stderr.write(`samsa: ${err.message}\n`);
      return EXIT_USAGE;
    }
    logger.error({ event: 'open_failed', err }, 'could not open the broker');
    return EXIT_FAILURE;
  }

  let authenticator: Authenticator;
  try {
    authenticator = await Authenticator.create({
      usersFile: config.usersFile,
      jwt: {
        secret: config.jwtSecret,
        jwksFile: config.jwtJwksFile,
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
        clockSkewMs: config.jwtClockSkewMs,
        principalClaim: config.jwtPrincipalClaim,
      },
      clusterSecret: node.clusterSecret,
    });
  } catch (err) {
    process.stderr.write(`samsa: ${(err as Error).message}\n`);
    await node.shutdown().catch(() => undefined);
    return EXIT_USAGE;
  }
  const stopReloading = reloadCredentialsOnChange(authenticator, config, logger);
  if (!authenticationConfigured(config) && !isLoopbackHost(config.host)) {
    logger.warn(
      { event: 'anonymous_access', host: config.host },
      `authentication is off on ${config.host} (--allow-anonymous): anyone who reaches this node may read, write and delete every topic`,
    );
  }

  const { broker } = node;
  const sseHub = new SseHub({
    ...DEFAULT_SSE_LIMITS,
    keepAliveMs: config.sseKeepAliveMs,
    maxStreams: config.sseMaxStreams,
    maxStreamsPerClient: config.sseMaxStreamsPerClient,
    maxStreamsPerPrincipal: config.sseMaxStreamsPerPrincipal,
    maxBufferedBytesPerStream: config.sseMaxBufferedBytes,
    slowClientTimeoutMs: config.sseSlowClientTimeoutMs,
    maxSharedChunkBytes: config.sseMaxSharedBytes,
  });
  const app = createApp({
    node,
    advertisedUrl: config.advertisedUrl === '' ? undefined : config.advertisedUrl,
    sseHub,
    corsOrigins: config.corsOrigins
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o.length > 0),
    limits: { maxRequestBytes: config.maxRequestBytes, maxRecordsPerRequest: config.maxRecordsPerRequest },
    metrics: new SamsaMetrics(broker),
    logger,
    minFreeDiskBytes: config.minFreeDiskBytes,
    clusterSecret: node.clusterSecret,
    authenticator,
    quotas,
    ...(tls ? { peerTls: () => tls.material.peerOptions() } : {}),
  });
  const server = createHttpServer(app, {
    timeouts: {
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      requestTimeoutMs: config.httpRequestTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
      idleTimeoutMs: config.httpIdleTimeoutMs,
      handshakeTimeoutMs: config.tlsHandshakeTimeoutMs,
    },
    limits: {
      maxConnections: config.httpMaxConnections,
      maxConnectionsPerAddress: config.httpMaxConnectionsPerAddress,
    },
    logger,
    ...(tls ? { tls } : {}),
  });
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    logger.error({ event: 'listen_failed', err }, 'could not listen');
    await node.shutdown();
    return EXIT_FAILURE;
  }
  const { port } = server.address() as AddressInfo;
  let kafka: KafkaListener | null = null;
  let kafkaPort = 0;
  if (config.kafkaPort !== 0) {
    const listening = await listenKafka(node, config, logger, tls, quotas, authenticator);
    if (listening === null) {
      server.close();
      await node.shutdown().catch(() => undefined);
      return EXIT_FAILURE;
    }
    ({ listener: kafka, port: kafkaPort } = listening);
  }
  // The port must stay a plain number in this line: test/process/server-process.ts reads it from here.
  logger.info(
    { event: 'listening', host: config.host, port, nodeId: config.nodeId, dataDir: config.dataDir, tls: tls !== null },
    `listening on ${config.host}:${port}`,
  );

  if (etcd.length > 0) {
    // Peers reach this node at its advertised URL; by default the address it listens on.
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const scheme = tls ? 'https' : 'http';
    const advertised = config.advertisedUrl === '' ? `${scheme}://${host}:${port}` : config.advertisedUrl;
    // What the other nodes' Metadata hands Kafka clients for this one: the configured listener, else
    // the host of the advertised URL with the Kafka port (this node's own Metadata keeps answering
    // the address each client connected to).
    const kafkaListener =
      kafka === null
        ? undefined
        : config.kafkaAdvertisedListener !== ''
          ? parseListener(config.kafkaAdvertisedListener)
          : { host: new URL(advertised).hostname.replace(/^\[(.*)\]$/, '$1'), port: kafkaPort };
    try {
      await node.joinCluster(advertised, kafkaListener);
    } catch (err) {
      logger.error({ event: 'join_failed', err }, 'could not join the cluster');
      server.close();
      await kafka?.close();
      await node.shutdown().catch(() => undefined);
      return EXIT_FAILURE;
    }
    logger.info(
      { event: 'joined', nodeId: config.nodeId, advertisedUrl: advertised, cluster: config.clusterName },
      `joined cluster ${config.clusterName} as node ${config.nodeId}`,
    );
  }

  // Recovery runs while probes answer; a stop request does not wait for it to finish.
  const started = node.start().then(
    (report: StartReport) => ({ ok: true as const, report }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const first = await Promise.race([started, stopRequested.then(() => undefined)]);
  let exitCode = EXIT_OK;
  if (first?.ok === true) {
    const { durationMs, partitions, truncatedBytes, cleanShutdown } = first.report;
    logger.info(
      { event: 'ready', recoveryMs: durationMs, partitions, truncatedBytes, cleanShutdown },
      `ready: ${partitions} partitions recovered in ${durationMs} ms`,
    );
    await stopRequested;
  } else if (first?.ok === false) {
    logger.error({ event: 'start_failed', err: first.err }, 'start-up recovery failed');
    exitCode = EXIT_FAILURE;
  }

  logger.info({ event: 'shutting_down', signal: stopSignal ?? null }, 'shutting down');
  stopReloading();
  stopWatchingQuotas();
  // Streams never finish by themselves: end them so draining waits only for real requests.
  sseHub.closeAll();
  // Kafka clients reconnect and retry elsewhere: their connections are closed, not drained.
  await kafka?.close();
  await drain(server, config.shutdownTimeoutMs);
  try {
    await node.shutdown();
  } catch (err) {
    logger.error({ event: 'shutdown_failed', err }, 'shutdown failed');
    exitCode = EXIT_FAILURE;
  }
  logger.info({ event: 'stopped', exitCode }, 'stopped');
  return exitCode;
}

/**
 * Starts the Kafka protocol listener on `--kafka-port` (same host as HTTP); null when it cannot
 * listen, after one log line saying why (a port in use names the flag that moves or disables it).
 */
async function listenKafka(
  node: SamsaNode,
  config: ServerConfig,
  logger: Logger,
  tls: Transport['tls'],
  quotas: ClientQuotaManager | undefined,
  authenticator: Authenticator,
): Promise<{ listener: KafkaListener; port: number } | null> {
  const listener = new KafkaListener({
    ...kafkaApis({
      broker: node.broker,
      coordinator: node.coordinator,
      logger,
      advertisedListener: config.kafkaAdvertisedListener === '' ? null : parseListener(config.kafkaAdvertisedListener),
      authenticator,
      authorizer: node.authorizer,
    }),
    logger,
    maxConnections: config.kafkaMaxConnections,
    maxConnectionsPerAddress: config.kafkaMaxConnectionsPerAddress,
    frameTimeoutMs: config.kafkaFrameTimeoutMs,
    connectionsMaxIdleMs: config.kafkaConnectionsMaxIdleMs,
    ...(tls ? { tls: { ...tls, handshakeTimeoutMs: config.tlsHandshakeTimeoutMs } } : {}),
    quotas,
    authenticationRequired: authenticator.enabled,
  });
  try {
    const { port } = await listener.listen(config.kafkaPort, config.host);
    logger.info(
      { event: 'kafka_listening', host: config.host, port, advertised: config.kafkaAdvertisedListener || null },
      `Kafka protocol listener on ${config.host}:${port}`,
    );
    return { listener, port };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `Kafka port ${config.kafkaPort} is already in use on ${config.host}: stop what holds it, choose another with --kafka-port (SAMSA_KAFKA_PORT), or turn the Kafka listener off with --kafka-port 0`
        : `could not listen for Kafka clients on ${config.host}:${config.kafkaPort}: ${(err as Error).message}`;
    logger.error({ event: 'kafka_listen_failed', code, port: config.kafkaPort, err }, message);
    return null;
  }
}

interface Transport {
  tls: { material: TlsMaterial; principalRules: PrincipalMappingRules } | null;
}

/**
 * TLS for both listeners when `--tls-cert` and `--tls-key` are set, read and checked now (a bad
 * file stops start-up); SIGHUP reads the files again, and a bad file then keeps the material in
 * use. Returns the message of a configuration mistake instead.
 */
function loadTransport(config: ServerConfig, logger: Logger): Transport | string {
  if ((config.tlsCert === '') !== (config.tlsKey === ''))
    return '--tls-cert and --tls-key (SAMSA_TLS_CERT, SAMSA_TLS_KEY) go together: set both or neither';
  let principalRules: PrincipalMappingRules;
  try {
    principalRules = PrincipalMappingRules.parse(config.tlsPrincipalMappingRules);
  } catch (err) {
    return `--tls-principal-mapping-rules: ${(err as Error).message}`;
  }
  if (config.tlsCert === '') {
    if (config.tlsClientCa !== '' || config.tlsPeerCa !== '')
      return '--tls-client-ca and --tls-peer-ca need TLS: set --tls-cert and --tls-key too';
    return { tls: null };
  }
  let material: TlsMaterial;
  try {
    material = TlsMaterial.load({
      certFile: config.tlsCert,
      keyFile: config.tlsKey,
      clientAuth: config.tlsClientCa === '' ? 'none' : config.tlsClientAuth,
      ...(config.tlsClientCa !== '' ? { clientCaFile: config.tlsClientCa } : {}),
      ...(config.tlsPeerCa !== '' ? { peerCaFile: config.tlsPeerCa } : {}),
    });
  } catch (err) {
    return (err as Error).message;
  }
  logger.info({ event: 'tls_loaded', ...material.describe(), clientAuth: material.files.clientAuth }, 'TLS on');
  process.on('SIGHUP', () => {
    try {
      material.reload();
      logger.info({ event: 'tls_reloaded', ...material.describe() }, 'TLS certificate reloaded');
    } catch (err) {
      logger.error(
        { event: 'tls_reload_failed', err: (err as Error).message },
        'TLS reload failed; the certificate in use is kept',
      );
    }
  });
  return { tls: { material, principalRules } };
}

/**
 * Re-reads the users file and the JWKS file on SIGHUP, and the users file when it changes (the
 * directory is watched: `samsa users` replaces the file by rename). A broken file is logged and
 * the credentials in use stay. Returns what stops watching.
 */
function reloadCredentialsOnChange(authenticator: Authenticator, config: ServerConfig, logger: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = (cause: string) => {
    authenticator.reload().then(
      () => logger.info({ event: 'credentials_reloaded', cause }, 'reloaded the users and JWKS files'),
      (err: unknown) =>
        logger.error(
          { event: 'credentials_reload_failed', cause, err },
          'could not reload credentials; keeping the old ones',
        ),
    );
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  let watcher: ReturnType<typeof watch> | undefined;
  if (config.usersFile !== '') {
    const dir = dirname(config.usersFile);
    const name = basename(config.usersFile);
    try {
      watcher = watch(dir, (_event, file) => {
        if (file !== name) return;
        // An editor or a rename fires several events: reload once they settle.
        clearTimeout(timer);
        timer = setTimeout(() => reload('file_changed'), USERS_FILE_SETTLE_MS);
      });
      watcher.on('error', (err) =>
        logger.warn({ event: 'users_file_watch_failed', err }, 'stopped watching the users file; SIGHUP still reloads'),
      );
    } catch (err) {
      logger.warn({ event: 'users_file_watch_failed', err }, 'cannot watch the users file; SIGHUP still reloads');
    }
  }
  return () => {
    process.off('SIGHUP', onHup);
    clearTimeout(timer);
    watcher?.close();
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops accepting connections and waits for in-flight requests. Idle keep-alive connections are
 * closed as they become idle; whatever is still open after `timeoutMs` is cut.
 */
async function drain(server: Server, timeoutMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const poll = setInterval(() => server.closeIdleConnections(), DRAIN_POLL_MS);
  const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
  try {
    await closed;
  } finally {
    clearInterval(poll);
    clearTimeout(deadline);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    createLogger({ level: 'fatal' }).fatal({ event: 'fatal', err }, 'fatal error');
    process.exit(EXIT_FAILURE);
  },
);
