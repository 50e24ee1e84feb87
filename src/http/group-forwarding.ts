/**
 * Cluster mode: every call about a consumer group is served by the group's coordinator (the node
 * leading the group's `__consumer_offsets` partition), where the group and its REST consumer
 * instances live. Any other node passes such a request on, as it came and streamed both ways
 * (a records poll, an SSE stream), so a client may talk to any node, behind any load balancer:
 *
 * - `/consumers/{group}` and everything under it (v2 consumer instances);
 * - `/v3/clusters/{cluster}/consumer-groups/{group}` and everything under it;
 * - `/topics/{topic}/stream?group=...` (an SSE stream of a group).
 *
 * The v3 list of consumer groups is every coordinator's: asked of every live node, merged.
 *
 * A passed-on request carries the cluster secret and this node's id; the coordinator serves it
 * itself whatever its own view says (no loops: a node that is no longer coordinator answers
 * NOT_COORDINATOR, and the client retries). When the coordinator does not answer (its node was
 * killed and its lease has not expired yet), an instance call answers 40403 at once, as for an
 * instance that is gone, and any other call 503.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Agent, request } from 'undici';
import type { Broker } from '../broker/broker.js';
import { ConsumerInstanceNotFoundError, ServiceUnavailableError } from '../errors.js';
import type { GroupCoordinator } from '../groups/group-coordinator.js';
import { KAFKA_ERRORS } from '../kafka-errors.js';
import { CLUSTER_SECRET_HEADER } from '../replication/internal-protocol.js';
import { type PeerTlsSource, peerConnector } from '../replication/peer-connector.js';
import { parsePrincipal, principalText } from '../security/principal.js';
import { principalOf, setPrincipal } from './exchange-locals.js';
import { secretMatches } from './internal-routes.js';

/** Names the node that passed a request on; with the cluster secret, the receiver serves it itself. */
export const FORWARDED_BY_HEADER = 'x-samsa-forwarded-by';
/**
 * The principal the passing node established for the client (a client certificate the coordinator
 * never sees: it sees the node's own); trusted only with the cluster secret.
 */
export const FORWARDED_PRINCIPAL_HEADER = 'x-samsa-forwarded-principal';

export interface GroupForwardingOptions {
  clusterSecret: string;
  /** Connection set-up to the coordinator; a killed node refuses at once on most networks. */
  connectTimeoutMs?: number;
  /** Longest wait for the coordinator's answer to start (a records poll waits up to 300 s). */
  headersTimeoutMs?: number;
  /** Longest silence within an answer (an SSE stream sends a keep-alive far more often). */
  bodyTimeoutMs?: number;
  /** Connections kept to each coordinator. */
  connectionsPerNode?: number;
  /** Coordinators at https:// URLs: the CA they are verified against and the certificate shown to them. */
  peerTls?: PeerTlsSource;
}

const V2_CONSUMERS = /^\/consumers\/([^/]+)(\/instances\/([^/]+))?(?:\/|$)/;
const V3_GROUPS = /^\/v3\/clusters\/[^/]+\/consumer-groups\/([^/]+)(?:\/|$)/;
const STREAM = /^\/topics\/[^/]+\/stream\/?$/;
const V3_GROUP_LIST = /^\/v3\/clusters\/[^/]+\/consumer-groups\/?$/;
/** How often a passed-on call checks that its coordinator still is the group's. */
const COORDINATOR_CHECK_MS = 500;
/** Longest wait for one node's part of the group list. */
const LIST_TIMEOUT_MS = 5_000;

/** Headers of one hop only (RFC 9110 §7.6.1), never passed on. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

interface Target {
  group: string;
  /** Set for a v2 instance call: an unreachable coordinator means the instance is gone. */
  instance: string | null;
}

function decoded(segment: string | undefined): string | null {
  if (segment === undefined) return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Which group a request is about, if it is one the coordinator must serve. */
function targetOf(req: Request): Target | null {
  const path = req.path;
  const v2 = V2_CONSUMERS.exec(path);
  if (v2) {
    const group = decoded(v2[1]);
    return group === null ? null : { group, instance: decoded(v2[3]) };
  }
  const v3 = V3_GROUPS.exec(path);
  if (v3) {
    const group = decoded(v3[1]);
    return group === null ? null : { group, instance: null };
  }
  if (STREAM.test(path) && typeof req.query.group === 'string' && req.query.group !== '')
    return { group: req.query.group, instance: null };
  return null;
}

function outgoingHeaders(
  req: Request,
  res: Response,
  localId: number,
  secret: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers as IncomingHttpHeaders)) {
    if (
      value === undefined ||
      HOP_BY_HOP.has(name) ||
      name === CLUSTER_SECRET_HEADER ||
      name === FORWARDED_BY_HEADER ||
      name === FORWARDED_PRINCIPAL_HEADER
    )
      continue;
    out[name] = value;
  }
  // Links in the answer (base_uri, v3 self) name the node the client addressed, not the coordinator.
  if (out['x-forwarded-host'] === undefined && req.headers.host) out['x-forwarded-host'] = req.headers.host;
  if (out['x-forwarded-proto'] === undefined) out['x-forwarded-proto'] = req.protocol;
  out[CLUSTER_SECRET_HEADER] = secret;
  out[FORWARDED_BY_HEADER] = String(localId);
  out[FORWARDED_PRINCIPAL_HEADER] = principalText(principalOf(res));
  return out;
}

