/**
 * Confluent REST v3 consumer-group admin: groups, members, assignments and lag, from the group
 * coordinator's description and committed offsets; plus Samsa's offset reset and group deletion
 * (Kafka's `kafka-consumer-groups --reset-offsets` and DeleteGroups), both only for groups
 * without members.
 */
import type { Broker } from '../broker/broker.js';
import { splitTpKey, type TopicPartition, tpKey } from '../broker/topic-partition.js';
import {
  UnknownConsumerAssignmentError,
  UnknownConsumerError,
  UnknownConsumerLagError,
  UnprocessableEntityError,
} from '../errors.js';
import type { GroupState } from '../groups/consumer-group.js';
import type { GroupCoordinator, GroupDescription } from '../groups/group-coordinator.js';
import type { components } from './api-types.js';
import type { HandlerTable } from './openapi.js';
import { parseTimestamp } from './v2-consumers.js';
import { type ClusterUrls, clusterUrls, collection, type Step } from './v3-resource.js';

type ConsumerGroupData = components['schemas']['ConsumerGroupData'];
type ConsumerData = components['schemas']['ConsumerData'];
type ConsumerLagData = components['schemas']['ConsumerLagData'];
type ConsumerAssignmentData = components['schemas']['ConsumerAssignmentData'];
type OffsetsResetRequest = components['schemas']['ConsumerGroupOffsetsResetRequest'];

const STATE: Readonly<Record<GroupState, ConsumerGroupData['state']>> = {
  Empty: 'EMPTY',
  PreparingRebalance: 'PREPARING_REBALANCE',
  CompletingRebalance: 'COMPLETING_REBALANCE',
  Stable: 'STABLE',
  Dead: 'DEAD',
};

type V3GroupOperation =
  | 'listKafkaConsumerGroups'
  | 'getKafkaConsumerGroup'
  | 'deleteKafkaConsumerGroup'
  | 'listKafkaConsumers'
  | 'getKafkaConsumer'
  | 'listKafkaConsumerAssignments'
  | 'getKafkaConsumerAssignment'
  | 'listKafkaConsumerLags'
  | 'getKafkaConsumerLag'
  | 'getKafkaConsumerGroupLagSummary'
  | 'resetKafkaConsumerGroupOffsets';

