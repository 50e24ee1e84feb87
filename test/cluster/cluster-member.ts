/**
 * A cluster member in its own process, for tests that kill it with SIGKILL: it joins the node
 * registry and campaigns for controller, then reports on stdout (`joined`, `controller`) and waits.
 * Usage: tsx test/cluster/cluster-member.ts <endpoint> <clusterName> <nodeId> <ttlSeconds>
 */
import { ControllerElection } from '../../src/cluster/controller-election.js';
import { NodeRegistry } from '../../src/cluster/node-registry.js';

const [endpoint, clusterName, id, ttl] = process.argv.slice(2);
const nodeId = Number(id);
const ttlSeconds = Number(ttl);
const endpoints = [endpoint as string];
await NodeRegistry.join({
  endpoints,
  clusterName: clusterName as string,
  node: { nodeId, advertisedUrl: `http://127.0.0.1:${9000 + nodeId}` },
  leaseTtlSeconds: ttlSeconds,
});
process.stdout.write('joined\n');
ControllerElection.start({ endpoints, clusterName: clusterName as string, nodeId, ttlSeconds }, (isController) => {
  if (isController) process.stdout.write('controller\n');
});
setInterval(() => {}, 1 << 30);
