// The shape of cluster/patroni/: the three PostgreSQL nodes (same names and ports as the workshop
// cluster, each with its Patroni REST port), the three etcd members and the HAProxy entry point.
// The same PGHA_* variables as cluster/patroni/docker-compose.yml, with the same defaults.
import * as path from 'node:path';
import { repoRoot, topologyFromEnv, type ClusterTopology, type NodeKey } from '../topology';

type Env = Readonly<Record<string, string | undefined>>;

export interface PatroniMemberSpec {
  readonly key: NodeKey;
  /** Patroni member name = compose service = host name on the cluster network. */
  readonly name: string;
  readonly container: string;
  readonly pgHostPort: number;
  readonly restHostPort: number;
  readonly restUrl: string;
}

export interface EtcdMemberSpec {
  readonly name: string;
  readonly container: string;
  readonly clientHostPort: number;
  readonly clientUrl: string;
}

export interface PatroniTopology {
  /** PostgreSQL side, shared with the rest of the core (probes, load, ledger); pgbouncer = HAProxy. */
  readonly cluster: ClusterTopology;
  readonly scope: string;
  readonly namespace: string;
  readonly members: readonly PatroniMemberSpec[];
  readonly etcd: readonly EtcdMemberSpec[];
  /** Docker network joining etcd and the nodes (`<project>_dcs`). */
  readonly dcsNetwork: string;
  readonly image: string;
}

export const DEFAULT_PATRONI_IMAGE = 'pgha-patroni:15';
export const DEFAULT_PATRONI_PROJECT = 'patroni';

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}=${raw} is not a TCP port (1-65535). Set it to a free port number, or unset it to use ${fallback}.`);
  return n;
}

export function patroniTopologyFromEnv(env: Env = process.env): PatroniTopology {
  const composeFile = env.PGHA_PATRONI_COMPOSE_FILE ?? path.join(repoRoot(), 'cluster', 'patroni', 'docker-compose.yml');
  // Compose names the project after the folder (`patroni`) unless told otherwise.
  const base = topologyFromEnv({ ...env, COMPOSE_PROJECT_NAME: env.COMPOSE_PROJECT_NAME || DEFAULT_PATRONI_PROJECT }, composeFile);
  const image = env.PGHA_PATRONI_IMAGE || DEFAULT_PATRONI_IMAGE;
  const cluster: ClusterTopology = {
    ...base,
    pgbouncer: { service: 'haproxy', container: base.containerPrefix + 'haproxy', hostPort: base.pgbouncer.hostPort },
    postgresImage: image,
    pgbouncerImage: image,
  };
  const restVars = ['PGHA_REST1_PORT', 'PGHA_REST2_PORT', 'PGHA_REST3_PORT'];
  const members = cluster.nodes.map((n, i): PatroniMemberSpec => {
    const restHostPort = port(env, restVars[i], 8008 + i);
    return { key: n.key, name: n.service, container: n.container, pgHostPort: n.hostPort, restHostPort, restUrl: `http://${cluster.host}:${restHostPort}` };
  });
  const etcd = [1, 2, 3].map((i): EtcdMemberSpec => {
    const clientHostPort = port(env, `PGHA_ETCD${i}_PORT`, 2379 + (i - 1) * 100);
    return { name: `etcd${i}`, container: `${cluster.containerPrefix}etcd${i}`, clientHostPort, clientUrl: `http://${cluster.host}:${clientHostPort}` };
  });
  return { cluster, scope: 'pgha', namespace: '/service/', members, etcd, dcsNetwork: `${cluster.projectName}_dcs`, image };
}

/** The variables that make compose and the core agree (compose reads them in cluster/patroni/). */
export function patroniTopologyEnv(t: PatroniTopology): Record<string, string> {
  const byKey = (k: NodeKey) => t.members.find((m) => m.key === k)!;
  return {
    COMPOSE_PROJECT_NAME: t.cluster.projectName,
    PGHA_CONTAINER_PREFIX: t.cluster.containerPrefix,
    PGHA_PRIMARY_PORT: String(byKey('primary').pgHostPort),
    PGHA_REPLICA1_PORT: String(byKey('replica1').pgHostPort),
    PGHA_REPLICA2_PORT: String(byKey('replica2').pgHostPort),
    PGHA_PGBOUNCER_PORT: String(t.cluster.pgbouncer.hostPort),
    PGHA_REST1_PORT: String(byKey('primary').restHostPort),
    PGHA_REST2_PORT: String(byKey('replica1').restHostPort),
    PGHA_REST3_PORT: String(byKey('replica2').restHostPort),
    PGHA_ETCD1_PORT: String(t.etcd[0].clientHostPort),
    PGHA_ETCD2_PORT: String(t.etcd[1].clientHostPort),
    PGHA_ETCD3_PORT: String(t.etcd[2].clientHostPort),
    PGHA_PATRONI_IMAGE: t.image,
  };
}

export function memberByName(t: PatroniTopology, name: string): PatroniMemberSpec | undefined {
  return t.members.find((m) => m.name === name || m.container === name);
}

/**
 * The workshop cluster's containers that stand in the Patroni cluster's way: same container name
 * or same host port (both use the workshop's names and ports by default). Only containers that
 * exist matter; the caller checks that.
 */
export function containersInTheWay(workshop: ClusterTopology, patroni: PatroniTopology): string[] {
  const names = new Set([...patroni.cluster.nodes.map((n) => n.container), patroni.cluster.pgbouncer.container, ...patroni.etcd.map((e) => e.container)]);
  const ports = new Set([...patroni.members.flatMap((m) => [m.pgHostPort, m.restHostPort]), patroni.cluster.pgbouncer.hostPort, ...patroni.etcd.map((e) => e.clientHostPort)]);
  const ours = [...workshop.nodes.map((n) => ({ container: n.container, port: n.hostPort })), { container: workshop.pgbouncer.container, port: workshop.pgbouncer.hostPort }];
  return ours.filter((w) => names.has(w.container) || ports.has(w.port)).map((w) => w.container);
}
