// Synchronous replication (Exercise 1): synchronous_standby_names (FIRST n (...) / ANY n (...)) and
// synchronous_commit (on, remote_write, remote_apply, local, off), applied with ALTER SYSTEM and
// pg_reload_conf() on the primary, and on the running standbys too, so the setting survives a
// failover (the promoted node then waits for its own standbys).
//
// API (no vscode):
//   setSynchronousReplication(ctx, { method, num?, standbys?, commit?, force? }) → SyncState
//   getSynchronousReplication(ctx)   → SyncState (the primary's settings and pg_stat_replication.sync_state)
//   validateSyncConfig(cfg, topology) → problems (pure)
import { classifyPgError, withNodeClient } from './connection';
import { formatSyncNames, quoteLiteral, surveyCluster, type FailoverContext } from './failover';
import type { ClusterTopology } from './topology';

export type SyncCommit = 'on' | 'remote_write' | 'remote_apply' | 'local' | 'off';
export const SYNC_COMMITS: readonly SyncCommit[] = ['remote_apply', 'on', 'remote_write', 'local', 'off'];

export interface SyncConfig {
  /** 'async' clears synchronous_standby_names. */
  readonly method: 'FIRST' | 'ANY' | 'async';
  readonly num?: number;
  /** Service names (application_name); default: every replica of the topology but the primary. */
  readonly standbys?: readonly string[];
  readonly commit?: SyncCommit;
  /** Apply even when fewer than `num` of the named standbys stream (every commit then waits). */
  readonly force?: boolean;
}

export interface SyncState {
  readonly primary: string;
  readonly synchronousStandbyNames: string;
  readonly synchronousCommit: string;
  readonly standbys: readonly { readonly name: string; readonly state: string; readonly syncState: string; readonly syncPriority: number }[];
  readonly appliedOn: readonly string[];
  readonly warnings: readonly string[];
}

export class SyncConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncConfigError';
  }
}

export function validateSyncConfig(cfg: SyncConfig, t: ClusterTopology): string[] {
  const p: string[] = [];
  if (!['FIRST', 'ANY', 'async'].includes(cfg.method)) p.push(`Method must be FIRST, ANY or async (got ${String(cfg.method)}).`);
  if (cfg.commit !== undefined && !SYNC_COMMITS.includes(cfg.commit)) p.push(`synchronous_commit must be one of ${SYNC_COMMITS.join(', ')} (got ${String(cfg.commit)}).`);
  if (cfg.method !== 'async') {
    const names = cfg.standbys ?? [];
    const known = t.nodes.map((n) => n.service);
    for (const n of names) if (!known.includes(n)) p.push(`${n} is not a node of this cluster (${known.join(', ')}).`);
    if (cfg.standbys !== undefined && names.length === 0) p.push('Name at least one standby.');
    const num = cfg.num ?? 1;
    if (!Number.isInteger(num) || num < 1 || (names.length > 0 && num > names.length)) p.push(`The number of synchronous standbys must be a whole number from 1 to ${names.length || 'the number of named standbys'} (got ${num}).`);
  }
  return p;
}

async function readState(ctx: FailoverContext, port: number, primary: string, appliedOn: string[], warnings: string[]): Promise<SyncState> {
  return withNodeClient(
    ctx.topology,
    port,
    async (c) => {
      const s = await c.query<{ names: string; commit: string }>("SELECT current_setting('synchronous_standby_names') AS names, current_setting('synchronous_commit') AS commit");
      const r = await c.query<{ name: string; state: string; sync_state: string; sync_priority: number }>('SELECT application_name AS name, state, sync_state, sync_priority FROM pg_stat_replication ORDER BY application_name');
      return {
        primary,
        synchronousStandbyNames: s.rows[0].names,
        synchronousCommit: s.rows[0].commit,
        standbys: r.rows.map((x) => ({ name: x.name, state: x.state, syncState: x.sync_state, syncPriority: x.sync_priority })),
        appliedOn,
        warnings,
      };
    },
    { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000 },
  );
}

