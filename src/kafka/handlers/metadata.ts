/**
 * Metadata (api key 3): the brokers Kafka clients connect to (every live node with its Kafka
 * listener, see kafkaBrokers), the controller and, per topic, its partitions with leader, leader
 * epoch, replicas and ISR as the cluster has them; clients send each partition's requests to its
 * leader. A topic the client names that does not exist is created
 * when the client allows it and `auto.create.topics.enable` is on (Kafka's rule), else answered
 * UNKNOWN_TOPIC_OR_PARTITION. v0 asks for every topic with an empty list, v1+ with null. v9+ is
 * flexible, v10+ answers each topic's id (KIP-516), v11 drops the cluster's authorized operations,
 * and v12 may name a topic by id alone (name null), answered UNKNOWN_TOPIC_ID when none has it.
 */
import { isInternalTopic } from '../../broker/broker.js';
import { TopicExistsError } from '../../errors.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import {
  type Authorized,
  authorizedFor,
  brokerTopicId,
  errorCodeOf,
  type KafkaApi,
  type KafkaApiContext,
  kafkaBrokers,
  wireTopicId,
  ZERO_UUID,
} from './kafka-api.js';

/** librdkafka 2.0 uses ≤4, kafka-python 2.0 0–1, kafkajs ≤6; the Java client 3.x up to 12. */
const VERSIONS = { min: 0, max: 12 };
/** The first version whose request may name a topic by id alone. */
const FIRST_TOPIC_ID_LOOKUP_VERSION = 12;
/** Most topics one Metadata request may name; a longer list is answered for the first ones only. */
const MAX_TOPICS_PER_REQUEST = 10_000;

export function metadataApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, logger } = ctx;

  async function topicEntry(
    name: string,
    autoCreate: boolean,
    brokers: ReadonlyMap<number, unknown>,
    authorized: Authorized,
  ): Promise<Message> {
    const live = new Set(broker.clusterNodes().map((n) => n.nodeId));
    // Kafka's order: a named topic the principal may not DESCRIBE is TOPIC_AUTHORIZATION_FAILED, existing or not.
    if (!authorized('DESCRIBE', 'TOPIC', name))
      return { errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code, name, partitions: [] };
    if (!broker.hasTopic(name)) {
      if (!autoCreate) return { errorCode: KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code, name, partitions: [] };
      // Auto-create takes CLUSTER CREATE or TOPIC CREATE (Kafka's Metadata rule).
      if (!authorized('CREATE', 'CLUSTER', CLUSTER_RESOURCE_NAME) && !authorized('CREATE', 'TOPIC', name))
        return { errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code, name, partitions: [] };
      try {
        await broker.createTopic(name);
      } catch (err) {
        if (!(err instanceof TopicExistsError)) {
          return { errorCode: errorCodeOf(err, logger, 'Metadata auto-create'), name, partitions: [] };
        }
      }
    }
    try {
      const topic = broker.describeTopic(name);
      return {
        errorCode: 0,
        name,
        topicId: wireTopicId(broker.topicIdOf(name)),
        isInternal: isInternalTopic(name),
        partitions: topic.partitions.map((p) => {
          // Kafka's rule: a leader no client can reach (gone, not re-elected yet) is no leader, and
          // the client asks again; a replica on a node that is not live is offline.
          const reachable = brokers.has(p.leader);
          return {
            errorCode: reachable ? 0 : KAFKA_ERRORS.LEADER_NOT_AVAILABLE.code,
            partitionIndex: p.partition,
            leaderId: reachable ? p.leader : -1,
            leaderEpoch: broker.leaderEpochOf(name, p.partition),
            replicaNodes: p.replicas,
            isrNodes: p.isr,
            offlineReplicas: p.replicas.filter((r) => !live.has(r)),
          };
        }),
      };
    } catch (err) {
      // Deleted between the check and the description.
      return { errorCode: errorCodeOf(err, logger, 'Metadata'), name, partitions: [] };
    }
  }

  return {
    apiKey: API_KEYS.Metadata,
    versions: VERSIONS,
    handle: async (header, request, context) => {
      const version = header.requestApiVersion;
      const asked = request.topics as Array<{ name: string | null; topicId: string }> | null;
      const all = asked === null || (version === 0 && asked.length === 0);
      const topics: Message[] = [];
      const names: string[] = [];
      const authorized = authorizedFor(ctx, context);
      // All topics: those the principal may not DESCRIBE are left out, not reported.
      if (all) names.push(...broker.listTopics().filter((t) => authorized('DESCRIBE', 'TOPIC', t)));
      else {
        const listed = asked.slice(0, MAX_TOPICS_PER_REQUEST);
        names.push(...listed.flatMap((t) => (t.name === null ? [] : [t.name])));
        const byId =
          version >= FIRST_TOPIC_ID_LOOKUP_VERSION
            ? listed.filter((t) => t.name === null && t.topicId !== ZERO_UUID).map((t) => t.topicId)
            : [];
        broker.topicNamesOf(byId.map(brokerTopicId)).forEach((name, i) => {
          if (name !== null) names.push(name);
          else
            topics.push({
              errorCode: KAFKA_ERRORS.UNKNOWN_TOPIC_ID.code,
              name: null,
              topicId: byId[i],
              partitions: [],
            });
        });
      }
      const autoCreate = !all && request.allowAutoTopicCreation === true && broker.autoCreateTopics;
      const brokers = kafkaBrokers(ctx, context);
      for (const name of [...new Set(names)]) topics.push(await topicEntry(name, autoCreate, brokers, authorized));
      return {
        throttleTimeMs: 0,
        brokers: [...brokers.values()],
        clusterId: broker.clusterId,
        controllerId: broker.controllerId,
        topics,
        clusterAuthorizedOperations: -2147483648,
      };
    },
  };
}
