// The node model every view shares: a cluster is a list of nodes, each with a name, an address,
// the role it reports and the node it streams from. The workshop's three containers are one such
// list; an attached cluster or a Patroni cluster is another, of any size. Pure, no I/O.
//
// API:
//   clusterNodes(status)               → ClusterNode[] (name, address, role, upstream), in status order
//   formatAddress(address)             → "host:port"
//   parseAddress(text, defaultPort?)   → NodeAddress (accepts "host", "host:port", "[v6]:port")
//   nodeHierarchy(nodes, remembered?)  → { roots, children }: replicas nested under their upstream
import type { NodeRole, NodeStatus } from './status';
import type { NodeKey } from './topology';

export interface NodeAddress {
  readonly host: string;
  readonly port: number;
}

export interface ClusterNode {
  /** Unique within the cluster; commands and views refer to the node by it. */
  readonly key: NodeKey;
  /** What the views show (the container for the workshop's cluster, the host or member otherwise). */
  readonly name: string;
  readonly address: NodeAddress;
  /** Derived from what the node reports (pg_is_in_recovery, its WAL receiver), never from its name. */
  readonly role: NodeRole;
  /** The node it streams WAL from, when that is a node of this cluster. */
  readonly upstream?: NodeKey;
}

export function formatAddress(a: NodeAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

/** "db1", "db1:5433", "10.0.0.5:5432", "[::1]:5432" → host and port. */
export function parseAddress(text: string, defaultPort = 5432): NodeAddress {
  const s = text.trim();
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  const plain = /^([^:\s/[\]]+)(?::(\d+))?$/.exec(s);
  const m = v6 ?? plain;
  if (!m) throw new AddressError(`"${text}" is not a host or host:port (for example db1.example.com:5432 or [::1]:5432).`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new AddressError(`"${text}": ${m[2]} is not a TCP port (1-65535).`);
  return { host: m[1], port };
}

export function clusterNodes(status: { readonly nodes: readonly NodeStatus[] }): ClusterNode[] {
  return status.nodes.map((n) => ({ key: n.key, name: n.name, address: n.address, role: n.role, upstream: n.upstream }));
}

export interface NodeHierarchy {
  /** Nodes with no known upstream in this cluster (the primary, orphans, nodes whose upstream is not ours). */
  readonly roots: readonly NodeKey[];
  /** Each node's downstream nodes, in list order. */
  readonly children: ReadonlyMap<NodeKey, readonly NodeKey[]>;
}

/**
 * Replicas nested under the node they stream from. `remembered` gives the last upstream seen for
 * a node that does not report one now (a stopped replica stays where it was instead of jumping
 * to the top). A link that would make a loop (two nodes each naming the other during a split
 * brain) is dropped at the node that closes it, so every node appears exactly once.
 */
export function nodeHierarchy(nodes: readonly Pick<ClusterNode, 'key' | 'upstream'>[], remembered?: ReadonlyMap<NodeKey, NodeKey>): NodeHierarchy {
  const keys = new Set(nodes.map((n) => n.key));
  const parent = new Map<NodeKey, NodeKey>();
  for (const n of nodes) {
    const up = n.upstream ?? remembered?.get(n.key);
    if (up !== undefined && up !== n.key && keys.has(up)) parent.set(n.key, up);
  }
  // Break loops: walk up from each node; a node met twice closes a loop, cut its link.
  for (const n of nodes) {
    const seen = new Set<NodeKey>([n.key]);
    let k = parent.get(n.key);
    while (k !== undefined) {
      if (seen.has(k)) {
        parent.delete(n.key);
        break;
      }
      seen.add(k);
      k = parent.get(k);
    }
  }
  const children = new Map<NodeKey, NodeKey[]>();
  const roots: NodeKey[] = [];
  for (const n of nodes) {
    const up = parent.get(n.key);
    if (up === undefined) roots.push(n.key);
    else children.set(up, [...(children.get(up) ?? []), n.key]);
  }
  return { roots, children };
}
