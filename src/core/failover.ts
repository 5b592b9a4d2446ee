// Failover: choose the replica that has the most WAL, fence the old primary (never two writable
// nodes), promote, point the other replicas and PgBouncer at the new primary, and measure what it
// cost from the load ledger: RTO = first failed write → first successful write on the new primary;
// RPO = acknowledged writes missing on the new primary (count and time window).
//
// Order of steps and why:
//   1 survey          one fresh probe of every node (ClusterStatus); refuse early, change nothing,
//                     when no replica can take over, on split brain, or when the chosen one lags
//                     more than maxLagBytes and the caller does not confirm, or when synchronous
//                     replication was on and the primary's synchronous standby is lost with it
//                     (syncGuard.ts: no survivor is proven to hold every acknowledged commit)
//                     and the caller does not accept the data loss
//   2 catch up        (switchover only) wait until the candidate replayed the primary's WAL
//   3 fence           stop (clean: the standbys receive all WAL first) or kill the old primary; a
//                     paused (hung) one is killed: it is not down, it would write again on waking.
//                     The fence is made durable (fenceMarker.ts): it does not start again by itself
//   4 choose          re-read positions once the old primary is gone: newest timeline, then highest
//                     received LSN, then replay LSN (Patroni/repmgr); the explicit candidate
//                     otherwise. The lag limit is checked here, on the node that will be promoted
//   5 promote         pg_promote(); when it fails or its answer is lost, every node is looked at
//                     again: a candidate that became primary after all is kept (the failover goes
//                     on), and the old primary is started again (rollback) only when no node is or
//                     may become writable; otherwise it stays fenced and the error says so
//   6 pgbouncer       [databases] host + RELOAD (first: the clients' outage ends here), beside
//                     the new primary's synchronous_standby_names (no standby that is gone named)
//                     and beside 7
//   7 replicas        slot on the new primary + primary_conninfo/primary_slot_name + reload. With
//                     synchronous replication no commit on the new primary is acknowledged until
//                     a standby it names streams from it, so this is on the clients' critical path
//                     too: it never waits behind the checkpoint
//   8 checkpoint      on the new primary (pg_rewind of the old primary needs it)
//   9 measure         RTO/RPO from the ledger
//
// The whole failover holds the cluster's operation lock (operationLock.ts): a second failover,
// from this window, another window, the watcher or promote-replica.sh, is refused naming it.
// Cancel (options.signal) is honoured at safe points: before fencing (nothing changed), after
// fencing and before the promotion (rolled back as above); after the promotion it finishes.
//
// API (no vscode; the automatic-failover watcher and the walkthrough call it):
//   failover(ctx, options) → FailoverResult (throws FailoverError only when nothing was changed)
//   surveyCluster(ctx)     → ClusterStatus from one fresh probe round
//   chooseCandidate(cands) → best CandidateInfo (pure)
//   repointReplica(ctx, replica, newPrimary) / ensureSlot(ctx, onNode, slot)
import { Client } from 'pg';
import type { Containers } from '../docker/engine';
import { classifyPgError, nodeClientConfig, withNodeClient } from './connection';
import { formatBytes, parseLsn } from './format';
import { measureRpo, measureRto, type Rpo, type Rto, type WriteLedger } from './ledger';
import { presentSeqs } from './load';
import { markFenced } from './fenceMarker';
import { holderOf, killNode, promoteReplica, startNode, stopNode, NodeActionError, type NodeActionContext } from './nodeActions';
import { withOperationLock } from './operationLock';
import { readPgBouncerIni, repointPgBouncer } from './pgbouncer';
import { probeNode, probePgBouncer, type NodeProbe, type PgBouncerProbe } from './probe';
import { deriveStatus, type ClusterStatus, type NodeStatus } from './status';
import { judgeSyncGuard, prefetchPrimaryFacts, readSyncRequirement, type SyncGuardRefusal, type SyncRequirement } from './syncGuard';
import type { ClusterTopology, NodeKey, PgNodeSpec } from './topology';

export interface FailoverContext {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
  /** Progress lines (the output channel, a test's diagnostic). */
  readonly log?: (message: string) => void;
  /** Who acts, as the operation lock shows it. */
  readonly holder?: string;
}

export type FencingMode = 'stop' | 'kill';

export interface CandidateInfo {
  readonly key: NodeKey;
  readonly service: string;
  readonly replayLsn: string | null;
  readonly receiveLsn: string | null;
  /** Timeline the standby receives (or last checkpointed) on; null when unknown. */
  readonly timeline?: number | null;
  /** Bytes behind the most advanced position known (old primary's last LSN, or the best replica). */
  readonly behindBytes: number | null;
}

export interface FailoverOptions {
  /** 'auto' (default): highest replay LSN. Or a replica's key/service. */
  readonly candidate?: string;
  /** How to fence the old primary when it still runs. Default 'stop'. */
  readonly fencing?: FencingMode;
  /** Point the other replicas at the new primary (slot + conninfo). Default true. */
  readonly repointReplicas?: boolean;
  /** Point PgBouncer at the new primary. Default true. */
  readonly repointPgBouncer?: boolean;
  /** A candidate further behind than this needs confirmation. Default 1 MiB (Patroni's maximum_lag_on_failover). */
  readonly maxLagBytes?: number;
  /** Asked when the candidate is behind more than maxLagBytes; without it the failover is refused. */
  readonly confirmLag?: (c: CandidateInfo, others: readonly CandidateInfo[]) => Promise<boolean>;
  /**
   * Synchronous replication and the primary lost with its synchronous standby(s): no survivor is
   * proven to hold every acknowledged commit, so the failover is refused ('syncStandbyLost') unless
   * this is true or confirmDataLoss answers true (pg_auto_failover's guard).
   */
  readonly acceptDataLoss?: boolean;
  /** Asked when the guard above would refuse; without it (and without acceptDataLoss) the failover is refused. */
  readonly confirmDataLoss?: (refusal: SyncGuardRefusal) => Promise<boolean>;
  /** Switchover: wait until the candidate replayed everything the primary wrote before fencing. */
  readonly requireCaughtUp?: boolean;
  /** The load's ledger, for RTO and RPO. */
  readonly ledger?: WriteLedger;
  /** How long to wait for the load's first write on the new primary. Default 30 s. */
  readonly waitForLoadMs?: number;
  /** Is the load still running? (no wait for a write when it is not) */
  readonly loadRunning?: () => boolean;
  readonly onStep?: (step: FailoverStep) => void;
  readonly kind?: 'failover' | 'switchover';
  /** Only fail over when this node is still the one that failed (the watcher): refused when another node is primary now, or when it answers as a primary again. */
  readonly expectFailedPrimary?: NodeKey;
  /** How long to wait for another running operation before refusing. Default 0. */
  readonly lockWaitMs?: number;
  /** Cancel at the next safe point. */
  readonly signal?: AbortSignal;
  /** How the candidate is promoted (tests inject a lost answer here). Default promoteReplica. */
  readonly promote?: (ctx: NodeActionContext, node: NodeKey) => Promise<{ timeline: number; message: string }>;
  /** Called once the failover is certain to start, just before fencing (a switchover PAUSEs PgBouncer here). */
  readonly beforeFence?: () => Promise<void>;
}

