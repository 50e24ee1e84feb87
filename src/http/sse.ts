/**
 * `GET /topics/{topic}/stream` (Server-Sent Events) and the `/ui/tail.html` page that uses it.
 * Everything that can fail is checked before the response is taken over, so those failures are
 * ordinary JSON errors; after that, problems travel as `event: error`.
 */
import type { IncomingMessage } from 'node:http';
import type { Response } from 'express';
import type { OffsetResetPolicy } from '../consumers/consumer-instance.js';
import { BadRequestError, UnknownPartitionError } from '../errors.js';
import type { SamsaNode } from '../samsa-node.js';
import type { ClientQuotaManager } from '../security/client-quota-manager.js';
import { principalText } from '../security/principal.js';
import { principalOf } from './exchange-locals.js';
import type { HandlerInput, HandlerTable } from './openapi.js';
import { checkResumeToken, decodeResumeToken, type StreamSelection } from './sse-resume-token.js';
import { type SseHub, SseStream } from './sse-stream.js';
import { TAIL_PAGE_HTML } from './tail-page.js';
import { parseTimestampMs } from './timestamp.js';

/** Bytes one poll may read: bounds what a single write can queue in a stream's socket. */
const STREAM_BATCH_BYTES = 256 * 1024;

function parseTimestamp(text: string): number {
  const ms = parseTimestampMs(text, 'lenient');
  if (ms === null) throw new BadRequestError(`timestamp '${text}' is neither epoch milliseconds nor an ISO-8601 time.`);
  return ms;
}

function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

export function sseHandlers(
  node: SamsaNode,
  hub: SseHub,
  quotas?: ClientQuotaManager,
): Pick<HandlerTable, 'streamTopic' | 'getTailPage'> {
  const { broker, consumers } = node;
  return {
    getTailPage: () => TAIL_PAGE_HTML,
    streamTopic: async ({ params, query: fullQuery, headers }: HandlerInput<'streamTopic'>, http) => {
      // Absent parameters mean something here (x-samsa-absent in the spec): see them as optional.
      const query: Partial<typeof fullQuery> = fullQuery;
      const topic = params.topic;
      const count = broker.describeTopic(topic).partitions.length; // unknown topic: 404 before the stream
      const group = query.group ?? null;
      const partitions =
        query.partitions === undefined
          ? Array.from({ length: count }, (_, p) => p)
          : [...new Set(query.partitions.split(',').map(Number))];
      for (const p of partitions) if (p >= count) throw new UnknownPartitionError(topic, p);
      if (query.offset !== undefined && (group !== null || partitions.length !== 1)) {
        throw new BadRequestError('offset needs exactly one partition (partitions=N) and no group.');
      }
      const timestamp = query.timestamp === undefined ? undefined : parseTimestamp(query.timestamp);
      const selection: StreamSelection = group !== null ? 'group' : query.partitions === undefined ? 'all' : 'named';
      const tokenText = headers['Last-Event-ID'] ?? query.lastEventId;
      // Checked for group streams too (another topic's token is a mistake worth saying), though a
      // group stream resumes from the group's committed offsets and seeks to none of its positions.
      const resume =
        tokenText !== undefined && tokenText !== ''
          ? checkResumeToken(decodeResumeToken(tokenText), topic, selection, partitions)
          : null;
      const from: OffsetResetPolicy = query.from === 'earliest' ? 'earliest' : 'latest';

      const { req, res } = http.takeOver();
      const principal = principalOf(res as Response);
      const release = hub.admit(clientAddress(req), principalText(principal));
      const consumer = consumers.createStreamConsumer(group, {
        autoOffsetReset: from,
        requestTimeoutMs: hub.limits.keepAliveMs,
        maxResponseBytes: STREAM_BATCH_BYTES,
      });
      try {
        if (group !== null) consumer.subscribe({ kind: 'topics', topics: [topic] });
        else {
          const tps = partitions.map((partition) => ({ topic, partition }));
          consumer.assign(tps);
          for (const tp of tps) {
            const resumeAt = resume?.get(tp.partition);
            if (resumeAt !== undefined) await consumer.seek(tp, resumeAt);
            else if (query.offset !== undefined) await consumer.seek(tp, query.offset);
            else if (timestamp !== undefined) await consumer.seekToTimestamp(tp, timestamp);
            else if (from === 'earliest') await consumer.seekToBeginning([tp]);
            else await consumer.seekToEnd([tp]);
          }
        }
      } catch (err) {
        consumer.close();
        release();
        throw err;
      }
      req.socket.setTimeout(0);
      req.socket.setNoDelay(true);
      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        // Proxies such as nginx must not buffer the stream.
        'X-Accel-Buffering': 'no',
      });
      const key = query.key === undefined ? null : Buffer.from(query.key, 'utf8');
      const format = query.format ?? 'json';
      try {
        await new SseStream(hub, broker, res, consumer, {
          topic,
          format,
          key,
          group: group !== null,
          selection,
          maxBatchBytes: STREAM_BATCH_BYTES,
          throttle:
            quotas?.limitOf(principal, 'consumer_byte_rate') === undefined
              ? undefined
              : (bytes) => quotas.recordAndGetThrottleTimeMs(principal, 'consumer_byte_rate', bytes),
        }).run();
      } finally {
        release();
      }
      return '';
    },
  };
}
