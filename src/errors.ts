/**
 * Every error Samsa raises on purpose. Two kinds:
 *
 * - Domain errors, thrown by storage, the broker, groups and consumers (and by the v3 admin handlers
 *   for the cluster's own things): each carries its Kafka protocol error (`kafkaError`, Kafka's name
 *   and number from org.apache.kafka.common.protocol.Errors), the one the Kafka listener will put on
 *   the wire as it is.
 * - Edge errors (`EdgeError`), about the HTTP exchange itself (a body that is not JSON, a media type,
 *   a route): they have no Kafka error.
 *
 * None carries an HTTP status or a Confluent `error_code`: the HTTP edge maps each class to those in
 * one table (src/http/error-codes.ts). Anything else that escapes is a bug and becomes a bare 500
 * without a stack trace.
 */
import { KAFKA_ERRORS, type KafkaError, type KafkaErrorName } from './kafka-errors.js';

export class SamsaError extends Error {
  constructor(
    message: string,
    /** Kafka's protocol error for this condition; null for an edge error, which Kafka has no word for. */
    readonly kafkaError: KafkaError | null,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An error about the HTTP exchange, not the domain: only src/http throws these. */
export class EdgeError extends SamsaError {
  constructor(message: string) {
    super(message, null);
  }
}

// ---- the HTTP exchange (edge errors) ----
// One kind of mistake, one class, whichever check finds it (the openapi.yaml validator or a handler);
// src/http/error-codes.ts gives each its answer, Confluent's where its proxy's answer is known.

/**
 * The body is not JSON, or a key or value is not what its embedded format needs (not
 * base64 for binary, not a string for string). Confluent's record serializer answers these with a
 * bare 400 "Bad Request: ..." in v2 and v3 alike.
 */
export class BadRequestError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
/**
 * The request breaks openapi.yaml's schema (a missing, unknown or mistyped field, a value
 * out of range) or a rule of the same kind the schema cannot say. Confluent's Bean Validation answer.
 */
export class UnprocessableEntityError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
/**
 * "Payload error": the body is well formed but its content cannot be taken: empty,
 * schema fields or formats without a Schema Registry, JSON nested too deep or holding non-finite
 * numbers. Confluent's `Errors.invalidPayloadException`.
 */
export class InvalidPayloadError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
/**
 * A request over its record or entry limits, or a batch with bad entry ids; nothing is
 * written. Confluent's `Errors.produceBatchException`.
 */
export class ProduceBatchError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
export class UnsupportedMediaTypeError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
export class NotAcceptableError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
export class PayloadTooLargeError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
export class RouteNotFoundError extends EdgeError {
  constructor(message = 'HTTP 404 Not Found') {
    super(message);
  }
}
export class MethodNotAllowedError extends EdgeError {
  constructor(message = 'HTTP 405 Method Not Allowed') {
    super(message);
  }
}
// ---- the node (broker, group coordinator) ----
/**
 * The node cannot take the request now: recovering its logs, shutting down, or at its limit of
 * streams. Kafka's BROKER_NOT_AVAILABLE, or the more precise error a caller names (a group
 * coordinator still loading offsets: COORDINATOR_LOAD_IN_PROGRESS).
 */
export class ServiceUnavailableError extends SamsaError {
  constructor(message: string, kafkaError: KafkaError = KAFKA_ERRORS.BROKER_NOT_AVAILABLE) {
    super(message, kafkaError);
  }
}
/**
 * The node cannot serve, for machine-readable `reasons` (`recovering_logs`, `shutting_down`,
 * `disk_full`) that the error body carries beside the message, so a probe says why it fails.
 */
export class NotReadyError extends ServiceUnavailableError {
  constructor(
    message: string,
    readonly reasons: readonly string[],
  ) {
    super(message);
  }
}

// ---- topics and partitions (broker) ----
/**
 * Kafka UNKNOWN_TOPIC_OR_PARTITION (3) for a topic. `during` says what was refused, because
 * Confluent's proxy answers a produce to an unknown topic differently from a lookup.
 */
export class UnknownTopicError extends SamsaError {
  constructor(
    topic: string,
    readonly during: 'lookup' | 'produce' = 'lookup',
  ) {
    super(`Topic '${topic}' not found.`, KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
  }
}
export class UnknownPartitionError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(`Partition ${partition} of topic '${topic}' not found.`, KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
  }
}
export class TopicExistsError extends SamsaError {
  constructor(topic: string) {
    super(`Topic '${topic}' already exists.`, KAFKA_ERRORS.TOPIC_ALREADY_EXISTS);
  }
}
export class InvalidTopicError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.INVALID_TOPIC_EXCEPTION);
  }
}
export class InvalidConfigError extends SamsaError {
  constructor(message: string, kafkaError: KafkaError = KAFKA_ERRORS.INVALID_CONFIG) {
    super(message, kafkaError);
  }
}
export class InvalidPartitionsError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.INVALID_PARTITIONS);
  }
}
/** A replication factor the cluster cannot place: a bad topic setting, with Kafka's own error for it. */
export class InvalidReplicationFactorError extends InvalidConfigError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.INVALID_REPLICATION_FACTOR);
  }
}
/** A topic the stream was reading was deleted under it (Kafka UNKNOWN_TOPIC_OR_PARTITION from then on). */
export class TopicDeletedError extends SamsaError {
  constructor(topic: string) {
    super(`Topic '${topic}' was deleted.`, KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION);
  }
}

