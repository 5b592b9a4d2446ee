// What every demo of the workshop shares: the context it runs in, the shape of its result (measured
// values and the checks the workshop promises), and the "not ready" error that names what is
// missing so the caller can offer to do it. No vscode here: the walkthrough glue localizes.
//
// API (no vscode):
//   DemoContext, DemoResult<M>, DemoCheck, DemoNotReady(missing, message)
//   readyCluster(ctx, { replicas })  → { status, primary, replicas } from one fresh probe, or throws DemoNotReady
//   check(id, ok, detail)            → DemoCheck
//   timedQuery(client, sql, params)  → [rows, ms]
import { Client } from 'pg';
import type { Containers } from '../../docker/engine';
import { nodeClientConfig } from '../connection';
import { surveyCluster } from '../failover';
import type { ClusterStatus, NodeStatus } from '../status';
import type { ClusterTopology, NodeKey, PgNodeSpec } from '../topology';

export type DemoId = 'prerequisites' | 'start' | 'verify' | 'demo1' | 'demo2' | 'demo3' | 'demo4' | 'demo5' | 'demo6' | 'demo7' | 'demo9' | 'cleanup';

/** The walkthrough's order. */
export const DEMO_ORDER: readonly DemoId[] = ['prerequisites', 'start', 'verify', 'demo1', 'demo2', 'demo3', 'demo4', 'demo5', 'demo6', 'demo7', 'demo9', 'cleanup'];

export interface DemoContext {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
  /** Each step as it happens (the output channel; a test's diagnostic). English, technical. */
  readonly log?: (message: string) => void;
  /** Each round of pg_stat_replication samples a demo takes (the lag chart draws them). */
  readonly onReplicationSamples?: (samples: readonly import('./replicationSampler').ReplicationSample[]) => void;
}

