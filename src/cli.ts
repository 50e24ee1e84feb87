#!/usr/bin/env node
/**
 * `samsa serve [flags]`: opens the broker, listens at once (so /healthz answers and /readyz says 503
 * while logs recover), then recovers. SIGTERM/SIGINT stop accepting, let in-flight requests finish
 * (bounded by shutdownTimeoutMs), shut the broker down and exit 0. One JSON line per lifecycle event
 * on stdout; errors on stderr; nothing per request.
 * Exit codes: 0 clean stop, 1 failure, 2 usage or configuration error.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Broker } from './broker/broker.js';
import { parseServeArgs, type ServerConfig, USAGE } from './config.js';
import { InvalidConfigError } from './errors.js';
import { createApp } from './http/app.js';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
/** While draining, how often to close keep-alive connections whose last response has finished. */
const DRAIN_POLL_MS = 100;

function log(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', event, ...fields })}\n`);
}

function logError(event: string, err: unknown): void {
  const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', event, error })}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (command !== 'serve') {
    process.stderr.write(
      `samsa: ${command === undefined ? 'missing command' : `unknown command '${command}'`}\n\n${USAGE}`,
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

/** Resolves with the exit code once the node has stopped. */
async function serve(config: ServerConfig): Promise<number> {
  // Signals can arrive at any point, even while the broker opens; remember the first one.
  let stopSignal: NodeJS.Signals | undefined;
  let onStop: (() => void) | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    onStop = resolve;
  });
  const requestStop = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      // A second signal means the operator no longer wants to wait.
      logError('forced_exit', `second ${signal} while shutting down`);
      process.exit(EXIT_FAILURE);
    }
    stopSignal = signal;
    onStop?.();
  };
  process.on('SIGTERM', requestStop);
  process.on('SIGINT', requestStop);

  let broker: Broker;
  try {
    broker = await Broker.open({ dataDir: config.dataDir, nodeId: config.nodeId, brokerConfigs: config.brokerConfigs });
  } catch (err) {
    if (err instanceof InvalidConfigError) {
      process.stderr.write(`samsa: ${err.message}\n`);
      return EXIT_USAGE;
    }
    logError('open_failed', err);
    return EXIT_FAILURE;
  }

  const app = createApp({
    broker,
    limits: { maxRequestBytes: config.maxRequestBytes, maxRecordsPerRequest: config.maxRecordsPerRequest },
  });
  const server = createServer(app);
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    logError('listen_failed', err);
    await broker.shutdown();
    return EXIT_FAILURE;
  }
  const { port } = server.address() as AddressInfo;
  log('listening', { host: config.host, port, nodeId: config.nodeId, dataDir: config.dataDir });

  const startedAtMs = Date.now();
  // Recovery runs while probes answer; a stop request does not wait for it to finish.
  const started = broker.start().then(
    () => ({ ok: true as const }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const first = await Promise.race([started, stopRequested.then(() => undefined)]);
  let exitCode = EXIT_OK;
  if (first?.ok === true) {
    log('ready', { recoveryMs: Date.now() - startedAtMs });
    await stopRequested;
  } else if (first?.ok === false) {
    logError('start_failed', first.err);
    exitCode = EXIT_FAILURE;
  }

  log('shutting_down', { signal: stopSignal ?? null });
  await drain(server, config.shutdownTimeoutMs);
  try {
    await broker.shutdown();
  } catch (err) {
    logError('shutdown_failed', err);
    exitCode = EXIT_FAILURE;
  }
  log('stopped', { exitCode });
  return exitCode;
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
    logError('fatal', err);
    process.exit(EXIT_FAILURE);
  },
);
