// The cluster's shape: container names, host ports, credentials. One fact, one place: the compose
// file reads the same PGHA_* variables (with the same defaults), and so do the shell scripts, so a
// second cluster (tests, helpers) can run beside the workshop's own under another prefix and ports.
import * as path from 'node:path';
import type { SslSettings } from './clusterProfile';

/**
 * A node's name: stable, unique within one cluster, independent of any prefix. The workshop's
 * Compose cluster names its three nodes 'primary', 'replica1', 'replica2' (WORKSHOP_NODE_KEYS);
 * an attached or Patroni cluster names its nodes after their hosts or members. Roles are never
 * read from the name: a node's role is what it reports.
 */
export type NodeKey = string;

/** The workshop's three nodes, in the order the compose file declares them. */
export const WORKSHOP_NODE_KEYS = ['primary', 'replica1', 'replica2'] as const;
export type WorkshopNodeKey = (typeof WORKSHOP_NODE_KEYS)[number];

export interface PgNodeSpec {
  /** Stable key, independent of any prefix. */
  readonly key: NodeKey;
  /** Compose service name, also the host name on the cluster's Docker network. */
  readonly service: string;
  /** Docker container name (prefix + service). */
  readonly container: string;
  /** Port the node is reached on from this machine (published on 127.0.0.1 for the workshop's cluster). */
  readonly hostPort: number;
  /** Host the node is reached on from this machine; default the topology's host (127.0.0.1). */
  readonly host?: string;
  /** What the views call the node; default the container name. */
  readonly name?: string;
  /** Role the node has when the cluster is freshly created. */
  readonly initialRole: 'primary' | 'replica';
  /** Physical replication slot this node streams from when it is a replica. */
  readonly slot: string;
}

