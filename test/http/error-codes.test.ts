/**
 * The error table: every error class Samsa has carries Kafka's error (domain) or none (edge), and
 * answers over HTTP what it answered before the table existed; no Confluent code lives outside it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as errors from '../../src/errors.js';
import { EdgeError, SamsaError } from '../../src/errors.js';
import { ERROR_ANSWERS, httpAnswerOf } from '../../src/http/error-codes.js';
import { KAFKA_ERRORS, type KafkaErrorName } from '../../src/kafka-errors.js';

interface Case {
  error: SamsaError;
  /** Kafka's error name, or null for an edge error. */
  kafka: KafkaErrorName | null;
  status: number;
  errorCode: number;
}

function c(error: SamsaError, kafka: KafkaErrorName | null, status: number, errorCode: number): Case {
  return { error, kafka, status, errorCode };
}

// The answers each class gave before the table (status / error_code), and Kafka's error for it.
const CASES: Case[] = [
  c(new errors.BadRequestError('m'), null, 400, 400),
  c(new errors.UnprocessableEntityError('m'), null, 422, 422),
  c(new errors.InvalidPayloadError('m'), null, 422, 42206),
  c(new errors.ProduceBatchError('m'), null, 422, 42208),
  c(new errors.UnsupportedMediaTypeError('m'), null, 415, 415),
  c(new errors.NotAcceptableError('m'), null, 406, 40601),
  c(new errors.PayloadTooLargeError('m'), null, 413, 413),
  c(new errors.RouteNotFoundError(), null, 404, 404),
  c(new errors.MethodNotAllowedError(), null, 405, 405),
  c(new errors.RecordFormatError('m'), null, 408, 40801),
  c(new errors.TooManyRequestsError('m'), null, 429, 42901),
  c(new errors.CrossOriginWriteError('https://evil.example'), null, 403, 40301),
  c(new errors.AuthenticationFailedError('Authentication required.'), 'SASL_AUTHENTICATION_FAILED', 401, 40101),
  c(new errors.StreamFailedError(), null, 500, 50002),
  c(new errors.ServiceUnavailableError('m'), 'BROKER_NOT_AVAILABLE', 503, 50302),
  c(
    new errors.ServiceUnavailableError('m', KAFKA_ERRORS.COORDINATOR_LOAD_IN_PROGRESS),
    'COORDINATOR_LOAD_IN_PROGRESS',
    503,
    50302,
  ),
  c(new errors.NotReadyError('m', ['recovering_logs']), 'BROKER_NOT_AVAILABLE', 503, 50302),
  c(new errors.UnknownTopicError('t'), 'UNKNOWN_TOPIC_OR_PARTITION', 404, 40403),
  c(new errors.UnknownTopicError('t', 'produce'), 'UNKNOWN_TOPIC_OR_PARTITION', 404, 40401),
  c(new errors.TopicDeletedError('t'), 'UNKNOWN_TOPIC_OR_PARTITION', 404, 40403),
  c(new errors.UnknownPartitionError('t', 3), 'UNKNOWN_TOPIC_OR_PARTITION', 404, 40402),
  c(new errors.TopicExistsError('t'), 'TOPIC_ALREADY_EXISTS', 400, 40002),
  c(new errors.InvalidTopicError('m'), 'INVALID_TOPIC_EXCEPTION', 422, 42206),
  c(new errors.InvalidConfigError('m'), 'INVALID_CONFIG', 400, 40002),
  c(new errors.InvalidPartitionsError('m'), 'INVALID_PARTITIONS', 400, 40002),
  c(new errors.InvalidReplicationFactorError('m'), 'INVALID_REPLICATION_FACTOR', 400, 40002),
  c(new errors.UnknownClusterError('c'), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.UnknownBrokerError(7), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.UnknownReplicaError('t', 0, 7), 'REPLICA_NOT_AVAILABLE', 404, 404),
  c(new errors.UnknownConfigError('x', 'topic t'), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.NoClusterConfigError('x'), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.NoReassignmentError('t', 0), 'NO_REASSIGNMENT_IN_PROGRESS', 404, 404),
  c(new errors.InvalidReplicaAssignmentError('t', 0, 'm'), 'INVALID_REPLICA_ASSIGNMENT', 400, 40002),
  c(new errors.SecurityDisabledError(), 'SECURITY_DISABLED', 400, 40002),
  c(new errors.AuthorizationError('User:a', 'READ', 'TOPIC', 't'), 'TOPIC_AUTHORIZATION_FAILED', 403, 40301),
  c(new errors.AuthorizationError('User:a', 'READ', 'GROUP', 'g'), 'GROUP_AUTHORIZATION_FAILED', 403, 40301),
  c(new errors.AuthorizationError('User:a', 'ALTER', 'CLUSTER', 'c'), 'CLUSTER_AUTHORIZATION_FAILED', 403, 40301),
  c(new errors.InvalidRequestError('m'), 'INVALID_REQUEST', 400, 40002),
  c(new errors.AclLimitError(10), 'POLICY_VIOLATION', 400, 40002),
  c(new errors.IdempotencyKeyReusedError('t', 'd'), 'INVALID_REQUEST', 422, 422),
  c(new errors.ProducerStateError('OUT_OF_ORDER_SEQUENCE_NUMBER', 'm'), 'OUT_OF_ORDER_SEQUENCE_NUMBER', 422, 422),
  c(new errors.NotEnoughReplicasError('t', 0, 1, 2), 'NOT_ENOUGH_REPLICAS', 503, 50003),
  c(new errors.RequestTimedOutError('t', 0, 50), 'REQUEST_TIMED_OUT', 503, 50003),
  c(new errors.NotLeaderOrFollowerError('t', 0, 2), 'NOT_LEADER_OR_FOLLOWER', 503, 50003),
  c(new errors.LeaderEpochError('t', 0, 1, 2), 'FENCED_LEADER_EPOCH', 503, 50003),
  c(new errors.RemoteBrokerError('m', KAFKA_ERRORS.NOT_ENOUGH_REPLICAS), 'NOT_ENOUGH_REPLICAS', 503, 50003),
  c(new errors.RemoteBrokerError('m', KAFKA_ERRORS.INVALID_RECORD), 'INVALID_RECORD', 500, 50002),
  c(new errors.RecordTooLargeError(2, 1), 'MESSAGE_TOO_LARGE', 422, 42207),
  c(new errors.OffsetOutOfRangeError(9, 0, 5), 'OFFSET_OUT_OF_RANGE', 404, 40402),
  c(new errors.CorruptRecordError('m'), 'CORRUPT_MESSAGE', 500, 50002),
  c(new errors.InvalidRecordError('m'), 'INVALID_RECORD', 422, 42207),
  c(new errors.UnexpectedAppendOffsetError('t-0', 5, 3), 'UNKNOWN_SERVER_ERROR', 500, 50002),
  c(new errors.LogClosedError('t-0'), 'KAFKA_STORAGE_ERROR', 503, 50003),
  c(new errors.KafkaStorageError('disk_full', 'no space'), 'KAFKA_STORAGE_ERROR', 507, 50701),
  c(new errors.QuotaExceededError('over', 1500), 'THROTTLING_QUOTA_EXCEEDED', 429, 42901),
  c(new errors.ConsumerInstanceLimitError('many'), 'THROTTLING_QUOTA_EXCEEDED', 429, 42901),
  c(new errors.GroupStateError('UNKNOWN_MEMBER_ID', 'm'), 'UNKNOWN_MEMBER_ID', 409, 40903),
  c(new errors.GroupStateError('ILLEGAL_GENERATION', 'm'), 'ILLEGAL_GENERATION', 409, 40903),
  c(new errors.GroupStateError('REBALANCE_IN_PROGRESS', 'm'), 'REBALANCE_IN_PROGRESS', 409, 40903),
  c(new errors.GroupStateError('NON_EMPTY_GROUP', 'm'), 'NON_EMPTY_GROUP', 409, 40903),
  c(new errors.GroupStateError('INCONSISTENT_GROUP_PROTOCOL', 'm'), 'INCONSISTENT_GROUP_PROTOCOL', 409, 40903),
  c(new errors.UnknownGroupError('g'), 'GROUP_ID_NOT_FOUND', 404, 40405),
  c(new errors.InvalidGroupIdError('m'), 'INVALID_GROUP_ID', 422, 42204),
  c(new errors.UnknownConsumerError('g', 'c'), 'UNKNOWN_MEMBER_ID', 404, 404),
  c(new errors.UnknownConsumerAssignmentError('g', 'c', 't', 0), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.UnknownConsumerLagError('g', 't', 0), 'RESOURCE_NOT_FOUND', 404, 404),
  c(new errors.ConsumerInstanceNotFoundError('g', 'i'), 'UNKNOWN_MEMBER_ID', 404, 40403),
  c(new errors.ConsumerAlreadyExistsError('g', 'i'), 'DUPLICATE_RESOURCE', 409, 40902),
  c(new errors.InvalidConsumerConfigError('m'), 'INVALID_CONFIG', 422, 42204),
  c(new errors.NoOffsetForPartitionError('t', 0), 'OFFSET_OUT_OF_RANGE', 409, 40903),
];

