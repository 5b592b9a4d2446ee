// Exercise 3, delayed replica: postgres-replica2 applies each commit only after
// recovery_min_apply_delay (ALTER SYSTEM + reload on the standby: no restart, no re-clone), so a
// mistake on the primary (a DELETE without WHERE) can be read back from it before it is replayed:
// pause replay, read the rows, copy them back to the primary, resume.
//
// The delayed replica is replica2 reconfigured, not a fourth container: the workshop's three
// nodes, ports, scripts and views stay as they are, and undo is one RESET. From a terminal:
//   docker exec -it postgres-replica2 psql -U postgres -c "ALTER SYSTEM SET recovery_min_apply_delay = '1h'" -c "SELECT pg_reload_conf()"
//
// API (no vscode):
//   parseDelay(text)                       → { ms, setting } | throws LabError('badInput')  (pure)
//   setupDelayed(ctx, delay = '1h')        → LabResult (also changes the delay of an active lab)
//   undoDelayed(ctx)                       → LabResult (LabError 'alreadyUndone' when there is no delay)
//   checkDelayed(status)                   → LabCheck (pure)
//   pauseReplay(ctx) / resumeReplay(ctx)   pg_wal_replay_pause()/resume() on the delayed replica
//   readRowsFromDelayed(ctx, table, where) → rows as JSON text (what the replica still has)
//   copyRowsToPrimary(ctx, table, rows)    → number of rows inserted (ON CONFLICT DO NOTHING)
//   recoverRows(ctx, table, where)         the whole guided recovery in one call
import { formatDuration } from '../format';
import type { ClusterStatus } from '../status';
import type { NodeKey } from '../topology';
import { checkOf, LabError, nodeSpec, sqlOn, standardTopologyProblems, surveyCluster, type LabCheck, type LabContext, stopIfCancelled } from './common';
import type { LabResult } from './cascade';

export const DELAYED_NODE: NodeKey = 'replica2';
export const DEFAULT_DELAY = '1h';
/** recovery_min_apply_delay is an int in ms. */
const MAX_DELAY_MS = 2_147_483_647;

const UNITS: Record<string, [number, string]> = {
  ms: [1, 'ms'],
  millisecond: [1, 'ms'],
  milliseconds: [1, 'ms'],
  s: [1000, 's'],
  sec: [1000, 's'],
  secs: [1000, 's'],
  second: [1000, 's'],
  seconds: [1000, 's'],
  min: [60_000, 'min'],
  mins: [60_000, 'min'],
  minute: [60_000, 'min'],
  minutes: [60_000, 'min'],
  h: [3_600_000, 'h'],
  hr: [3_600_000, 'h'],
  hour: [3_600_000, 'h'],
  hours: [3_600_000, 'h'],
  d: [86_400_000, 'd'],
  day: [86_400_000, 'd'],
  days: [86_400_000, 'd'],
};

/** '1h', '30 min', '3s', '500ms' → ms and the setting to write. Whole numbers only (PostgreSQL's int). */
export function parseDelay(text: string): { ms: number; setting: string } {
  const raw = (text ?? '').trim();
  const example = "Write a whole number and a unit, e.g. 1h, 30min, 10s or 500ms";
  if (!raw) throw new LabError(`No delay given. ${example}.`, 'badInput');
  if (/^-/.test(raw)) throw new LabError(`The delay cannot be negative (got "${raw}"): a replica cannot apply commits before they happen. ${example}.`, 'badInput');
  const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(raw);
  if (!m) throw new LabError(`"${raw}" is not a duration. ${example}.`, 'badInput');
  const unit = m[2].toLowerCase();
  if (!unit) throw new LabError(`"${raw}" has no unit. ${example} (PostgreSQL would read a bare number as milliseconds).`, 'badInput');
  const u = UNITS[unit];
  if (!u) throw new LabError(`"${m[2]}" is not a unit of time. Use ms, s, min, h or d (${example}).`, 'badInput');
  const ms = Number(m[1]) * u[0];
  if (ms === 0) throw new LabError(`A delay of 0 is no delay. ${example}; to remove the delay, undo the exercise.`, 'badInput');
  if (ms > MAX_DELAY_MS) throw new LabError(`${raw} is longer than PostgreSQL allows for recovery_min_apply_delay (${formatDuration(MAX_DELAY_MS)}).`, 'badInput');
  return { ms, setting: `${Number(m[1])}${u[1]}` };
}

