/**
 * Every error Samsa raises on purpose, each with the Confluent REST `error_code` and HTTP
 * status it maps to. Lower layers throw these as plain values; only the HTTP edge turns
 * them into `{error_code, message}` bodies (src/http/error-handler.ts). Anything else that
 * escapes is a bug and becomes a bare 500 without a stack trace.
 */
export class SamsaError extends Error {
  constructor(
    message: string,
    readonly errorCode: number,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

// ---- request shape (edge) ----
// One kind of mistake, one code, whichever check finds it (the openapi.yaml validator or a handler);
// docs/api.md has the table. The codes are Confluent's where its proxy's answer is known.

/**
 * 400 / 400: the body is not JSON, or a key or value is not what its embedded format needs (not
 * base64 for binary, not a string for string). Confluent's record serializer answers these with a
 * bare 400 "Bad Request: ..." in v2 and v3 alike.
 */
export class BadRequestError extends SamsaError {
  constructor(message: string) {
    super(message, 400, 400);
  }
}
/**
 * 422 / 422: the request breaks openapi.yaml's schema (a missing, unknown or mistyped field, a value
 * out of range) or a rule of the same kind the schema cannot say. Confluent's Bean Validation answer.
 */
export class UnprocessableEntityError extends SamsaError {
  constructor(message: string) {
    super(message, 422, 422);
  }
}
/**
 * 422 / 42206 "Payload error": the body is well formed but its content cannot be taken: empty,
 * schema fields or formats without a Schema Registry, JSON nested too deep or holding non-finite
 * numbers. Confluent's `Errors.invalidPayloadException`.
 */
export class InvalidPayloadError extends SamsaError {
  constructor(message: string) {
    super(message, 42206, 422);
  }
}
/**
 * 422 / 42208: a request over its record or entry limits, or a batch with bad entry ids; nothing is
 * written. Confluent's `Errors.produceBatchException`.
 */
export class ProduceBatchError extends SamsaError {
  constructor(message: string) {
    super(message, 42208, 422);
  }
}
export class UnsupportedMediaTypeError extends SamsaError {
  constructor(message: string) {
    super(message, 415, 415);
  }
}
export class NotAcceptableError extends SamsaError {
  constructor(message: string, errorCode = 40601) {
    super(message, errorCode, 406);
  }
}
export class PayloadTooLargeError extends SamsaError {
  constructor(message: string) {
    super(message, 413, 413);
  }
}
export class RouteNotFoundError extends SamsaError {
  constructor(message = 'HTTP 404 Not Found') {
    super(message, 404, 404);
  }
}
export class MethodNotAllowedError extends SamsaError {
  constructor(message = 'HTTP 405 Method Not Allowed') {
    super(message, 405, 405);
  }
}
export class ServiceUnavailableError extends SamsaError {
  constructor(message: string, errorCode = 50302) {
    super(message, errorCode, 503);
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
export class UnknownTopicError extends SamsaError {
  constructor(topic: string, errorCode = 40403) {
    super(`Topic '${topic}' not found.`, errorCode, 404);
  }
}
export class UnknownPartitionError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(`Partition ${partition} of topic '${topic}' not found.`, 40402, 404);
  }
}
export class TopicExistsError extends SamsaError {
  constructor(topic: string) {
    super(`Topic '${topic}' already exists.`, 40002, 400);
  }
}
export class InvalidTopicError extends SamsaError {
  constructor(message: string) {
    super(message, 42206, 422);
  }
}
export class InvalidConfigError extends SamsaError {
  constructor(message: string) {
    super(message, 40002, 400);
  }
}
export class InvalidPartitionsError extends SamsaError {
  constructor(message: string) {
    super(message, 40002, 400);
  }
}

// ---- cluster, brokers, configs (v3 admin); Confluent answers these with the bare 404 ----
export class UnknownClusterError extends SamsaError {
  constructor(clusterId: string) {
    super(`Cluster ${clusterId} cannot be found.`, 404, 404);
  }
}
export class UnknownBrokerError extends SamsaError {
  constructor(brokerId: number) {
    super(`Broker ${brokerId} cannot be found.`, 404, 404);
  }
}
export class UnknownReplicaError extends SamsaError {
  constructor(topic: string, partition: number, brokerId: number) {
    super(`Replica ${brokerId} of partition ${topic}-${partition} cannot be found.`, 404, 404);
  }
}
export class UnknownConfigError extends SamsaError {
  /** `owner` names what the config belongs to, e.g. `topic orders` or `broker 0`. */
  constructor(name: string, owner: string) {
    super(`Config ${name} cannot be found for ${owner}.`, 404, 404);
  }
}
/** A known broker config with no cluster-wide run-time value: Kafka's default entity does not list it. */
export class NoClusterConfigError extends SamsaError {
  constructor(name: string) {
    super(
      `Config ${name} has no cluster-wide dynamic value; its effective value is under /brokers/{broker_id}/configs/${name}.`,
      404,
      404,
    );
  }
}
/** Confluent answers a partition that is not being reassigned with the bare 404. */
export class NoReassignmentError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(`No reassignment is in progress for partition ${topic}-${partition}.`, 404, 404);
  }
}
/**
 * ACLs before Samsa has an authorizer: Kafka's SecurityDisabledException, which Confluent's proxy
 * answers with 400 / 40002.
 */