export interface FailoverStep {
  readonly name: 'survey' | 'syncGuard' | 'catchUp' | 'fence' | 'choose' | 'promote' | 'checkpoint' | 'syncConfig' | 'replicas' | 'pgbouncer' | 'measure' | 'rollback';
  readonly ok: boolean;
  readonly ms: number;
  readonly message: string;
}

export type FailoverProblem = 'noHealthyReplica' | 'splitBrain' | 'badCandidate' | 'candidateBehind' | 'syncStandbyLost' | 'notCaughtUp' | 'fenceFailed' | 'promoteFailed' | 'docker' | 'primaryChanged' | 'cancelled';

/** Thrown when the failover could not start or was rolled back: `state` says where the cluster is. */
export class FailoverError extends Error {
  constructor(
    message: string,
    readonly problem: FailoverProblem,
    readonly state: string,
    readonly steps: readonly FailoverStep[] = [],
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'FailoverError';
  }
}

export interface FailoverResult {
  readonly kind: 'failover' | 'switchover';
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly oldPrimary?: { readonly key: NodeKey; readonly container: string; readonly service: string; readonly wasRunning: boolean; readonly lastLsn?: string | null };
  readonly fencing: { readonly mode: FencingMode | 'alreadyDown' | 'none'; readonly at?: number; readonly message: string };
  readonly newPrimary: { readonly key: NodeKey; readonly container: string; readonly service: string; readonly timeline: number; readonly promotedAt: number };
  readonly candidates: readonly CandidateInfo[];
  readonly chosenBecause: string;
  readonly replicas: readonly { readonly key: NodeKey; readonly container: string; readonly ok: boolean; readonly message: string }[];
  readonly pgbouncer?: { readonly ok: boolean; readonly message: string };
  /** Time from fencing (or the start when the primary was already down) to the new primary accepting writes. */
  readonly promotionMs: number;
  readonly rto?: Rto;
  readonly rpo?: Rpo;
  /** Why RTO/RPO are missing, when they are. */
  readonly measureNote?: string;
  readonly steps: readonly FailoverStep[];
  readonly warnings: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function lsnCmp(a: string | null | undefined, b: string | null | undefined): number {
  const x = parseLsn(a) ?? -1n;
  const y = parseLsn(b) ?? -1n;
  return x === y ? 0 : x > y ? 1 : -1;
}

/**
 * Best candidate as Patroni and repmgr choose: the newest timeline first (a standby on an older
 * timeline never wins on a raw LSN), then the highest received LSN (received WAL is on its disk and
 * will be replayed: not lost), then the highest replay LSN, then topology order. Pure.
 */
export function chooseCandidate(cands: readonly CandidateInfo[], order: readonly NodeKey[] = ['replica1', 'replica2', 'primary']): CandidateInfo | undefined {
  const received = (c: CandidateInfo) => (lsnCmp(c.receiveLsn, c.replayLsn) >= 0 ? c.receiveLsn : c.replayLsn);
  return [...cands].sort(
    (a, b) => (b.timeline ?? -1) - (a.timeline ?? -1) || lsnCmp(received(b), received(a)) || lsnCmp(b.replayLsn, a.replayLsn) || order.indexOf(a.key) - order.indexOf(b.key),
  )[0];
}

/** behindBytes of each candidate against `reference` (or the best position among them). Pure. */
export function withBehind(cands: readonly Omit<CandidateInfo, 'behindBytes'>[], reference?: string | null): CandidateInfo[] {
  let best = parseLsn(reference) ?? -1n;
  for (const c of cands) {
    for (const l of [c.replayLsn, c.receiveLsn]) {
      const v = parseLsn(l);
      if (v !== undefined && v > best) best = v;
    }
  }
  return cands.map((c) => {
    // What a standby received is on its disk and will be replayed: it counts as not lost.
    const rep = parseLsn(c.replayLsn);
    const rec = parseLsn(c.receiveLsn);
    const r = rep === undefined ? rec : rec === undefined ? rep : rec > rep ? rec : rep;
    return { ...c, behindBytes: r === undefined || best < 0n ? null : Number(best > r ? best - r : 0n) };
  });
}

export async function surveyCluster(ctx: Pick<FailoverContext, 'topology' | 'containers'>): Promise<ClusterStatus> {
  const t = ctx.topology;
  const names = [...t.nodes.map((n) => n.container), t.pgbouncer.container];
  let snapshot: Awaited<ReturnType<Containers['snapshot']>>;
  try {
    snapshot = await ctx.containers.snapshot(names);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    throw new FailoverError(m, 'docker', 'unchanged', [], e);
  }
  const probeOne = async (spec: PgNodeSpec): Promise<NodeProbe | undefined> => {
    if (snapshot[spec.container]?.status !== 'running') return undefined;
    const c = new Client(nodeClientConfig(t, spec.hostPort, { database: 'postgres', connectTimeoutMs: 20_000, queryTimeoutMs: 20_000, applicationName: 'pgha-failover' }));
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await probeNode(c, spec);
    } catch (e) {
      return { ok: false, node: spec.key, at: Date.now(), tookMs: 0, failure: classifyPgError(e) };
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const probeBouncer = async (): Promise<PgBouncerProbe | undefined> => {
    if (snapshot[t.pgbouncer.container]?.status !== 'running') return undefined;
    const c = new Client(nodeClientConfig(t, t.pgbouncer.hostPort, { database: 'pgbouncer', connectTimeoutMs: 20_000, queryTimeoutMs: 20_000, applicationName: 'pgha-failover' }));
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await probePgBouncer(c, t.pgbouncer);
    } catch (e) {
      return { ok: false, at: Date.now(), tookMs: 0, failure: classifyPgError(e) } as PgBouncerProbe;
    } finally {
      await c.end().catch(() => undefined);
    }
  };
  const [probes, bouncer] = await Promise.all([Promise.all(t.nodes.map(probeOne)), probeBouncer()]);
  // A node that merely answered too slowly gets one more chance (a busy host), a refused one not.
  await Promise.all(
    t.nodes.map(async (n, i) => {
      const p = probes[i];
      if (p && !p.ok && p.failure.kind === 'timeout') probes[i] = await probeOne(n);
    }),
  );
  const nodes: Partial<Record<NodeKey, NodeProbe>> = {};
  t.nodes.forEach((n, i) => {
    if (probes[i]) nodes[n.key] = probes[i];
  });
  return deriveStatus({ nodes, pgbouncer: bouncer }, { ok: true, states: snapshot }, t);
}

function isStandby(n: NodeStatus): boolean {
  return n.role === 'replica' || n.role === 'notStreaming' || n.role === 'cascadingReplica';
}

function describeNodes(s: ClusterStatus): string {
  return s.nodes.map((n) => `${n.container}: ${n.role}${n.problem ? ` (${n.problem})` : ''}`).join('; ');
}

/** Node the standbys stream from (or point at), when no node is writable. */
function inferOldPrimary(s: ClusterStatus): NodeStatus | undefined {
  if (s.writable.length === 1) return s.nodes.find((n) => n.key === s.writable[0]);
  const votes = new Map<NodeKey, number>();
  for (const n of s.nodes) if (isStandby(n) && n.upstream) votes.set(n.upstream, (votes.get(n.upstream) ?? 0) + 1);
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  if (best) return s.nodes.find((n) => n.key === best[0]);
  return s.nodes.find((n) => n.key === 'primary' && (n.role === 'down' || n.role === 'unreachable'));
}

async function positions(ctx: FailoverContext, nodes: readonly NodeStatus[]): Promise<Omit<CandidateInfo, 'behindBytes'>[]> {
  const out = await Promise.all(
    nodes.map(async (n) => {
      try {
        return await withNodeClient(
          ctx.topology,
          n.hostPort,
          async (c) => {
            const r = await c.query<{ rec: boolean; recv: string | null; rep: string | null; tli: number | null }>(
              'SELECT pg_is_in_recovery() AS rec, pg_last_wal_receive_lsn()::text AS recv, pg_last_wal_replay_lsn()::text AS rep, ' +
                'GREATEST((SELECT received_tli FROM pg_stat_wal_receiver), (pg_control_checkpoint()).timeline_id) AS tli',
            );
            const row = r.rows[0];
            return row?.rec ? ({ key: n.key, service: n.service, replayLsn: row.rep, receiveLsn: row.recv, timeline: row.tli === null ? null : Number(row.tli) } as Omit<CandidateInfo, 'behindBytes'>) : undefined;
          },
          { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000 },
        );
      } catch {
        return undefined;
      }
    }),
  );
  return out.filter((x): x is Omit<CandidateInfo, 'behindBytes'> => x !== undefined);
}

async function sql<R extends Record<string, unknown>>(ctx: FailoverContext, port: number, text: string, params: unknown[] = [], timeoutMs = 15_000): Promise<R[]> {
  return withNodeClient(ctx.topology, port, async (c) => (await c.query<R>(text, params)).rows, { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: Math.max(timeoutMs, 15_000) });
}

/** Creates a physical slot on the node when it is missing. Returns true when created. */
export async function ensureSlot(ctx: FailoverContext, on: PgNodeSpec, slot: string): Promise<boolean> {
  const rows = await sql<{ created: boolean }>(
    ctx,
    on.hostPort,
    'SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1) THEN false ELSE (SELECT true FROM pg_create_physical_replication_slot($1)) END AS created',
    [slot],
  );
  return rows[0]?.created === true;
}

export function replicaConninfo(t: ClusterTopology, upstreamService: string, applicationName: string): string {
  const u = t.replicationUser;
  return `host=${upstreamService} port=${t.internalPort} user=${u.user} password=${u.password} application_name=${applicationName}`;
}

/** Points a running standby at `upstream`: slot there, primary_conninfo + primary_slot_name, reload. */
export async function repointReplica(ctx: FailoverContext, replica: PgNodeSpec, upstream: PgNodeSpec): Promise<void> {
  await ensureSlot(ctx, upstream, replica.slot);
  const conninfo = replicaConninfo(ctx.topology, upstream.service, replica.service);
  await withNodeClient(
    ctx.topology,
    replica.hostPort,
    async (c) => {
      // ALTER SYSTEM takes no parameters: quote the literal.
      await c.query(`ALTER SYSTEM SET primary_conninfo = ${quoteLiteral(conninfo)}`);
      await c.query(`ALTER SYSTEM SET primary_slot_name = ${quoteLiteral(replica.slot)}`);
      await c.query('SELECT pg_reload_conf()');
    },
    { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000 },
  );
}

export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** The container does not run (exited, dead, removed); false while the engine cannot tell. */
async function containerGone(ctx: FailoverContext, container: string): Promise<boolean> {
  try {
    const st = await ctx.containers.state(container);
    return !st || !st.Running;
  } catch {
    return false;
  }
}

/**
 * Resolves when `service` streams from the node at `port` (pg_stat_replication); false on timeout. With `upstreamContainer`, stops waiting as
 * soon as that node's container no longer runs (it crashed or was fenced: nothing will stream from it).
 */
export async function waitStreaming(ctx: FailoverContext, port: number, service: string, timeoutMs: number, o: { upstreamContainer?: string } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const rows = await sql<{ n: number }>(ctx, port, "SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", [service], 3000);
      if ((rows[0]?.n ?? 0) > 0) return true;
    } catch {
      /* the node may be restarting */
      if (o.upstreamContainer && (await containerGone(ctx, o.upstreamContainer))) return false;
    }
    await sleep(250);
  }
  return false;
}

