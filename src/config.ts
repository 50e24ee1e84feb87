/**
 * Server configuration for `samsa serve`: flags first, then `SAMSA_*` environment variables, then
 * defaults. Kafka broker settings keep Kafka's dotted names (`--log.retention.ms 1000`, or
 * `SAMSA_LOG_RETENTION_MS=1000`) and are handed to Broker.open untouched; the broker validates them.
 * Pure: takes argv and env, returns a result; printing and exit codes belong to the CLI.
 */

import { brokerConfigNames } from './broker/broker-config.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';

/** Default of `--min-free-disk-bytes`: room for a few segments' worth of appends and index files. */
export const DEFAULT_MIN_FREE_DISK_BYTES = 100 * 1024 * 1024;

export interface ServerConfig {
  port: number;
  host: string;
  /** The Kafka wire-protocol listener's TCP port (same host as HTTP); 0 turns it off. */
  kafkaPort: number;
  /** `host:port` Metadata hands to Kafka clients; empty: the address each client connected to. */
  kafkaAdvertisedListener: string;
  dataDir: string;
  nodeId: number;
  /** Largest HTTP request body, in bytes; larger answers 413. */
  maxRequestBytes: number;
  /** Most records in one produce request; more answers 422. */
  maxRecordsPerRequest: number;
  /** How long shutdown waits for in-flight requests before cutting their connections. */
  shutdownTimeoutMs: number;
  /** Least severe log level written: fatal, error, warn, info, debug, trace or silent. */
  logLevel: LogLevel;
  /** `/readyz` fails (`disk_full`) while the data dir's filesystem has fewer bytes available. */
  minFreeDiskBytes: number;
  /** Comma-separated origins whose browser pages may write (any origin may read); `*` for all. */
  corsOrigins: string;
  /** The URL clients reach this node at (behind a proxy), for v3 links and consumer `base_uri`; empty: from each request. */
  advertisedUrl: string;
  /** SSE: a keep-alive comment after this long without events. */
  sseKeepAliveMs: number;
  /** SSE: most open streams on this node, and from one client address. */
  sseMaxStreams: number;
  sseMaxStreamsPerClient: number;
  /** SSE: most bytes queued in one stream's socket before the client is dropped. */
  sseMaxBufferedBytes: number;
  /** SSE: how long a stream waits for a full socket to drain before dropping the client. */
  sseSlowClientTimeoutMs: number;
  /** SSE: most bytes of event runs kept for streams that read in step. */
  sseMaxSharedBytes: number;
  /** Cluster mode: comma-separated etcd client URLs; empty runs the embedded single node. */
  etcd: string;
  /** Cluster mode: the cluster's name, the etcd key prefix `/samsa/<name>/` (several clusters may share an etcd). */
  clusterName: string;
  /** Cluster mode: the secret node-to-node calls carry; empty: one the first node stores in etcd. */
  clusterSecret: string;
  /** Cluster mode: this node's rack, for rack-aware replica placement; empty: none. */
  rack: string;
  /** TLS on both listeners: the PEM certificate chain and key; both empty: plaintext. */
  tlsCert: string;
  tlsKey: string;
  /** Mutual TLS: the PEM CA bundle client certificates must chain to; empty: no client certificates. */
  tlsClientCa: string;
  /** With a client CA: `required` (no certificate, no connection), `requested` (none: anonymous) or `none`. */
  tlsClientAuth: 'none' | 'requested' | 'required';
  /** Cluster mode over https: the PEM CA bundle peers' certificates must chain to; empty: the system store. */
  tlsPeerCa: string;
  /** Kafka's ssl.principal.mapping.rules: client certificate subject → principal name. */
  tlsPrincipalMappingRules: string;
  /** A TLS handshake not done within this long is cut (both listeners). */
  tlsHandshakeTimeoutMs: number;
  /** HTTP: the request line and headers must arrive within this long of the connection's first byte. */
  httpHeadersTimeoutMs: number;
  /** HTTP: the whole request (headers and body) must arrive within this long (0: no limit); answers are not bounded by it. */
  httpRequestTimeoutMs: number;
  /** HTTP: an idle keep-alive connection is closed after this long. */
  httpKeepAliveTimeoutMs: number;
  /** HTTP: a connection with no traffic for this long is closed, unless an answer is waiting for data (a long poll). */
  httpIdleTimeoutMs: number;
  /** HTTP: most open connections, and from one client address. */
  httpMaxConnections: number;
  httpMaxConnectionsPerAddress: number;
  /** Kafka listener: most open connections, and from one client address (Kafka's max.connections.per.ip). */
  kafkaMaxConnections: number;
  kafkaMaxConnectionsPerAddress: number;
  /** Kafka listener: a request frame begun must be complete within this long. */
  kafkaFrameTimeoutMs: number;
  /** Kafka listener: connections.max.idle.ms. */
  kafkaConnectionsMaxIdleMs: number;
  /** Client quotas: a JSON file of per-user rates (see src/security/client-quotas.ts); empty: none. */
  quotasFile: string;
  /** Kafka's quota.window.num and quota.window.size.seconds: the window quotas are measured over. */
  quotaWindowNum: number;
  quotaWindowSizeSeconds: number;
  /** Most open SSE streams, and REST consumer instances, of one principal. */
  sseMaxStreamsPerPrincipal: number;
  maxConsumerInstancesPerPrincipal: number;
  /** Authentication: the users file (Basic, API keys, SASL); empty: none. */
  usersFile: string;
  /** Authentication: HS256 secret for bearer JWTs (at least 32 bytes); empty: none. */
  jwtSecret: string;
  /** Authentication: JWKS file of RS256/ES256 public keys for bearer JWTs; empty: none. */
  jwtJwksFile: string;
  /** JWT `iss` required; empty: not checked. */
  jwtIssuer: string;
  /** JWT `aud` required; empty: not checked. */
  jwtAudience: string;
  /** Tolerance on JWT `exp` and `nbf`. */
  jwtClockSkewMs: number;
  /** The JWT claim naming the principal. */
  jwtPrincipalClaim: string;
  /** Serve without authentication on a non-loopback `--host` (refused otherwise). */
  allowAnonymous: boolean;
  /** `acl`: Kafka's ACL authorizer (with `super.users`, `allow.everyone.if.no.acl.found`); `none`: everyone may do everything. */
  authorizer: 'none' | 'acl';
  /** Kafka broker configs by Kafka name, e.g. `{ 'log.retention.ms': '1000' }`. */
  brokerConfigs: Record<string, string>;
}