export class SecurityDisabledError extends SamsaError {
  constructor() {
    super(
      'ACLs are not available: Samsa has no authorizer yet, so authorization is off and every client may do everything. ACL support comes with security.',
      40002,
      400,
    );
  }
}

/** An Idempotency-Key sent again with a different request (Stripe answers such a reuse with a 4xx too). */
export class IdempotencyKeyReusedError extends SamsaError {
  constructor(topic: string, detail: string) {
    super(
      `Idempotency-Key was already used for a different request to topic '${topic}' (${detail}); use a new key for a new request.`,
      422,
      422,
    );
  }
}

/** acks=all with fewer in-sync replicas than `min.insync.replicas` (Kafka NOT_ENOUGH_REPLICAS, 19). */
export class NotEnoughReplicasError extends SamsaError {
  constructor(topic: string, partition: number, isr: number, minIsr: number) {
    super(
      `Partition ${topic}-${partition} has ${isr} in-sync replicas, fewer than min.insync.replicas=${minIsr}.`,
      50003,
      503,
    );
  }
}

/**
 * acks=all whose records the ISR did not all have within the request's `timeoutMs` (Kafka
 * REQUEST_TIMED_OUT, 7). The records were written and may still commit, so a retry can duplicate
 * them unless it carries an Idempotency-Key. Confluent's REST Proxy answers a Kafka TimeoutException
 * that is not about missing metadata as a retriable Kafka error, 50003; the status is 503 as for
 * NotEnoughReplicasError: an expected, retriable state of the cluster, not a bug (Confluent: 500).
 */
export class RequestTimedOutError extends SamsaError {
  constructor(topic: string, partition: number, timeoutMs: number) {
    super(
      `Partition ${topic}-${partition}: the in-sync replicas did not all have the records within ${timeoutMs} ms.`,
      50003,
      503,
    );
  }
}

// ---- the log (storage) ----
/** A batch larger than the topic's `max.message.bytes` (Kafka RECORD_TOO_LARGE, 10). */
export class RecordTooLargeError extends SamsaError {
  constructor(sizeBytes: number, maxBytes: number) {
    super(`Record batch of ${sizeBytes} bytes exceeds max.message.bytes (${maxBytes}).`, 42207, 422);
  }
}
/** A fetch outside [log start offset, log end offset] (Kafka OFFSET_OUT_OF_RANGE, 1). */
export class OffsetOutOfRangeError extends SamsaError {
  constructor(offset: number, logStartOffset: number, logEndOffset: number) {
    super(`Offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}].`, 40402, 404);
  }
}
/** Bytes on disk or from a peer that fail length, magic or CRC checks (Kafka CORRUPT_MESSAGE, 2). */
export class CorruptRecordError extends SamsaError {
  constructor(message: string) {
    super(message, 50002, 500);
  }
}
/** A record a compacted topic cannot hold, such as one without a key (Kafka INVALID_RECORD, 87). */
export class InvalidRecordError extends SamsaError {
  constructor(message: string) {
    super(message, 42207, 422);
  }
}
/**
 * Batches from a leader whose offsets do not continue this log (Kafka's UnexpectedAppendOffsetException
 * and OffsetsOutOfOrderException): a replication bug or a log that diverged, never written.
 */
