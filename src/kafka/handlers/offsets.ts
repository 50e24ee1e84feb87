/**
 * OffsetCommit (api key 8) and OffsetFetch (api key 9) through the group coordinator, the same
 * committed offsets the HTTP consumers and the v3 lag routes read. A member's commit is checked
 * against the real group: its member id (UNKNOWN_MEMBER_ID), generation (ILLEGAL_GENERATION),
 * instance id (FENCED_INSTANCE_ID) and the rebalance in progress (REBALANCE_IN_PROGRESS). A commit
 * with an empty member id and generation -1 is a standalone consumer's (Kafka's "simple consumer"
 * commit), refused with NON_EMPTY_GROUP while the group has members. A commit is answered once it
 * is on the in-sync replicas of its offsets partition (Kafka writes commits with acks=all).
 */
import { splitTpKey } from '../../broker/broker.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import type { RequestContext } from '../kafka-listener.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import {
  type Authorized,
  authorizedFor,
  demand,
  errorCodeOf,
  int64ToNumber,
  type KafkaApi,
  type KafkaApiContext,
} from './kafka-api.js';

/** v8+ is flexible; librdkafka 2.0 uses ≤7, kafka-python 2.0 v2. */
const COMMIT_VERSIONS = { min: 0, max: 8 };
/** v6+ is flexible, v8 asks for several groups at once. librdkafka 2.0 uses ≤7, kafka-python 2.0 v1. */
const FETCH_VERSIONS = { min: 0, max: 8 };
/** Groups one OffsetFetch v8 may ask about. */
const MAX_GROUPS_PER_FETCH = 1000;
const INVALID_REQUEST = KAFKA_ERRORS.INVALID_REQUEST.code;
/** Kafka's offset.metadata.max.bytes. */
const MAX_METADATA_BYTES = 4096;
/** Kafka's offsets.commit.timeout.ms is 5 s too. */
const COMMIT_TIMEOUT_MS = 5_000;

interface CommitTopic {
  name: string;
  partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }>;
}

export function offsetCommitApi(ctx: KafkaApiContext): KafkaApi {
  const { broker, coordinator, logger } = ctx;

  /** The error of one partition before anything is committed, or 0. */
  function check(topic: string, partition: number, metadata: string | null, authorized: Authorized): number {
    // Kafka: TOPIC READ per topic, after GROUP READ (the whole request's).
    if (!authorized('READ', 'TOPIC', topic)) return KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code;
    if (!broker.hasTopic(topic)) return KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code;
    if (partition < 0 || partition >= broker.describeTopic(topic).partitions.length)
      return KAFKA_ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code;
    if (metadata !== null && Buffer.byteLength(metadata) > MAX_METADATA_BYTES)
      return KAFKA_ERRORS.OFFSET_METADATA_TOO_LARGE.code;
    return 0;
  }

  return {
    apiKey: API_KEYS.OffsetCommit,
    versions: COMMIT_VERSIONS,
    handle: async (_header, request, context) => {
      const groupId = request.groupId as string;
      const memberId = request.memberId as string;
      const topics = request.topics as CommitTopic[];
      const authorized = authorizedFor(ctx, context);
      const groupDenied = !authorized('READ', 'GROUP', groupId);
      const answers = topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: groupDenied
            ? KAFKA_ERRORS.GROUP_AUTHORIZATION_FAILED.code
            : check(t.name, p.partitionIndex, p.committedMetadata, authorized),
        })),
      }));
      if (groupDenied) return { throttleTimeMs: 0, topics: answers };
      const entries = topics.flatMap((t, i) =>
        t.partitions
          .filter((_, j) => answers[i]?.partitions[j]?.errorCode === 0)
          .map((p) => ({
            topic: t.name,
            partition: p.partitionIndex,
            offset: int64ToNumber(p.committedOffset),
            metadata: p.committedMetadata ?? '',
          })),
      );
      let errorCode = 0;
      try {
        const member =
          memberId === ''
            ? null
            : {
                memberId,
                generation: request.generationIdOrMemberEpoch as number,
                groupInstanceId: request.groupInstanceId as string | null,
              };
        coordinator.commitOffsets(groupId, member, entries);
        await coordinator.waitForCommits(groupId, COMMIT_TIMEOUT_MS);
      } catch (err) {
        errorCode = errorCodeOf(err, logger, 'OffsetCommit');
      }
      if (errorCode !== 0)
        for (const t of answers) for (const p of t.partitions) if (p.errorCode === 0) p.errorCode = errorCode;
      return { throttleTimeMs: 0, topics: answers };
    },
  };
}

type AskedTopics = Array<{ name: string; partitionIndexes: number[] }> | null;

export function offsetFetchApi(ctx: KafkaApiContext): KafkaApi {
  const { coordinator, logger } = ctx;

  /** One group's committed offsets: those asked for, or (null) every partition it has committed. */
  function offsetsOf(
    groupId: string,
    asked: AskedTopics,
    authorized: Authorized,
    context: RequestContext,
  ): Array<{ name: string; partitions: Message[] }> {
    // Kafka: GROUP DESCRIBE, then TOPIC DESCRIBE per topic (29 for one asked for; left out of "all").
    demand(authorized, context, 'DESCRIBE', 'GROUP', groupId);
    if (asked !== null) {
      return asked.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) =>
          authorized('DESCRIBE', 'TOPIC', t.name)
            ? fetched(p, coordinator.committedOffset(groupId, t.name, p))
            : { ...fetched(p, undefined), errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code },
        ),
      }));
    }
    const byTopic = new Map<string, Message[]>();
    for (const [tp, committed] of coordinator.committed(groupId)) {
      const { topic, partition } = splitTpKey(tp);
      if (!authorized('DESCRIBE', 'TOPIC', topic)) continue;
      const list = byTopic.get(topic) ?? [];
      list.push(fetched(partition, committed));
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([name, partitions]) => ({ name, partitions }));
  }

  return {
    apiKey: API_KEYS.OffsetFetch,
    versions: FETCH_VERSIONS,
    handle: async (header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      if (header.requestApiVersion >= 8) {
        const asked = request.groups as Array<{ groupId: string; topics: AskedTopics }>;
        const groups = asked.map((g, i) => {
          if (i >= MAX_GROUPS_PER_FETCH) return { groupId: g.groupId, topics: [], errorCode: INVALID_REQUEST };
          try {
            return { groupId: g.groupId, topics: offsetsOf(g.groupId, g.topics, authorized, context), errorCode: 0 };
          } catch (err) {
            return { groupId: g.groupId, topics: [], errorCode: errorCodeOf(err, logger, 'OffsetFetch') };
          }
        });
        return { throttleTimeMs: 0, groups };
      }
      const asked = request.topics as AskedTopics;
      try {
        return {
          throttleTimeMs: 0,
          errorCode: 0,
          topics: offsetsOf(request.groupId as string, asked, authorized, context),
        };
      } catch (err) {
        const errorCode = errorCodeOf(err, logger, 'OffsetFetch');
        // v0–1 have no top-level error code: it goes on every partition asked for.
        const topics = (asked ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({ ...fetched(p, undefined), errorCode })),
        }));
        return { throttleTimeMs: 0, errorCode, topics };
      }
    },
  };
}

function fetched(
  partitionIndex: number,
  committed: { offset: number; metadata: string; leaderEpoch: number } | undefined,
): Message {
  return {
    partitionIndex,
    committedOffset: committed?.offset ?? -1,
    committedLeaderEpoch: committed?.leaderEpoch ?? -1,
    metadata: committed?.metadata ?? '',
    errorCode: 0,
  };
}