// ---- cluster, brokers, configs (v3 admin); Kafka RESOURCE_NOT_FOUND unless a closer error exists ----
export class UnknownClusterError extends SamsaError {
  constructor(clusterId: string) {
    super(`Cluster ${clusterId} cannot be found.`, KAFKA_ERRORS.RESOURCE_NOT_FOUND);
  }
}
export class UnknownBrokerError extends SamsaError {
  constructor(brokerId: number) {
    super(`Broker ${brokerId} cannot be found.`, KAFKA_ERRORS.RESOURCE_NOT_FOUND);
  }
}
export class UnknownReplicaError extends SamsaError {
  constructor(topic: string, partition: number, brokerId: number) {
    super(
      `Replica ${brokerId} of partition ${topic}-${partition} cannot be found.`,
      KAFKA_ERRORS.REPLICA_NOT_AVAILABLE,
    );
  }
}
export class UnknownConfigError extends SamsaError {
  /** `owner` names what the config belongs to, e.g. `topic orders` or `broker 0`. */
  constructor(name: string, owner: string) {
    super(`Config ${name} cannot be found for ${owner}.`, KAFKA_ERRORS.RESOURCE_NOT_FOUND);
  }
}
/** A known broker config with no cluster-wide run-time value: Kafka's default entity does not list it. */
export class NoClusterConfigError extends SamsaError {
  constructor(name: string) {
    super(
      `Config ${name} has no cluster-wide dynamic value; its effective value is under /brokers/{broker_id}/configs/${name}.`,
      KAFKA_ERRORS.RESOURCE_NOT_FOUND,
    );
  }
}
/** A partition that is not being reassigned (Kafka NO_REASSIGNMENT_IN_PROGRESS, 85). */
export class NoReassignmentError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(
      `No reassignment is in progress for partition ${topic}-${partition}.`,
      KAFKA_ERRORS.NO_REASSIGNMENT_IN_PROGRESS,
    );
  }
}
/**
 * A replica list that cannot be a partition's (Kafka INVALID_REPLICA_ASSIGNMENT, 39): a broker that
 * is not live, or a move that would leave the partition no in-sync replica.
 */
export class InvalidReplicaAssignmentError extends SamsaError {
  constructor(topic: string, partition: number, reason: string) {
    super(
      `Invalid replica assignment for partition ${topic}-${partition}: ${reason}`,
      KAFKA_ERRORS.INVALID_REPLICA_ASSIGNMENT,
    );
  }
}
/**
 * ACLs while no authorizer runs (the default): Kafka's SecurityDisabledException (SECURITY_DISABLED, 54).
 */