export type ConfigResult =
  | { kind: 'config'; config: ServerConfig }
  | { kind: 'help' }
  | { kind: 'usage-error'; message: string };

type Env = Readonly<Record<string, string | undefined>>;

interface Setting<T> {
  flag: string;
  env: string;
  defaultValue: T;
  /** undefined when the text is not a valid value. */
  parse: (text: string) => T | undefined;
  /** A switch: `--flag` alone means true (`--flag=false` says false). */
  switch?: true;
  expected: string;
  help: string;
}

type ServerSettings = Omit<ServerConfig, 'brokerConfigs'>;

const MAX_INT32 = 2_147_483_647;

const SETTINGS: { [K in keyof ServerSettings]: Setting<ServerSettings[K]> } = {
  port: intSetting('port', 8082, 0, 65_535, 'TCP port to listen on; 0 picks a free one'),
  host: textSetting(
    'host',
    '127.0.0.1',
    'Interface to listen on (0.0.0.0: all; needs authentication or --allow-anonymous)',
  ),
  kafkaPort: intSetting('kafka-port', 9092, 0, 65_535, 'Kafka protocol port; 0 turns the listener off'),
  kafkaAdvertisedListener: hostPortSetting(
    'kafka-advertised-listener',
    'host:port Kafka clients are told to use (empty: the address they connected to)',
  ),
  dataDir: textSetting('data-dir', './data', 'Directory holding the partition logs'),
  nodeId: intSetting('node-id', 0, 0, MAX_INT32, 'This node’s broker id'),
  maxRequestBytes: intSetting('max-request-bytes', 16 * 1024 * 1024, 1, MAX_INT32, 'Largest request body (bytes)'),
  maxRecordsPerRequest: intSetting('max-records-per-request', 10_000, 1, 10_000_000, 'Most records per produce'),
  shutdownTimeoutMs: intSetting('shutdown-timeout-ms', 10_000, 0, 600_000, 'Grace period for in-flight requests'),
  logLevel: enumSetting('log-level', 'info', LOG_LEVELS, 'Least severe log level written'),
  minFreeDiskBytes: intSetting(
    'min-free-disk-bytes',
    DEFAULT_MIN_FREE_DISK_BYTES,
    0,
    Number.MAX_SAFE_INTEGER,
    'Readiness fails below this free space (bytes)',
  ),
  corsOrigins: textSetting('cors-origins', '', 'Origins allowed to write from browsers (comma-separated)'),
  advertisedUrl: textSetting('advertised-url', '', 'URL clients use to reach this node (links, base_uri)'),
  sseKeepAliveMs: intSetting('sse-keepalive-ms', 15_000, 100, 600_000, 'SSE keep-alive comment interval (ms)'),
  sseMaxStreams: intSetting('sse-max-streams', 1000, 1, 1_000_000, 'Most open SSE streams on this node'),
  sseMaxStreamsPerClient: intSetting(
    'sse-max-streams-per-client',
    50,
    1,
    1_000_000,
    'Most open SSE streams per client address',
  ),
  sseMaxBufferedBytes: intSetting(
    'sse-max-buffered-bytes',
    1024 * 1024,
    64 * 1024,
    MAX_INT32,
    'Bytes one SSE stream may queue',
  ),
  sseSlowClientTimeoutMs: intSetting(
    'sse-slow-client-timeout-ms',
    30_000,
    100,
    600_000,
    'Drop an SSE client stuck this long (ms)',
  ),
  etcd: optionalTextSetting('etcd', 'Cluster mode: etcd client URLs, comma-separated (empty: single node)'),
  clusterName: textSetting('cluster-name', 'samsa', 'Cluster mode: the cluster name (etcd key prefix)'),
  clusterSecret: optionalTextSetting('cluster-secret', 'Cluster mode: node-to-node secret (empty: kept in etcd)'),
  rack: optionalTextSetting('rack', 'Cluster mode: this node’s rack, for replica placement'),
  sseMaxSharedBytes: intSetting(
    'sse-max-shared-bytes',
    16 * 1024 * 1024,
    0,
    MAX_INT32,
    'Bytes of event runs kept for SSE streams that read in step',
  ),
  tlsCert: optionalTextSetting(
    'tls-cert',
    'TLS certificate chain, PEM file (with --tls-key: both listeners speak TLS)',
  ),
  tlsKey: optionalTextSetting('tls-key', 'TLS private key, PEM file'),
  tlsClientCa: optionalTextSetting('tls-client-ca', 'Mutual TLS: CA bundle (PEM) client certificates must chain to'),
  tlsClientAuth: enumSetting(
    'tls-client-auth',
    'required',
    ['none', 'requested', 'required'] as const,
    'With --tls-client-ca: required, requested (no certificate: anonymous) or none',
  ),
  tlsPeerCa: optionalTextSetting(
    'tls-peer-ca',
    'Cluster mode: CA bundle (PEM) peers are verified against (empty: system)',
  ),
  tlsPrincipalMappingRules: textSetting(
    'tls-principal-mapping-rules',
    'DEFAULT',
    'Kafka ssl.principal.mapping.rules: certificate subject to principal',
  ),
  tlsHandshakeTimeoutMs: intSetting(
    'tls-handshake-timeout-ms',
    10_000,
    100,
    600_000,
    'Cut a TLS handshake slower than this (ms)',
  ),
  httpHeadersTimeoutMs: intSetting(
    'http-headers-timeout-ms',
    10_000,
    100,
    600_000,
    'Request headers must arrive within (ms)',
  ),
  httpRequestTimeoutMs: intSetting(
    'http-request-timeout-ms',
    60_000,
    0,
    86_400_000,
    'Whole request (body too) must arrive within (ms); 0: no limit',
  ),
  httpKeepAliveTimeoutMs: intSetting(
    'http-keep-alive-timeout-ms',
    5_000,
    100,
    600_000,
    'Close idle keep-alive connections after (ms)',
  ),
  httpIdleTimeoutMs: intSetting(
    'http-idle-timeout-ms',
    60_000,
    100,
    3_600_000,
    'Close connections silent this long (ms)',
  ),
  httpMaxConnections: intSetting('http-max-connections', 10_000, 1, 1_000_000, 'Most open HTTP connections'),
  httpMaxConnectionsPerAddress: intSetting(
    'http-max-connections-per-address',
    256,
    1,
    1_000_000,
    'Most open HTTP connections from one client address',
  ),
  kafkaMaxConnections: intSetting('kafka-max-connections', 1000, 1, 1_000_000, 'Most open Kafka connections'),
  kafkaMaxConnectionsPerAddress: intSetting(
    'kafka-max-connections-per-address',
    256,
    1,
    1_000_000,
    'Most open Kafka connections from one client address',
  ),
  kafkaFrameTimeoutMs: intSetting(
    'kafka-frame-timeout-ms',
    30_000,
    100,
    3_600_000,
    'A begun Kafka request must complete within (ms)',
  ),
  kafkaConnectionsMaxIdleMs: intSetting(
    'kafka-connections-max-idle-ms',
    600_000,
    1000,
    MAX_INT32,
    'Close idle Kafka connections after (ms)',
  ),
  quotasFile: optionalTextSetting('quotas-file', 'JSON file of per-user quotas (producer_byte_rate, ...)'),
  quotaWindowNum: intSetting('quota-window-num', 11, 2, 1000, 'Samples in the quota window (quota.window.num)'),
  quotaWindowSizeSeconds: intSetting(
    'quota-window-size-seconds',
    1,
    1,
    3600,
    'Seconds per quota sample (quota.window.size.seconds)',
  ),
  sseMaxStreamsPerPrincipal: intSetting(
    'sse-max-streams-per-principal',
    1000,
    1,
    1_000_000,
    'Most open SSE streams of one principal',
  ),
  maxConsumerInstancesPerPrincipal: intSetting(
    'max-consumer-instances-per-principal',
    10_000,
    1,
    1_000_000,
    'Most REST consumer instances of one principal',
  ),
  usersFile: optionalTextSetting('users-file', 'Authentication: users file (Basic, API keys, SASL), see samsa users'),
  jwtSecret: optionalTextSetting('jwt-secret', 'Authentication: HS256 secret for bearer JWTs (prefer the env var)'),
  jwtJwksFile: optionalTextSetting('jwt-jwks-file', 'Authentication: JWKS file of RS256/ES256 public keys'),
  jwtIssuer: optionalTextSetting('jwt-issuer', 'JWT issuer (iss) required; empty: any'),
  jwtAudience: optionalTextSetting('jwt-audience', 'JWT audience (aud) required; empty: any'),
  jwtClockSkewMs: intSetting('jwt-clock-skew-ms', 30_000, 0, 600_000, 'Tolerance on JWT exp and nbf (ms)'),
  jwtPrincipalClaim: textSetting('jwt-principal-claim', 'sub', 'JWT claim naming the principal'),
  allowAnonymous: switchSetting('allow-anonymous', 'Serve without authentication on a non-loopback --host'),
  authorizer: enumSetting('authorizer', 'none', ['none', 'acl'] as const, 'Authorization: none, or acl (Kafka ACLs)'),
};