export function v3ConsumerGroupHandlers(
  broker: Broker,
  coordinator: GroupCoordinator,
): Pick<HandlerTable, V3GroupOperation> {
  return {
    listKafkaConsumerGroups: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const groups = coordinator
        .listGroups()
        .filter((g) => http.access.may('DESCRIBE', 'GROUP', g))
        .map((g) => groupData(broker, urls, coordinator.describeGroup(g)));
      return collection('KafkaConsumerGroupList', urls.url([], 'consumer-groups'), groups);
    },

    getKafkaConsumerGroup: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      return groupData(broker, urls, coordinator.describeGroup(params.consumer_group_id));
    },

    deleteKafkaConsumerGroup: ({ params }, http) => {
      clusterUrls(broker, params.cluster_id, http.baseUrl);
      coordinator.deleteGroup(params.consumer_group_id);
    },

    listKafkaConsumers: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      return collection(
        'KafkaConsumerList',
        urls.url(groupSteps(group.groupId), 'consumers'),
        group.members.map((m) => consumerData(urls, group.groupId, m)),
      );
    },

    getKafkaConsumer: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      return consumerData(urls, group.groupId, memberOf(group, params.consumer_id));
    },

    listKafkaConsumerAssignments: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      const member = memberOf(group, params.consumer_id);
      const steps = consumerSteps(group.groupId, member.memberId);
      return collection(
        'KafkaConsumerAssignmentList',
        urls.url(steps, 'assignments'),
        sortPartitions(member.assignment).map((tp) => assignmentData(urls, group.groupId, member.memberId, tp)),
      );
    },

    getKafkaConsumerAssignment: ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      const member = memberOf(group, params.consumer_id);
      const tp = member.assignment.find((a) => a.topic === params.topic_name && a.partition === params.partition_id);
      if (!tp) {
        throw new UnknownConsumerAssignmentError(
          group.groupId,
          member.memberId,
          params.topic_name,
          params.partition_id,
        );
      }
      return assignmentData(urls, group.groupId, member.memberId, tp);
    },

    listKafkaConsumerLags: async ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      return collection(
        'KafkaConsumerLagList',
        urls.url(groupSteps(group.groupId), 'lags'),
        await lags(broker, coordinator, urls, group),
      );
    },

    getKafkaConsumerLag: async ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      const lag = (await lags(broker, coordinator, urls, group)).find(
        (l) => l.topic_name === params.topic_name && l.partition_id === params.partition_id,
      );
      if (!lag) throw new UnknownConsumerLagError(group.groupId, params.topic_name, params.partition_id);
      return lag;
    },

    getKafkaConsumerGroupLagSummary: async ({ params }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const group = coordinator.describeGroup(params.consumer_group_id);
      const all = await lags(broker, coordinator, urls, group);
      let max: ConsumerLagData | undefined;
      let total = 0;
      for (const l of all) {
        total += l.lag;
        if (max === undefined || l.lag > max.lag) max = l;
      }
      const steps = groupSteps(group.groupId);
      return {
        kind: 'KafkaConsumerGroupLagSummary' as const,
        metadata: { self: urls.url(steps, 'lag-summary'), resource_name: urls.resourceName(steps) },
        cluster_id: urls.clusterId,
        consumer_group_id: group.groupId,
        max_lag_consumer_id: max ? max.consumer_id : null,
        max_lag_instance_id: null,
        max_lag_client_id: max ? max.client_id : null,
        max_lag_topic_name: max ? max.topic_name : null,
        max_lag_partition_id: max ? max.partition_id : null,
        max_lag: max?.lag ?? 0,
        total_lag: total,
        ...(max?.consumer_id ? { max_lag_consumer: urls.link(consumerSteps(group.groupId, max.consumer_id)) } : {}),
        ...(max
          ? {
              max_lag_partition: urls.link([
                ['topics', max.topic_name],
                ['partitions', max.partition_id],
              ]),
            }
          : {}),
      };
    },

    resetKafkaConsumerGroupOffsets: async ({ params, body }, http) => {
      const urls = clusterUrls(broker, params.cluster_id, http.baseUrl);
      const groupId = params.consumer_group_id;
      const offsets = await targetOffsets(broker, coordinator, groupId, body);
      // Kafka's OffsetCommit: READ on each topic committed, besides READ on the group (the table's).
      for (const topic of new Set(offsets.map((o) => o.topic))) http.access.require('READ', 'TOPIC', topic);
      coordinator.resetOffsets(groupId, offsets);
      return {
        kind: 'KafkaConsumerGroupOffsetsReset' as const,
        cluster_id: urls.clusterId,
        consumer_group_id: groupId,
        offsets: offsets.map((o) => ({ topic_name: o.topic, partition_id: o.partition, offset: o.offset })),
      };
    },
  };
}

function groupSteps(groupId: string): Step[] {
  return [['consumer-groups', groupId]];
}

function consumerSteps(groupId: string, consumerId: string): Step[] {
  return [...groupSteps(groupId), ['consumers', consumerId]];
}

type MemberDescription = GroupDescription['members'][number];

function memberOf(group: GroupDescription, consumerId: string): MemberDescription {
  const member = group.members.find((m) => m.memberId === consumerId);
  if (!member) throw new UnknownConsumerError(group.groupId, consumerId);
  return member;
}

function sortPartitions<T extends TopicPartition>(tps: readonly T[]): T[] {
  return [...tps].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
}

function groupData(broker: Broker, urls: ClusterUrls, group: GroupDescription): ConsumerGroupData {
  const steps = groupSteps(group.groupId);
  return {
    kind: 'KafkaConsumerGroup',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    consumer_group_id: group.groupId,
    is_simple: group.isSimple,
    partition_assignor: group.protocol ?? '',
    state: STATE[group.state],
    type: 'CLASSIC',
    is_mixed_consumer_group: false,
    // Single node: this node coordinates every group.
    coordinator: urls.link([['brokers', broker.nodeId]]),
    consumers: urls.link(steps, 'consumers'),
    lag_summary: urls.link(steps, 'lag-summary'),
  };
}

function consumerData(urls: ClusterUrls, groupId: string, member: MemberDescription): ConsumerData {
  const steps = consumerSteps(groupId, member.memberId);
  return {
    kind: 'KafkaConsumer',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    consumer_group_id: groupId,
    consumer_id: member.memberId,
    // Kafka's static membership (group.instance.id); REST consumer instances are dynamic members.
    instance_id: null,
    client_id: member.clientId,
    assignments: urls.link(steps, 'assignments'),
  };
}