export class SecurityDisabledError extends SamsaError {
  constructor() {
    super(
      'ACLs are not available: no authorizer is configured, so authorization is off and every client may do everything. Start Samsa with --authorizer acl to use ACLs.',
      KAFKA_ERRORS.SECURITY_DISABLED,
    );
  }
}

/** A request Kafka refuses as malformed in content (InvalidRequestException, 42): an ACL with a bad field. */
export class InvalidRequestError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.INVALID_REQUEST);
  }
}

/** The ACL resource types a denial can name, each with its Kafka error. */
export type AuthorizationResourceType = 'TOPIC' | 'GROUP' | 'CLUSTER' | 'TRANSACTIONAL_ID';

const AUTHORIZATION_FAILED = {
  TOPIC: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED,
  GROUP: KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED,
  CLUSTER: KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED,
  TRANSACTIONAL_ID: KAFKA_ERRORS.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
} as const;

/**
 * The authorizer said no: Kafka's TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED, named after the
 * resource type; the message names the principal, the operation and the resource.
 */
export class AuthorizationError extends SamsaError {
  constructor(
    readonly principal: string,
    readonly operation: string,
    readonly resourceType: AuthorizationResourceType,
    readonly resourceName: string,
    /** Why, when it is not the ACLs (a consumer instance another principal created). */
    reason?: string,
  ) {
    super(
      `${principal} is not authorized to ${operation} ${resourceType} '${resourceName}'${reason ? `: ${reason}` : ''}`,
      AUTHORIZATION_FAILED[resourceType],
    );
  }
}

/** Creating these ACLs would pass the bound on stored ACLs (Kafka has none; we do): POLICY_VIOLATION. */
export class AclLimitError extends SamsaError {
  constructor(maxAcls: number) {
    super(`At most ${maxAcls} ACLs may be stored; delete some before creating more.`, KAFKA_ERRORS.POLICY_VIOLATION);
  }
}

/**
 * An Idempotency-Key sent again with a different request (Stripe answers such a reuse with a 4xx too).
 * The key stands for a producer id and sequence, so Kafka's word is INVALID_REQUEST (42): a client bug.
 */
export class IdempotencyKeyReusedError extends SamsaError {
  constructor(topic: string, detail: string) {
    super(
      `Idempotency-Key was already used for a different request to topic '${topic}' (${detail}); use a new key for a new request.`,
      KAFKA_ERRORS.INVALID_REQUEST,
    );
  }
}

/**
 * This node does not lead the partition (Kafka NOT_LEADER_OR_FOLLOWER, 6): another node does, or
 * leadership is moving, or this node cannot be sure it still leads (its cluster lease lapsed).
 * `leader` is the leader this node knows of, -1 when none; the edge forwards or the client retries.
 */
export class NotLeaderOrFollowerError extends SamsaError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly leader: number,
    why = '',
  ) {
    super(
      `This node does not lead partition ${topic}-${partition}${leader >= 0 ? ` (node ${leader} does)` : ''}${why ? `: ${why}` : ''}.`,
      KAFKA_ERRORS.NOT_LEADER_OR_FOLLOWER,
    );
  }
}

/** The Kafka error name `err` carries, as a node puts it in an internal answer; UNKNOWN_SERVER_ERROR when it carries none. */
export function kafkaErrorNameOf(err: unknown): string {
  return err instanceof SamsaError && err.kafkaError ? err.kafkaError.name : 'UNKNOWN_SERVER_ERROR';
}

/**
 * An error another node answered a forwarded request with (cluster mode), carrying that node's
 * Kafka error as it was: the edge answers it by whether it is retriable.
 */
export class RemoteBrokerError extends SamsaError {}

