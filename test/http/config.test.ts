import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ConfigResult, parseServeArgs, type ServerConfig } from '../../src/config.js';

function configOf(result: ConfigResult): ServerConfig {
  assert.equal(result.kind, 'config', JSON.stringify(result));
  return (result as { config: ServerConfig }).config;
}

test('defaults apply when neither flags nor env say anything', () => {
  assert.deepEqual(configOf(parseServeArgs([], {})), {
    port: 8082,
    host: '127.0.0.1',
    kafkaPort: 9092,
    kafkaAdvertisedListener: '',
    dataDir: './data',
    nodeId: 0,
    maxRequestBytes: 16 * 1024 * 1024,
    maxRecordsPerRequest: 10_000,
    shutdownTimeoutMs: 10_000,
    logLevel: 'info',
    minFreeDiskBytes: 100 * 1024 * 1024,
    corsOrigins: '',
    advertisedUrl: '',
    sseKeepAliveMs: 15_000,
    sseMaxStreams: 1000,
    sseMaxStreamsPerClient: 50,
    sseMaxBufferedBytes: 1024 * 1024,
    sseSlowClientTimeoutMs: 30_000,
    sseMaxSharedBytes: 16 * 1024 * 1024,
    etcd: '',
    clusterName: 'samsa',
    clusterSecret: '',
    rack: '',
    tlsCert: '',
    tlsKey: '',
    tlsClientCa: '',
    tlsClientAuth: 'required',
    tlsPeerCa: '',
    tlsPrincipalMappingRules: 'DEFAULT',
    tlsHandshakeTimeoutMs: 10_000,
    httpHeadersTimeoutMs: 10_000,
    httpRequestTimeoutMs: 60_000,
    httpKeepAliveTimeoutMs: 5_000,
    httpIdleTimeoutMs: 60_000,
    httpMaxConnections: 10_000,
    httpMaxConnectionsPerAddress: 256,
    kafkaMaxConnections: 1000,
    kafkaMaxConnectionsPerAddress: 256,
    kafkaFrameTimeoutMs: 30_000,
    kafkaConnectionsMaxIdleMs: 600_000,
    quotasFile: '',
    quotaWindowNum: 11,
    quotaWindowSizeSeconds: 1,
    sseMaxStreamsPerPrincipal: 1000,
    maxConsumerInstancesPerPrincipal: 10_000,
    usersFile: '',
    jwtSecret: '',
    jwtJwksFile: '',
    jwtIssuer: '',
    jwtAudience: '',
    jwtClockSkewMs: 30_000,
    jwtPrincipalClaim: 'sub',
    allowAnonymous: false,
    authorizer: 'none',
    brokerConfigs: {},
  });
});

test('cluster mode comes from --etcd or SAMSA_ETCD, with its name, secret and rack', () => {
  const c = configOf(
    parseServeArgs(['--etcd', 'http://a:2379,http://b:2379', '--rack', 'r1', '--node-id', '3'], {
      SAMSA_CLUSTER_NAME: 'prod',
      SAMSA_CLUSTER_SECRET: 's3cret',
    }),
  );
  assert.equal(c.etcd, 'http://a:2379,http://b:2379');
  assert.equal(c.rack, 'r1');
  assert.equal(c.nodeId, 3);
  assert.equal(c.clusterName, 'prod');
  assert.equal(c.clusterSecret, 's3cret');
  assert.equal(configOf(parseServeArgs([], { SAMSA_ETCD: 'http://e:2379' })).etcd, 'http://e:2379');
});

test('the Kafka listener: --kafka-port / SAMSA_KAFKA_PORT (0 turns it off) and --kafka-advertised-listener', () => {
  assert.equal(configOf(parseServeArgs(['--kafka-port', '0'], {})).kafkaPort, 0);
  assert.equal(configOf(parseServeArgs([], { SAMSA_KAFKA_PORT: '19092' })).kafkaPort, 19092);
  assert.equal(configOf(parseServeArgs(['--kafka-port=29092'], { SAMSA_KAFKA_PORT: '19092' })).kafkaPort, 29092);
  for (const listener of ['kafka.example.com:9092', '10.0.0.7:19092', '[::1]:9092']) {
    const c = configOf(parseServeArgs(['--kafka-advertised-listener', listener], {}));
    assert.equal(c.kafkaAdvertisedListener, listener);
  }
  assert.equal(
    configOf(parseServeArgs([], { SAMSA_KAFKA_ADVERTISED_LISTENER: 'broker:9093' })).kafkaAdvertisedListener,
    'broker:9093',
  );
  for (const bad of ['broker', 'broker:0', 'broker:70000', 'http://broker:9092', 'a b:1']) {
    const r = parseServeArgs(['--kafka-advertised-listener', bad], {});
    assert.equal(r.kind, 'usage-error', bad);
    assert.match((r as { message: string }).message, /--kafka-advertised-listener must be host:port/);
  }
  const r = parseServeArgs(['--kafka-port', '65536'], {});
  assert.equal(r.kind, 'usage-error');
  assert.match((r as { message: string }).message, /--kafka-port must be an integer from 0 to 65535/);
});

