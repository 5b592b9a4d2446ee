// What a user (or a failover) does to one node: stop, start, restart, kill, promote. Each action
// checks its preconditions first and fails with a NodeActionError whose message says what, why
// and what to do; nothing is changed when a precondition fails.
//
// API (no vscode):
//   resolveNode(topology, nameOrKey)        → NodeTarget (a PostgreSQL node or PgBouncer) | throws
//   stopNode(ctx, node, { timeoutSec? })    clean shutdown (docker stop)
//   startNode(ctx, node, { unfence? })      docker start; refuses a node fenced by a failover (see
//                                           fenceMarker.ts) unless unfence: true lifts the fence first
//   Starting, promoting and (in fencing.ts) fencing a PostgreSQL node take the cluster's operation
//   lock (operationLock.ts): refused with OperationBusyError while another operation runs.
//   restartNode(ctx, node, { timeoutSec? }) docker restart
//   killNode(ctx, node, { signal? })        a crash: SIGKILL, no shutdown checkpoint
//   promoteReplica(ctx, node, { waitSeconds? }) pg_promote(wait => true); refuses a primary / a stopped node
//   waitUntilReady(ctx, node, timeoutMs)    resolves when PostgreSQL (or PgBouncer) accepts queries
// `node` is a NodeKey ('replica1'), a service ('postgres-replica1') or a container name.
// Every action resolves to an ActionResult; `changed: false` when the node already was there.
// Promotion does not fence the old primary: callers that fail over stop/kill it first.
import { Containers, DockerError } from '../docker/engine';
import { classifyPgError, withNodeClient } from './connection';
import { fenceConsequence, liftFence, readFence } from './fenceMarker';
import { processHolder, withOperationLock } from './operationLock';
import type { ClusterTopology, NodeKey, PgNodeSpec } from './topology';

export interface NodeActionContext {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
  /** Who acts, as the operation lock shows it ("VS Code window (pid 12 on host)"). */
  readonly holder?: string;
}

export function holderOf(ctx: { readonly holder?: string }): string {
  return ctx.holder ?? processHolder('pg-ha-workshop');
}

export type NodeActionProblem =
  | 'unknownNode' // not a node of this cluster
  | 'noContainer' // the container does not exist (cluster not started, or removed)
  | 'notRunning' // the action needs a running container
  | 'alreadyPrimary' // promote on a node that is not in recovery
  | 'unreachable' // PostgreSQL does not answer
  | 'promoteFailed'
  | 'fenced' // the node was fenced by a failover: rejoin it, or start it as it is on purpose
  | 'docker'; // Docker itself failed (not running, no permission, ...)

export class NodeActionError extends Error {
  constructor(
    message: string,
    readonly problem: NodeActionProblem,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'NodeActionError';
  }
}

export type NodeTarget = { readonly kind: 'postgres'; readonly key: NodeKey; readonly container: string; readonly hostPort: number; readonly spec: PgNodeSpec } | { readonly kind: 'pgbouncer'; readonly key: 'pgbouncer'; readonly container: string; readonly hostPort: number };

export interface ActionResult {
  readonly node: NodeKey | 'pgbouncer';
  readonly container: string;
  /** False when the node already was in the requested state. */
  readonly changed: boolean;
  readonly tookMs: number;
  /** One line for the user: what happened. */
  readonly message: string;
}

export interface PromoteResult extends ActionResult {
  /** Timeline the promoted node now writes on. */
  readonly timeline: number;
}

export function resolveNode(t: ClusterTopology, nameOrKey: string): NodeTarget {
  const n = t.nodes.find((x) => x.key === nameOrKey || x.service === nameOrKey || x.container === nameOrKey);
  if (n) return { kind: 'postgres', key: n.key, container: n.container, hostPort: n.hostPort, spec: n };
  const b = t.pgbouncer;
  if (nameOrKey === 'pgbouncer' || nameOrKey === b.service || nameOrKey === b.container) return { kind: 'pgbouncer', key: 'pgbouncer', container: b.container, hostPort: b.hostPort };
  const known = [...t.nodes.map((x) => x.container), b.container].join(', ');
  throw new NodeActionError(`"${nameOrKey}" is not a node of this cluster (its containers: ${known}).`, 'unknownNode');
}

function wrapDocker(e: unknown): NodeActionError {
  if (e instanceof NodeActionError) return e;
  if (e instanceof DockerError) return new NodeActionError(e.message, e.problem === 'notFound' ? 'noContainer' : 'docker', e);
  return new NodeActionError(e instanceof Error ? e.message : String(e), 'docker', e);
}

