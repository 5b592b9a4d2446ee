// Repointing PgBouncer after the primary moved: edit the [databases] section of the runtime copy
// of pgbouncer.ini inside the container (cluster/README.md: /tmp/pgbouncer/pgbouncer.ini), then
// RELOAD on the admin console. Old server connections close when released; new ones go to the new
// host. A short server_login_retry in the workshop's config keeps the gap short: clients queued
// while the old primary was down get a connection to the new one within it.
//
// API (no vscode):
//   repointPgBouncer(ctx, service, { pause?, ini? }) → { from, to, tookMs }
//   readPgBouncerIni(ctx)                      → the runtime pgbouncer.ini text
//   pgbouncerTarget(ctx)                       → host the workshop database is sent to
//   adminCommand(topology, sql)                → rows of an admin console command (SHOW/RELOAD/PAUSE/RESUME)
import { Client } from 'pg';
import type { Containers } from '../docker/engine';
import { classifyPgError, nodeClientConfig } from './connection';
import type { ClusterTopology } from './topology';

export const PGBOUNCER_RUNTIME_INI = '/tmp/pgbouncer/pgbouncer.ini';

export interface PgBouncerContext {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
}

export class PgBouncerError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'PgBouncerError';
  }
}

export async function adminCommand<R extends Record<string, unknown> = Record<string, unknown>>(t: ClusterTopology, sql: string): Promise<R[]> {
  const c = new Client(nodeClientConfig(t, t.pgbouncer.hostPort, { database: 'pgbouncer', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000, applicationName: 'pgha-admin' }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    // The admin console speaks the simple query protocol only: no parameters.
    const r = await c.query<R>(sql);
    return r.rows ?? [];
  } catch (e) {
    throw new PgBouncerError(`PgBouncer's admin console (port ${t.pgbouncer.hostPort}) refused "${sql}": ${classifyPgError(e).message}`, e);
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function pgbouncerTarget(t: ClusterTopology): Promise<string | undefined> {
  const rows = await adminCommand<{ name: string; host: string | null }>(t, 'SHOW DATABASES');
  return (rows.find((r) => r.name === t.superuser.database) ?? rows.find((r) => r.name === '*'))?.host ?? undefined;
}

/** Rewrites every `host=...` in [databases] of an ini text to `host`. Pure (tested). */
export function rewriteDatabasesHost(ini: string, host: string): { text: string; previous: string[] } {
  const lines = ini.split('\n');
  let section = '';
  const previous: string[] = [];
  const out = lines.map((line) => {
    const sec = /^\s*\[([^\]]+)\]/.exec(line);
    if (sec) section = sec[1].trim().toLowerCase();
    if (section !== 'databases' || /^\s*[;#]/.test(line)) return line;
    return line.replace(/(\bhost\s*=\s*)([^\s]+)/, (_m, k: string, v: string) => {
      previous.push(v);
      return `${k}${host}`;
    });
  });
  return { text: out.join('\n'), previous };
}

/** The runtime pgbouncer.ini of the PgBouncer container (refuses when it does not run). */
export async function readPgBouncerIni(ctx: PgBouncerContext): Promise<string> {
  const container = ctx.topology.pgbouncer.container;
  const st = await ctx.containers.state(container);
  if (!st || st.Status !== 'running') {
    throw new PgBouncerError(`${container} is ${st ? st.Status : 'missing'}: PgBouncer cannot be repointed. Start it (PG HA Workshop: Start Node) and repoint again.`);
  }
  const read = await ctx.containers.exec(container, ['cat', PGBOUNCER_RUNTIME_INI]);
  if (read.exitCode !== 0) throw new PgBouncerError(`Could not read ${PGBOUNCER_RUNTIME_INI} in ${container}: ${read.stderr.trim() || `exit code ${read.exitCode}`}.`);
  return read.stdout;
}

/**
 * Points PgBouncer's databases at `service` (a compose service name, e.g. postgres-replica1).
 * With `pause`, PAUSE first and RESUME after (always resumed, even on failure). `ini`: the runtime
 * ini read before (readPgBouncerIni) by a caller that holds the operation lock, so that the
 * repoint after a promotion costs one write and a RELOAD.
 */
export async function repointPgBouncer(ctx: PgBouncerContext, service: string, o: { pause?: boolean; ini?: string } = {}): Promise<{ from: string[]; to: string; tookMs: number; changed: boolean }> {
  const t0 = Date.now();
  const container = ctx.topology.pgbouncer.container;
  const ini = o.ini ?? (await readPgBouncerIni(ctx));
  const { text, previous } = rewriteDatabasesHost(ini, service);
  if (previous.length === 0) throw new PgBouncerError(`${PGBOUNCER_RUNTIME_INI} in ${container} has no host= entry under [databases]: nothing to repoint.`);
  const changed = previous.some((p) => p !== service);
  let paused = false;
  try {
    if (o.pause) {
      await adminCommand(ctx.topology, 'PAUSE');
      paused = true;
    }
    if (changed) {
      // Written through a temporary file and renamed: PgBouncer never reads half a file.
      const w = await ctx.containers.exec(container, ['sh', '-c', `cat > ${PGBOUNCER_RUNTIME_INI}.new && mv ${PGBOUNCER_RUNTIME_INI}.new ${PGBOUNCER_RUNTIME_INI}`], { stdin: text });
      if (w.exitCode !== 0) throw new PgBouncerError(`Could not write ${PGBOUNCER_RUNTIME_INI} in ${container}: ${w.stderr.trim() || `exit code ${w.exitCode}`}.`);
    }
    await adminCommand(ctx.topology, 'RELOAD');
  } finally {
    if (paused) await adminCommand(ctx.topology, 'RESUME').catch(() => undefined);
  }
  return { from: [...new Set(previous)], to: service, tookMs: Date.now() - t0, changed };
}
