import { ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { Etcd3, isRecoverableError, type Namespace } from 'etcd3';

export interface EtcdClusterOptions {
  /** etcd client URLs, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** Every key of one Samsa cluster lives under `/samsa/<clusterName>/`, so clusters can share an etcd. */
  clusterName: string;
  /**
   * Bound on every etcd call (not on streams: watches and lease keep-alives); a call that takes
   * longer fails instead of hanging the node.
   */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/**
 * How long etcd3 stops calling a member after three failures in a row (its default is 5 s).
 * Shorter than the shortest lease (2 s): a member skipped for longer than a lease lives would
 * cost a node with a single etcd endpoint its registration.
 */
const MEMBER_RETRY_AFTER_MS = 1_000;

/**
 * gRPC pings on a connection with open streams, so a watch or keep-alive on a member that stopped
 * answering (paused, cut off) fails within about 15 s and reconnects. etcd refuses pings more
 * often than every 5 s (its --grpc-keepalive-min-time).
 */
const GRPC_KEEPALIVE = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 };

/**
 * An etcd client whose calls all have a deadline, and the cluster's key namespace in it.
 * Streams get no deadline: etcd3 would tear every watch and lease keep-alive down when it passed,
 * and each teardown counts as a member failure in its circuit breaker; three in a row stopped
 * all calls to the only member for 5 s, longer than a short lease survives.
 */
export function connectEtcd(opts: EtcdClusterOptions): { client: Etcd3; kv: Namespace } {
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const client = new Etcd3({
    hosts: opts.endpoints,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    grpcOptions: GRPC_KEEPALIVE,
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: MEMBER_RETRY_AFTER_MS,
          breaker: new ConsecutiveBreaker(3),
        }),
    },
  });
  return { client, kv: client.namespace(`/samsa/${opts.clusterName}/`) };
}