async function setDelaySetting(ctx: LabContext, setting: string | null): Promise<void> {
  const assign = setting === null ? 'ALTER SYSTEM RESET recovery_min_apply_delay' : `ALTER SYSTEM SET recovery_min_apply_delay = '${setting}'`;
  await sqlOn(ctx, DELAYED_NODE, assign);
  await sqlOn(ctx, DELAYED_NODE, 'SELECT pg_reload_conf()');
}

/** The reload is asynchronous: wait until the standby reports the new value. */
async function waitDelay(ctx: LabContext, ms: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await sqlOn<{ v: string }>(ctx, DELAYED_NODE, "SELECT setting AS v FROM pg_settings WHERE name = 'recovery_min_apply_delay'");
    if (Number(r[0]?.v) === ms) return true;
    if (Date.now() > deadline) return false;
    await new Promise((res) => setTimeout(res, 100));
  }
}

export async function setupDelayed(ctx: LabContext, delay: string = DEFAULT_DELAY): Promise<LabResult> {
  const t0 = Date.now();
  const { ms, setting } = parseDelay(delay); // bad input fails before anything is touched
  const spec = nodeSpec(ctx.topology, DELAYED_NODE);
  const s = await surveyCluster(ctx);
  // Changing the delay of the running exercise is allowed; anything else must be standard.
  const problems = standardTopologyProblems(s).filter((p) => !p.startsWith(`${spec.container} is a delayed replica`) && !p.startsWith(`${spec.container} has its replay paused`));
  if (problems.length) {
    throw new LabError(
      `Exercise 3 (delayed replica) starts from the standard topology, but ${problems.join('; ')}. Undo the other lab first, or reset the cluster (PG HA Workshop: Reset Cluster).`,
      'notStandard',
    );
  }
  const before = s.nodes.find((n) => n.key === DELAYED_NODE)?.applyDelayMs ?? 0;
  stopIfCancelled(ctx, 'Nothing was changed.');
  await setDelaySetting(ctx, setting);
  if (!(await waitDelay(ctx, ms))) throw new LabError(`${spec.container} did not take the new recovery_min_apply_delay within 10 s. Check its log.`, 'failed');
  ctx.log?.(`Exercise 3: ${spec.container} recovery_min_apply_delay = ${setting}`);
  return {
    message: before
      ? `${spec.container}'s apply delay changed from ${formatDuration(before)} to ${formatDuration(ms)}.`
      : `${spec.container} is now a delayed replica: it applies each commit ${formatDuration(ms)} after the primary made it (it still receives the WAL at once).`,
    tookMs: Date.now() - t0,
  };
}

export async function undoDelayed(ctx: LabContext): Promise<LabResult> {
  const t0 = Date.now();
  const spec = nodeSpec(ctx.topology, DELAYED_NODE);
  let state: { delay: string; paused: boolean };
  try {
    const r = await sqlOn<{ delay: string; paused: boolean }>(ctx, DELAYED_NODE, "SELECT setting AS delay, pg_is_in_recovery() AND pg_is_wal_replay_paused() AS paused FROM pg_settings WHERE name = 'recovery_min_apply_delay'");
    state = r[0];
  } catch (e) {
    throw new LabError(`${spec.container} does not answer (${e instanceof Error ? e.message : String(e)}): start it first, or reset the cluster.`, 'unreachable', e);
  }
  if (Number(state.delay) === 0 && !state.paused) throw new LabError(`Exercise 3 is already undone: ${spec.container} has no apply delay. Nothing was changed.`, 'alreadyUndone');
  stopIfCancelled(ctx, 'Nothing was changed.');
  await setDelaySetting(ctx, null);
  await waitDelay(ctx, 0);
  if (state.paused) await sqlOn(ctx, DELAYED_NODE, 'SELECT pg_wal_replay_resume()');
  return { message: `${spec.container} applies commits at once again${state.paused ? ' (replay resumed)' : ''}: it catches up with everything it held back.`, tookMs: Date.now() - t0 };
}

export function checkDelayed(s: ClusterStatus): LabCheck {
  const n = s.nodes.find((x) => x.key === DELAYED_NODE);
  const items = [
    { label: `${n?.container ?? DELAYED_NODE} has an apply delay`, ok: !!n?.applyDelayMs, detail: n?.applyDelayMs ? `recovery_min_apply_delay = ${formatDuration(n.applyDelayMs)}` : 'no delay (recovery_min_apply_delay = 0)' },
    { label: `${n?.container ?? DELAYED_NODE} receives WAL`, ok: n?.role === 'replica' || n?.role === 'cascadingReplica', detail: `${n?.role ?? 'missing'}${n?.lag ? `, ${formatDuration(n.lag.replayMs)} behind in replay${n.replayPaused ? ' (replay paused)' : ''}` : ''}` },
  ];
  return checkOf(items, `${n?.container} is a delayed replica (${formatDuration(n?.applyDelayMs)}).`, 'Not a delayed replica yet.');
}

