/**
 * The one table from Samsa's errors to Confluent REST answers: for each error class, the HTTP status
 * and the `error_code` of the `{error_code, message}` body. It is the only place in src that knows
 * Confluent's codes (test/http/error-codes.test.ts checks both that every class is here and that no
 * 4xxxx/5xxxx code appears elsewhere). The error handler, the SSE `error` events and the per-record
 * reports of streamed and batched v3 produce all answer through `httpAnswerOf`.
 *
 * The codes are Confluent's where its proxy's answer is known (kafka-rest `Errors`, rest-utils'
 * `KafkaExceptionMapper`, see /work/shared/reference/confluent-rest.md); a bare status as the code
 * (404, 422) is what Confluent answers for conditions without a sub-code. docs/api.md has the same
 * table for readers.
 */
import {
  AclLimitError,
  AuthenticationFailedError,
  AuthorizationError,
  BadRequestError,
  ConsumerAlreadyExistsError,
  ConsumerInstanceLimitError,
  ConsumerInstanceNotFoundError,
  CorruptRecordError,
  CrossOriginWriteError,
  GroupStateError,
  IdempotencyKeyReusedError,
  InvalidConfigError,
  InvalidConsumerConfigError,
  InvalidGroupIdError,
  InvalidPartitionsError,
  InvalidPayloadError,
  InvalidRecordError,
  InvalidReplicaAssignmentError,
  InvalidReplicationFactorError,
  InvalidRequestError,
  InvalidTopicError,
  KafkaStorageError,
  LeaderEpochError,
  LogClosedError,
  MethodNotAllowedError,
  NoClusterConfigError,
  NoOffsetForPartitionError,
  NoReassignmentError,
  NotAcceptableError,
  NotEnoughReplicasError,
  NotLeaderOrFollowerError,
  NotReadyError,
  OffsetOutOfRangeError,
  PayloadTooLargeError,
  ProduceBatchError,
  ProducerStateError,
  QuotaExceededError,
  RecordFormatError,
  RecordTooLargeError,
  RemoteBrokerError,
  RequestTimedOutError,
  RouteNotFoundError,
  SamsaError,
  SecurityDisabledError,
  ServiceUnavailableError,
  StreamFailedError,
  TooManyRequestsError,
  TopicDeletedError,
  TopicExistsError,
  UnexpectedAppendOffsetError,
  UnknownBrokerError,
  UnknownClusterError,
  UnknownConfigError,
  UnknownConsumerAssignmentError,
  UnknownConsumerError,
  UnknownConsumerLagError,
  UnknownGroupError,
  UnknownPartitionError,
  UnknownReplicaError,
  UnknownTopicError,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
} from '../errors.js';
import type { ProduceOutcome } from '../metrics/samsa-metrics.js';

/** What an error answers over HTTP: the status line and the body's `error_code`. */
export interface HttpAnswer {
  readonly status: number;
  readonly errorCode: number;
}

// biome-ignore lint/suspicious/noExplicitAny: a class of any constructor signature
type ErrorClass<E extends SamsaError> = new (...args: any[]) => E;
type Rule = HttpAnswer | ((err: never) => HttpAnswer);

function answer(status: number, errorCode: number): HttpAnswer {
  return Object.freeze({ status, errorCode });
}

/** One row: the class and its answer, or a function of the error when the answer depends on its context. */
function row<E extends SamsaError>(
  cls: ErrorClass<E>,
  rule: HttpAnswer | ((err: E) => HttpAnswer),
): [ErrorClass<SamsaError>, Rule] {
  return [cls, rule];
}

const TOPIC_NOT_FOUND = answer(404, 40401);
/** Confluent's KafkaExceptionMapper answers Kafka's UnknownTopicOrPartitionException with this code. */
const UNKNOWN_TOPIC_OR_PARTITION = answer(404, 40403);
const PARTITION_NOT_FOUND = answer(404, 40402);
/** Confluent's answer to a Kafka exception an admin call raises (KafkaExceptionMapper, as a bad request). */
const KAFKA_BAD_REQUEST = answer(400, 40002);
/** Confluent's answer to a retriable Kafka exception; Samsa says 503 so clients back off and retry. */
const KAFKA_RETRIABLE = answer(503, 50003);
/** Confluent's answer to a non-retriable Kafka exception (KafkaExceptionMapper's KAFKA_ERROR). */
const KAFKA_ERROR = answer(500, 50002);
const BROKER_NOT_AVAILABLE = answer(503, 50302);
const NOT_FOUND = answer(404, 404);
const UNPROCESSABLE = answer(422, 422);
const ILLEGAL_STATE = answer(409, 40903);