export interface PgBouncerSpec {
  readonly service: string;
  readonly container: string;
  readonly hostPort: number;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface ClusterTopology {
  /** compose (default): the workshop's containers; attached: nodes this machine only connects to. */
  readonly kind?: 'compose' | 'attached';
  /** TLS settings of an attached cluster (the workshop's cluster speaks plain TCP on loopback). */
  readonly ssl?: SslSettings;
  /** Compose project name (compose's own COMPOSE_PROJECT_NAME). */
  readonly projectName: string;
  /** Absolute path of the compose file. */
  readonly composeFile: string;
  readonly containerPrefix: string;
  /** Host address the ports are published on. */
  readonly host: string;
  readonly nodes: readonly PgNodeSpec[];
  readonly pgbouncer: PgBouncerSpec;
  readonly superuser: Credentials;
  readonly replicationUser: Omit<Credentials, 'database'>;
  /** Port PostgreSQL listens on inside each container. */
  readonly internalPort: number;
  readonly postgresImage: string;
  readonly pgbouncerImage: string;
}

export const DEFAULT_PROJECT_NAME = 'pgha';
export const DEFAULT_POSTGRES_IMAGE = 'postgres:15';
export const DEFAULT_PGBOUNCER_IMAGE = 'edoburu/pgbouncer:v1.25.1-p0';

type Env = Readonly<Record<string, string | undefined>>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${name}=${raw} is not a TCP port (1-65535). Set it to a free port number, or unset it to use ${fallback}.`);
  }
  return n;
}

/** Repository root, found from this file whether it runs from src/ (tsx) or dist/ (bundle). */
export function repoRoot(): string {
  const here = __dirname;
  const marker = `${path.sep}src${path.sep}`;
  const i = here.lastIndexOf(marker);
  if (i >= 0) return here.slice(0, i);
  if (here.endsWith(`${path.sep}src`)) return path.dirname(here);
  // dist/ or dist/test/vscode
  const d = here.lastIndexOf(`${path.sep}dist`);
  return d >= 0 ? here.slice(0, d) : path.resolve(here, '..');
}

export function topologyFromEnv(env: Env = process.env, composeFile?: string): ClusterTopology {
  const prefix = env.PGHA_CONTAINER_PREFIX ?? '';
  const node = (key: NodeKey, service: string, portVar: string, def: number, initialRole: 'primary' | 'replica', slot: string): PgNodeSpec => ({
    key,
    service,
    container: prefix + service,
    hostPort: port(env, portVar, def),
    initialRole,
    slot,
  });
  return {
    projectName: env.COMPOSE_PROJECT_NAME || DEFAULT_PROJECT_NAME,
    composeFile: composeFile ?? env.PGHA_COMPOSE_FILE ?? path.join(repoRoot(), 'cluster', 'docker-compose.yml'),
    containerPrefix: prefix,
    host: '127.0.0.1',
    nodes: [
      node('primary', 'postgres-primary', 'PGHA_PRIMARY_PORT', 5432, 'primary', 'postgres_primary'),
      node('replica1', 'postgres-replica1', 'PGHA_REPLICA1_PORT', 5433, 'replica', 'postgres_replica1'),
      node('replica2', 'postgres-replica2', 'PGHA_REPLICA2_PORT', 5434, 'replica', 'postgres_replica2'),
    ],
    pgbouncer: { service: 'pgbouncer', container: prefix + 'pgbouncer', hostPort: port(env, 'PGHA_PGBOUNCER_PORT', 6432) },
    superuser: { user: 'postgres', password: 'postgres', database: 'demodb' },
    replicationUser: { user: 'replicator', password: 'replicator' },
    internalPort: 5432,
    postgresImage: env.PGHA_POSTGRES_IMAGE || DEFAULT_POSTGRES_IMAGE,
    pgbouncerImage: env.PGHA_PGBOUNCER_IMAGE || DEFAULT_PGBOUNCER_IMAGE,
  };
}

/** The variables that make compose, the scripts and the core agree on one topology. */
export function topologyEnv(t: ClusterTopology): Record<string, string> {
  const byKey = (k: NodeKey) => String(t.nodes.find((n) => n.key === k)!.hostPort);
  return {
    COMPOSE_PROJECT_NAME: t.projectName,
    PGHA_CONTAINER_PREFIX: t.containerPrefix,
    PGHA_PRIMARY_PORT: byKey('primary'),
    PGHA_REPLICA1_PORT: byKey('replica1'),
    PGHA_REPLICA2_PORT: byKey('replica2'),
    PGHA_PGBOUNCER_PORT: String(t.pgbouncer.hostPort),
    PGHA_POSTGRES_IMAGE: t.postgresImage,
    PGHA_PGBOUNCER_IMAGE: t.pgbouncerImage,
  };
}

export function nodeByContainer(t: ClusterTopology, container: string): PgNodeSpec | undefined {
  return t.nodes.find((n) => n.container === container || n.service === container);
}

/** Where this machine reaches the node. */
export function nodeAddress(t: ClusterTopology, n: PgNodeSpec): { readonly host: string; readonly port: number } {
  return { host: n.host ?? t.host, port: n.hostPort };
}

/** What the views call the node. */
export function nodeName(n: PgNodeSpec): string {
  return n.name ?? n.container;
}

export function connectionString(t: ClusterTopology, hostPort: number, database = t.superuser.database, host = t.host): string {
  const u = t.superuser;
  if (t.kind === 'attached') {
    // A real cluster's password stays in VS Code's secret storage: psql asks for it (or reads ~/.pgpass).
    const ssl = t.ssl && t.ssl.mode !== 'prefer' ? `?sslmode=${t.ssl.mode}${t.ssl.rootCert ? `&sslrootcert=${encodeURIComponent(t.ssl.rootCert)}` : ''}` : '';
    return `postgresql://${encodeURIComponent(u.user)}@${host.includes(':') ? `[${host}]` : host}:${hostPort}/${encodeURIComponent(database)}${ssl}`;
  }
  return `postgresql://${encodeURIComponent(u.user)}:${encodeURIComponent(u.password)}@${host}:${hostPort}/${encodeURIComponent(database)}`;
}
