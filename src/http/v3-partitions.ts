/**
 * Confluent REST v3 partitions: list, get, earliest/latest offsets (`KafkaPartitionWithOffsets`),
 * replicas (per partition, and per broker), and reassignments. Leadership, the ISR and the replicas
 * being added or removed come from the broker's partition state. A partition that is not moving has
 * no reassignment (404, as in Confluent). Starting and cancelling a move (PATCH and DELETE of a
 * partition's `reassignment`) are Samsa's extension: Confluent's open-source spec has no write route.
 */
import type { Broker, PartitionDescription } from '../broker/broker.js';
import {
  BadRequestError,
  NoReassignmentError,
  UnknownBrokerError,
  UnknownPartitionError,
  UnknownReplicaError,
} from '../errors.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { type ClusterUrls, clusterUrls, collection, type Step } from './v3-resource.js';

type PartitionData = components['schemas']['PartitionData'];
type ReplicaData = components['schemas']['ReplicaData'];
type ReassignmentData = components['schemas']['ReassignmentData'];

export function v3PartitionHandlers(
  broker: Broker,
): Pick<
  HandlerTable,
  | 'listKafkaPartitions'
  | 'getKafkaPartition'
  | 'getKafkaPartitionOffsets'
  | 'listKafkaReplicas'
  | 'getKafkaReplica'
  | 'searchKafkaReplicasByBroker'
  | 'listKafkaAllReassignments'
  | 'searchKafkaReassignmentsByTopic'
  | 'getKafkaReassignment'
  | 'updateKafkaReassignment'
  | 'cancelKafkaReassignment'
> {
  return {
    listKafkaPartitions: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const { partitions } = broker.describeTopic(params.topic_name);
      return collection(
        'KafkaPartitionList',
        urls.url([['topics', params.topic_name]], 'partitions'),
        partitions.map((p) => partitionData(urls, params.topic_name, p)),
      );
    },

    getKafkaPartition: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return partitionData(urls, params.topic_name, describePartition(broker, params.topic_name, params.partition_id));
    },

    getKafkaPartitionOffsets: async ({ params, query }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      // Confluent serves this one offset type and answers 400 for any other.
      if (query.offset_type !== 'earliest_and_latest') {
        throw new BadRequestError(`offset_type '${query.offset_type}' is not supported; use earliest_and_latest.`);
      }
      const offsets = await broker.loadReadableOffsets(params.topic_name, params.partition_id);
      const steps = partitionSteps(params.topic_name, params.partition_id);
      return {
        kind: 'KafkaPartitionWithOffsets',
        metadata: { self: urls.url(steps, 'offset'), resource_name: urls.resourceName(steps) },
        cluster_id: urls.clusterId,
        topic_name: params.topic_name,
        partition_id: params.partition_id,
        earliest_offset: offsets.logStartOffset,
        // What a consumer can read up to, as Kafka's ListOffsets(latest) answers: the high watermark.
        latest_offset: offsets.highWatermark,
      };
    },

    listKafkaReplicas: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const partition = describePartition(broker, params.topic_name, params.partition_id);
      return collection(
        'KafkaReplicaList',
        urls.url(partitionSteps(params.topic_name, params.partition_id), 'replicas'),
        partition.replicas.map((brokerId) => replicaData(urls, params.topic_name, partition, brokerId)),
      );
    },

    getKafkaReplica: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const partition = describePartition(broker, params.topic_name, params.partition_id);
      if (!partition.replicas.includes(params.broker_id)) {
        throw new UnknownReplicaError(params.topic_name, params.partition_id, params.broker_id);
      }
      return replicaData(urls, params.topic_name, partition, params.broker_id);
    },

    searchKafkaReplicasByBroker: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const data: ReplicaData[] = [];
      // listTopics is sorted, partitions are in order: Confluent's sort by topic, then partition.
      for (const topic of broker.listTopics({ includeInternal: true })) {
        for (const p of broker.describeTopic(topic).partitions) {
          if (p.replicas.includes(params.broker_id)) data.push(replicaData(urls, topic, p, params.broker_id));
        }
      }
      // A dead broker that partitions still list is known by them (what is left to move off it).
      const known = data.length > 0 || broker.clusterNodes().some((n) => n.nodeId === params.broker_id);
      if (!known) throw new UnknownBrokerError(params.broker_id);
      return collection('KafkaReplicaList', urls.url([['brokers', params.broker_id]], 'partition-replicas'), data);
    },

    listKafkaAllReassignments: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      // Kafka's ListPartitionReassignments lists internal topics' moves too.
      const data = broker
        .listTopics({ includeInternal: true })
        .flatMap((topic) => moving(broker, topic).map((p) => reassignmentData(urls, topic, p)));
      // Confluent's own self link says `reassignments`, a path it does not serve; this one is the request's.
      return collection('KafkaReassignmentList', urls.url([['topics', '-']], 'partitions/-/reassignment'), data);
    },

    searchKafkaReassignmentsByTopic: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const topic = params.topic_name;
      return collection(
        'KafkaReassignmentList',
        urls.url([['topics', topic]], 'partitions/-/reassignment'),
        moving(broker, topic).map((p) => reassignmentData(urls, topic, p)),
      );
    },

    getKafkaReassignment: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const partition = describePartition(broker, params.topic_name, params.partition_id);
      if (!isMoving(partition)) throw new NoReassignmentError(params.topic_name, params.partition_id);
      return reassignmentData(urls, params.topic_name, partition);
    },

    updateKafkaReassignment: async ({ params, body }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      describePartition(broker, params.topic_name, params.partition_id);
      const stored = await broker.alterPartitionReassignment(params.topic_name, params.partition_id, body.replicas);
      return reassignmentData(urls, params.topic_name, stored);
    },

    cancelKafkaReassignment: async ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      describePartition(broker, params.topic_name, params.partition_id);
      await broker.cancelPartitionReassignment(params.topic_name, params.partition_id);
    },
  };
}