/** A replica request from a stale leader epoch, or from a newer one than this node knows (Kafka FENCED/UNKNOWN_LEADER_EPOCH). */
export class LeaderEpochError extends SamsaError {
  constructor(topic: string, partition: number, requestEpoch: number, currentEpoch: number) {
    super(
      `Partition ${topic}-${partition}: leader epoch ${requestEpoch} in the request, ${currentEpoch} here.`,
      requestEpoch < currentEpoch ? KAFKA_ERRORS.FENCED_LEADER_EPOCH : KAFKA_ERRORS.UNKNOWN_LEADER_EPOCH,
    );
  }
}

/** acks=all with fewer in-sync replicas than `min.insync.replicas` (Kafka NOT_ENOUGH_REPLICAS, 19). */
export class NotEnoughReplicasError extends SamsaError {
  constructor(topic: string, partition: number, isr: number, minIsr: number) {
    super(
      `Partition ${topic}-${partition} has ${isr} in-sync replicas, fewer than min.insync.replicas=${minIsr}.`,
      KAFKA_ERRORS.NOT_ENOUGH_REPLICAS,
    );
  }
}

/**
 * acks=all whose records the ISR did not all have within the request's `timeoutMs` (Kafka
 * REQUEST_TIMED_OUT, 7). The records were written and may still commit, so a retry can duplicate
 * them unless it carries an Idempotency-Key. Confluent's REST Proxy answers a Kafka TimeoutException
 * that is not about missing metadata as a retriable Kafka error (src/http/error-codes.ts).
 */
export class RequestTimedOutError extends SamsaError {
  constructor(topic: string, partition: number, timeoutMs: number) {
    super(
      `Partition ${topic}-${partition}: the in-sync replicas did not all have the records within ${timeoutMs} ms.`,
      KAFKA_ERRORS.REQUEST_TIMED_OUT,
    );
  }
}

/** The Kafka errors a batch of an idempotent producer can be refused with (see broker/producer-state-manager.ts). */
export type ProducerErrorReason = KafkaErrorName &
  ('INVALID_PRODUCER_EPOCH' | 'OUT_OF_ORDER_SEQUENCE_NUMBER' | 'UNKNOWN_PRODUCER_ID');

/**
 * A Kafka producer's batch that its producer state refuses: an epoch older than one that wrote
 * since (fenced), a sequence that does not continue the last one, a producer id no broker gave out.
 */
export class ProducerStateError extends SamsaError {
  constructor(
    readonly reason: ProducerErrorReason,
    message: string,
  ) {
    super(message, KAFKA_ERRORS[reason]);
  }
}

// ---- the log (storage) ----
/** A batch larger than the topic's `max.message.bytes` (Kafka MESSAGE_TOO_LARGE, 10: RecordTooLargeException). */
export class RecordTooLargeError extends SamsaError {
  constructor(sizeBytes: number, maxBytes: number) {
    super(
      `Record batch of ${sizeBytes} bytes exceeds max.message.bytes (${maxBytes}).`,
      KAFKA_ERRORS.MESSAGE_TOO_LARGE,
    );
  }
}
/** A fetch outside [log start offset, log end offset] (Kafka OFFSET_OUT_OF_RANGE, 1). */
export class OffsetOutOfRangeError extends SamsaError {
  constructor(offset: number, logStartOffset: number, logEndOffset: number) {
    super(`Offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}].`, KAFKA_ERRORS.OFFSET_OUT_OF_RANGE);
  }
}
/** Bytes on disk or from a peer that fail length, magic or CRC checks (Kafka CORRUPT_MESSAGE, 2). */
export class CorruptRecordError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.CORRUPT_MESSAGE);
  }
}
/**
 * A record a compacted topic cannot hold, such as one without a key (Kafka INVALID_RECORD, 87); also
 * a client's batch in a form this broker does not take (a message format or codec it lacks, with
 * Kafka's own error for that).
 */
