/** Requests of an idempotent producer, built by hand for raw-protocol tests: InitProducerId, and Produce of a batch with its sequence. */
import { crc32c } from '@node-rs/crc32';
import { API_KEYS } from '../../src/kafka/protocol/apis.js';
import type { Message } from '../../src/kafka/protocol/codec.js';
import { encodeRecordBatch } from '../../src/storage/record-batch.js';
import type { RawConnection } from './raw-connection.js';

/** One batch of an idempotent producer: `values` from `baseSequence`, at `producerEpoch`. */
export function producerBatch(
  producerId: number,
  producerEpoch: number,
  baseSequence: number,
  values: string[],
): Buffer {
  const batch = encodeRecordBatch(
    values.map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() })),
    { baseOffset: 0, producerId },
  );
  batch.writeInt16BE(producerEpoch, 51);
  batch.writeInt32BE(baseSequence, 53);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** InitProducerId at `version`, not transactional, a new producer unless `body` names one. */
export async function initProducerId(conn: RawConnection, version: number, body: Message = {}): Promise<Message> {
  return conn.call(API_KEYS.InitProducerId, version, {
    transactionalId: null,
    transactionTimeoutMs: 60_000,
    producerId: -1n,
    producerEpoch: -1,
    ...body,
  });
}

/** A Produce v8 (acks=-1) of one batch to partition `partition` of `topic`: that partition's answer. */
export async function produceOne(conn: RawConnection, topic: string, records: Buffer, partition = 0): Promise<Message> {
  const answer = await conn.call(API_KEYS.Produce, 8, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const t = (answer.responses as Message[])[0] as Message;
  return (t.partitionResponses as Message[])[0] as Message;
}
