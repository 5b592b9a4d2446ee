// Demo 7, Connection Pooling with PgBouncer: read through PgBouncer (port 6432), SHOW POOLS and
// SHOW STATS on its admin console, connection reuse measured (20 short client connections through
// PgBouncer share server backends; 20 direct ones each start a backend), and after a failover:
// PgBouncer must point at the new primary, else writes through it fail. It repoints when needed.
import { adminCommand, pgbouncerTarget, repointPgBouncer } from '../pgbouncer';
import { check, connect, DemoNotReady, readyCluster, result, round1, type DemoContext, type DemoResult } from './common';

export interface PoolRow {
  readonly database: string;
  readonly clActive: number;
  readonly clWaiting: number;
  readonly svActive: number;
  readonly svIdle: number;
  readonly poolMode: string;
}

export interface PgBouncerMeasures {
  readonly primary: string;
  readonly readRows: number;
  readonly readServedBy: string;
  readonly targetBefore: string | null;
  readonly repointed: { readonly from: string; readonly to: string; readonly ms: number } | null;
  /** The primary is not the node the cluster started with: the failover (Demo 4) moved it. */
  readonly afterFailover: boolean;
  readonly writeLandedOn: string | null;
  readonly clientConnections: number;
  readonly backendsViaPgBouncer: number;
  readonly backendsDirect: number;
  readonly avgConnectMsViaPgBouncer: number;
  readonly avgConnectMsDirect: number;
  readonly pools: readonly PoolRow[];
  readonly stats: { readonly totalXacts: number; readonly totalQueries: number; readonly avgQueryUs: number } | null;
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));

export async function pgbouncerPooling(ctx: DemoContext, o: { connections?: number } = {}): Promise<DemoResult<PgBouncerMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 7: ${m}`);
  const n = Math.min(Math.max(2, o.connections ?? 20), 100);
  const { status, primary } = await readyCluster(ctx, { replicas: 0 });
  if (status.pgbouncer.containerState.status !== 'running') {
    throw new DemoNotReady('pgbouncer', `${t.pgbouncer.container} is ${status.pgbouncer.containerState.status}: start it (PG HA Workshop: Start Node) and run Demo 7 again.`);
  }
  const bport = t.pgbouncer.hostPort;
  const targetBefore = (await pgbouncerTarget(t).catch(() => undefined)) ?? null;
  const afterFailover = primary.initialRole !== 'primary';
  say(`PgBouncer (port ${bport}) sends ${t.superuser.database} to ${targetBefore ?? '?'}; the primary is ${primary.service}`);
  let repointed: PgBouncerMeasures['repointed'] = null;
  if (targetBefore !== primary.service) {
    say(`repointing PgBouncer: ${targetBefore} → ${primary.service} (edit [databases], RELOAD)`);
    const r = await repointPgBouncer(ctx, primary.service);
    repointed = { from: targetBefore ?? '?', to: primary.service, ms: r.tookMs };
  } else if (afterFailover) {
    say(`PgBouncer already points at ${primary.service}: the failover repointed it`);
  }
  // Read, then write, through PgBouncer.
  const c = await connect(t, bport, undefined, 'pgha-demo7');
  let readRows = 0;
  let readServedBy = '?';
  let writeLandedOn: string | null = null;
  try {
    readRows = (await c.query('SELECT * FROM users LIMIT 5')).rowCount ?? 0;
    readServedBy = (await c.query<{ n: string }>("SELECT current_setting('cluster_name') AS n")).rows[0].n;
    say(`SELECT * FROM users LIMIT 5 through PgBouncer: ${readRows} rows, served by ${readServedBy}`);
    try {
      writeLandedOn = (await c.query<{ n: string }>("INSERT INTO users (name, email) VALUES ('ViaPgBouncer', 'pool@example.com') RETURNING current_setting('cluster_name') AS n")).rows[0].n;
      say(`INSERT through PgBouncer landed on ${writeLandedOn}`);
    } catch (e) {
      say(`INSERT through PgBouncer failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  // Connection reuse: n short-lived clients, one after the other.
  const reuse = async (port: number) => {
    const pids = new Set<number>();
    let ms = 0;
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const k = await connect(t, port, undefined, 'pgha-demo7-reuse');
      try {
        pids.add((await k.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      } finally {
        await k.end().catch(() => undefined);
      }
      ms += performance.now() - t0;
    }
    return { backends: pids.size, avgMs: round1(ms / n) };
  };
  const via = await reuse(bport);
  const direct = await reuse(primary.hostPort);
  say(`${n} client connections through PgBouncer used ${via.backends} server backend(s), ${via.avgMs} ms each; direct: ${direct.backends} backends, ${direct.avgMs} ms each`);
  const poolsRaw = await adminCommand(t, 'SHOW POOLS');
  const pools: PoolRow[] = poolsRaw
    .filter((p) => p.database !== 'pgbouncer')
    .map((p) => ({ database: String(p.database), clActive: num(p.cl_active), clWaiting: num(p.cl_waiting), svActive: num(p.sv_active), svIdle: num(p.sv_idle), poolMode: String(p.pool_mode ?? '') }));
  for (const p of pools) say(`SHOW POOLS: ${p.database} cl_active=${p.clActive} cl_waiting=${p.clWaiting} sv_active=${p.svActive} sv_idle=${p.svIdle} pool_mode=${p.poolMode}`);
  const statsRaw = (await adminCommand(t, 'SHOW STATS')).find((r) => r.database === t.superuser.database);
  const stats = statsRaw ? { totalXacts: num(statsRaw.total_xact_count), totalQueries: num(statsRaw.total_query_count), avgQueryUs: num(statsRaw.avg_query_time) } : null;
  if (stats) say(`SHOW STATS: ${t.superuser.database} total_xact_count=${stats.totalXacts} total_query_count=${stats.totalQueries} avg_query_time=${stats.avgQueryUs} µs`);
  const m: PgBouncerMeasures = {
    primary: primary.service,
    readRows,
    readServedBy,
    targetBefore,
    repointed,
    afterFailover,
    writeLandedOn,
    clientConnections: n,
    backendsViaPgBouncer: via.backends,
    backendsDirect: direct.backends,
    avgConnectMsViaPgBouncer: via.avgMs,
    avgConnectMsDirect: direct.avgMs,
    pools,
    stats,
  };
  const checks = [
    check('readThroughPgBouncer', readRows > 0, `${readRows} rows from ${readServedBy}`),
    check('writesReachPrimary', writeLandedOn === primary.service, `write landed on ${writeLandedOn ?? 'nothing (failed)'}; primary ${primary.service}${repointed ? ` (repointed from ${repointed.from})` : ''}`),
    check('connectionReuse', via.backends < n && via.backends < direct.backends, `${n} clients → ${via.backends} backend(s) via PgBouncer, ${direct.backends} direct`),
    check('poolsAndStats', pools.some((p) => p.database === t.superuser.database) && stats !== null, `${pools.length} pool(s); ${stats ? `${stats.totalQueries} queries` : 'no stats'}`),
  ];
  return result('demo7', started, checks, m, repointed ? `PgBouncer now points at ${primary.service}.` : undefined);
}
