// The Patroni implementation of "who manages the cluster": what can be done to a member (asked by
// views and commands through a context value instead of knowing the backend) and doing it, through
// Patroni's REST API for roles and through Docker for faults only. Kept to this small surface so
// it can move behind the shared per-cluster-kind manager interface unchanged.
import type { Containers } from '../../docker/engine';
import type { ClusterManager, ClusterOperation, NodeOperation } from '../clusterManager';
import type { NodeStatus, PgBouncerStatus } from '../status';
import { failover, reinitMember, restartMember, setPaused, switchover } from './operations';
import type { PatroniMemberRow } from './status';
import { memberByName, type PatroniTopology } from './topology';

export type PatroniMemberAction = 'switchover' | 'failover' | 'restart' | 'reinit' | 'kill' | 'stop' | 'start' | 'cutFromDcs' | 'reconnectDcs';

/** What a member offers now (its role and state decide; pause blocks automatic actions only). */
export function memberActions(m: PatroniMemberRow | undefined, o: { containerRunning: boolean; cutFromDcs: boolean }): PatroniMemberAction[] {
  const a: PatroniMemberAction[] = [];
  if (!o.containerRunning) return ['start'];
  if (m?.role === 'leader') a.push('switchover', 'restart');
  if (m && (m.role === 'replica' || m.role === 'sync_standby')) a.push('failover', 'restart', 'reinit');
  a.push('kill', 'stop', o.cutFromDcs ? 'reconnectDcs' : 'cutFromDcs');
  return a;
}

/** The context value of a member's tree item: `patroniMember` plus one ` action` per possibility. */
export function memberContextValue(actions: readonly PatroniMemberAction[]): string {
  return ['patroniMember', ...actions].join(' ');
}

export interface PatroniManagerContext {
  readonly topology: PatroniTopology;
  readonly containers: Containers;
  /** docker network connect/disconnect (the Docker API through dockerode). */
  readonly network: { connect(network: string, container: string, aliases?: readonly string[]): Promise<void>; disconnect(network: string, container: string): Promise<void> };
}

export class PatroniManager {
  readonly kind = 'patroni' as const;
  constructor(private readonly ctx: PatroniManagerContext) {}

  get topology(): PatroniTopology {
    return this.ctx.topology;
  }

  private container(name: string): string {
    const m = memberByName(this.ctx.topology, name);
    if (!m) throw new Error(`"${name}" is not a member of this Patroni cluster: use ${this.ctx.topology.members.map((x) => x.name).join(', ')}.`);
    return m.container;
  }

  switchover(o: { candidate?: string; scheduledAt?: Date }) {
    return switchover(this.ctx.topology, o);
  }
  failover(candidate: string) {
    return failover(this.ctx.topology, candidate);
  }
  restart(name: string) {
    return restartMember(this.ctx.topology, name);
  }
  reinit(name: string) {
    return reinitMember(this.ctx.topology, name);
  }
  setPaused(paused: boolean) {
    return setPaused(this.ctx.topology, paused);
  }
  /** Faults (Docker): a crash, a clean stop, a start, a cut from etcd only. */
  kill(name: string) {
    return this.ctx.containers.kill(this.container(name));
  }
  stop(name: string) {
    return this.ctx.containers.stop(this.container(name), 30);
  }
  start(name: string) {
    return this.ctx.containers.start(this.container(name));
  }
  cutFromDcs(name: string) {
    return this.ctx.network.disconnect(this.ctx.topology.dcsNetwork, this.container(name));
  }
  reconnectDcs(name: string) {
    // Its names on that network come back with it: peers reach it as `<name>.dcs` (cluster/patroni/docker-compose.yml).
    const m = memberByName(this.ctx.topology, name);
    return this.ctx.network.connect(this.ctx.topology.dcsNetwork, this.container(name), m ? [m.name, `${m.name}.dcs`] : undefined);
  }
}

/**
 * The Patroni profile in the shared ClusterManager shape: Docker faults and reads on each node,
 * no SQL promote, fence or rejoin (Patroni decides roles and rejoins old leaders itself); role
 * changes go through Patroni's REST API from the Patroni view.
 */
export const patroniClusterManager: ClusterManager = {
  kind: 'patroni',
  readOnly: false,
  usesDocker: true,
  clusterOperations: new Set<ClusterOperation>(['create', 'destroy', 'load']),
  nodeOperations(node: NodeStatus) {
    const running = node.containerState.status === 'running';
    const ops: NodeOperation[] = running ? ['stop', 'kill', 'psql'] : ['start'];
    ops.push('restart', 'logs', 'copyConnection');
    return ops;
  },
  pgbouncerOperations(b: PgBouncerStatus) {
    return b.containerState.status === 'running' ? ['stop', 'kill', 'restart', 'logs'] : ['start', 'restart', 'logs'];
  },
};