async function waitPauseState(ctx: LabContext, want: 'paused' | 'not paused', timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let state = '';
  do {
    state = (await sqlOn<{ s: string }>(ctx, DELAYED_NODE, 'SELECT pg_get_wal_replay_pause_state() AS s'))[0]?.s ?? '';
    if (state === want) return state;
    await new Promise((r) => setTimeout(r, 50));
  } while (Date.now() < deadline);
  return state;
}

/** Stops replay on the delayed replica (so the mistake is never applied there). */
export async function pauseReplay(ctx: LabContext): Promise<void> {
  const spec = nodeSpec(ctx.topology, DELAYED_NODE);
  const rec = await sqlOn<{ r: boolean }>(ctx, DELAYED_NODE, 'SELECT pg_is_in_recovery() AS r');
  if (!rec[0]?.r) throw new LabError(`${spec.container} is not a standby (it was promoted): there is no replay to pause. Reset the cluster.`, 'notStandard');
  await sqlOn(ctx, DELAYED_NODE, 'SELECT pg_wal_replay_pause()');
  const st = await waitPauseState(ctx, 'paused');
  if (st !== 'paused') throw new LabError(`${spec.container} did not pause replay within 10 s (state: ${st}).`, 'failed');
}

export async function resumeReplay(ctx: LabContext): Promise<void> {
  await sqlOn(ctx, DELAYED_NODE, 'SELECT pg_wal_replay_resume()');
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `users` or `public.users` → quoted identifier; LabError for anything else. */
export function quoteTable(table: string): string {
  const parts = table.trim().split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) throw new LabError(`"${table}" is not a table name: write a name such as users or public.users.`, 'badInput');
  return parts.map((p) => `"${p}"`).join('.');
}

/** Rows the delayed replica still has (as JSON text), at most `limit`. `where` is a SQL condition. */
export async function readRowsFromDelayed(ctx: LabContext, table: string, where: string, limit = 1000): Promise<string[]> {
  const q = quoteTable(table);
  const cond = where.trim() || 'true';
  if (/;/.test(cond)) throw new LabError('The condition must be a single SQL expression, without ";" (e.g. id = 42).', 'badInput');
  try {
    const rows = await sqlOn<{ j: string }>(ctx, DELAYED_NODE, `SELECT row_to_json(t)::text AS j FROM ${q} t WHERE ${cond} LIMIT ${limit}`, [], ctx.topology.superuser.database);
    return rows.map((r) => r.j);
  } catch (e) {
    throw new LabError(`Could not read ${table} on ${nodeSpec(ctx.topology, DELAYED_NODE).container}: ${e instanceof Error ? e.message : String(e)}`, 'badInput', e);
  }
}

/** Inserts the rows into the same table on the primary; rows that are still there are left alone. */
export async function copyRowsToPrimary(ctx: LabContext, table: string, rows: readonly string[]): Promise<number> {
  if (rows.length === 0) return 0;
  const q = quoteTable(table);
  const json = `[${rows.join(',')}]`;
  const r = await sqlOn<{ n: number }>(
    ctx,
    'primary',
    `WITH ins AS (INSERT INTO ${q} SELECT * FROM json_populate_recordset(NULL::${q}, $1::json) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM ins`,
    [json],
    ctx.topology.superuser.database,
  );
  return r[0]?.n ?? 0;
}

export interface RecoveryResult {
  readonly found: number;
  readonly restored: number;
  readonly message: string;
}

/** The guided recovery in one call: pause, read, copy back, resume (always resumes). */
export async function recoverRows(ctx: LabContext, table: string, where: string): Promise<RecoveryResult> {
  quoteTable(table);
  await pauseReplay(ctx);
  try {
    const rows = await readRowsFromDelayed(ctx, table, where);
    if (rows.length === 0) {
      return { found: 0, restored: 0, message: `The delayed replica has no ${table} rows where ${where}: either they never existed, or the delay was too short and the mistake is already replayed there.` };
    }
    const restored = await copyRowsToPrimary(ctx, table, rows);
    return { found: rows.length, restored, message: `${rows.length} row(s) read from the delayed replica; ${restored} copied back to the primary${restored < rows.length ? ` (${rows.length - restored} were still there)` : ''}.` };
  } finally {
    await resumeReplay(ctx).catch(() => undefined);
  }
}