export class UnexpectedAppendOffsetError extends SamsaError {
  constructor(name: string, baseOffset: number, expectedOffset: number) {
    super(`Append to ${name} at offset ${baseOffset}, but the log continues at offset ${expectedOffset}.`, 50002, 500);
  }
}
export class LogClosedError extends SamsaError {
  constructor(name: string) {
    super(`Log ${name} is closed.`, 50003, 503);
  }
}

// ---- consumer groups and consumer instances ----
/** Kafka's group error names, kept so callers can react to the precise condition. */
export type GroupErrorReason =
  | 'UNKNOWN_MEMBER_ID'
  | 'ILLEGAL_GENERATION'
  | 'REBALANCE_IN_PROGRESS'
  | 'NON_EMPTY_GROUP'
  | 'INCONSISTENT_GROUP_PROTOCOL';

/** A group operation refused in the group's current state: Confluent's 409 / 40903 "Illegal state". */
export class GroupStateError extends SamsaError {
  constructor(
    readonly reason: GroupErrorReason,
    message: string,
  ) {
    super(`Illegal state: ${message}`, 40903, 409);
  }
}
export class UnknownGroupError extends SamsaError {
  constructor(group: string) {
    super(`Consumer group ${group} not found.`, 40405, 404);
  }
}
export class InvalidGroupIdError extends SamsaError {
  constructor(message: string) {
    super(message, 42204, 422);
  }
}
/** A member id the v3 admin API does not find in the group (Confluent answers the bare 404). */
export class UnknownConsumerError extends SamsaError {
  constructor(group: string, consumerId: string) {
    super(`Consumer ${consumerId} cannot be found in consumer group ${group}.`, 404, 404);
  }
}
/** A partition a member is not assigned, asked about by the v3 assignments API (Confluent's bare 404). */
export class UnknownConsumerAssignmentError extends SamsaError {
  constructor(group: string, consumerId: string, topic: string, partition: number) {
    super(
      `Consumer ${consumerId} of consumer group ${group} is not assigned partition ${topic}-${partition}.`,
      404,
      404,
    );
  }
}
/** A partition a group has no committed offset for, asked about by the v3 lag API. */
export class UnknownConsumerLagError extends SamsaError {
  constructor(group: string, topic: string, partition: number) {
    super(`Consumer group ${group} has no committed offset for ${topic}-${partition}.`, 404, 404);
  }
}
export class ConsumerInstanceNotFoundError extends SamsaError {
  constructor(group: string, instance: string) {
    super(`Consumer instance not found: ${instance} in group ${group}.`, 40403, 404);
  }
}
export class ConsumerAlreadyExistsError extends SamsaError {
  constructor(group: string, instance: string) {
    super(
      `Consumer with specified consumer ID already exists in the specified consumer group: ${instance} in ${group}.`,
      40902,
      409,
    );
  }
}
export class InvalidConsumerConfigError extends SamsaError {
  constructor(message: string) {
    super(`Invalid consumer configuration: ${message}`, 42204, 422);
  }
}
/** `auto.offset.reset=none` and no committed offset (Kafka's NoOffsetForPartitionException). */
export class NoOffsetForPartitionError extends SamsaError {
  constructor(topic: string, partition: number) {
    super(`Illegal state: no committed offset for ${topic}-${partition} and auto.offset.reset is none.`, 40903, 409);
  }
}
/** A record that cannot be rendered in the instance's embedded format (Confluent 40801). */
export class RecordFormatError extends SamsaError {
  constructor(message: string) {
    super(message, 40801, 408);
  }
}
export class TooManyRequestsError extends SamsaError {
  constructor(message: string) {
    super(message, 42901, 429);
  }
}
/** A browser page from an origin not in `--cors-origins` tried to write (Confluent's 40301 "forbidden"). */
export class CrossOriginWriteError extends SamsaError {
  constructor(origin: string) {
    super(`Origin ${origin} may not write to this server; list it in --cors-origins to allow it.`, 40301, 403);
  }
}