/** Every concrete error class errors.ts exports (the two bases are not thrown). */
type ErrorClass = abstract new (...args: never) => SamsaError;
const ERROR_CLASSES: ErrorClass[] = (Object.values(errors) as unknown[]).filter(
  (value): value is ErrorClass =>
    typeof value === 'function' && value.prototype instanceof SamsaError && value !== EdgeError,
);

test('every error class has a row in the table and a case here', () => {
  assert.ok(ERROR_CLASSES.length > 40, `found ${ERROR_CLASSES.length} classes`);
  const covered = new Set(CASES.map((k) => k.error.constructor));
  for (const cls of ERROR_CLASSES) {
    assert.ok(ERROR_ANSWERS.has(cls as never), `${cls.name} has no row in src/http/error-codes.ts`);
    assert.ok(covered.has(cls), `${cls.name} has no case in this test`);
  }
  assert.equal(ERROR_ANSWERS.size, ERROR_CLASSES.length, 'the table names only classes errors.ts exports');
});

for (const { error, kafka, status, errorCode } of CASES) {
  const what = `${error.name}${kafka ? ` (${kafka})` : ''}`;
  test(`${what} answers ${status} / ${errorCode}`, () => {
    assert.deepEqual({ ...httpAnswerOf(error) }, { status, errorCode });
    if (kafka === null) {
      assert.ok(error instanceof EdgeError, `${error.name} is an edge error`);
      assert.equal(error.kafkaError, null);
    } else {
      assert.ok(!(error instanceof EdgeError), `${error.name} is a domain error`);
      assert.equal(error.kafkaError, KAFKA_ERRORS[kafka]);
    }
  });
}