/** Broker-wide Kafka configs accepted as flags and env vars, besides every `log.*` name. */
const BROKER_CONFIG_NAMES: ReadonlySet<string> = new Set(brokerConfigNames().filter((n) => !n.startsWith('log.')));

function isBrokerConfigName(name: string): boolean {
  return (name.startsWith('log.') && name.length > 'log.'.length) || BROKER_CONFIG_NAMES.has(name);
}

export const USAGE = `Usage: samsa serve [flags]

Flags (each also read from the environment variable shown; flags win, then env, then the default):
${Object.values(SETTINGS)
  .map((s) => `  --${`${s.flag} <value>`.padEnd(32)} ${s.env.padEnd(30)} ${s.help} (default ${s.defaultValue})`)
  .join('\n')}
  --help, -h                         Print this text

Kafka broker configs, by their Kafka name (log.*, ${[...BROKER_CONFIG_NAMES].join(', ')}):
  --log.retention.ms 1000   or   --log.retention.ms=1000   or   SAMSA_LOG_RETENTION_MS=1000
`;

export function parseServeArgs(argv: readonly string[], env: Env): ConfigResult {
  const flags = new Map<string, string>();
  const brokerConfigs: Record<string, string> = {};

  // Environment first, so flags read afterwards overwrite it.
  const settingEnvNames = new Set(Object.values(SETTINGS).map((s) => s.env));
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('SAMSA_') || value === undefined || value === '') continue;
    // SAMSA_LOG_LEVEL is the setting --log-level, not a Kafka `log.*` config.
    if (settingEnvNames.has(name)) continue;
    const configName = name.slice('SAMSA_'.length).toLowerCase().replaceAll('_', '.');
    // SAMSA_* names that are neither a setting nor a broker config are ignored: the environment is
    // shared with other tools, unlike argv, where an unknown flag is a mistake.
    if (isBrokerConfigName(configName)) brokerConfigs[configName] = value;
  }

  const byFlag = new Map(Object.entries(SETTINGS).map(([key, s]) => [s.flag, key as keyof ServerSettings]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === undefined) break;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (!arg.startsWith('--') || arg === '--') return usageError(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    if (!byFlag.has(name) && !isBrokerConfigName(name)) return usageError(`unknown flag '--${name}'`);
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else if (SETTINGS[byFlag.get(name) as keyof ServerSettings]?.switch) {
      value = 'true';
    } else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return usageError(`flag '--${name}' needs a value`);
      i++;
    }
    if (byFlag.has(name)) flags.set(name, value);
    else brokerConfigs[name] = value;
  }

  const settings: Partial<Record<keyof ServerSettings, unknown>> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [keyof ServerSettings, Setting<unknown>][]) {
    const fromFlag = flags.get(setting.flag);
    const fromEnv = env[setting.env] === '' ? undefined : env[setting.env];
    const source = fromFlag !== undefined ? `--${setting.flag}` : setting.env;
    const text = fromFlag ?? fromEnv;
    if (text === undefined) {
      settings[key] = setting.defaultValue;
      continue;
    }
    const value = setting.parse(text);
    if (value === undefined) return usageError(`${source} must be ${setting.expected}, got '${text}'`);
    settings[key] = value;
  }
  // Cast: the loop above filled every key of SETTINGS with a value its own parser produced.
  const config: ServerConfig = { ...(settings as ServerSettings), brokerConfigs };
  const refused = anonymousExposure(config);
  return refused === null ? { kind: 'config', config } : usageError(refused);
}