export async function getSynchronousReplication(ctx: FailoverContext): Promise<SyncState> {
  const s = await surveyCluster(ctx);
  const p = s.nodes.find((n) => n.key === s.primary);
  if (!p) throw new SyncConfigError(s.splitBrain ? 'Split brain: two nodes accept writes. Fence one first.' : 'No node accepts writes: start the primary or promote a replica first.');
  return readState(ctx, p.hostPort, p.container, [], []);
}

export async function setSynchronousReplication(ctx: FailoverContext, cfg: SyncConfig): Promise<SyncState> {
  const t = ctx.topology;
  const s = await surveyCluster(ctx);
  const p = s.nodes.find((n) => n.key === s.primary);
  if (!p) throw new SyncConfigError(s.splitBrain ? 'Split brain: two nodes accept writes. Fence one first, then configure synchronous replication.' : 'No node accepts writes: start the primary or promote a replica first.');
  const standbys = cfg.standbys ?? t.nodes.filter((n) => n.key !== p.key).map((n) => n.service);
  const full: SyncConfig = { ...cfg, standbys };
  const problems = validateSyncConfig(full, t);
  if (cfg.method !== 'async' && standbys.includes(p.service)) problems.push(`${p.service} is the primary: it cannot be its own synchronous standby.`);
  if (problems.length) throw new SyncConfigError(problems.join(' '));
  const num = cfg.num ?? 1;
  const value = cfg.method === 'async' ? '' : formatSyncNames(cfg.method, num, standbys);
  const warnings: string[] = [];
  if (cfg.method !== 'async') {
    const streaming = p.downstream.filter((r) => r.state === 'streaming' && standbys.includes(r.applicationName)).length;
    const waits = (cfg.commit ?? 'on') !== 'local' && (cfg.commit ?? 'on') !== 'off';
    if (streaming < num && waits) {
      const msg = `Only ${streaming} of the named standbys (${standbys.join(', ')}) stream from ${p.container}, fewer than ${num}: every commit would wait until enough of them connect.`;
      if (!cfg.force) throw new SyncConfigError(`${msg} Start the standbys first, or apply anyway.`);
      warnings.push(msg);
    }
  }
  const appliedOn: string[] = [];
  const apply = async (port: number, container: string, primary: boolean) => {
    try {
      await withNodeClient(
        t,
        port,
        async (c) => {
          await c.query(`ALTER SYSTEM SET synchronous_standby_names = ${quoteLiteral(value)}`);
          if (cfg.commit) await c.query(`ALTER SYSTEM SET synchronous_commit = ${quoteLiteral(cfg.commit)}`);
          await c.query('SELECT pg_reload_conf()');
        },
        { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000 },
      );
      appliedOn.push(container);
    } catch (e) {
      const m = `${container}: ${classifyPgError(e).message}`;
      if (primary) throw new SyncConfigError(`Could not change the settings on the primary ${m}. Nothing was changed.`);
      warnings.push(`Not applied on ${m} (it keeps its own settings until the next change).`);
    }
  };
  await apply(p.hostPort, p.container, true);
  await Promise.all(s.nodes.filter((n) => n.key !== p.key && n.containerState.status === 'running' && n.role !== 'primary').map((n) => apply(n.hostPort, n.container, false)));
  // The walsenders pick the new sync state up at the reload; give them a moment to report it.
  const deadline = Date.now() + 5000;
  let state = await readState(ctx, p.hostPort, p.container, appliedOn, warnings);
  const want = cfg.method === 'async' ? 'async' : cfg.method === 'ANY' ? 'quorum' : 'sync';
  while (Date.now() < deadline && !state.standbys.some((x) => x.syncState === want)) {
    await new Promise((r) => setTimeout(r, 200));
    state = await readState(ctx, p.hostPort, p.container, appliedOn, warnings);
  }
  return state;
}
