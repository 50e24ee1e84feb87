import { Etcd3, type Namespace } from 'etcd3';

export interface EtcdClusterOptions {
  /** etcd client URLs, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** Every key of one Samsa cluster lives under `/samsa/<clusterName>/`, so clusters can share an etcd. */
  clusterName: string;
  /** Bound on every etcd call; a call that takes longer fails instead of hanging the node. */
  requestTimeoutMs?: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

/** An etcd client whose calls all have a deadline, and the cluster's key namespace in it. */
export function connectEtcd(opts: EtcdClusterOptions): { client: Etcd3; kv: Namespace } {
  const timeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const client = new Etcd3({
    hosts: opts.endpoints,
    defaultCallOptions: () => ({ deadline: Date.now() + timeoutMs }),
  });
  return { client, kv: client.namespace(`/samsa/${opts.clusterName}/`) };
}