test('SSE limits and CORS origins come from flags and env like every setting', () => {
  const c = configOf(
    parseServeArgs(['--sse-max-streams', '7', '--cors-origins', 'https://a.example,https://b.example'], {
      SAMSA_SSE_KEEPALIVE_MS: '500',
    }),
  );
  assert.equal(c.sseMaxStreams, 7);
  assert.equal(c.sseKeepAliveMs, 500);
  assert.equal(c.corsOrigins, 'https://a.example,https://b.example');
  assert.equal(parseServeArgs(['--sse-keepalive-ms', '5'], {}).kind, 'usage-error', 'below the 100 ms floor');
});

test('every broker setting the broker knows is accepted as a flag, e.g. idempotency.ttl.ms', () => {
  assert.deepEqual(configOf(parseServeArgs(['--idempotency.ttl.ms', '1000'], {})).brokerConfigs, {
    'idempotency.ttl.ms': '1000',
  });
});

test('--log-level and SAMSA_LOG_LEVEL pick the log level; SAMSA_LOG_LEVEL is not a Kafka log.* config', () => {
  const fromEnv = configOf(parseServeArgs([], { SAMSA_LOG_LEVEL: 'debug' }));
  assert.equal(fromEnv.logLevel, 'debug');
  assert.deepEqual(fromEnv.brokerConfigs, {});
  assert.equal(configOf(parseServeArgs(['--log-level', 'WARN'], { SAMSA_LOG_LEVEL: 'debug' })).logLevel, 'warn');
  const bad = parseServeArgs(['--log-level', 'loud'], {});
  assert.equal(bad.kind, 'usage-error');
  assert.match((bad as { message: string }).message, /--log-level must be one of fatal, error, warn, info/);
});

test('--min-free-disk-bytes accepts byte counts beyond 2 GiB', () => {
  assert.equal(configOf(parseServeArgs(['--min-free-disk-bytes', '10737418240'], {})).minFreeDiskBytes, 10 * 2 ** 30);
  assert.equal(configOf(parseServeArgs([], { SAMSA_MIN_FREE_DISK_BYTES: '0' })).minFreeDiskBytes, 0);
});

test('SAMSA_* env vars override defaults and flags override env', () => {
  const env = { SAMSA_PORT: '9000', SAMSA_HOST: '127.0.0.1', SAMSA_DATA_DIR: '/env/data', SAMSA_NODE_ID: '3' };
  const fromEnv = configOf(parseServeArgs([], env));
  assert.equal(fromEnv.port, 9000);
  assert.equal(fromEnv.host, '127.0.0.1');
  assert.equal(fromEnv.dataDir, '/env/data');
  assert.equal(fromEnv.nodeId, 3);

  const fromFlags = configOf(
    parseServeArgs(['--port', '9100', '--data-dir=/flag/data', '--max-request-bytes', '1024'], env),
  );
  assert.equal(fromFlags.port, 9100);
  assert.equal(fromFlags.dataDir, '/flag/data');
  assert.equal(fromFlags.host, '127.0.0.1'); // no flag: env still wins over the default
  assert.equal(fromFlags.maxRequestBytes, 1024);
});

test('an empty env var counts as unset', () => {
  assert.equal(configOf(parseServeArgs([], { SAMSA_PORT: '' })).port, 8082);
});

test('Kafka broker configs come from dotted flags (both spellings) and SAMSA_ env names', () => {
  const config = configOf(
    parseServeArgs(['--log.retention.ms', '1000', '--num.partitions=3', '--auto.create.topics.enable', 'false'], {
      SAMSA_LOG_RETENTION_MS: '5', // overridden by the flag
      SAMSA_LOG_SEGMENT_BYTES: '1048576',
      SAMSA_MIN_INSYNC_REPLICAS: '2',
      SAMSA_SOMETHING_ELSE: 'ignored', // the environment is shared; unknown names are not an error
      PATH: '/usr/bin',
    }),
  );
  assert.deepEqual(config.brokerConfigs, {
    'log.retention.ms': '1000',
    'log.segment.bytes': '1048576',
    'min.insync.replicas': '2',
    'num.partitions': '3',
    'auto.create.topics.enable': 'false',
  });
});

test('server settings in env are not mistaken for broker configs', () => {
  const config = configOf(parseServeArgs([], { SAMSA_PORT: '1234', SAMSA_MAX_REQUEST_BYTES: '10' }));
  assert.deepEqual(config.brokerConfigs, {});
  assert.equal(config.maxRequestBytes, 10);
});

test('unknown flags, stray arguments and missing values are usage errors', () => {
  for (const argv of [['--bogus', '1'], ['--retention.ms', '1'], ['serve'], ['--port'], ['--port', '--host', 'x']]) {
    const result = parseServeArgs(argv, {});
    assert.equal(result.kind, 'usage-error', argv.join(' '));
  }
});

test('out-of-range or non-numeric values name their source', () => {
  const flag = parseServeArgs(['--port', '70000'], {});
  assert.equal(flag.kind, 'usage-error');
  assert.match((flag as { message: string }).message, /--port/);

  const env = parseServeArgs([], { SAMSA_NODE_ID: 'two' });
  assert.equal(env.kind, 'usage-error');
  assert.match((env as { message: string }).message, /SAMSA_NODE_ID/);
});

test('--help and -h ask for the usage text', () => {
  assert.deepEqual(parseServeArgs(['--help'], {}), { kind: 'help' });
  assert.deepEqual(parseServeArgs(['--port', '1', '-h'], {}), { kind: 'help' });
});