/** Authentication is on when a users file or a JWT key is configured. */
export function authenticationConfigured(config: ServerConfig): boolean {
  // Mutual TLS with certificates required names every client too.
  const clientCertificates = config.tlsClientCa !== '' && config.tlsClientAuth === 'required';
  return config.usersFile !== '' || config.jwtSecret !== '' || config.jwtJwksFile !== '' || clientCertificates;
}

/** Loopback names and addresses: only this machine can connect there. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Issue 17's start-up rule: without authentication, anyone who reaches the port may read, write and
 * delete everything, so listening beyond loopback that way must be asked for by name.
 */
function anonymousExposure(config: ServerConfig): string | null {
  if (authenticationConfigured(config) || isLoopbackHost(config.host) || config.allowAnonymous) return null;
  return (
    `refusing to listen on ${config.host} without authentication: anyone who reaches it could read, write and delete every topic. ` +
    'Configure --users-file or --jwt-secret / --jwt-jwks-file, or pass --allow-anonymous (SAMSA_ALLOW_ANONYMOUS=true) to accept that.'
  );
}

function usageError(message: string): ConfigResult {
  return { kind: 'usage-error', message };
}

function envName(flag: string): string {
  return `SAMSA_${flag.toUpperCase().replaceAll('-', '_')}`;
}