function isMoving(p: PartitionDescription): boolean {
  return p.addingReplicas.length > 0 || p.removingReplicas.length > 0;
}

/** A topic's partitions being reassigned, by partition (unknown topic 404 / 40403, from the broker). */
function moving(broker: Broker, topic: string): PartitionDescription[] {
  return broker.describeTopic(topic).partitions.filter(isMoving);
}

function reassignmentData(urls: ClusterUrls, topic: string, partition: PartitionDescription): ReassignmentData {
  const steps = partitionSteps(topic, partition.partition);
  return {
    kind: 'KafkaReassignment',
    metadata: { self: urls.url(steps, 'reassignment'), resource_name: urls.resourceName(steps) },
    cluster_id: urls.clusterId,
    topic_name: topic,
    partition_id: partition.partition,
    adding_replicas: [...partition.addingReplicas],
    removing_replicas: [...partition.removingReplicas],
    replicas: urls.link(steps, 'replicas'),
  };
}

/** Unknown topic 404 / 40403 (from the broker), unknown partition 404 / 40402. */
function describePartition(broker: Broker, topic: string, partition: number): PartitionDescription {
  const found = broker.describeTopic(topic).partitions[partition];
  if (!found) throw new UnknownPartitionError(topic, partition);
  return found;
}

function partitionSteps(topic: string, partition: number): Step[] {
  return [
    ['topics', topic],
    ['partitions', partition],
  ];
}

function partitionData(urls: ClusterUrls, topic: string, partition: PartitionDescription): PartitionData {
  const steps = partitionSteps(topic, partition.partition);
  return {
    kind: 'KafkaPartition',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    topic_name: topic,
    partition_id: partition.partition,
    // Confluent omits `leader` when the partition has none (leader -1).
    ...(partition.leader >= 0 ? { leader: urls.link([...steps, ['replicas', partition.leader]]) } : {}),
    replicas: urls.link(steps, 'replicas'),
    reassignment: urls.link(steps, 'reassignment'),
  };
}

function replicaData(urls: ClusterUrls, topic: string, partition: PartitionDescription, brokerId: number): ReplicaData {
  const steps: Step[] = [...partitionSteps(topic, partition.partition), ['replicas', brokerId]];
  return {
    kind: 'KafkaReplica',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    topic_name: topic,
    partition_id: partition.partition,
    broker_id: brokerId,
    is_leader: partition.leader === brokerId,
    is_in_sync: partition.isr.includes(brokerId),
    broker: urls.link([['brokers', brokerId]]),
  };
}