async function containerStatus(ctx: NodeActionContext, target: NodeTarget): Promise<string> {
  let st;
  try {
    st = await ctx.containers.state(target.container);
  } catch (e) {
    throw wrapDocker(e);
  }
  if (!st) {
    throw new NodeActionError(
      `${target.container} does not exist: the cluster is not created (or was reset). Start the cluster first (PG HA Workshop: Start Cluster).`,
      'noContainer',
    );
  }
  return st.Status;
}

async function timed<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = Date.now();
  const v = await f();
  return [v, Date.now() - t0];
}

export async function stopNode(ctx: NodeActionContext, node: string, o: { timeoutSec?: number } = {}): Promise<ActionResult> {
  const target = resolveNode(ctx.topology, node);
  const status = await containerStatus(ctx, target);
  if (status !== 'running' && status !== 'restarting' && status !== 'paused') {
    return { node: target.key, container: target.container, changed: false, tookMs: 0, message: `${target.container} is already stopped (${status}).` };
  }
  try {
    const [, ms] = await timed(() => ctx.containers.stop(target.container, o.timeoutSec ?? 10));
    return { node: target.key, container: target.container, changed: true, tookMs: ms, message: `${target.container} stopped (clean shutdown) in ${(ms / 1000).toFixed(1)} s.` };
  } catch (e) {
    throw wrapDocker(e);
  }
}

export async function startNode(ctx: NodeActionContext, node: string, o: { unfence?: boolean } = {}): Promise<ActionResult> {
  const target = resolveNode(ctx.topology, node);
  if (target.kind === 'pgbouncer') return startContainer(ctx, target);
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Start ${target.container}`, nodes: [target.spec.service] }, async () => {
    await refuseIfFenced(ctx, target, o.unfence === true);
    return startContainer(ctx, target);
  });
}

/** Throws 'fenced' when a failover fenced the node; with `unfence`, lifts the fence instead. */
async function refuseIfFenced(ctx: NodeActionContext, target: NodeTarget, unfence: boolean): Promise<void> {
  if (target.kind !== 'postgres') return;
  const mark = await readFence(ctx, target.key).catch(() => undefined);
  if (!mark) return;
  if (unfence) {
    await liftFence(ctx, target.key);
    return;
  }
  throw new NodeActionError(
    `${target.container} is fenced since ${new Date(mark.at).toISOString().slice(11, 19)} UTC (${mark.reason}). Rejoin it as a replica (PG HA Workshop: Rejoin as Replica), or start it as it is on purpose: ${fenceConsequence(target.container)}`,
    'fenced',
  );
}

async function startContainer(ctx: NodeActionContext, target: NodeTarget): Promise<ActionResult> {
  const status = await containerStatus(ctx, target);
  if (status === 'running') return { node: target.key, container: target.container, changed: false, tookMs: 0, message: `${target.container} is already running.` };
  try {
    const [, ms] = await timed(() => (status === 'paused' ? ctx.containers.docker.getContainer(target.container).unpause() : ctx.containers.start(target.container)));
    return { node: target.key, container: target.container, changed: true, tookMs: ms, message: `${target.container} started.` };
  } catch (e) {
    throw wrapDocker(e);
  }
}

export async function restartNode(ctx: NodeActionContext, node: string, o: { timeoutSec?: number } = {}): Promise<ActionResult> {
  const target = resolveNode(ctx.topology, node);
  await containerStatus(ctx, target);
  await refuseIfFenced(ctx, target, false);
  try {
    const [, ms] = await timed(() => ctx.containers.restart(target.container, o.timeoutSec ?? 10));
    return { node: target.key, container: target.container, changed: true, tookMs: ms, message: `${target.container} restarted in ${(ms / 1000).toFixed(1)} s.` };
  } catch (e) {
    throw wrapDocker(e);
  }
}

export async function killNode(ctx: NodeActionContext, node: string, o: { signal?: string } = {}): Promise<ActionResult> {
  const target = resolveNode(ctx.topology, node);
  const status = await containerStatus(ctx, target);
  // A paused (frozen) container can be killed: that is how a hung node is fenced.
  if (status !== 'running' && status !== 'restarting' && status !== 'paused') {
    throw new NodeActionError(`${target.container} is not running (${status}): there is nothing to kill. Start it first if you want to crash it.`, 'notRunning');
  }
  const signal = o.signal ?? 'SIGKILL';
  try {
    const [, ms] = await timed(() => ctx.containers.kill(target.container, signal));
    return { node: target.key, container: target.container, changed: true, tookMs: ms, message: `${target.container} killed with ${signal} (a crash: no shutdown checkpoint).` };
  } catch (e) {
    throw wrapDocker(e);
  }
}

export async function promoteReplica(ctx: NodeActionContext, node: string, o: { waitSeconds?: number } = {}): Promise<PromoteResult> {
  const target = resolveNode(ctx.topology, node);
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Promote ${target.container}`, nodes: [target.kind === 'postgres' ? target.spec.service : target.container] }, () => promoteLocked(ctx, target, o));
}