/** One promise of the workshop, checked: `id` is stable (the UI localizes it), `detail` holds the measured value. */
export interface DemoCheck {
  readonly id: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DemoResult<M = Record<string, unknown>> {
  readonly demo: DemoId;
  /** True only when every check holds. */
  readonly passed: boolean;
  readonly startedAt: number;
  readonly tookMs: number;
  readonly checks: readonly DemoCheck[];
  /** The measured values (per demo; see each demo's Measures type). */
  readonly measures: M;
  /** Where the demo left the cluster, when it changed it (e.g. "postgres-replica1 is now the primary"). */
  readonly clusterAfter?: string;
}

/** What a demo needs that is not there. */
export type Missing =
  | 'docker' // no engine
  | 'cluster' // cluster not started
  | 'replicas' // fewer streaming replicas than the demo needs
  | 'primary' // no writable node
  | 'splitBrain' // two writable nodes: Demo 6 resolves it
  | 'failover' // Demo 6 starts from Demo 4's failover
  | 'pgbouncer'; // PgBouncer down

/** The demo did not start (nothing was changed): `missing` says what to do first. */
export class DemoNotReady extends Error {
  constructor(
    readonly missing: Missing,
    message: string,
  ) {
    super(message);
    this.name = 'DemoNotReady';
  }
}

/** A demo failed part-way: `clusterAfter` says in which state it left the cluster. */
export class DemoFailed extends Error {
  constructor(
    message: string,
    readonly clusterAfter: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'DemoFailed';
  }
}

export function check(id: string, ok: boolean, detail: string): DemoCheck {
  return { id, ok, detail };
}

export function result<M>(demo: DemoId, startedAt: number, checks: DemoCheck[], measures: M, clusterAfter?: string): DemoResult<M> {
  return { demo, passed: checks.length > 0 && checks.every((c) => c.ok), startedAt, tookMs: Date.now() - startedAt, checks, measures, clusterAfter };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function specOf(t: ClusterTopology, key: NodeKey): PgNodeSpec {
  return t.nodes.find((n) => n.key === key)!;
}

/** A connected client to a node (caller ends it). */
export async function connect(t: ClusterTopology, port: number, database?: string, applicationName = 'pgha-demo'): Promise<Client> {
  const c = new Client(nodeClientConfig(t, port, { database, connectTimeoutMs: 5000, queryTimeoutMs: 15_000, applicationName }));
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export async function timedQuery<R extends Record<string, unknown>>(c: Client, sql: string, params: unknown[] = []): Promise<[R[], number]> {
  const t0 = performance.now();
  const r = await c.query<R>(sql, params);
  return [r.rows, performance.now() - t0];
}

export interface ReadyCluster {
  readonly status: ClusterStatus;
  readonly primary: PgNodeSpec;
  /** Replicas streaming from the primary now. */
  readonly replicas: readonly PgNodeSpec[];
}

function streamingFrom(s: ClusterStatus, primary: NodeKey): NodeStatus[] {
  const p = s.nodes.find((n) => n.key === primary);
  const names = new Set((p?.downstream ?? []).filter((d) => d.state === 'streaming').map((d) => d.applicationName));
  return s.nodes.filter((n) => n.key !== primary && (n.role === 'replica' || n.role === 'cascadingReplica') && names.has(n.service));
}

/**
 * One fresh look at the cluster; throws DemoNotReady (nothing changed) when the demo cannot run:
 * engine down, cluster not started, split brain, no primary, or fewer streaming replicas than needed.
 */
export async function readyCluster(ctx: DemoContext, needs: { replicas: number; waitMs?: number } = { replicas: 1 }): Promise<ReadyCluster> {
  const deadline = Date.now() + (needs.waitMs ?? 20_000);
  for (;;) {
    let s: ClusterStatus;
    try {
      s = await surveyCluster(ctx);
    } catch (e) {
      throw new DemoNotReady('docker', e instanceof Error ? e.message : String(e));
    }
    const why = notReady(ctx.topology, s, needs.replicas);
    if (!why) {
      const primary = specOf(ctx.topology, s.primary!);
      const replicas = streamingFrom(s, s.primary!).map((n) => specOf(ctx.topology, n.key));
      return { status: s, primary, replicas };
    }
    // Replicas still starting or reconnecting, or a primary that did not answer this one probe
    // (a busy machine), get a short grace; the rest fails at once.
    const transient = why.missing === 'replicas' || (why.missing === 'primary' && s.nodes.some((n) => n.role === 'unreachable' || n.role === 'starting'));
    if (!transient || Date.now() > deadline) throw why;
    await sleep(500);
  }
}

export function notReady(t: ClusterTopology, s: ClusterStatus, replicas: number): DemoNotReady | undefined {
  if (!s.docker.ok) return new DemoNotReady('docker', s.docker.message);
  const pgNodes = s.nodes.filter((n) => n.containerState.status !== 'missing');
  if (pgNodes.length === 0 || s.nodes.every((n) => n.role === 'down')) {
    return new DemoNotReady('cluster', `The workshop cluster is not running (no ${t.nodes.map((n) => n.container).join(', ')} running).`);
  }
  if (s.splitBrain || s.writable.length > 1) {
    return new DemoNotReady('splitBrain', `${s.writable.map((k) => specOf(t, k).container).join(' and ')} both accept writes. Resolve it first (Demo 6: fence the old primary, rejoin it as a replica).`);
  }
  if (!s.primary) {
    const down = s.nodes.filter((n) => n.role === 'down').map((n) => n.container);
    return new DemoNotReady('primary', `No node accepts writes${down.length ? ` (${down.join(', ')} down)` : ''}. Fail over to a replica (Demo 4) or start the primary again.`);
  }
  const streaming = streamingFrom(s, s.primary);
  if (streaming.length < replicas) {
    const others = s.nodes.filter((n) => n.key !== s.primary && !streaming.includes(n)).map((n) => `${n.container}: ${n.role}${n.problem ? ` (${n.problem})` : ''}`);
    return new DemoNotReady('replicas', `This demo needs ${replicas} replica(s) streaming from ${specOf(t, s.primary).container}; ${streaming.length} stream${others.length ? ` (${others.join('; ')})` : ''}.`);
  }
  return undefined;
}

export function percentileOf(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export const round1 = (n: number) => Math.round(n * 10) / 10;