/** Parses synchronous_standby_names into method, count and names. Pure. */
export function parseSyncNames(s: string): { method: 'FIRST' | 'ANY'; num: number; names: string[] } | undefined {
  const v = s.trim();
  if (!v) return undefined;
  const m = /^(?:(FIRST|ANY)\s+)?(\d+)\s*\((.*)\)\s*$/i.exec(v);
  const unq = (x: string) => x.trim().replace(/^"(.*)"$/, '$1');
  if (m) return { method: (m[1]?.toUpperCase() as 'FIRST' | 'ANY') ?? 'FIRST', num: Number(m[2]), names: m[3].split(',').map(unq).filter(Boolean) };
  return { method: 'FIRST', num: 1, names: v.split(',').map(unq).filter(Boolean) };
}

/**
 * synchronous_standby_names for a freshly promoted node, or undefined when it can stay: the named
 * standbys minus the node itself and those not left (`alive`); when none of them is left, the other
 * standbys that are; when no standby is left, '' (asynchronous). Pure.
 */
export function syncNamesAfterPromotion(current: string, self: string, alive: readonly string[]): { value: string; why: string } | undefined {
  const parsed = parseSyncNames(current);
  if (!parsed || parsed.names.length === 0) return undefined;
  const gone = parsed.names.filter((n) => n === self || !alive.includes(n));
  if (gone.length === 0) return undefined;
  const kept = parsed.names.filter((n) => n !== self && alive.includes(n));
  const names = kept.length ? kept : alive.filter((n) => n !== self);
  const others = gone.filter((n) => n !== self);
  const why = [gone.includes(self) ? 'it named the node itself' : '', others.length ? `${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not a running standby` : ''].filter(Boolean).join('; ');
  return { value: names.length ? formatSyncNames(parsed.method, Math.min(parsed.num, names.length), names) : '', why };
}