export class InvalidRecordError extends SamsaError {
  constructor(message: string, kafkaError: KafkaError = KAFKA_ERRORS.INVALID_RECORD) {
    super(message, kafkaError);
  }
}
/**
 * Batches from a leader whose offsets do not continue this log (Kafka's UnexpectedAppendOffsetException
 * and OffsetsOutOfOrderException): a replication bug or a log that diverged, never written. Kafka has
 * no protocol error for these server-side exceptions; its broker answers UNKNOWN_SERVER_ERROR.
 */
export class UnexpectedAppendOffsetError extends SamsaError {
  constructor(name: string, baseOffset: number, expectedOffset: number) {
    super(
      `Append to ${name} at offset ${baseOffset}, but the log continues at offset ${expectedOffset}.`,
      KAFKA_ERRORS.UNKNOWN_SERVER_ERROR,
    );
  }
}
/** A log closed under a request (shutdown, a deleted topic): Kafka KAFKA_STORAGE_ERROR (56), retriable. */
export class LogClosedError extends SamsaError {
  constructor(name: string) {
    super(`Log ${name} is closed.`, KAFKA_ERRORS.KAFKA_STORAGE_ERROR);
  }
}

/**
 * The data dir refused a write: no space left (ENOSPC, EDQUOT), a read-only filesystem (EROFS), or
 * an I/O error. Nothing of the failed append stays in the log (storage truncates a partial write
 * back to the last whole batch), and reads go on. Kafka's KAFKA_STORAGE_ERROR (56), retriable:
 * writes succeed again once space returns, without a restart.
 */
export class KafkaStorageError extends SamsaError {
  constructor(
    /** `disk_full` (ENOSPC, EDQUOT), `read_only` (EROFS) or `io_error` (EIO): what the filesystem said. */
    readonly reason: 'disk_full' | 'read_only' | 'io_error',
    message: string,
  ) {
    super(message, KAFKA_ERRORS.KAFKA_STORAGE_ERROR);
  }
}

// ---- consumer groups and consumer instances ----
/** The Kafka group errors a group operation can be refused with; `kafkaError` carries the same one. */
export type GroupErrorReason = KafkaErrorName &
  (
    | 'UNKNOWN_MEMBER_ID'
    | 'ILLEGAL_GENERATION'
    | 'REBALANCE_IN_PROGRESS'
    | 'NON_EMPTY_GROUP'
    | 'INCONSISTENT_GROUP_PROTOCOL'
    | 'FENCED_INSTANCE_ID'
    | 'INVALID_SESSION_TIMEOUT'
    | 'GROUP_MAX_SIZE_REACHED'
    | 'INVALID_REQUEST'
  );

/** A group operation refused in the group's current state, with Kafka's error for it (`reason`). */
export class GroupStateError extends SamsaError {
  constructor(
    readonly reason: GroupErrorReason,
    message: string,
  ) {
    super(`Illegal state: ${message}`, KAFKA_ERRORS[reason]);
  }
}
export class UnknownGroupError extends SamsaError {
  constructor(group: string) {
    super(`Consumer group ${group} not found.`, KAFKA_ERRORS.GROUP_ID_NOT_FOUND);
  }
}
export class InvalidGroupIdError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.INVALID_GROUP_ID);
  }
}
/** A member id the v3 admin API does not find in the group (Kafka UNKNOWN_MEMBER_ID). */
export class UnknownConsumerError extends SamsaError {
  constructor(group: string, consumerId: string) {
    super(`Consumer ${consumerId} cannot be found in consumer group ${group}.`, KAFKA_ERRORS.UNKNOWN_MEMBER_ID);
  }
}
/** A partition a member is not assigned, asked about by the v3 assignments API. */
export class UnknownConsumerAssignmentError extends SamsaError {
  constructor(group: string, consumerId: string, topic: string, partition: number) {
    super(
      `Consumer ${consumerId} of consumer group ${group} is not assigned partition ${topic}-${partition}.`,
      KAFKA_ERRORS.RESOURCE_NOT_FOUND,
    );
  }
}
/** A partition a group has no committed offset for, asked about by the v3 lag API. */
export class UnknownConsumerLagError extends SamsaError {
  constructor(group: string, topic: string, partition: number) {
    super(
      `Consumer group ${group} has no committed offset for ${topic}-${partition}.`,
      KAFKA_ERRORS.RESOURCE_NOT_FOUND,
    );
  }
}
/**
 * A REST consumer instance that does not exist or expired. Kafka has no consumer instances; the
 * instance is a group member, so its word is UNKNOWN_MEMBER_ID.
 */
