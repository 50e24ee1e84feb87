/**
 * A partition named by its topic (Kafka's TopicPartition), and the one string key every layer
 * above the log uses to put partitions in a Map or Set. Every layer above the broker may import
 * this file.
 */

export interface TopicPartition {
  topic: string;
  partition: number;
}

/**
 * `topic \0 partition`: NUL cannot occur in a topic name (validateTopicName allows only
 * `[a-zA-Z0-9._-]`), so the key is unambiguous, and the partition after the last NUL parses back.
 */
export function tpKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The inverse of tpKey. */
export function splitTpKey(key: string): TopicPartition {
  const i = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}
