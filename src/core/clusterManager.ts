// Who manages the cluster: one interface, one implementation per kind of cluster. Views and
// commands ask the manager what is possible on a node (and on the cluster) instead of knowing the
// backend: the workshop's Compose cluster can stop, kill and promote its containers; an attached
// cluster is only watched unless its profile says it is a lab. Monitoring (SQL probes) is shared.
//
// API (no vscode):
//   composeManager                        the workshop's Docker Compose cluster (everything)
//   attachedManager({ lab, patroni })     a cluster this machine only connects to (read-only unless lab
//                                         or Patroni-managed)
//   manager.nodeOperations(node, lastRole) operations possible on that node now
//   manager.clusterOperations             operations on the whole cluster
//   nodeContextValue(manager, node, lastRole) the tree item's contextValue the menus match
import type { NodeStatus, PgBouncerStatus } from './status';

export type ClusterKind = 'compose' | 'attached' | 'patroni';

/** What one node allows. Menus match `can-<operation>` in the tree item's contextValue. */
export type NodeOperation =
  | 'stop'
  | 'start'
  | 'restart'
  | 'kill'
  | 'promote'
  | 'failover'
  | 'switchover'
  | 'fence'
  | 'rejoin'
  | 'logs'
  | 'psql'
  | 'copyConnection';

/** What the whole cluster allows (the view's title bar, the palette). */
export type ClusterOperation = 'create' | 'destroy' | 'reset' | 'failover' | 'switchover' | 'load' | 'syncReplication' | 'backups' | 'drills' | 'labs';

/** The role a node last reported: a stopped replica still offers replica operations. */
export type RememberedRole = 'primary' | 'replica' | 'unknown';

export interface ClusterManager {
  readonly kind: ClusterKind;
  /** True when nothing may change the cluster (no operation beyond reading). */
  readonly readOnly: boolean;
  /** True when nodes are containers this machine runs (Docker is needed). */
  readonly usesDocker: boolean;
  readonly clusterOperations: ReadonlySet<ClusterOperation>;
  nodeOperations(node: NodeStatus, lastRole: RememberedRole): readonly NodeOperation[];
  pgbouncerOperations(b: PgBouncerStatus): readonly NodeOperation[];
}

/** The role the menus use: what the node reports, or (stopped, starting) what it last reported. */
export function menuRole(node: NodeStatus, lastRole: RememberedRole): RememberedRole {
  if (node.role === 'primary') return 'primary';
  if (node.role === 'down' || node.role === 'starting' || node.role === 'unreachable') return lastRole;
  return 'replica';
}

const ALL_CLUSTER_OPERATIONS: ReadonlySet<ClusterOperation> = new Set<ClusterOperation>(['create', 'destroy', 'reset', 'failover', 'switchover', 'load', 'syncReplication', 'backups', 'drills', 'labs']);

/** The workshop's cluster: containers on this machine, every operation of the workshop. */
export const composeManager: ClusterManager = {
  kind: 'compose',
  readOnly: false,
  usesDocker: true,
  clusterOperations: ALL_CLUSTER_OPERATIONS,
  nodeOperations(node, lastRole) {
    const running = node.containerState.status === 'running';
    const role = menuRole(node, lastRole);
    const ops: NodeOperation[] = [];
    if (running) ops.push('stop', 'kill', 'psql');
    else ops.push('start');
    ops.push('restart', 'rejoin', 'logs', 'copyConnection');
    if (running && role === 'replica') ops.push('promote', 'failover', 'switchover');
    if (running && role === 'primary') ops.push('fence');
    return ops;
  },
  pgbouncerOperations(b) {
    const running = b.containerState.status === 'running';
    return running ? ['stop', 'kill', 'restart', 'psql', 'logs', 'copyConnection'] : ['start', 'restart', 'logs', 'copyConnection'];
  },
};

/**
 * A cluster this machine only connects to. Read-only: the connection string only. A lab profile
 * (the user says the cluster is theirs to break) adds what SQL alone can do: promote a replica
 * (pg_promote). A Patroni-managed one (the profile names its REST API) offers what Patroni does
 * itself, each after a confirmation: a switchover to a replica and a restart of a node; never a
 * promote behind Patroni's back. Containers are not ours, so stop/kill/logs/fence/rejoin never apply.
 */
export function attachedManager(o: { readonly lab: boolean; readonly patroni?: boolean }): ClusterManager {
  return {
    kind: 'attached',
    readOnly: !o.lab && !o.patroni,
    usesDocker: false,
    // Failover, switchover and load fence and repoint through the workshop's containers: not here.
    clusterOperations: new Set<ClusterOperation>(),
    nodeOperations(node, lastRole) {
      const ops: NodeOperation[] = ['copyConnection'];
      const reachable = node.role !== 'down' && node.role !== 'unreachable' && node.role !== 'starting';
      const replica = menuRole(node, lastRole) === 'replica';
      if (o.patroni) {
        if (reachable && replica) ops.push('switchover');
        ops.push('restart');
      } else if (o.lab && reachable && replica) ops.push('promote');
      return ops;
    },
    pgbouncerOperations: () => [],
  };
}

/**
 * `node.<primary|replica|unknown>.<running|stopped> can-stop can-kill ...`: the role and state
 * first (stable, readable in tests), then one `can-<operation>` per operation the manager allows.
 * Menus match `viewItem =~ /\bcan-promote\b/`.
 */
export function nodeContextValue(manager: ClusterManager, node: NodeStatus, lastRole: RememberedRole): string {
  // A node of an attached cluster has no container: it "runs" while it answers.
  const external = node.containerState.status === 'external';
  const running = external ? node.role !== 'unreachable' && node.role !== 'starting' && node.role !== 'down' : node.containerState.status === 'running';
  const state = running ? 'running' : 'stopped';
  return [`node.${menuRole(node, lastRole)}.${state}`, ...manager.nodeOperations(node, lastRole).map((op) => `can-${op}`)].join(' ');
}

export function pgbouncerContextValue(manager: ClusterManager, b: PgBouncerStatus): string {
  const state = b.containerState.status === 'running' ? 'running' : 'stopped';
  return [`pgbouncer.${state}`, ...manager.pgbouncerOperations(b).map((op) => `can-${op}`)].join(' ');
}