export class ConsumerInstanceNotFoundError extends SamsaError {
  constructor(group: string, instance: string) {
    super(`Consumer instance not found: ${instance} in group ${group}.`, KAFKA_ERRORS.UNKNOWN_MEMBER_ID);
  }
}
/** A second REST consumer instance of the same name in a group (Kafka's nearest: DUPLICATE_RESOURCE, 92). */
export class ConsumerAlreadyExistsError extends SamsaError {
  constructor(group: string, instance: string) {
    super(
      `Consumer with specified consumer ID already exists in the specified consumer group: ${instance} in ${group}.`,
      KAFKA_ERRORS.DUPLICATE_RESOURCE,
    );
  }
}
/** A principal already holds as many REST consumer instances as one may (429, as for its SSE streams). */
export class ConsumerInstanceLimitError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.THROTTLING_QUOTA_EXCEEDED);
  }
}
export class InvalidConsumerConfigError extends SamsaError {
  constructor(message: string) {
    super(`Invalid consumer configuration: ${message}`, KAFKA_ERRORS.INVALID_CONFIG);
  }
}
/**
 * `auto.offset.reset=none` and no committed offset (Kafka's NoOffsetForPartitionException, a client-side
 * InvalidOffsetException like OffsetOutOfRangeException; OFFSET_OUT_OF_RANGE is its protocol error).
 */
export class NoOffsetForPartitionError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(
      `Illegal state: no committed offset for ${topic}-${partition} and auto.offset.reset is none.`,
      KAFKA_ERRORS.OFFSET_OUT_OF_RANGE,
    );
  }
}
/** A record that cannot be rendered in the instance's embedded format (Confluent's "message deserialization" error). */
export class RecordFormatError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
export class TooManyRequestsError extends EdgeError {
  constructor(message: string) {
    super(message);
  }
}
/**
 * A principal over one of its quotas (Kafka's client quotas, KIP-13/KIP-124): the HTTP edge answers
 * 429 with `Retry-After`; Kafka's THROTTLING_QUOTA_EXCEEDED is the nearest word, though the Kafka
 * listener throttles instead of refusing.
 */
export class QuotaExceededError extends SamsaError {
  constructor(
    message: string,
    /** How long until the same request fits the quota again. */
    readonly retryAfterMs: number,
  ) {
    super(message, KAFKA_ERRORS.THROTTLING_QUOTA_EXCEEDED);
  }
}
/** A stream (SSE) cut by a failure that is not one of these errors: a bug, reported before the stream ends. */
export class StreamFailedError extends EdgeError {
  constructor(message = 'The stream failed.') {
    super(message);
  }
}
/** A browser page from an origin not in `--cors-origins` tried to write (Confluent's "forbidden"). */
export class CrossOriginWriteError extends EdgeError {
  constructor(origin: string) {
    super(`Origin ${origin} may not write to this server; list it in --cors-origins to allow it.`);
  }
}

// ---- authentication ----

/**
 * Missing or wrong credentials where authentication is on: HTTP Basic, an API key, a JWT, a stream
 * token, or a SASL exchange. The message says what was wrong with the credentials, never what they
 * were. HTTP 401 (see http/error-codes.ts); Kafka's SASL_AUTHENTICATION_FAILED (58).
 */
export class AuthenticationFailedError extends SamsaError {
  constructor(message: string) {
    super(message, KAFKA_ERRORS.SASL_AUTHENTICATION_FAILED);
  }
}
