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
