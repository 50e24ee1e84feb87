import type { PartitionAssignor } from './assignor.js';
import { RangeAssignor } from './range-assignor.js';
import { RoundRobinAssignor } from './round-robin-assignor.js';
import { StickyAssignor } from './sticky-assignor.js';

/** The assignors a member may name in `partition.assignment.strategy`; `range` is Kafka's default. */
export const ASSIGNORS: ReadonlyMap<string, PartitionAssignor> = new Map<string, PartitionAssignor>([
  ['range', new RangeAssignor()],
  ['roundrobin', new RoundRobinAssignor()],
  ['sticky', new StickyAssignor()],
]);

export const DEFAULT_ASSIGNOR = 'range';

/** The assignor of that name, `range` when unknown. */
export function assignorFor(name: string): PartitionAssignor {
  return ASSIGNORS.get(name) ?? (ASSIGNORS.get(DEFAULT_ASSIGNOR) as PartitionAssignor);
}

/** Kafka's Java class names are accepted for `partition.assignment.strategy` too. */
const CLASS_NAMES: Record<string, string> = {
  'org.apache.kafka.clients.consumer.RangeAssignor': 'range',
  'org.apache.kafka.clients.consumer.RoundRobinAssignor': 'roundrobin',
  'org.apache.kafka.clients.consumer.StickyAssignor': 'sticky',
};

/** Parses `partition.assignment.strategy` (comma-separated); null when a name is unknown. */
export function parseAssignmentStrategy(value: string): string[] | null {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => CLASS_NAMES[s] ?? s.toLowerCase());
  if (names.length === 0 || names.some((n) => !ASSIGNORS.has(n))) return null;
  return names;
}

/**
 * The JoinGroup protocol names of the assignors Samsa can run, as Kafka clients spell them: Java,
 * librdkafka and kafka-python say `range` and `roundrobin` (Java and kafka-python also `sticky`),
 * kafkajs says `RoundRobinAssigner`. `cooperative-sticky` is not here: it is an incremental protocol
 * whose second rebalance the clients drive themselves, which a REST member cannot follow.
 */
const PROTOCOL_ASSIGNORS: ReadonlyMap<string, string> = new Map([
  ['range', 'range'],
  ['roundrobin', 'roundrobin'],
  ['RoundRobinAssigner', 'roundrobin'],
  ['sticky', 'sticky'],
]);

/** The assignor a JoinGroup protocol name stands for, or null when Samsa cannot compute it. */
export function assignorOfProtocol(protocol: string): PartitionAssignor | null {
  const name = PROTOCOL_ASSIGNORS.get(protocol);
  return name === undefined ? null : (ASSIGNORS.get(name) ?? null);
}

/**
 * The protocols a REST member takes part in, in its order of preference: the names of its own
 * assignors first, then every other protocol Samsa can compute (the coordinator runs the assignor
 * for it, or a Kafka leader does), so it shares a group with any Kafka client that speaks one.
 */
export function protocolsOfAssignors(assignors: readonly string[]): string[] {
  const names = [...PROTOCOL_ASSIGNORS.keys()];
  const own = assignors.flatMap((a) => names.filter((n) => PROTOCOL_ASSIGNORS.get(n) === a));
  return [...new Set([...own, ...names])];
}