/** Every error class Samsa throws, and what it answers over HTTP. Keyed by the exact class. */
export const ERROR_ANSWERS: ReadonlyMap<ErrorClass<SamsaError>, Rule> = new Map([
  // ---- the HTTP exchange (edge errors) ----
  row(BadRequestError, answer(400, 400)),
  row(UnprocessableEntityError, UNPROCESSABLE),
  row(InvalidPayloadError, answer(422, 42206)),
  row(ProduceBatchError, answer(422, 42208)),
  row(UnsupportedMediaTypeError, answer(415, 415)),
  row(NotAcceptableError, answer(406, 40601)),
  row(PayloadTooLargeError, answer(413, 413)),
  row(RouteNotFoundError, NOT_FOUND),
  row(MethodNotAllowedError, answer(405, 405)),
  row(RecordFormatError, answer(408, 40801)),
  row(TooManyRequestsError, answer(429, 42901)),
  row(QuotaExceededError, answer(429, 42901)),
  row(CrossOriginWriteError, answer(403, 40301)),
  row(AuthenticationFailedError, answer(401, 40101)),
  row(StreamFailedError, KAFKA_ERROR),
  // ---- the node ----
  row(ServiceUnavailableError, BROKER_NOT_AVAILABLE),
  row(NotReadyError, BROKER_NOT_AVAILABLE),
  // ---- topics and partitions ----
  // Confluent's produce answers an unknown topic with 40401 (the producer's "not present in metadata");
  // every lookup answers Kafka's UnknownTopicOrPartitionException, 40403.
  row(UnknownTopicError, (err) => (err.during === 'produce' ? TOPIC_NOT_FOUND : UNKNOWN_TOPIC_OR_PARTITION)),
  row(TopicDeletedError, UNKNOWN_TOPIC_OR_PARTITION),
  row(UnknownPartitionError, PARTITION_NOT_FOUND),
  row(TopicExistsError, KAFKA_BAD_REQUEST),
  // Confluent refuses a bad topic name as a payload error.
  row(InvalidTopicError, answer(422, 42206)),
  row(InvalidConfigError, KAFKA_BAD_REQUEST),
  row(InvalidPartitionsError, KAFKA_BAD_REQUEST),
  row(InvalidReplicationFactorError, KAFKA_BAD_REQUEST),
  row(InvalidReplicaAssignmentError, KAFKA_BAD_REQUEST),
  // ---- cluster, brokers, configs (v3 admin): Confluent's bare 404 ----
  row(UnknownClusterError, NOT_FOUND),
  row(UnknownBrokerError, NOT_FOUND),
  row(UnknownReplicaError, NOT_FOUND),
  row(UnknownConfigError, NOT_FOUND),
  row(NoClusterConfigError, NOT_FOUND),
  row(NoReassignmentError, NOT_FOUND),
  row(SecurityDisabledError, KAFKA_BAD_REQUEST),
  // ---- authorization (Confluent's AuthorizationException answer) ----
  row(AuthorizationError, answer(403, 40301)),
  row(InvalidRequestError, KAFKA_BAD_REQUEST),
  row(AclLimitError, KAFKA_BAD_REQUEST),
  // ---- produce ----
  row(IdempotencyKeyReusedError, UNPROCESSABLE),
  row(ProducerStateError, UNPROCESSABLE),
  row(NotEnoughReplicasError, KAFKA_RETRIABLE),
  // Leadership moved or is moving: retriable, as Confluent answers Kafka's NotLeaderOrFollowerException.
  row(NotLeaderOrFollowerError, KAFKA_RETRIABLE),
  row(LeaderEpochError, KAFKA_RETRIABLE),
  // A forwarded request's leader answered with this Kafka error (cluster mode).
  row(RemoteBrokerError, (e) => (e.kafkaError?.retriable ? KAFKA_RETRIABLE : KAFKA_ERROR)),
  // acks=all past timeoutMs: the records may still commit, so a retriable 50003, as for the ISR short.
  row(RequestTimedOutError, KAFKA_RETRIABLE),
  // Confluent's record serializer error, so a client sees one code for "this record cannot be taken".
  row(RecordTooLargeError, answer(422, 42207)),
  row(InvalidRecordError, answer(422, 42207)),
  // ---- the log ----
  // A position outside the log reads like an unknown partition position: 404 with the partition code.
  row(OffsetOutOfRangeError, PARTITION_NOT_FOUND),
  row(CorruptRecordError, KAFKA_ERROR),
  row(UnexpectedAppendOffsetError, KAFKA_ERROR),
  row(LogClosedError, KAFKA_RETRIABLE),
  // Full or read-only data dir: 507 Insufficient Storage, a 50xxx code in Confluent's status-and-number style.
  row(KafkaStorageError, answer(507, 50701)),
  // ---- consumer groups and consumer instances ----
  row(GroupStateError, ILLEGAL_STATE),
  row(UnknownGroupError, answer(404, 40405)),
  row(InvalidGroupIdError, answer(422, 42204)),
  row(UnknownConsumerError, NOT_FOUND),
  row(UnknownConsumerAssignmentError, NOT_FOUND),
  row(UnknownConsumerLagError, NOT_FOUND),
  row(ConsumerInstanceNotFoundError, answer(404, 40403)),
  row(ConsumerAlreadyExistsError, answer(409, 40902)),
  row(ConsumerInstanceLimitError, answer(429, 42901)),
  row(InvalidConsumerConfigError, answer(422, 42204)),
  row(NoOffsetForPartitionError, ILLEGAL_STATE),
]);

/** What a class missing from the table answers: a bug, so a bare 500 as for any unexpected error. */
const UNMAPPED = answer(500, 500);

/** The HTTP status and Confluent `error_code` of one of Samsa's errors. */
export function httpAnswerOf(err: SamsaError): HttpAnswer {
  const rule = ERROR_ANSWERS.get(err.constructor as ErrorClass<SamsaError>);
  if (rule === undefined) return UNMAPPED;
  return typeof rule === 'function' ? (rule as (e: SamsaError) => HttpAnswer)(err) : rule;
}

/** A failed produce counted as the client's mistake (4xx) or the server's (5xx, or not one of ours). */
export function produceOutcomeOf(err: unknown): ProduceOutcome {
  return err instanceof SamsaError && httpAnswerOf(err).status < 500 ? 'client_error' : 'server_error';
}