function assignmentData(
  urls: ClusterUrls,
  groupId: string,
  consumerId: string,
  tp: TopicPartition,
): ConsumerAssignmentData {
  const partitionSteps: Step[] = [
    ['topics', tp.topic],
    ['partitions', tp.partition],
  ];
  const steps: Step[] = [
    ...consumerSteps(groupId, consumerId),
    ['assignments', tp.topic],
    ['partitions', tp.partition],
  ];
  return {
    kind: 'KafkaConsumerAssignment',
    metadata: urls.metadata(steps),
    cluster_id: urls.clusterId,
    consumer_group_id: groupId,
    consumer_id: consumerId,
    topic_name: tp.topic,
    partition_id: tp.partition,
    partition: urls.link(partitionSteps),
    lag: urls.link([...groupSteps(groupId), ['lags', tp.topic], ['partitions', tp.partition]]),
  };
}

/**
 * One entry per partition with a committed offset (as Confluent, from ListConsumerGroupOffsets),
 * sorted by topic and partition; lag = high watermark − committed offset. Partitions of deleted
 * topics are left out.
 */
async function lags(
  broker: Broker,
  coordinator: GroupCoordinator,
  urls: ClusterUrls,
  group: GroupDescription,
): Promise<ConsumerLagData[]> {
  const owner = new Map<string, MemberDescription>();
  for (const m of group.members) for (const tp of m.assignment) owner.set(tpKey(tp.topic, tp.partition), m);
  const out: ConsumerLagData[] = [];
  const committed = sortPartitions(
    [...coordinator.committed(group.groupId)].map(([k, c]) => ({ ...splitTpKey(k), offset: c.offset })),
  );
  // All at once: partitions with no replica on this node ask their leaders.
  const ends = await Promise.all(
    committed.map((c) =>
      broker.loadReadableOffsets(c.topic, c.partition).then(
        (o) => o.highWatermark,
        () => null, // the topic or partition is gone, or its leader is away
      ),
    ),
  );
  for (const [i, c] of committed.entries()) {
    const logEndOffset = ends[i];
    if (logEndOffset === null || logEndOffset === undefined) continue;
    const member = owner.get(tpKey(c.topic, c.partition));
    const steps: Step[] = [...groupSteps(group.groupId), ['lags', c.topic], ['partitions', c.partition]];
    out.push({
      kind: 'KafkaConsumerLag',
      metadata: urls.metadata(steps),
      cluster_id: urls.clusterId,
      consumer_group_id: group.groupId,
      topic_name: c.topic,
      partition_id: c.partition,
      current_offset: c.offset,
      log_end_offset: logEndOffset,
      lag: Math.max(0, logEndOffset - c.offset),
      consumer_id: member?.memberId ?? '',
      instance_id: null,
      client_id: member?.clientId ?? '',
    });
  }
  return out;
}

/**
 * The offsets a reset commits, as `kafka-consumer-groups --reset-offsets` computes them: each is
 * clamped to [log start offset, high watermark] so the group never points outside its log.
 */
async function targetOffsets(
  broker: Broker,
  coordinator: GroupCoordinator,
  groupId: string,
  body: OffsetsResetRequest,
): Promise<{ topic: string; partition: number; offset: number }[]> {
  if (body.to === 'offsets') {
    if (!body.offsets) throw new UnprocessableEntityError('offsets is required when to is offsets');
    return Promise.all(
      body.offsets.map(async (o) => {
        const { logStartOffset, highWatermark } = await broker.loadReadableOffsets(o.topic_name, o.partition_id);
        return {
          topic: o.topic_name,
          partition: o.partition_id,
          offset: Math.min(Math.max(o.offset, logStartOffset), highWatermark),
        };
      }),
    );
  }
  let timestamp: number | undefined;
  if (body.to === 'timestamp') {
    if (body.timestamp === undefined) throw new UnprocessableEntityError('timestamp is required when to is timestamp');
    timestamp = parseTimestamp(body.timestamp, 'timestamp');
  }
  let partitions: TopicPartition[];
  if (body.topics) {
    partitions = [];
    for (const topic of new Set(body.topics)) {
      for (const p of broker.describeTopic(topic).partitions) partitions.push({ topic, partition: p.partition });
    }
  } else {
    partitions = sortPartitions([...coordinator.committed(groupId).keys()].map(splitTpKey));
    if (partitions.length === 0) {
      throw new UnprocessableEntityError(
        `Consumer group ${groupId} has no committed offsets; name the topics to reset in topics.`,
      );
    }
  }
  return Promise.all(
    partitions.map(async ({ topic, partition }) => {
      const { logStartOffset, highWatermark } = await broker.loadReadableOffsets(topic, partition);
      let offset = body.to === 'earliest' ? logStartOffset : highWatermark;
      if (timestamp !== undefined)
        offset = (await broker.findOffsetForTimestamp(topic, partition, timestamp))?.offset ?? highWatermark;
      return { topic, partition, offset };
    }),
  );
}
