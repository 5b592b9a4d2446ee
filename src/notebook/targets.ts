// Where a notebook cell runs. A target names either a role (the node that is primary / a replica
// NOW, so a cell keeps working after a failover), every node, one container by its service name,
// or PgBouncer. Pure: roles come in as data (from the cluster monitor or a probe).
import type { ClusterTopology, PgNodeSpec } from '../core/topology';

export const DEFAULT_TARGET = 'primary';

export type TargetSpec =
  | { readonly kind: 'role'; readonly role: 'primary' | 'replica' }
  | { readonly kind: 'all' }
  | { readonly kind: 'node'; readonly node: PgNodeSpec }
  | { readonly kind: 'pgbouncer'; readonly admin: boolean };

/** A server a statement is sent to. */
export interface Endpoint {
  /** Stable id: the service name, or 'pgbouncer' / 'pgbouncer-admin'. */
  readonly id: string;
  readonly container: string;
  readonly port: number;
  /** Host to connect to; undefined: the topology's host. */
  readonly host?: string;
  readonly database: string;
  /** PgBouncer's admin console speaks only the simple query protocol (no cursors). */
  readonly simpleProtocol: boolean;
  /** The PostgreSQL node behind it (undefined for PgBouncer). */
  readonly node?: PgNodeSpec;
}

export type NodeRole = 'primary' | 'replica' | 'down';

export interface NodeRoleInfo {
  readonly role: NodeRole;
  /** Why it is down, for messages. */
  readonly detail?: string;
}

export interface TargetChoice {
  readonly name: string;
  readonly description: string;
}

/** Every target name this topology accepts, with what it means (for pickers and error messages). */
export function targetChoices(t: ClusterTopology): TargetChoice[] {
  return [
    { name: 'primary', description: 'the node that is primary now (follows failovers)' },
    { name: 'replica', description: 'any node that is a replica now' },
    { name: 'all', description: 'every PostgreSQL node, results side by side' },
    ...t.nodes.map((n) => ({ name: n.service, description: n.host ? `${n.name ?? n.service} at ${n.host}:${n.hostPort}, whatever its role` : `container ${n.container}, port ${n.hostPort}, whatever its role` })),
    // An attached cluster has no PgBouncer of ours.
    ...(t.kind === 'attached'
      ? []
      : [
          { name: 'pgbouncer', description: `database ${t.superuser.database} through PgBouncer, port ${t.pgbouncer.hostPort}` },
          { name: 'pgbouncer-admin', description: 'PgBouncer admin console (SHOW POOLS, SHOW STATS, ...)' },
        ]),
  ];
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

export function parseTarget(name: string, t: ClusterTopology): TargetSpec {
  const n = name.replace(/^@/, '');
  if (n === 'primary' || n === 'replica') return { kind: 'role', role: n };
  if (n === 'all') return { kind: 'all' };
  if (t.kind !== 'attached' && n === 'pgbouncer') return { kind: 'pgbouncer', admin: false };
  if (t.kind !== 'attached' && n === 'pgbouncer-admin') return { kind: 'pgbouncer', admin: true };
  const node = t.nodes.find((x) => x.service === n || x.container === n);
  if (node) return { kind: 'node', node };
  throw new TargetError(
    `Unknown target node "@${n}". Use one of: ${targetChoices(t)
      .map((c) => '@' + c.name)
      .join(', ')}. Click the node in the cell's status bar to pick one.`,
  );
}

export function nodeEndpoint(t: ClusterTopology, node: PgNodeSpec): Endpoint {
  return { id: node.service, container: node.container, port: node.hostPort, host: node.host, database: t.superuser.database, simpleProtocol: false, node };
}

export function pgbouncerEndpoint(t: ClusterTopology, admin: boolean): Endpoint {
  return {
    id: admin ? 'pgbouncer-admin' : 'pgbouncer',
    container: t.pgbouncer.container,
    port: t.pgbouncer.hostPort,
    database: admin ? 'pgbouncer' : t.superuser.database,
    simpleProtocol: admin,
  };
}

/** True when resolving this target needs to know which node has which role. */
export function needsRoles(spec: TargetSpec): boolean {
  return spec.kind === 'role';
}

function describeRoles(t: ClusterTopology, roles: ReadonlyMap<string, NodeRoleInfo>): string {
  return t.nodes
    .map((n) => {
      const r = roles.get(n.service);
      return `${n.service}: ${r ? r.role + (r.role === 'down' && r.detail ? ` (${r.detail})` : '') : 'unknown'}`;
    })
    .join('; ');
}

/**
 * The endpoints a target runs on. `roles` (by service name) is needed for role targets only.
 * Throws a TargetError that says what is wrong and what to do.
 */
export function resolveTarget(spec: TargetSpec, t: ClusterTopology, roles?: ReadonlyMap<string, NodeRoleInfo>): Endpoint[] {
  switch (spec.kind) {
    case 'all':
      return t.nodes.map((n) => nodeEndpoint(t, n));
    case 'node':
      return [nodeEndpoint(t, spec.node)];
    case 'pgbouncer':
      return [pgbouncerEndpoint(t, spec.admin)];
    case 'role': {
      const r = roles ?? new Map<string, NodeRoleInfo>();
      const matching = t.nodes.filter((n) => r.get(n.service)?.role === spec.role);
      if (spec.role === 'primary') {
        if (matching.length === 1) return [nodeEndpoint(t, matching[0])];
        if (matching.length === 0) {
          throw new TargetError(
            `No node is primary now (${describeRoles(t, r)}). Start the primary or promote a replica (Demo 4), or run the cell on a node by name (@postgres-replica1).`,
          );
        }
        throw new TargetError(
          `Split brain: ${matching.map((n) => n.service).join(' and ')} both accept writes (pg_is_in_recovery() = false), so @primary is ambiguous. Run the cell on a node by name (@${matching[0].service}) or on @all, and fence the old primary (Demo 6).`,
        );
      }
      if (matching.length === 0) {
        throw new TargetError(`No node is a replica now (${describeRoles(t, r)}). Start a replica, or run the cell on a node by name.`);
      }
      return [nodeEndpoint(t, matching[0])];
    }
  }
}
