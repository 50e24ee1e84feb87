/**
 * Confluent REST v2 topic metadata: `GET /topics`, `GET /topics/{topic}`,
 * `GET /topics/{topic}/partitions` and `GET /topics/{topic}/partitions/{partition}`.
 */
import type { Broker, PartitionDescription } from '../broker/broker.js';
import { UnknownPartitionError } from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';

type V2Partition = components['schemas']['V2Partition'];

export function v2TopicHandlers(
  broker: Broker,
): Pick<HandlerTable, 'listTopics' | 'getTopic' | 'listPartitions' | 'getPartition'> {
  return {
    // Kafka's AdminClient.listTopics() leaves internal topics out by default, and so does Confluent.
    // Only the topics the caller may DESCRIBE (Kafka's Metadata of all topics leaves the rest out).
    listTopics: (_input, http) => broker.listTopics().filter((t) => http.access.may('DESCRIBE', 'TOPIC', t)),

    getTopic: ({ params }) => {
      const topic = broker.describeTopic(params.topic);
      // Every config with its effective value, as Confluent fills `configs` from DescribeConfigs.
      const configs: Record<string, string> = {};
      for (const { name, value } of broker.topicConfigs(params.topic)) configs[name] = value;
      return { name: topic.name, configs, partitions: topic.partitions.map(toV2Partition) };
    },

    listPartitions: ({ params }) => broker.describeTopic(params.topic).partitions.map(toV2Partition),

    getPartition: ({ params }) => {
      const partition = broker.describeTopic(params.topic).partitions[params.partition];
      if (!partition) throw new UnknownPartitionError(params.topic, params.partition);
      return toV2Partition(partition);
    },
  };
}

function toV2Partition(p: PartitionDescription): V2Partition {
  return {
    partition: p.partition,
    leader: p.leader,
    replicas: p.replicas.map((broker) => ({ broker, leader: broker === p.leader, in_sync: p.isr.includes(broker) })),
  };
}
