// Integration-test fixture: the real compose cluster for the topology in the environment
// (PGHA_* variables; scripts/test.sh sets a test project, prefix and ports of its own).
//
// API
//   topology                          ClusterTopology from the environment
//   clusterUp(t?)                     makes sure the cluster is up in its standard shape: 4 containers
//                                     running, postgres-primary writable, both replicas streaming from
//                                     it (pg_stat_replication), PgBouncer healthy and pointing at
//                                     postgres-primary, asynchronous. Quick when it already is;
//                                     recreates it (down -v + up) when a previous test left it
//                                     otherwise (promoted replica, split brain, repointed PgBouncer ...).
//   clusterDown(t?, { volumes })      compose down (-v with volumes: true)
//   resetCluster(t?)                  down -v, then clusterUp
//   pgClient(t, nodeKey | port, db?)  a connected pg.Client (closed after the test when t is given)
//   query(nodeKey | port, sql, params?, db?) one statement on a fresh connection → rows
//   isInRecovery(nodeKey | port)      pg_is_in_recovery() of a node
//   streamingReplicas()               application_names streaming from postgres-primary
//   waitFor(cond, timeoutMs, what?)   polls cond() until it returns a truthy value (returned)
//   containers                        engine Containers (stop/start/kill/exec/logs by name)
//   nodePort(key), containerOf(key)   host port and container name of a node
//   scriptEnv()                       process env with the topology's PGHA_* variables (to run cluster/*.sh)
//   runClusterScript(name, args, env?) runs cluster/NAME from cluster/ as the README does → { code, stdout, stderr, ms }
// `t` is node:test's TestContext (diagnostics go to t.diagnostic); every parameter named t is optional.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { Client } from 'pg';
import { nodeClientConfig } from '../../src/core/connection';
import { topologyFromEnv, topologyEnv, type NodeKey } from '../../src/core/topology';
import { composeDown, composePs, composeUp } from '../../src/docker/compose';
import { Containers, createDockerClient } from '../../src/docker/engine';
import { useTestCluster } from '../../scripts/lib/test-cluster.mjs';

// The tests' own cluster, never the workshop's (also when a test file is run alone).
useTestCluster('the integration tests');
export const topology = topologyFromEnv();
export const docker = createDockerClient();
export const containers = new Containers(docker);

interface Ctx {
  diagnostic(message: string): void;
  after?(fn: () => unknown): void;
}

function note(t: Ctx | undefined, msg: string): void {
  if (t) t.diagnostic(msg);
  else if (process.env.PGHA_TEST_VERBOSE) console.log(`# ${msg}`);
}

export function nodePort(key: NodeKey): number {
  return topology.nodes.find((n) => n.key === key)!.hostPort;
}

export function containerOf(key: NodeKey | 'pgbouncer'): string {
  return key === 'pgbouncer' ? topology.pgbouncer.container : topology.nodes.find((n) => n.key === key)!.container;
}

function portOf(target: NodeKey | number): number {
  return typeof target === 'number' ? target : nodePort(target);
}

export function scriptEnv(): NodeJS.ProcessEnv {
  return { ...process.env, ...topologyEnv(topology) };
}

export interface ScriptResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a workshop script the way the README does (`./NAME ARGS` in cluster/), with the topology's env. */
export function runClusterScript(name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<ScriptResult> {
  const cwd = path.dirname(topology.composeFile);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(`./${name}`, args, { cwd, env: { ...scriptEnv(), NO_COLOR: '1', PGCONNECT_TIMEOUT: '20', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }); });
  });
}

