// Integration-test fixture for cluster/patroni/: the tests' own Patroni cluster beside the tests'
// plain cluster (project <project>pat, containers <prefix>pat-*, ports derived from the plain
// cluster's: base = PGHA_PRIMARY_PORT - 532, PostgreSQL base+432..434, router base+632, REST
// base+8..10, etcd base+379..381; PGHA_PATRONI_PORT_BASE overrides the base), on the local image
// built from Debian packages (scripts/build-patroni-image.sh).
//
// API
//   patroni                      PatroniTopology of the test cluster
//   patroniEnv                   its PGHA_* variables (for compose)
//   patroniUp(t?)                builds the image when missing, `up -d`, waits for a leader and two
//                                streaming replicas; recreates (down -v + up) when it does not get there
//   patroniDown({ volumes })     compose down
//   ensurePatroniImage()         builds the local image when missing
//   writableNodes()              members whose PostgreSQL accepts writes now (split-brain check)
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { nodeClientConfig } from '../../src/core/connection';
import { waitForLeader } from '../../src/core/patroni/operations';
import { askAny } from '../../src/core/patroni/status';
import { patroniTopologyEnv, patroniTopologyFromEnv } from '../../src/core/patroni/topology';
import { repoRoot } from '../../src/core/topology';
import { composeDown, composeUp } from '../../src/docker/compose';
import { useTestCluster } from '../../scripts/lib/test-cluster.mjs';
import { containers, docker } from './cluster';

useTestCluster('the Patroni integration tests');
const base = Number(process.env.PGHA_PATRONI_PORT_BASE || Number(process.env.PGHA_PRIMARY_PORT) - 532);
const image = process.env.PGHA_PATRONI_IMAGE || 'pgha-patroni-local:15';
export const patroni = patroniTopologyFromEnv({
  COMPOSE_PROJECT_NAME: `${process.env.COMPOSE_PROJECT_NAME}pat`,
  PGHA_CONTAINER_PREFIX: `${process.env.PGHA_CONTAINER_PREFIX}pat-`,
  PGHA_PRIMARY_PORT: String(base + 432),
  PGHA_REPLICA1_PORT: String(base + 433),
  PGHA_REPLICA2_PORT: String(base + 434),
  PGHA_PGBOUNCER_PORT: String(base + 632),
  PGHA_REST1_PORT: String(base + 8),
  PGHA_REST2_PORT: String(base + 9),
  PGHA_REST3_PORT: String(base + 10),
  PGHA_ETCD1_PORT: String(base + 379),
  PGHA_ETCD2_PORT: String(base + 380),
  PGHA_ETCD3_PORT: String(base + 381),
  PGHA_PATRONI_IMAGE: image,
});
export const patroniEnv = patroniTopologyEnv(patroni);
const composeOpts = { docker, env: { ...process.env, ...patroniEnv } };
export { containers };

type Diag = { diagnostic(s: string): void } | undefined;

/** Builds the local Patroni image when it is missing (scripts/build-patroni-image.sh, cached). */
export function ensurePatroniImage(): void {
  const r = spawnSync('bash', [path.join(repoRoot(), 'scripts', 'build-patroni-image.sh')], { env: { ...process.env, PGHA_PATRONI_IMAGE: image }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`Could not build ${image}: ${r.stderr || r.stdout}`);
}

/** True once a running leader and two streaming replicas are reported (Patroni not paused). */
export async function healthy(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await askAny(patroni, (c) => c.cluster(), 3000);
    const ms = r.value?.members ?? [];
    const leader = ms.find((m) => m.role === 'leader' && m.state === 'running');
    const replicas = ms.filter((m) => (m.role === 'replica' || m.role === 'sync_standby') && (m.state === 'running' || m.state === 'streaming') && m.lag !== 'unknown');
    if (leader && replicas.length === 2 && !r.value?.pause) return true;
    await new Promise((res) => setTimeout(res, 1000));
  }
  return false;
}

export async function patroniUp(t?: Diag, o: { fresh?: boolean } = {}): Promise<string> {
  ensurePatroniImage();
  if (!o.fresh) {
    await composeUp(patroni.cluster, composeOpts);
    if (await healthy(420_000)) return waitForLeader(patroni, { timeoutMs: 60_000 });
    t?.diagnostic('Patroni cluster not in shape: recreating it');
  }
  await composeDown(patroni.cluster, { ...composeOpts, volumes: true });
  await composeUp(patroni.cluster, composeOpts);
  if (!(await healthy(600_000))) throw new Error('The Patroni test cluster did not reach a leader and two streaming replicas in 600 s.');
  return waitForLeader(patroni, { timeoutMs: 60_000 });
}

export async function patroniDown(o: { volumes?: boolean } = {}): Promise<void> {
  await composeDown(patroni.cluster, { ...composeOpts, volumes: o.volumes });
}

/** Members whose PostgreSQL accepts a write now, asked inside each container (works when cut off). */
export async function writableNodes(): Promise<string[]> {
  const out: string[] = [];
  await Promise.all(
    patroni.members.map(async (m) => {
      const r = await containers.exec(m.container, ['psql', '-XtAq', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-c', "SELECT current_setting('transaction_read_only')"], { user: 'postgres' }).catch(() => undefined);
      if (r && r.exitCode === 0 && r.stdout.trim() === 'off') out.push(m.name);
    }),
  );
  return out.sort();
}

/** One statement through the router or a member's port. */
export async function q<R extends Record<string, unknown>>(port: number, sql: string, params: unknown[] = []): Promise<R[]> {
  const c = new Client(nodeClientConfig(patroni.cluster, port, { connectTimeoutMs: 20_000, queryTimeoutMs: 60_000, applicationName: 'pgha-test' }));
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}
