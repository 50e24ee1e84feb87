/** Confluent REST v2 partition metadata: `GET /topics/{topic}/partitions/{partition}/offsets`. */
import type { Broker } from '../broker/broker.js';
import type { HandlerTable } from './openapi.js';

export function v2PartitionHandlers(broker: Broker): Pick<HandlerTable, 'getPartitionOffsets'> {
  return {
    getPartitionOffsets: ({ params }) => {
      // Confluent's end_offset is the high watermark: what a consumer can read, not the log end offset.
      const offsets = broker.listOffsets(params.topic, params.partition);
      return { beginning_offset: offsets.logStartOffset, end_offset: offsets.highWatermark };
    },
  };
}
