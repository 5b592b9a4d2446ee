// What every lab shares: the context it runs in, its error type, the "standard topology" check a
// lab needs before it changes anything, and the shape of a lab check (a list of expectations, each
// met or not, with what was seen).
//
// API (no vscode):
//   LabContext                       topology + containers (+ log), as the failover's context
//   LabError(message, problem)       a user-facing refusal; nothing was changed when it is thrown
//                                    (except 'cancelled', whose message says where the cluster is)
//   stopIfCancelled(ctx, where)      a safe point: throws LabError('cancelled') once ctx.signal is aborted
//   standardTopologyProblems(status) → string[]: why the cluster is not primary + 2 direct replicas
//   requireStandardTopology(ctx, lab) throws LabError('notStandard') with a reset hint
//   LabCheck { ok, summary, items[] }, checkOf(items, summary)
//   nodeSpec(t, key), sqlOn(ctx, key, text, params?)
import { withNodeClient } from '../connection';
import { surveyCluster, type FailoverContext } from '../failover';
import type { ClusterStatus } from '../status';
import type { ClusterTopology, NodeKey, PgNodeSpec } from '../topology';

export type LabContext = FailoverContext & {
  /** Cancel (the progress notification's button): honoured at the lab's safe points. */
  readonly signal?: AbortSignal;
};

export type LabId = 'sync' | 'cascade' | 'delayed' | 'autoFailover' | 'dashboard';

export type LabProblem = 'notStandard' | 'alreadyUndone' | 'badInput' | 'notSetUp' | 'unreachable' | 'failed' | 'cancelled';

export class LabError extends Error {
  constructor(
    message: string,
    readonly problem: LabProblem,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'LabError';
  }
}

/** A safe point of a lab: once cancelled, stop here and say where the cluster is (`where`). */
export function stopIfCancelled(ctx: LabContext, where: string): void {
  if (ctx.signal?.aborted) throw new LabError(`Cancelled. ${where}`, 'cancelled');
}

export interface LabCheckItem {
  readonly label: string;
  readonly ok: boolean;
  /** What was seen, in words. */
  readonly detail: string;
}

export interface LabCheck {
  readonly ok: boolean;
  readonly summary: string;
  readonly items: readonly LabCheckItem[];
}

export function checkOf(items: readonly LabCheckItem[], okSummary: string, failSummary: string): LabCheck {
  const ok = items.every((i) => i.ok);
  return { ok, summary: ok ? okSummary : `${failSummary} ${items.filter((i) => !i.ok).map((i) => `${i.label}: ${i.detail}`).join('; ')}`, items };
}

export function nodeSpec(t: ClusterTopology, key: NodeKey): PgNodeSpec {
  const n = t.nodes.find((x) => x.key === key);
  if (!n) throw new LabError(`The cluster has no node "${key}".`, 'failed');
  return n;
}

/** One statement on a node (database `postgres` unless given); rows. */
export async function sqlOn<R extends Record<string, unknown> = Record<string, unknown>>(
  ctx: LabContext,
  key: NodeKey,
  text: string,
  params: unknown[] = [],
  database = 'postgres',
): Promise<R[]> {
  const spec = nodeSpec(ctx.topology, key);
  return withNodeClient(ctx.topology, spec.hostPort, async (c) => (await c.query<R>(text, params)).rows, { database, connectTimeoutMs: 3000, queryTimeoutMs: 15_000 });
}

/**
 * The standard topology every lab starts from: postgres-primary writable, each other node a
 * replica streaming directly from it, asynchronous, no apply delay. Returns what differs.
 */
export function standardTopologyProblems(s: ClusterStatus): string[] {
  const p: string[] = [];
  if (!s.docker.ok) return [s.docker.message];
  for (const n of s.nodes) {
    if (n.role === 'down' || n.role === 'starting' || n.role === 'unreachable') p.push(`${n.container} is ${n.role === 'down' ? 'not running' : n.role === 'starting' ? 'still starting' : 'not answering'}`);
  }
  if (s.splitBrain) p.push(`split brain (${s.writable.join(', ')} accept writes)`);
  const primary = s.nodes.find((n) => n.key === 'primary');
  if (primary && (primary.role === 'replica' || primary.role === 'cascadingReplica' || primary.role === 'notStreaming')) p.push(`${primary.container} is not the primary (it is a ${primary.role === 'notStreaming' ? 'standby' : primary.role})`);
  for (const n of s.nodes) {
    if (n.key === 'primary') continue;
    if (n.role === 'primary') p.push(`${n.container} was promoted (it accepts writes)`);
    else if (n.role === 'cascadingReplica') p.push(`${n.container} streams from ${n.upstreamHost ?? n.upstream} (cascading, Exercise 2)`);
    else if (n.role === 'notStreaming') p.push(`${n.container} does not stream`);
    else if (n.role === 'replica' && n.upstream !== 'primary') p.push(`${n.container} streams from ${n.upstreamHost ?? n.upstream}`);
    if (n.applyDelayMs) p.push(`${n.container} is a delayed replica (recovery_min_apply_delay, Exercise 3)`);
    if (n.replayPaused) p.push(`${n.container} has its replay paused`);
  }
  if (primary?.synchronousStandbyNames) p.push(`${primary.container} replicates synchronously (synchronous_standby_names = '${primary.synchronousStandbyNames}', Exercise 1)`);
  return [...new Set(p)];
}

export async function requireStandardTopology(ctx: LabContext, lab: string): Promise<ClusterStatus> {
  const s = await surveyCluster(ctx);
  const problems = standardTopologyProblems(s);
  if (problems.length) {
    throw new LabError(
      `${lab} starts from the standard topology (postgres-primary with two replicas streaming from it), but ${problems.join('; ')}. Undo the other lab first, or reset the cluster (PG HA Workshop: Reset Cluster) to get the standard topology back.`,
      'notStandard',
    );
  }
  return s;
}

export { surveyCluster };