async function promoteLocked(ctx: NodeActionContext, target: NodeTarget, o: { waitSeconds?: number }): Promise<PromoteResult> {
  if (target.kind !== 'postgres') throw new NodeActionError(`${target.container} is the connection pooler, not a PostgreSQL node: only a replica can be promoted.`, 'unknownNode');
  // An attached cluster's nodes are no containers of ours: whether it runs, the connection says.
  if (ctx.topology.kind !== 'attached') {
    const status = await containerStatus(ctx, target);
    if (status !== 'running') {
      throw new NodeActionError(`${target.container} is not running (${status}): a stopped node cannot be promoted. Start it first (PG HA Workshop: Start Node), or promote another replica.`, 'notRunning');
    }
  }
  const waitSeconds = o.waitSeconds ?? 60;
  const t0 = Date.now();
  try {
    return await withNodeClient(
      ctx.topology,
      target.hostPort,
      async (c) => {
        const rec = await c.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec');
        if (!rec.rows[0]?.rec) {
          throw new NodeActionError(`${target.container} is already a primary (it is not in recovery): there is nothing to promote. Promote a replica instead.`, 'alreadyPrimary');
        }
        const r = await c.query<{ done: boolean }>('SELECT pg_promote(true, $1) AS done', [waitSeconds]);
        if (!r.rows[0]?.done) {
          throw new NodeActionError(`${target.container} did not finish promotion within ${waitSeconds} s. Check its log (PG HA Workshop: Show Node Logs).`, 'promoteFailed');
        }
        const tl = await c.query<{ tl: number }>("SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tl");
        const ms = Date.now() - t0;
        const timeline = tl.rows[0]?.tl ?? 0;
        return { node: target.key, container: target.container, changed: true, tookMs: ms, timeline, message: `${target.container} promoted: it accepts writes on timeline ${timeline} (${ms} ms).` };
      },
      { host: target.spec.host, connectTimeoutMs: 30_000, queryTimeoutMs: (waitSeconds + 5) * 1000, applicationName: 'pg-ha-workshop promote' },
    );
  } catch (e) {
    if (e instanceof NodeActionError) throw e;
    const f = classifyPgError(e);
    if (f.kind === 'refused' || f.kind === 'timeout' || f.kind === 'starting' || f.kind === 'shuttingDown' || f.kind === 'connectionLost') {
      throw new NodeActionError(`Could not promote ${target.container}: PostgreSQL does not answer on port ${target.hostPort} (${f.message}). Wait until the node is up (see the cluster view), then try again.`, 'unreachable', e);
    }
    throw new NodeActionError(`Could not promote ${target.container}: ${f.message}`, 'promoteFailed', e);
  }
}

/** Resolves when the node answers a query; rejects with a NodeActionError after `timeoutMs`. */
export async function waitUntilReady(ctx: NodeActionContext, node: string, timeoutMs = 60_000): Promise<number> {
  const target = resolveNode(ctx.topology, node);
  const t0 = Date.now();
  let last = '';
  while (Date.now() - t0 < timeoutMs) {
    try {
      await withNodeClient(ctx.topology, target.hostPort, (c) => c.query(target.kind === 'pgbouncer' ? 'SHOW VERSION' : 'SELECT 1'), {
        database: target.kind === 'pgbouncer' ? 'pgbouncer' : undefined,
        connectTimeoutMs: 1000,
        queryTimeoutMs: 2000,
      });
      return Date.now() - t0;
    } catch (e) {
      last = classifyPgError(e).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new NodeActionError(`${target.container} did not accept connections within ${Math.round(timeoutMs / 1000)} s (${last}). Check its log (PG HA Workshop: Show Node Logs).`, 'unreachable');
}