test("the Kafka catalogue has Kafka's names and numbers, each once", () => {
  const codes = new Set<number>();
  for (const [key, err] of Object.entries(KAFKA_ERRORS)) {
    assert.equal(err.name, key);
    assert.ok(!codes.has(err.code), `${key}: code ${err.code} used twice`);
    codes.add(err.code);
  }
  // Spot checks against org.apache.kafka.common.protocol.Errors.
  const expected: Partial<Record<KafkaErrorName, [number, boolean]>> = {
    UNKNOWN_SERVER_ERROR: [-1, false],
    OFFSET_OUT_OF_RANGE: [1, false],
    CORRUPT_MESSAGE: [2, true],
    UNKNOWN_TOPIC_OR_PARTITION: [3, true],
    NOT_LEADER_OR_FOLLOWER: [6, true],
    REQUEST_TIMED_OUT: [7, true],
    BROKER_NOT_AVAILABLE: [8, true],
    MESSAGE_TOO_LARGE: [10, false],
    NOT_COORDINATOR: [16, true],
    INVALID_TOPIC_EXCEPTION: [17, false],
    RECORD_LIST_TOO_LARGE: [18, false],
    NOT_ENOUGH_REPLICAS: [19, true],
    ILLEGAL_GENERATION: [22, false],
    INVALID_GROUP_ID: [24, false],
    UNKNOWN_MEMBER_ID: [25, false],
    REBALANCE_IN_PROGRESS: [27, false],
    TOPIC_ALREADY_EXISTS: [36, false],
    INVALID_PARTITIONS: [37, false],
    INVALID_REPLICATION_FACTOR: [38, false],
    INVALID_REPLICA_ASSIGNMENT: [39, false],
    INVALID_CONFIG: [40, false],
    INVALID_REQUEST: [42, false],
    SECURITY_DISABLED: [54, false],
    KAFKA_STORAGE_ERROR: [56, true],
    NON_EMPTY_GROUP: [68, false],
    GROUP_ID_NOT_FOUND: [69, false],
    NO_REASSIGNMENT_IN_PROGRESS: [85, false],
    INVALID_RECORD: [87, false],
    RESOURCE_NOT_FOUND: [91, false],
    DUPLICATE_RESOURCE: [92, false],
  };
  for (const [name, [code, retriable]] of Object.entries(expected)) {
    const err = KAFKA_ERRORS[name as KafkaErrorName];
    assert.deepEqual([err.code, err.retriable], [code, retriable], name);
  }
});

/** Every .ts file under src. */
function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Source without its comments (a rough cut: enough to tell code from prose). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

const CONFLUENT_CODE = /\b[45]\d{4}\b/;
const SRC = path.resolve(import.meta.dirname, '../../src');
const TABLE = path.join(SRC, 'http', 'error-codes.ts');

test('no Confluent error_code appears in src outside the table', () => {
  const offenders: string[] = [];
  for (const file of sourceFiles(SRC)) {
    if (file === TABLE) continue;
    const text = fs.readFileSync(file, 'utf8');
    // Below the HTTP edge not even in prose; in src/http, prose may cite a code, code may not hold one.
    const inHttp = file.startsWith(path.join(SRC, 'http') + path.sep);
    const checked = inHttp ? withoutComments(text) : text;
    checked.split('\n').forEach((line, i) => {
      if (CONFLUENT_CODE.test(line)) offenders.push(`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});

test('the check finds a code in code, and skips one in an http comment', () => {
  assert.ok(CONFLUENT_CODE.test(withoutComments("throw new SamsaError('x', 40403, 404);")));
  assert.ok(!CONFLUENT_CODE.test(withoutComments('/** 404 / 40403 */\n// answers 42208')));
  assert.ok(!CONFLUENT_CODE.test('timeoutMs: 30_000, maxBytes: 65536'));
});
