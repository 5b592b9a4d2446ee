// The guard pg_auto_failover calls "no candidate with every acknowledged commit": with synchronous
// replication, a commit is acknowledged once `num` of the standbys named in
// synchronous_standby_names have it (FIRST num: the first num connected ones; ANY num: any num).
// When the primary is lost, a surviving candidate is proven to hold every acknowledged commit only
// if fewer than `num` of the named standbys are lost too: then at least one standby of every
// commit's acknowledging set survives, and the candidate with the most WAL received has it all.
// Otherwise (the synchronous standby died with the primary) promoting a survivor may silently lose
// acknowledged commits, so the failover refuses unless the data loss is accepted explicitly.
//
// Which setting decided the acknowledgements: the old primary's own (postgresql.auto.conf in its
// data directory, read through the engine's archive API, which works on a stopped container), else
// what the surviving standbys carry (Set Synchronous Replication applies it to them too).
//
// API (no vscode):
//   parseAutoConf(text)                          → settings of a postgresql.auto.conf (pure)
//   judgeSyncGuard(req, survivors, oldService)   → SyncGuardRefusal | undefined (pure)
//   readSyncRequirement(ctx, status, survivors, inferredOld) → { requirement?, lostPrimary? }
import { readDataDirFile } from './fenceMarker';
import { parseSyncNames } from './failover';
import type { ClusterStatus } from './status';
import type { ClusterTopology, NodeKey } from './topology';
import type { Containers } from '../docker/engine';

export interface SyncRequirement {
  readonly method: 'FIRST' | 'ANY';
  readonly num: number;
  /** application_names of the synchronous standbys. */
  readonly names: readonly string[];
  /** synchronous_standby_names as written. */
  readonly value: string;
  /** synchronous_commit; 'local' and 'off' do not wait for standbys. */
  readonly commit: string;
  /** Where it was read, for the message (e.g. "postgresql.auto.conf of postgres-primary"). */
  readonly source: string;
}

export interface SyncGuardRefusal {
  readonly requirement: SyncRequirement;
  /** Named synchronous standbys that cannot be promoted (down, paused, partitioned, not a standby). */
  readonly lost: readonly string[];
  /** Standbys that could be promoted. */
  readonly survivors: readonly string[];
  /** What, why, what to do. */
  readonly message: string;
}

/** Settings of a postgresql.auto.conf (the last line of a name wins, as in PostgreSQL). Pure. */
export function parseAutoConf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][\w.]*)\s*=?\s*(?:'((?:[^']|'')*)'|([^\s#]*))/.exec(line);
    if (!m || line.trim().startsWith('#')) continue;
    out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/''/g, "'") : (m[3] ?? '');
  }
  return out;
}

/**
 * Undefined when a survivor is proven to hold every acknowledged commit (or commits did not wait
 * for standbys); else why not. `survivors` and `oldService` are application_names. Pure.
 */
export function judgeSyncGuard(req: SyncRequirement | undefined, survivors: readonly string[], oldService: string | undefined): SyncGuardRefusal | undefined {
  if (!req || req.names.length === 0 || req.commit === 'local' || req.commit === 'off') return undefined;
  const named = req.names.filter((n) => n !== oldService);
  const lost = named.filter((n) => !survivors.includes(n));
  if (lost.length < req.num) return undefined;
  const old = oldService ?? 'the primary';
  const which = lost.length === 1 ? `the synchronous standby ${lost[0]} is` : `the synchronous standbys ${lost.join(', ')} are`;
  const rest = survivors.length ? `${survivors.join(', ')} ${survivors.length === 1 ? 'was' : 'were'} not required to confirm commits and may miss some of them` : 'no other standby is left';
  const message =
    `Failover refused: ${old} is lost and ${which} lost too. Synchronous replication was on (synchronous_standby_names = '${req.value}', from ${req.source}): ` +
    `every acknowledged commit waited for ${req.num === 1 ? 'that standby' : `${req.num} of those standbys`}, and ${rest}, so promoting a survivor could lose acknowledged writes for good. ` +
    `Bring ${lost.join(' or ')} back (PG HA Workshop: Start Node) and fail over again (the failover then promotes the node with the most WAL), or accept the data loss explicitly.`;
  return { requirement: req, lost, survivors, message };
}

