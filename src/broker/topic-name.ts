import { InvalidTopicError } from '../errors.js';

/** Kafka's rule (Topic.validate): 1..249 chars of [a-zA-Z0-9._-], and not "." or "..". */
const LEGAL = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME_LENGTH = 249;

export function validateTopicName(name: string): void {
  if (name.length === 0) throw new InvalidTopicError('Topic name is empty.');
  if (name === '.' || name === '..') throw new InvalidTopicError(`Topic name cannot be "${name}".`);
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new InvalidTopicError(
      `Topic name is ${name.length} characters long; at most ${MAX_TOPIC_NAME_LENGTH} are allowed.`,
    );
  }
  if (!LEGAL.test(name)) {
    throw new InvalidTopicError(
      `Topic name "${name}" is illegal: only ASCII letters, digits, '.', '_' and '-' are allowed.`,
    );
  }
}

/** Kafka's internal topics (Topic.isInternal): hidden from default listings, flagged `is_internal` in v3. */
export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
const INTERNAL_TOPICS: ReadonlySet<string> = new Set([CONSUMER_OFFSETS_TOPIC, '__transaction_state']);

export function isInternalTopic(name: string): boolean {
  return INTERNAL_TOPICS.has(name);
}