export function formatSyncNames(method: 'FIRST' | 'ANY', num: number, names: readonly string[]): string {
  return `${method} ${num} (${names.map((n) => `"${n}"`).join(', ')})`;
}

export async function failover(ctx: FailoverContext, o: FailoverOptions = {}): Promise<FailoverResult> {
  const kind = o.kind ?? 'failover';
  const what = `${kind === 'switchover' ? 'Switchover' : 'Fail over'}${o.candidate && o.candidate !== 'auto' ? ` to ${o.candidate}` : ''}${o.fencing ? ` (fence: ${o.fencing})` : ''}`;
  return withOperationLock(ctx, { holder: holderOf(ctx), what, waitMs: o.lockWaitMs, signal: o.signal, startBeside: true }, () => failoverLocked(ctx, o));
}

async function failoverLocked(ctx: FailoverContext, o: FailoverOptions): Promise<FailoverResult> {
  const t = ctx.topology;
  const kind = o.kind ?? 'failover';
  const startedAt = Date.now();
  const steps: FailoverStep[] = [];
  const warnings: string[] = [];
  let rolledBack = false;
  let keptFenced: string | undefined;
  const say = (m: string) => ctx.log?.(m);
  const step = (name: FailoverStep['name'], ok: boolean, since: number, message: string) => {
    const s: FailoverStep = { name, ok, ms: Date.now() - since, message };
    steps.push(s);
    say(`${kind} ${name}: ${message}`);
    o.onStep?.(s);
  };
  const spec = (k: NodeKey) => t.nodes.find((n) => n.key === k)!;
  const acceptsLoss = async (r: SyncGuardRefusal) => o.acceptDataLoss === true || (o.confirmDataLoss ? await o.confirmDataLoss(r) : false);

  // 1 survey
  let t0 = Date.now();
  // The synchronous-standby guard's files are read beside the survey (a switchover has a live primary: none needed).
  const primaryFacts = o.requireCaughtUp ? undefined : prefetchPrimaryFacts(ctx);
  // PgBouncer's config is read beside it too: after the promotion its repoint is one write and a RELOAD.
  const bouncerIni = (o.repointPgBouncer ?? true) ? readPgBouncerIni(ctx).then((ini) => ({ ini }), (e: unknown) => ({ error: e })) : undefined;
  const s = await surveyCluster(ctx);
  if (s.splitBrain) {
    throw new FailoverError(
      `Split brain: ${s.writable.map((k) => spec(k).container).join(' and ')} both accept writes. Fence one of them first (PG HA Workshop: Fence Node), then fail over or rejoin it.`,
      'splitBrain',
      'unchanged',
    );
  }
  if (o.expectFailedPrimary) {
    const failed = spec(o.expectFailedPrimary);
    if (s.writable.includes(failed.key)) throw new FailoverError(`${failed.container} answers as the primary again: no failover needed.`, 'primaryChanged', 'unchanged');
    const other = s.writable.find((k) => k !== failed.key);
    if (other) throw new FailoverError(`${spec(other).container} is the primary now (another operation failed over already): no failover of ${failed.container} needed.`, 'primaryChanged', 'unchanged');
  }
  const old = inferOldPrimary(s);
  const standbys = s.nodes.filter((n) => isStandby(n) && n.key !== old?.key);
  let explicit: NodeStatus | undefined;
  if (o.candidate && o.candidate !== 'auto') {
    const want = t.nodes.find((n) => n.key === o.candidate || n.service === o.candidate || n.container === o.candidate);
    if (!want) throw new FailoverError(`"${o.candidate}" is not a node of this cluster (${t.nodes.map((n) => n.container).join(', ')}).`, 'badCandidate', 'unchanged');
    explicit = s.nodes.find((n) => n.key === want.key)!;
    if (!isStandby(explicit)) {
      const why = explicit.role === 'primary' ? 'it is the primary already' : `it is ${explicit.role}${explicit.problem ? ` (${explicit.problem})` : ''}`;
      throw new FailoverError(`${explicit.container} cannot be promoted: ${why}. Pick a running replica.`, 'badCandidate', 'unchanged');
    }
  }
  if (standbys.length === 0) {
    throw new FailoverError(
      `No healthy replica can take over: ${describeNodes(s)}. Start a replica (PG HA Workshop: Start Node) and wait until it streams, then fail over.`,
      'noHealthyReplica',
      'unchanged',
    );
  }
  const oldLsn = old ? (s.nodes.find((n) => n.key === old.key)?.currentLsn ?? null) : null;
  let cands = withBehind(
    standbys.map((n) => ({ key: n.key, service: n.service, replayLsn: n.replayLsn ?? null, receiveLsn: n.receiveLsn ?? null })),
    oldLsn,
  );
  const maxLag = o.maxLagBytes ?? 1024 * 1024;
  let lagConfirmed = false;
  const pre = explicit ? cands.find((c) => c.key === explicit!.key)! : chooseCandidate(cands)!;
  step('survey', true, t0, `old primary ${old ? `${old.container} (${old.role})` : 'unknown'}; candidates ${cands.map((c) => `${spec(c.key).container} replay ${c.replayLsn ?? '?'} (${formatBytes(c.behindBytes)} behind)`).join(', ')}`);
  if (!o.requireCaughtUp && pre.behindBytes !== null && pre.behindBytes > maxLag) {
    const ok = o.confirmLag ? await o.confirmLag(pre, cands) : false;
    if (!ok) {
      throw new FailoverError(
        `${spec(pre.key).container} is ${formatBytes(pre.behindBytes)} behind (more than ${formatBytes(maxLag)}): promoting it would lose those writes. Wait until it catches up, pick another replica, or confirm to accept the loss.`,
        'candidateBehind',
        'unchanged',
        steps,
      );
    }
    warnings.push(`${spec(pre.key).container} was ${formatBytes(pre.behindBytes)} behind when it was chosen (confirmed).`);
    lagConfirmed = true;
  }

  // The synchronous-standby guard: only when the old primary is lost (not answering as a primary);
  // a primary that answers gave its current LSN, and the lag limit above judged against it.
  const primaryLost = !(old && s.writable.includes(old.key));
  let syncReq: SyncRequirement | undefined;
  let lostPrimaryService: string | undefined;
  let dataLossAccepted = false;
  if (primaryLost) {
    t0 = Date.now();
    const read = await readSyncRequirement(ctx, s, standbys.map((n) => n.key), old?.key, primaryFacts);
    syncReq = read.requirement;
    lostPrimaryService = read.lostPrimary ?? old?.service;
    const refusal = judgeSyncGuard(syncReq, standbys.map((n) => n.service), lostPrimaryService);
    if (refusal) {
      if (!(await acceptsLoss(refusal))) throw new FailoverError(refusal.message, 'syncStandbyLost', 'unchanged', steps);
      dataLossAccepted = true;
      warnings.push(`Data loss accepted: ${refusal.lost.join(', ')} (synchronous) ${refusal.lost.length === 1 ? 'was' : 'were'} lost with the primary; acknowledged commits that ${refusal.survivors.join(', ') || 'the survivors'} did not receive are gone.`);
    }
    step('syncGuard', true, t0, syncReq ? `synchronous replication (${syncReq.value}, from ${syncReq.source}): ${refusal ? 'no survivor is proven to hold every acknowledged commit; data loss accepted' : 'a synchronous standby survives'}` : 'asynchronous replication (no synchronous_standby_names)');
  }

  // 2 catch up (switchover)
  if (o.requireCaughtUp && old && old.role === 'primary') {
    t0 = Date.now();
    const deadline = Date.now() + 30_000;
    let behind: number | null = null;
    for (;;) {
      const [p] = await sql<{ lsn: string }>(ctx, old.hostPort, 'SELECT pg_current_wal_lsn()::text AS lsn');
      const [c] = await positions(ctx, [s.nodes.find((n) => n.key === pre.key)!]);
      behind = c ? Number((parseLsn(p.lsn) ?? 0n) - (parseLsn(c.replayLsn) ?? 0n)) : null;
      if (behind !== null && behind <= 0) break;
      if (Date.now() > deadline) {
        throw new FailoverError(`${spec(pre.key).container} did not catch up with ${old.container} within 30 s (${formatBytes(behind)} behind): switchover cancelled, nothing changed.`, 'notCaughtUp', 'unchanged', steps);
      }
      await sleep(200);
    }
    step('catchUp', true, t0, `${spec(pre.key).container} replayed everything ${old.container} wrote`);
  }

  if (o.signal?.aborted) throw new FailoverError(`${kind === 'switchover' ? 'Switchover' : 'Failover'} cancelled before anything was changed.`, 'cancelled', 'unchanged', steps);

  // 3 fence
  if (o.beforeFence) await o.beforeFence();
  t0 = Date.now();
  let fencing: FailoverResult['fencing'];
  const oldStatus = old?.containerState.status;
  // A paused (frozen) primary is not down: it keeps its clients' sockets and writes again the
  // moment it wakes. It cannot shut down cleanly while frozen, so it is killed.
  const mode: FencingMode = oldStatus === 'paused' ? 'kill' : (o.fencing ?? 'stop');
  const oldRunning = old !== undefined && (oldStatus === 'running' || oldStatus === 'restarting' || oldStatus === 'paused');
  const actx: NodeActionContext = { topology: t, containers: ctx.containers, holder: ctx.holder };
  if (old && oldRunning) {
    try {
      const r = mode === 'kill' ? await killNode(actx, old.key) : await stopNode(actx, old.key, { timeoutSec: 10 });
      fencing = { mode, at: Date.now(), message: oldStatus === 'paused' ? `${old.container} was paused (hung, not down): ${r.message}` : r.message };
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      throw new FailoverError(`Could not fence ${old.container} (${m}): failover cancelled, nothing promoted; ${old.container} is still the primary.`, 'fenceFailed', 'unchanged', steps, e);
    }
  } else if (old) {
    fencing = { mode: 'alreadyDown', message: `${old.container} was already down (${old.role}${old.problem ? `: ${old.problem}` : ''}).` };
  } else {
    fencing = { mode: 'none', message: 'No old primary was found (no node accepts writes and no replica names its upstream).' };
  }
  // Durable: Start Cluster, Start Node, docker start and compose up leave it fenced until someone
  // chooses. Written beside the choice of the candidate (both come before the promotion).
  const fenceMarked = old
    ? markFenced(actx, old.key, `fenced by a ${kind} (${fencing.mode}); another node is promoted in its place`).catch((e: unknown) => {
        warnings.push(`${old.container} is fenced, but its fence mark could not be written (${e instanceof Error ? e.message : String(e)}): do not start it again before rejoining it.`);
      })
    : Promise.resolve();
  step('fence', true, t0, fencing.message);
  const fencedAt = fencing.at ?? startedAt;
  if (o.signal?.aborted) {
    await rollback();
    throw new FailoverError(`${kind === 'switchover' ? 'Switchover' : 'Failover'} cancelled after fencing, before any promotion; ${restoredState()}`, 'cancelled', restoredState(), steps);
  }

  // 4 choose, on the positions after fencing (a stopped primary sent its last WAL first)
  t0 = Date.now();
  let chosen: CandidateInfo | undefined;
  let because: string;
  {
    // Every standby should answer; a busy one gets up to 30 s (the choice needs its position).
    const answerBy = Date.now() + 30_000;
    let pos = await positions(ctx, standbys);
    while (pos.length < standbys.length && Date.now() < answerBy) {
      await sleep(250);
      const again = await positions(ctx, standbys);
      if (again.length >= pos.length) pos = again;
    }
    const deadline = Date.now() + 5000;
    // Let each standby replay what it received (promotion would, but the choice should see it).
    while (Date.now() < deadline && pos.some((p) => lsnCmp(p.receiveLsn, p.replayLsn) > 0)) {
      await sleep(100);
      pos = await positions(ctx, standbys);
    }
    if (pos.length === 0) {
      await rollback();
      throw new FailoverError(`No replica answered after ${old?.container ?? 'the primary'} was fenced; ${restoredState()}`, 'noHealthyReplica', restoredState(), steps);
    }
    cands = withBehind(pos, null);
    if (explicit) {
      chosen = cands.find((c) => c.key === explicit!.key);
      because = 'chosen by you';
      const best = chooseCandidate(cands);
      if (chosen && best && best.key !== chosen.key && lsnCmp(best.replayLsn, chosen.replayLsn) > 0) {
        warnings.push(`${spec(best.key).container} had replayed more WAL (${best.replayLsn}) than the chosen ${spec(chosen.key).container} (${chosen.replayLsn}).`);
      }
    } else {
      chosen = chooseCandidate(cands);
      because = cands.length > 1 ? 'newest timeline, then most WAL received' : 'the only healthy replica';
      if (cands.length > 1 && chosen && cands.every((c) => c === chosen || (c.timeline === chosen!.timeline && lsnCmp(c.receiveLsn, chosen!.receiveLsn) === 0 && lsnCmp(c.replayLsn, chosen!.replayLsn) === 0))) because = 'replicas level (same timeline and LSNs): first in order';
    }
    if (!chosen) {
      await rollback();
      throw new FailoverError(`${explicit?.container ?? 'The candidate'} stopped answering after the old primary was fenced; ${restoredState()}`, 'noHealthyReplica', restoredState(), steps);
    }
    // The lag limit, on the node that is promoted, against the most WAL known (old primary's last LSN or the best standby).
    const judged = withBehind(pos, oldLsn).find((c) => c.key === chosen!.key);
    if (!o.requireCaughtUp && judged && judged.behindBytes !== null && judged.behindBytes > maxLag && !lagConfirmed) {
      const ok = o.confirmLag ? await o.confirmLag(judged, cands) : false;
      if (!ok) {
        await rollback();
        throw new FailoverError(
          `${spec(judged.key).container} is ${formatBytes(judged.behindBytes)} behind after fencing (more than ${formatBytes(maxLag)}): promoting it would lose those writes; ${restoredState()}`,
          'candidateBehind',
          restoredState(),
          steps,
        );
      }
      warnings.push(`${spec(judged.key).container} was ${formatBytes(judged.behindBytes)} behind when it was promoted (confirmed).`);
    }
    // The guard again on the standbys that answer now: a synchronous standby may have died meanwhile.
    if (primaryLost && !dataLossAccepted) {
      const refusal = judgeSyncGuard(syncReq, pos.map((p) => p.service), lostPrimaryService);
      if (refusal && !(await acceptsLoss(refusal))) {
        await rollback();
        throw new FailoverError(`${refusal.message} (${restoredState()})`, 'syncStandbyLost', restoredState(), steps);
      }
      if (refusal) warnings.push(`Data loss accepted: ${refusal.lost.join(', ')} (synchronous) stopped answering during the failover.`);
    }
  }
  await fenceMarked;
  step('choose', true, t0, `${spec(chosen.key).container} (${because}; replay ${chosen.replayLsn})`);
  const np = spec(chosen.key);

  // 5 promote
  t0 = Date.now();
  let timeline = 0;
  if (o.signal?.aborted) {
    await rollback();
    throw new FailoverError(`${kind === 'switchover' ? 'Switchover' : 'Failover'} cancelled before the promotion; ${restoredState()}`, 'cancelled', restoredState(), steps);
  }
  const promote = o.promote ?? (async (c: NodeActionContext, k: NodeKey) => promoteReplica(c, k, { waitSeconds: 60 }));
  try {
    // A busy node may miss the connect deadline: retry while it merely does not answer in time.
    let r: { timeline: number; message: string } | undefined;
    for (let attempt = 1; !r; attempt++) {
      try {
        r = await promote(actx, np.key);
      } catch (e) {
        // The first attempt's answer may have been lost after pg_promote() was sent: a node that
        // is a primary now was promoted by it.
        if (attempt > 1 && e instanceof NodeActionError && e.problem === 'alreadyPrimary') {
          r = { timeline: await timelineOf(ctx, np.hostPort), message: `${np.container} promoted (the answer of an earlier attempt was lost)` };
          break;
        }
        if (!(e instanceof NodeActionError && e.problem === 'unreachable' && attempt < 4)) throw e;
        say(`${kind} promote: ${np.container} did not answer (attempt ${attempt}), retrying`);
        await sleep(500);
      }
    }
    timeline = r.timeline;
    step('promote', true, t0, r.message);
  } catch (e) {
    const m = e instanceof NodeActionError ? e.message : e instanceof Error ? e.message : String(e);
    // pg_promote() returning false, or a connection lost after it was sent, does not cancel the
    // promotion: look at the candidate again before undoing anything.
    const sent = !(e instanceof NodeActionError && (e.problem === 'notRunning' || e.problem === 'unknownNode'));
    const became = sent ? await becomesPrimary(ctx, np.hostPort, 15_000) : false;
    if (became) {
      timeline = await timelineOf(ctx, np.hostPort);
      step('promote', true, t0, `${np.container} is a primary after all (${m}): the promotion went through`);
      warnings.push(`The promotion of ${np.container} reported "${m}", but it completed: the failover went on.`);
    } else {
      step('promote', false, t0, m);
      await rollback(sent ? np.container : undefined);
      throw new FailoverError(`Promotion of ${np.container} failed (${m}); ${restoredState()}`, 'promoteFailed', restoredState(), steps, e);
    }
  }
  const promotedAt = Date.now();

  // Synchronous replication: a new primary whose synchronous_standby_names name itself or only
  // standbys that are gone would hang every commit. Name the standbys that are left; none left:
  // asynchronous until one rejoins (pg_auto_failover's wait_primary, Patroni's non-strict mode).
  // It runs beside the PgBouncer repoint (6): a commit that arrives first waits until the reload
  // releases it, so neither waits for the other (each new connection costs a fork and SCRAM).
  const syncConfig = async (): Promise<void> => {
    const t1 = Date.now();
    try {
      const alive = s.nodes.filter((n) => n.key !== np.key && n.key !== old?.key && isStandby(n) && n.containerState.status === 'running').map((n) => n.service);
      await withNodeClient(
        t,
        np.hostPort,
        async (c) => {
          const [row] = (await c.query<{ s: string }>("SELECT current_setting('synchronous_standby_names') AS s")).rows;
          const next = syncNamesAfterPromotion(row?.s ?? '', np.service, alive);
          if (!next) return;
          await c.query(`ALTER SYSTEM SET synchronous_standby_names = ${quoteLiteral(next.value)}`);
          await c.query('SELECT pg_reload_conf()');
          warnings.push(`synchronous_standby_names on ${np.container} was '${row?.s ?? ''}' (${next.why}); now '${next.value}'${next.value ? '' : ': the new primary runs asynchronously until a standby rejoins, then set synchronous replication again'}.`);
          step('syncConfig', true, t1, `synchronous_standby_names = '${next.value}' on ${np.container} (${next.why})`);
        },
        { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 15_000 },
      );
    } catch (e) {
      step('syncConfig', false, t1, `could not check synchronous_standby_names: ${classifyPgError(e).message}`);
    }
  };

  // 6 PgBouncer, right after the promotion: clients through it wait for nothing else
  let pgbouncer: FailoverResult['pgbouncer'];
  const repointBouncer = async (): Promise<void> => {
    if (!(o.repointPgBouncer ?? true)) return;
    const t1 = Date.now();
    try {
      const read = await bouncerIni;
      // Not readable before (PgBouncer was down then, say): read it again now.
      const r = await repointPgBouncer({ topology: t, containers: ctx.containers }, np.service, { ini: read && 'ini' in read ? read.ini : undefined });
      pgbouncer = { ok: true, message: r.changed ? `PgBouncer now sends ${t.superuser.database} to ${np.service} (was ${r.from.join(', ')}; RELOAD)` : `PgBouncer already pointed at ${np.service}` };
    } catch (e) {
      pgbouncer = { ok: false, message: e instanceof Error ? e.message : String(e) };
      warnings.push(pgbouncer.message);
    }
    step('pgbouncer', pgbouncer.ok, t1, pgbouncer.message);
  };
  // 7 other replicas, beside the PgBouncer repoint: in synchronous mode the new primary
  // acknowledges no commit before a standby it names streams from it.
  const replicas: { key: NodeKey; container: string; ok: boolean; message: string }[] = [];
  const repointOthers = async (): Promise<void> => {
    if (!(o.repointReplicas ?? true)) return;
    const t1 = Date.now();
    const others = s.nodes.filter((n) => n.key !== np.key && n.key !== old?.key);
    await Promise.all(
      others.map(async (n) => {
        const rs = spec(n.key);
        // A standby that was only too slow to answer the survey is repointed too.
        const standbyNow = isStandby(n) || (n.containerState.status === 'running' && (await positions(ctx, [n])).length > 0);
        if (!standbyNow) {
          replicas.push({ key: n.key, container: n.container, ok: false, message: `${n.container} is ${n.role}: not repointed. Rejoin it once it runs (PG HA Workshop: Rejoin as Replica).` });
          return;
        }
        try {
          await repointReplica(ctx, rs, np);
          // It runs beside the PgBouncer repoint: a new primary that dies meanwhile ends the wait at once.
          const ok = await waitStreaming(ctx, np.hostPort, rs.service, 60_000, { upstreamContainer: np.container });
          const npDown = !ok && (await containerGone(ctx, np.container));
          replicas.push({
            key: n.key,
            container: n.container,
            ok,
            message: ok
              ? `${n.container} streams from ${np.container} (slot ${rs.slot})`
              : npDown
                ? `${n.container} was repointed to ${np.container}, which stopped running before it streamed: fail over again.`
                : `${n.container} was repointed to ${np.container} but does not stream after 60 s: check its log (a replica ahead of the new primary needs pg_rewind).`,
          });
        } catch (e) {
          replicas.push({ key: n.key, container: n.container, ok: false, message: `${n.container} could not be repointed: ${classifyPgError(e).message}` });
        }
      }),
    );
    step('replicas', replicas.every((r) => r.ok), t1, replicas.map((r) => r.message).join('; ') || 'no other replica');
    for (const r of replicas) if (!r.ok) warnings.push(r.message);
  };
  await Promise.all([syncConfig(), repointBouncer(), repointOthers()]);

  // 8 checkpoint (after the clients' path: only a later pg_rewind of the old primary needs it)
  t0 = Date.now();
  try {
    await sql(ctx, np.hostPort, 'CHECKPOINT', [], 60_000);
    step('checkpoint', true, t0, `CHECKPOINT on ${np.container} (pg_rewind reads its new timeline from it)`);
  } catch (e) {
    step('checkpoint', false, t0, `CHECKPOINT on ${np.container} failed: ${classifyPgError(e).message}`);
  }

  // 9 measure
  let rto: Rto | undefined;
  let rpo: Rpo | undefined;
  let measureNote: string | undefined;
  if (o.ledger) {
    t0 = Date.now();
    const ledger = o.ledger;
    const lastOldAck = old ? ledger.lastAck((w) => w.node === old.service && w.ackAt <= fencedAt) : undefined;
    const after = lastOldAck?.ackAt ?? startedAt - 60_000;
    const deadline = Date.now() + (o.waitForLoadMs ?? 30_000);
    for (;;) {
      rto = measureRto(ledger, { after, onNode: np.service });
      if (rto || Date.now() > deadline || (o.loadRunning && !o.loadRunning())) break;
      await sleep(100);
    }
    if (!rto) {
      const anyFailure = ledger.failures.some((f) => f.at >= after);
      measureNote = !anyFailure
        ? 'No write failed during the failover, so there is no outage to measure (was the load running against the primary or PgBouncer?).'
        : `No write succeeded on ${np.container} within ${Math.round((o.waitForLoadMs ?? 30_000) / 1000)} s of the promotion (does the load target a fixed node that is now down or read-only?).`;
    }
    try {
      const present = await presentSeqs(t, np.hostPort, ledger);
      rpo = measureRpo(ledger, present, { onNode: old?.service, ackedBefore: promotedAt, failureAt: fencedAt });
    } catch (e) {
      measureNote = `${measureNote ? measureNote + ' ' : ''}RPO could not be measured: ${classifyPgError(e).message}`;
    }
    step('measure', true, t0, `RTO ${rto ? `${rto.ms} ms` : 'n/a'}; RPO ${rpo ? `${rpo.lostWrites} of ${rpo.acked} acknowledged writes lost` : 'n/a'}`);
  }

  return {
    kind,
    startedAt,
    finishedAt: Date.now(),
    oldPrimary: old ? { key: old.key, container: old.container, service: old.service, wasRunning: oldRunning, lastLsn: oldLsn } : undefined,
    fencing,
    newPrimary: { key: np.key, container: np.container, service: np.service, timeline, promotedAt },
    candidates: cands,
    chosenBecause: because,
    replicas,
    pgbouncer,
    promotionMs: promotedAt - fencedAt,
    rto,
    rpo,
    measureNote,
    steps,
    warnings,
  };

  // Undo the fencing when nothing was promoted: the old primary takes writes again. Only when no
  // other node is writable or may still become so (a promotion whose answer was lost completes
  // anyway); otherwise the old primary stays fenced and the error says why.
  async function rollback(mayBePromoting?: string): Promise<void> {
    if (!old || !oldRunning) return;
    // The fence mark is written beside the choice: let it land before a start lifts it.
    await fenceMarked;
    const r0 = Date.now();
    try {
      const now = await surveyCluster(ctx);
      const writable = now.writable.filter((k) => k !== old.key);
      if (writable.length || mayBePromoting) {
        keptFenced = writable.length
          ? `${writable.map((k) => spec(k).container).join(', ')} accepts writes now`
          : `${mayBePromoting} was sent pg_promote() and may still finish its promotion`;
        step('rollback', false, r0, `${old.container} stays fenced: ${keptFenced}`);
        return;
      }
      await startNode(actx, old.key, { unfence: true });
      step('rollback', true, r0, `${old.container} started again: it is the primary, as before`);
      rolledBack = true;
    } catch (e) {
      step('rollback', false, r0, `could not start ${old.container} again: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  function restoredState(): string {
    if (!old || !oldRunning) return `the cluster is as it was: ${old?.container ?? 'the primary'} is still down and no replica was promoted.`;
    if (keptFenced) return `${old.container} stays fenced because ${keptFenced}: starting it could make two primaries. Look at the cluster view; rejoin ${old.container} as a replica once one node is the primary.`;
    return rolledBack ? `rolled back: ${old.container} was started again and is the primary, as before.` : `${old.container} is fenced (${mode === 'kill' ? 'killed' : 'stopped'}) and no replica was promoted: NO node accepts writes. Start ${old.container} (PG HA Workshop: Start Node) or promote a replica.`;
  }
}

async function timelineOf(ctx: FailoverContext, port: number): Promise<number> {
  try {
    const [r] = await sql<{ tl: number }>(ctx, port, "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tl");
    return Number(r?.tl ?? 0);
  } catch {
    return 0;
  }
}

/** Polls the node until it leaves recovery (true) or `ms` passes (false). */
async function becomesPrimary(ctx: FailoverContext, port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const [r] = await sql<{ rec: boolean }>(ctx, port, 'SELECT pg_is_in_recovery() AS rec');
      if (r && r.rec === false) return true;
    } catch {
      // not answering (yet)
    }
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}