function requirementOf(value: string, commit: string, source: string): SyncRequirement | undefined {
  const p = parseSyncNames(value);
  if (!p || p.names.length === 0) return undefined;
  return { method: p.method, num: Math.max(1, p.num), names: p.names, value: value.trim(), commit: commit.trim() || 'on', source };
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  Promise.race([p, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref?.())]);

export interface LostPrimary {
  readonly key: NodeKey;
  readonly container: string;
  readonly service: string;
  /** Highest timeline with a history file in pg_wal (1 when none). */
  readonly timeline: number;
  readonly conf: Record<string, string>;
}

type EngineCtx = { readonly topology: ClusterTopology; readonly containers: Containers };

/** A lost node that was a primary when it went: no standby.signal in its data directory. */
async function lostPrimary(ctx: EngineCtx, key: NodeKey): Promise<LostPrimary | undefined> {
  const n = ctx.topology.nodes.find((x) => x.key === key)!;
  const history = (tl: number) => readDataDirFile(ctx, key, `pg_wal/${tl.toString(16).toUpperCase().padStart(8, '0')}.history`);
  // One round for the usual case (each engine call costs a round trip on a busy host).
  const [signal, auto, second] = await Promise.all([readDataDirFile(ctx, key, 'standby.signal'), readDataDirFile(ctx, key, 'postgresql.auto.conf'), history(2)]);
  if (signal !== undefined) return undefined;
  const conf = parseAutoConf(auto ?? '');
  // A promotion writes pg_wal/0000000N.history: the highest one is the node's newest timeline.
  let timeline = second === undefined ? 1 : 2;
  while (timeline >= 2 && timeline < 64 && (await history(timeline + 1)) !== undefined) timeline++;
  return { key, container: n.container, service: n.service, timeline, conf };
}

/**
 * The synchronous replication that acknowledged the lost primary's commits. The lost primary is the
 * newest of the lost nodes that were primaries (no standby.signal; highest timeline), so that after
 * a failover whose new primary died too, the new primary's setting counts: every failover went
 * through this guard, so the node it promoted held every commit acknowledged before. Its own
 * postgresql.auto.conf says it (ALTER SYSTEM writes there); else the setting the surviving standbys
 * report. Undefined when asynchronous (or unknown everywhere).
 */
export type PrimaryFacts = ReadonlyMap<NodeKey, Promise<LostPrimary | undefined>>;

/**
 * Starts reading every node's data-directory facts (the failover runs it beside its survey, so the
 * engine calls cost no time of their own). A hung node's engine calls are quick, but never wait
 * long for them: the standbys say it too.
 */
export function prefetchPrimaryFacts(ctx: EngineCtx): PrimaryFacts {
  return new Map(ctx.topology.nodes.map((n) => [n.key, withTimeout(lostPrimary(ctx, n.key).catch(() => undefined), 3000)]));
}

export async function readSyncRequirement(
  ctx: EngineCtx,
  status: ClusterStatus,
  survivors: readonly NodeKey[],
  inferredOld: NodeKey | undefined,
  prefetched?: PrimaryFacts,
): Promise<{ requirement?: SyncRequirement; lostPrimary?: string }> {
  const lost = ctx.topology.nodes.filter((n) => !survivors.includes(n.key) && !status.writable.includes(n.key));
  const facts = prefetched ?? prefetchPrimaryFacts(ctx);
  const found = (await Promise.all(lost.map((n) => facts.get(n.key) ?? Promise.resolve(undefined)))).filter((x): x is LostPrimary => x !== undefined);
  const newest = [...found].sort((a, b) => b.timeline - a.timeline || Number(b.key === inferredOld) - Number(a.key === inferredOld))[0];
  if (newest && 'synchronous_standby_names' in newest.conf) {
    // Set in the auto file (even to ''): that is what the node ran with after its last reload.
    return { requirement: requirementOf(newest.conf['synchronous_standby_names'], newest.conf['synchronous_commit'] ?? 'on', `postgresql.auto.conf of ${newest.container}`), lostPrimary: newest.service };
  }
  for (const n of status.nodes) {
    if (!survivors.includes(n.key) || !n.synchronousStandbyNames) continue;
    const r = requirementOf(n.synchronousStandbyNames, 'on', `the setting on ${n.container}`);
    if (r) return { requirement: r, lostPrimary: newest?.service };
  }
  return { lostPrimary: newest?.service };
}
