/**
 * What every API handler of the Kafka listener shares: the broker facade it calls, where Kafka
 * clients are told to connect, and the one rule turning a domain error into a Kafka error code.
 * Each handler file exports a factory giving its api key, the versions it implements (exactly what
 * ApiVersions advertises) and the handler.
 */
import type { Broker } from '../../broker/broker.js';
import { AuthorizationError, SamsaError } from '../../errors.js';
import type { GroupCoordinator } from '../../groups/group-coordinator.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import type { Logger } from '../../logger.js';
import type { Authorizer } from '../../security/acl-authorizer.js';
import type { AclOperation, ResourceType } from '../../security/acl-binding.js';
import type { Authenticator } from '../../security/authenticator.js';
import { principalText } from '../../security/principal.js';
import type { ApiVersionRange, KafkaHandler, RequestContext } from '../kafka-listener.js';

export interface KafkaApiContext {
  broker: Broker;
  /** Committed offsets (and later the groups themselves), shared with the HTTP consumers. */
  coordinator: GroupCoordinator;
  logger: Logger;
  /** `--kafka-advertised-listener`; null: the address each client connected to. */
  advertisedListener: { host: string; port: number } | null;
  /** SASL's users (SaslHandshake, SaslAuthenticate); absent: no mechanism is offered. */
  authenticator?: Authenticator;
  /** Who may do what (issue 17); everyone everything when absent, as a Kafka broker without an authorizer. */
  authorizer?: Authorizer;
}

/**
 * The question each handler asks per resource inside its loop, as Kafka's KafkaApis does: may the
 * connection's principal, from its address, do `operation` to the resource? A bound function per
 * request, so the loops stay plain.
 */
export type Authorized = (operation: AclOperation, resourceType: ResourceType, resourceName: string) => boolean;

export function authorizedFor(ctx: KafkaApiContext, request: RequestContext): Authorized {
  const authorizer = ctx.authorizer;
  if (!authorizer?.enabled) return ALWAYS;
  const { principal } = request;
  const host = clientHost(request);
  return (operation, resourceType, resourceName) =>
    authorizer.authorize(principal, host, operation, resourceType, resourceName);
}

const ALWAYS: Authorized = () => true;

/** Throws the AuthorizationError (its Kafka code: 29, 30 or 31) unless `authorized` allows it; for handlers whose catch answers one error code. */
export function demand(
  authorized: Authorized,
  request: RequestContext,
  operation: AclOperation,
  resourceType: ResourceType,
  resourceName: string,
): void {
  if (!authorized(operation, resourceType, resourceName))
    throw new AuthorizationError(principalText(request.principal), operation, resourceType, resourceName);
}

/** The client's IP address as ACL hosts name it (an IPv4 client of a dual-stack socket without `::ffff:`). */
export function clientHost(request: RequestContext): string {
  const a = request.remoteAddress;
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export interface KafkaApi {
  apiKey: number;
  versions: ApiVersionRange;
  handle: KafkaHandler;
}

/**
 * The Kafka error code of a failure: a domain error's own; anything else is a bug, logged once and
 * answered UNKNOWN_SERVER_ERROR (-1), as Kafka's broker does.
 */
export function errorCodeOf(err: unknown, logger: Logger, during: string): number {
  if (err instanceof SamsaError && err.kafkaError !== null) return err.kafkaError.code;
  logger.error({ event: 'kafka.handler_failed', during, err }, `Kafka ${during} failed`);
  return KAFKA_ERRORS.UNKNOWN_SERVER_ERROR.code;
}

/** The error's message for the v8+ error message fields; null for an unexpected failure. */
export function errorMessageOf(err: unknown): string | null {
  return err instanceof SamsaError && err.kafkaError !== null ? err.message : null;
}

/**
 * Where this node tells Kafka clients to connect: the configured listener, else the address and
 * port this client reached (so it works on localhost, in containers and behind port maps). An
 * IPv4 client of a dual-stack socket shows as `::ffff:a.b.c.d`; clients want the plain address.
 */
export function advertisedAddress(ctx: KafkaApiContext, request: RequestContext): { host: string; port: number } {
  if (ctx.advertisedListener) return ctx.advertisedListener;
  const local = request.localAddress.startsWith('::ffff:') ? request.localAddress.slice(7) : request.localAddress;
  return { host: local, port: request.localPort };
}

/** A broker as Metadata lists it and FindCoordinator names it. */
export interface KafkaBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/**
 * Every live node Kafka clients can reach, by node id: this node at `advertisedAddress`, the
 * others at the Kafka listener they registered (cluster mode). A node without a Kafka listener
 * (`--kafka-port 0`) is left out: a client could not connect to it.
 */
export function kafkaBrokers(ctx: KafkaApiContext, request: RequestContext): Map<number, KafkaBroker> {
  const out = new Map<number, KafkaBroker>();
  for (const node of ctx.broker.clusterNodes()) {
    const rack = node.rack ?? null;
    if (node.nodeId === ctx.broker.nodeId) {
      out.set(node.nodeId, { nodeId: node.nodeId, ...advertisedAddress(ctx, request), rack });
    } else if (node.kafkaListener) {
      const { host, port } = node.kafkaListener;
      out.set(node.nodeId, { nodeId: node.nodeId, host, port, rack });
    }
  }
  return out;
}

/** Parses `host:port` (IPv6 in brackets) as config.ts accepts it. */
export function parseListener(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(text.slice(colon + 1)) };
}

/** An int64 offset or timestamp from the wire as a number; beyond 2^53 it cannot name a real offset. */
export function int64ToNumber(value: unknown): number {
  const n = typeof value === 'bigint' ? value : BigInt(value as number);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (n < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(n);
}

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * A topic id as the wire carries it (a uuid, 36 characters for the codec) from the broker's form,
 * Kafka's Uuid printed in base64url; the zero uuid (Kafka's "none") for none or a malformed one.
 */
export function wireTopicId(topicId: string | null): string {
  const bytes = topicId === null ? null : Buffer.from(topicId, 'base64url');
  if (bytes === null || bytes.length !== 16) return ZERO_UUID;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The broker's form (base64url) of a topic id from the wire. */
export function brokerTopicId(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}
