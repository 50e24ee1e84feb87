/**
 * Producer ids for InitProducerId (Kafka's ProducerIdManager, KIP-730): handed out from a block of
 * ids reserved in the metadata store, a new block when one runs out. The store never gives a block
 * twice (the local file on a single node, a compare-and-swap in etcd across a cluster), so ids are
 * unique across nodes and restarts; what a restart leaves of a block is skipped, never reused.
 */
import type { MetadataStore } from '../cluster/metadata-store.js';
import { ServiceUnavailableError } from '../errors.js';
import { KAFKA_ERRORS } from '../kafka-errors.js';
import { MAX_PRODUCER_ID } from './producer-state-manager.js';

/** Ids per block, Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Kafka bumps an epoch up to Short.MAX_VALUE - 1; past it the producer gets a new id at epoch 0. */
const MAX_PRODUCER_EPOCH = 32_766;

export interface ProducerIdAndEpoch {
  producerId: number;
  producerEpoch: number;
}

export class ProducerIdManager {
  private next = 0;
  /** One past the last id of the current block; 0 before the first block. */
  private blockEnd = 0;
  private refill: Promise<void> | null = null;

  constructor(private readonly store: Pick<MetadataStore, 'allocateProducerIds'>) {}

  /** A producer id no producer had before. */
  async generateProducerId(): Promise<number> {
    // The check and the take are in one function: no other caller runs between them.
    while (this.next >= this.blockEnd) await this.reserveBlock();
    return this.next++;
  }

  /** One block from the store at a time, however many callers wait for it. */
  private reserveBlock(): Promise<void> {
    this.refill ??= this.store
      .allocateProducerIds(PRODUCER_ID_BLOCK_SIZE)
      .then((first) => {
        // Ids at or above 2^52 are the HTTP Idempotency-Key hashes (idempotency-cache.ts).
        if (first + PRODUCER_ID_BLOCK_SIZE > MAX_PRODUCER_ID)
          throw new ServiceUnavailableError('No producer ids are left below 2^52.', KAFKA_ERRORS.UNKNOWN_SERVER_ERROR);
        this.next = first;
        this.blockEnd = first + PRODUCER_ID_BLOCK_SIZE;
      })
      .finally(() => {
        this.refill = null;
      });
    return this.refill;
  }

  /**
   * InitProducerId for a producer that is not transactional. A new producer gets a new id at epoch
   * 0. One that names its id and epoch (v3+, KIP-360: it lost track of its sequences) keeps its id
   * at the next epoch, which fences its own older batches, when the id is one the store gave out
   * (below this node's latest block); otherwise, or once the epoch is exhausted, it gets a new id.
   */
  async initProducerId(current: ProducerIdAndEpoch | null): Promise<ProducerIdAndEpoch> {
    if (current !== null && current.producerEpoch < MAX_PRODUCER_EPOCH) {
      if (this.blockEnd === 0) await this.reserveBlock();
      if (current.producerId >= 0 && current.producerId < this.blockEnd)
        return { producerId: current.producerId, producerEpoch: current.producerEpoch + 1 };
    }
    return { producerId: await this.generateProducerId(), producerEpoch: 0 };
  }
}