export function groupForwarding(
  broker: Broker,
  coordinator: GroupCoordinator,
  opts: GroupForwardingOptions,
): RequestHandler {
  const agent = new Agent({
    connect: peerConnector(opts.peerTls, opts.connectTimeoutMs ?? 2_000),
    headersTimeout: opts.headersTimeoutMs ?? 330_000,
    bodyTimeout: opts.bodyTimeoutMs ?? 300_000,
    connections: opts.connectionsPerNode ?? 64,
  });

  /**
   * Each live node's own groups (this one's too, asked the same way), merged by name. A node that
   * does not answer adds none: its groups wait for their new coordinator anyway.
   */
  const listEverywhere = async (req: Request, res: Response): Promise<void> => {
    const headers = outgoingHeaders(req, res, broker.nodeId, opts.clusterSecret);
    const answers = await Promise.all(
      broker.clusterNodes().map(async (n) => {
        try {
          const answer = await request(`${n.advertisedUrl.replace(/\/+$/, '')}${req.originalUrl}`, {
            headers,
            dispatcher: agent,
            signal: AbortSignal.timeout(LIST_TIMEOUT_MS),
          });
          const text = await answer.body.text();
          return { nodeId: n.nodeId, status: answer.statusCode, text };
        } catch {
          return null;
        }
      }),
    );
    const own = answers.find((a) => a?.nodeId === broker.nodeId);
    // This node's own answer is the envelope (and the error, say for an unknown cluster id).
    if (!own) throw new ServiceUnavailableError('This node did not answer its own part of the group list; retry.');
    if (own.status !== 200) {
      res.status(own.status).type('application/json').send(own.text);
      return;
    }
    const list = JSON.parse(own.text) as { data: { consumer_group_id: string }[] };
    const byId = new Map<string, { consumer_group_id: string }>();
    for (const a of answers) {
      if (a?.status !== 200) continue;
      let part: typeof list;
      try {
        part = a.nodeId === broker.nodeId ? list : (JSON.parse(a.text) as typeof list);
      } catch {
        continue; // not a group list: that node adds none
      }
      for (const g of part.data ?? []) if (!byId.has(g.consumer_group_id)) byId.set(g.consumer_group_id, g);
    }
    list.data = [...byId.values()].sort((a, b) => (a.consumer_group_id < b.consumer_group_id ? -1 : 1));
    res.status(200).json(list);
  };

  return (req: Request, res: Response, next: NextFunction) => {
    const forwardedBy = req.headers[FORWARDED_BY_HEADER];
    const secret = req.headers[CLUSTER_SECRET_HEADER];
    if (forwardedBy !== undefined && typeof secret === 'string' && secretMatches(secret, opts.clusterSecret)) {
      const forwarded = req.headers[FORWARDED_PRINCIPAL_HEADER];
      const principal = typeof forwarded === 'string' ? parsePrincipal(forwarded) : undefined;
      if (principal !== undefined) setPrincipal(res, principal);
      return next();
    }
    if (req.method === 'GET' && V3_GROUP_LIST.test(req.path)) {
      listEverywhere(req, res).catch(next);
      return;
    }
    const target = targetOf(req);
    if (target === null) return next();
    let coordinatorId: number;
    try {
      coordinatorId = coordinator.coordinatorOf(target.group);
    } catch {
      return next(); // not started yet, or a group id the routes refuse: they answer
    }
    if (coordinatorId === broker.nodeId) return next();
    const unreachable = (why: string) =>
      target.instance !== null
        ? new ConsumerInstanceNotFoundError(target.group, target.instance)
        : new ServiceUnavailableError(
            `The coordinator of group ${target.group} (node ${coordinatorId}) ${why}; retry.`,
            KAFKA_ERRORS.COORDINATOR_NOT_AVAILABLE,
          );
    const url = broker.clusterNodes().find((n) => n.nodeId === coordinatorId)?.advertisedUrl;
    if (coordinatorId < 0 || !url) return next(unreachable('is not available'));

    const upstream = new AbortController();
    // A coordinator that stops answering (a paused process) loses the group to another node: the
    // call then ends at once (the client retries there) rather than when a timeout runs out.
    let moved = false;
    const watch = setInterval(() => {
      let now = -1;
      try {
        now = coordinator.coordinatorOf(target.group);
      } catch {
        // the offsets topic is gone (shutting down): leave the call to its timeouts
        return;
      }
      if (now === coordinatorId) return;
      moved = true;
      upstream.abort();
    }, COORDINATOR_CHECK_MS);
    res.on('close', () => {
      clearInterval(watch);
      if (!res.writableFinished) upstream.abort();
    });
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    request(`${url.replace(/\/+$/, '')}${req.originalUrl}`, {
      method: req.method as 'GET',
      headers: outgoingHeaders(req, res, broker.nodeId, opts.clusterSecret),
      body: hasBody ? req : undefined,
      dispatcher: agent,
      signal: upstream.signal,
    }).then(
      (answer) => {
        res.status(answer.statusCode);
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) res.setHeader(name, value);
        }
        res.flushHeaders();
        answer.body.on('error', () => res.destroy());
        answer.body.pipe(res);
      },
      (err: unknown) => {
        if (moved && !res.headersSent) return next(unreachable('is no longer its coordinator'));
        if (res.headersSent || upstream.signal.aborted) return res.destroy();
        next(unreachable(`did not answer (${(err as Error).message})`));
      },
    );
  };
}