export async function waitFor<T>(cond: () => Promise<T> | T, timeoutMs: number, what = 'condition', intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Generous: on a loaded machine a connection (fork + SCRAM) can take seconds. */
const CONNECT_TIMEOUT_MS = Number(process.env.PGHA_TEST_CONNECT_TIMEOUT_MS) || 15_000;

export async function pgClient(t: Ctx | undefined, target: NodeKey | number, database = topology.superuser.database): Promise<Client> {
  const c = new Client(nodeClientConfig(topology, portOf(target), { database, connectTimeoutMs: CONNECT_TIMEOUT_MS, queryTimeoutMs: 60_000, applicationName: 'pgha-test' }));
  c.on('error', () => undefined);
  await c.connect();
  t?.after?.(() => c.end().catch(() => undefined));
  return c;
}

export async function query<R extends Record<string, unknown> = Record<string, unknown>>(
  target: NodeKey | number,
  sql: string,
  params: unknown[] = [],
  database = topology.superuser.database,
): Promise<R[]> {
  const c = await pgClient(undefined, target, database);
  try {
    return (await c.query<R>(sql, params)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function isInRecovery(target: NodeKey | number): Promise<boolean> {
  const rows = await query<{ r: boolean }>(target, 'SELECT pg_is_in_recovery() AS r', [], 'postgres');
  return rows[0].r;
}

export async function streamingReplicas(): Promise<string[]> {
  const rows = await query<{ application_name: string }>(
    'primary',
    "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY application_name",
    [],
    'postgres',
  );
  return rows.map((r) => r.application_name);
}

const replicaServices = topology.nodes.filter((n) => n.initialRole === 'replica').map((n) => n.service);

/** Why the running cluster is not in its standard shape, or undefined when it is. */
async function deviation(): Promise<string | undefined> {
  const ps = await composePs(topology, docker);
  const expected = [...topology.nodes.map((n) => n.container), topology.pgbouncer.container];
  for (const name of expected) {
    const s = ps.find((p) => p.container === name);
    if (!s) return `${name} does not exist`;
    if (s.state !== 'running') return `${name} is ${s.state}`;
  }
  if (await isInRecovery('primary')) return 'postgres-primary is a standby';
  for (const n of topology.nodes.filter((x) => x.initialRole === 'replica')) {
    if (!(await isInRecovery(n.key))) return `${n.service} is writable (promoted)`;
  }
  const sync = await query<{ s: string }>('primary', "SELECT current_setting('synchronous_standby_names') AS s", [], 'postgres');
  if (sync[0].s !== '') return `postgres-primary has synchronous_standby_names = '${sync[0].s}'`;
  for (const n of topology.nodes.filter((x) => x.initialRole === 'replica')) {
    const delay = await query<{ d: string }>(n.key, "SELECT current_setting('recovery_min_apply_delay') AS d", [], 'postgres');
    if (delay[0].d !== '0') return `${n.service} has recovery_min_apply_delay = ${delay[0].d}`;
  }
  const dbs = await query<{ name: string; host: string; paused: number }>(topology.pgbouncer.hostPort, 'SHOW DATABASES', [], 'pgbouncer').catch(() => []);
  const demodb = dbs.find((d) => d.name === 'demodb');
  if (demodb && demodb.host !== 'postgres-primary') return `PgBouncer points demodb at ${demodb.host}`;
  if (demodb && Number(demodb.paused) !== 0) return 'PgBouncer has demodb paused';
  return undefined;
}

async function healthy(): Promise<boolean> {
  const ps = await composePs(topology, docker);
  return ps.length >= 4 && ps.every((p) => p.state === 'running' && p.health === 'healthy');
}

async function standardAndStreaming(): Promise<boolean> {
  if (!(await healthy())) return false;
  const streaming = await streamingReplicas();
  return replicaServices.every((s) => streaming.includes(s));
}

/** How long a start may take before the fixture gives up (slow, shared machines need minutes). */
const UP_TIMEOUT_MS = Number(process.env.PGHA_TEST_UP_TIMEOUT_MS) || 300_000;

async function startAndWaitHealthy(): Promise<void> {
  await composeUp(topology);
  await waitFor(healthy, UP_TIMEOUT_MS, 'all services healthy', 250);
}

async function recreate(t: Ctx | undefined, why: string): Promise<void> {
  note(t, `cluster not in its standard shape (${why}): recreating it`);
  await composeDown(topology, { volumes: true });
  await startAndWaitHealthy();
}

/** Brings the cluster up in its standard shape (see the API above). */
export async function clusterUp(t?: Ctx): Promise<void> {
  const started = Date.now();
  const ps = await composePs(topology, docker);
  const before = ps.length > 0 ? await deviation().catch((e: Error) => `unreachable: ${e.message}`) : 'no cluster';
  if (!before && (await standardAndStreaming().catch(() => false))) return;
  if (before && ps.length > 0 && !/ is (exited|created|paused|restarting)| does not exist|^unreachable/.test(before)) await recreate(t, before);
  else await startAndWaitHealthy();
  const why = await deviation();
  if (why) await recreate(t, why);
  try {
    await waitFor(standardAndStreaming, 60_000, 'both replicas streaming from postgres-primary', 250);
  } catch {
    await recreate(t, 'replicas not streaming from postgres-primary');
    await waitFor(standardAndStreaming, UP_TIMEOUT_MS, 'both replicas streaming from postgres-primary', 250);
  }
  note(t, `cluster ${topology.projectName} up in ${Date.now() - started} ms`);
}

export async function clusterDown(t?: Ctx, opts: { volumes?: boolean } = {}): Promise<void> {
  await composeDown(topology, { volumes: opts.volumes ?? false });
  note(t, `cluster ${topology.projectName} down${opts.volumes ? ' (volumes removed)' : ''}`);
}

export async function resetCluster(t?: Ctx): Promise<void> {
  await composeDown(topology, { volumes: true });
  await clusterUp(t);
}
