/** Confluent REST v2 partition metadata: `GET /topics/{topic}/partitions/{partition}/offsets`. */
import type { Broker } from '../broker/broker.js';
import type { HandlerTable } from './openapi.js';

export function v2PartitionHandlers(broker: Broker): Pick<HandlerTable, 'getPartitionOffsets'> {
  return {
    getPartitionOffsets: async ({ params }) => {
      // Confluent's end_offset is the high watermark: what a consumer can read, not the log end offset.
      const offsets = await broker.loadReadableOffsets(params.topic, params.partition);
      return { beginning_offset: offsets.logStartOffset, end_offset: offsets.highWatermark };
    },
  };
}
