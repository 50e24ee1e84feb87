/**
 * Where a new topic's replicas go, as Kafka places them (AdminUtils / ReplicaPlacer): partition
 * p's first replica (its preferred leader) is node (p + start) mod n, so leaders spread evenly; the
 * other replicas follow at a shift that grows by one every n partitions, so the followers of one
 * node's partitions do not all sit on the same next node. With racks, nodes are first interleaved
 * rack by rack, and a follower skips a node whose rack (or which itself) already holds a replica of
 * that partition, unless every rack (or node) already does.
 */

export interface PlacementNode {
  nodeId: number;
  rack?: string;
}

export interface PlacementOptions {
  partitions: number;
  replicationFactor: number;
  /** Partition id of the first partition placed (CreatePartitions places new ones after the old). */
  firstPartition?: number;
  /**
   * Kafka starts at a random node so that many small topics do not all lead on the first one; tests
   * and reproducible layouts fix it (it then also fixes the initial follower shift, as in Kafka).
   */
  startIndex?: number;
}

/** Thrown when the request cannot be placed; the caller maps it to INVALID_REPLICATION_FACTOR. */
export class ReplicaPlacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaPlacementError';
  }
}

/** Replica lists, index = partition id - firstPartition; the first entry of each is its preferred leader. */
export function placeReplicas(nodes: readonly PlacementNode[], opts: PlacementOptions): number[][] {
  const { partitions, replicationFactor } = opts;
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new ReplicaPlacementError(`Replication factor must be at least 1, got ${replicationFactor}.`);
  }
  if (replicationFactor > nodes.length) {
    throw new ReplicaPlacementError(
      `Replication factor: ${replicationFactor} larger than available brokers: ${nodes.length}.`,
    );
  }
  const racked = nodes.filter((n) => n.rack !== undefined).length;
  if (racked !== 0 && racked !== nodes.length) {
    throw new ReplicaPlacementError('Either every node has a rack or none has: racks are missing for some nodes.');
  }
  const start = opts.startIndex ?? Math.floor(Math.random() * nodes.length);
  const shift = opts.startIndex ?? Math.floor(Math.random() * nodes.length);
  const first = Math.max(0, opts.firstPartition ?? 0);
  return racked === 0
    ? placeRackUnaware(
        [...nodes].map((n) => n.nodeId).sort((a, b) => a - b),
        partitions,
        replicationFactor,
        first,
        start,
        shift,
      )
    : placeRackAware(nodes, partitions, replicationFactor, first, start, shift);
}

/** The j-th follower's index: never the first replica's own index, shifted by `shift`. */
function followerIndex(firstIndex: number, shift: number, j: number, n: number): number {
  return (firstIndex + 1 + ((shift + j) % (n - 1))) % n;
}

function placeRackUnaware(
  ids: readonly number[],
  partitions: number,
  replicationFactor: number,
  firstPartition: number,
  start: number,
  initialShift: number,
): number[][] {
  const n = ids.length;
  const out: number[][] = [];
  for (let i = 0, p = firstPartition; i < partitions; i++, p++) {
    // Kafka bumps the shift each time the partitions wrap around the nodes; computing it from p
    // gives the same layout and lets partitions added later continue it.
    const shift = initialShift + Math.floor(p / n);
    const firstIndex = (p + start) % n;
    const replicas = [ids[firstIndex] as number];
    for (let j = 0; j < replicationFactor - 1; j++)
      replicas.push(ids[followerIndex(firstIndex, shift, j, n)] as number);
    out.push(replicas);
  }
  return out;
}

/** Nodes interleaved rack by rack (racks and nodes in sorted order): a0, b0, c0, a1, b1, ... */
function rackAlternated(nodes: readonly PlacementNode[]): PlacementNode[] {
  const byRack = new Map<string, PlacementNode[]>();
  for (const node of [...nodes].sort((a, b) => a.nodeId - b.nodeId)) {
    const rack = node.rack as string;
    let list = byRack.get(rack);
    if (!list) {
      list = [];
      byRack.set(rack, list);
    }
    list.push(node);
  }
  const racks = [...byRack.keys()].sort();
  const out: PlacementNode[] = [];
  for (let round = 0; out.length < nodes.length; round++) {
    for (const rack of racks) {
      const node = byRack.get(rack)?.[round];
      if (node) out.push(node);
    }
  }
  return out;
}

function placeRackAware(
  nodes: readonly PlacementNode[],
  partitions: number,
  replicationFactor: number,
  firstPartition: number,
  start: number,
  initialShift: number,
): number[][] {
  const arranged = rackAlternated(nodes);
  const n = arranged.length;
  const rackCount = new Set(arranged.map((a) => a.rack)).size;
  const out: number[][] = [];
  for (let i = 0, p = firstPartition; i < partitions; i++, p++) {
    // Kafka bumps the shift each time the partitions wrap around the nodes; computing it from p
    // gives the same layout and lets partitions added later continue it.
    const shift = initialShift + Math.floor(p / n);
    const firstIndex = (p + start) % n;
    const leader = arranged[firstIndex] as PlacementNode;
    const replicas = [leader.nodeId];
    const racksUsed = new Set([leader.rack]);
    const nodesUsed = new Set([leader.nodeId]);
    let k = 0;
    for (let j = 0; j < replicationFactor - 1; j++) {
      // Terminates: once every rack is used any unused node qualifies, and rf <= n leaves one.
      for (;;) {
        const candidate = arranged[followerIndex(firstIndex, shift * rackCount, k, n)] as PlacementNode;
        k++;
        const rackOk = !racksUsed.has(candidate.rack) || racksUsed.size === rackCount;
        const nodeOk = !nodesUsed.has(candidate.nodeId) || nodesUsed.size === n;
        if (rackOk && nodeOk) {
          replicas.push(candidate.nodeId);
          racksUsed.add(candidate.rack);
          nodesUsed.add(candidate.nodeId);
          break;
        }
      }
    }
    out.push(replicas);
  }
  return out;
}