function intSetting(flag: string, defaultValue: number, min: number, max: number, help: string): Setting<number> {
  return {
    flag,
    env: envName(flag),
    defaultValue,
    help,
    expected: `an integer from ${min} to ${max}`,
    parse: (text) => {
      if (!/^-?\d+$/.test(text.trim())) return undefined;
      const n = Number(text.trim());
      return n >= min && n <= max ? n : undefined;
    },
  };
}

function enumSetting<T extends string>(flag: string, defaultValue: T, values: readonly T[], help: string): Setting<T> {
  return {
    flag,
    env: envName(flag),
    defaultValue,
    help,
    expected: `one of ${values.join(', ')}`,
    parse: (text) => values.find((v) => v === text.trim().toLowerCase()),
  };
}

function textSetting(flag: string, defaultValue: string, help: string): Setting<string> {
  return {
    flag,
    env: envName(flag),
    defaultValue,
    help,
    expected: 'a non-empty string',
    parse: (text) => (text === '' ? undefined : text),
  };
}

/** A text setting whose default is empty (off); an empty value given means the default too. */
function optionalTextSetting(flag: string, help: string): Setting<string> {
  return { flag, env: envName(flag), defaultValue: '', help, expected: 'a string', parse: (text) => text };
}

function switchSetting(flag: string, help: string): Setting<boolean> {
  return {
    flag,
    env: envName(flag),
    defaultValue: false,
    help,
    expected: 'true or false',
    switch: true,
    parse: (text) => {
      const t = text.trim().toLowerCase();
      return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined;
    },
  };
}

/** `host:port` (a name or IPv4 address, or a bracketed IPv6 one), or empty for "none". */
function hostPortSetting(flag: string, help: string): Setting<string> {
  return {
    flag,
    env: envName(flag),
    defaultValue: '',
    help,
    expected: 'host:port with a port from 1 to 65535',
    parse: (text) => {
      const t = text.trim();
      if (t === '') return '';
      const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(t);
      if (!m) return undefined;
      const port = Number(m[2]);
      return port >= 1 && port <= 65_535 ? t : undefined;
    },
  };
}
