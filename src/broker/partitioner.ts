/**
 * Kafka's default partitioning (KIP-480): a keyed record goes to
 * `toPositive(murmur2(keyBytes)) % partitions`, bit-for-bit what the Java producer, kafkajs
 * and librdkafka's `murmur2_random` choose; unkeyed records stick to one partition for a
 * whole batch (here: one request) and the next batch moves on.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's Utils.murmur2 (32-bit, signed result like Java's int) of `length` bytes of `data` at `start`. */
export function murmur2(data: Uint8Array, start = 0, length = data.length - start): number {
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = start + i * 4;
    let k =
      (data[i4] as number) |
      ((data[i4 + 1] as number) << 8) |
      ((data[i4 + 2] as number) << 16) |
      ((data[i4 + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = start + (length & ~3);
  const rest = length & 3;
  if (rest >= 3) h ^= (data[tail + 2] as number) << 16;
  if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition Kafka's producers pick for a key: `length` bytes of `data` at `start` (all of it by default). */
export function partitionForKey(data: Uint8Array, partitions: number, start = 0, length = data.length - start): number {
  return (murmur2(data, start, length) & 0x7fffffff) % partitions;
}

/**
 * The sticky choice for unkeyed records: one partition per produce request, moving round-robin
 * from a random start so unkeyed load spreads over every partition and never piles onto 0.
 */
export class StickyPartitioner {
  private readonly next = new Map<string, number>();

  partitionFor(topic: string, partitions: number): number {
    const current = this.next.get(topic) ?? Math.floor(Math.random() * partitions);
    this.next.set(topic, (current + 1) % partitions);
    return current % partitions;
  }

  forget(topic: string): void {
    this.next.delete(topic);
  }
}
