// ClusterStatus = f(probes, container states): the one picture every view renders. Pure: no I/O,
// no clock (the caller passes `now`), so it is tested on recorded probes.
//
// API:
//   deriveStatus(probes, containers, topology, thresholds, now?) → ClusterStatus
//   DEFAULT_THRESHOLDS  (the workshop's alert rules: lag > 10 s, retained WAL > 10 GB)
//   types: ClusterStatus, NodeStatus, NodeRole, Alert, ContainerState, ContainerSnapshot, ProbeRound
//
// Rules (what the words mean):
// - role: `down` when the container is not running (or does not exist); `starting` when it runs but
//   PostgreSQL does not answer yet (or answered only before the container's latest start);
//   `unreachable` when it runs, is past its start grace and still does not answer; `primary` when
//   it answers and is not in recovery; `replica` when it streams from a primary; `cascadingReplica`
//   when it streams from another standby; `notStreaming` when it is a standby with no streaming
//   WAL receiver.
// - lag of a replica: bytes = upstream's own LSN − the replica's replay LSN, from the upstream's
//   pg_stat_replication row (one consistent snapshot); for a cascading replica plus its upstream's
//   lag. Time = replay_lag; when PostgreSQL reports NULL (idle) and no bytes are behind, 0.
//   now() − pg_last_xact_replay_timestamp() is shown as "last replayed commit", never as lag.
// - split brain: two or more nodes accept writes (pg_is_in_recovery() = false).
// - timeline divergence: a reachable node is on a lower timeline than the newest primary and is
//   itself writable or not streaming (a streaming standby switches timeline by itself).
import type { DockerProblem } from '../docker/engine';
import { formatBytes, formatDuration, nonNegative } from './format';
import type { NodeProbe, NodeProbeOk, PgBouncerProbe, ReplicationRow, SlotInfo, WalReceiverInfo } from './probe';
import type { NodeAddress } from './nodes';
import { nodeAddress, nodeName, type ClusterTopology, type NodeKey, type PgNodeSpec } from './topology';

export interface Thresholds {
  /** Replay lag above this many seconds raises an alert (workshop: 10 s). */
  readonly lagSeconds: number;
  /** A replication slot retaining more WAL than this raises an alert (workshop: 10 GB). */
  readonly retainedWalBytes: number;
  /** Fewer streaming replicas than this raises an alert (workshop: 2). */
  readonly minStreamingReplicas?: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { lagSeconds: 10, retainedWalBytes: 10 * 1024 ** 3 };

/** How long a freshly started container may refuse connections before it counts as unreachable. */
export const START_GRACE_MS = 60_000;

/** `external`: not a container this machine runs (a node of an attached cluster); only SQL tells its state. */
export type ContainerStatusName = 'running' | 'created' | 'restarting' | 'paused' | 'exited' | 'dead' | 'removing' | 'missing' | 'external';

/** True when the node's process may be up: its container runs, or it is not ours to see. */
export function mayAnswer(cs: ContainerState): boolean {
  return cs.status === 'running' || cs.status === 'external';
}

export interface ContainerState {
  readonly name: string;
  readonly status: ContainerStatusName;
  readonly health?: 'starting' | 'healthy' | 'unhealthy';
  /** Epoch ms of the latest start. */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly exitCode?: number;
  readonly oomKilled?: boolean;
}

export type ContainerSnapshot =
  | { readonly ok: true; readonly states: Readonly<Record<string, ContainerState>> }
  | { readonly ok: false; readonly problem: DockerProblem; readonly message: string };

export interface ProbeRound {
  readonly nodes: Readonly<Partial<Record<NodeKey, NodeProbe>>>;
  readonly pgbouncer?: PgBouncerProbe;
}

export type NodeRole = 'primary' | 'replica' | 'cascadingReplica' | 'notStreaming' | 'starting' | 'unreachable' | 'down';
export type Health = 'ok' | 'warning' | 'error' | 'pending' | 'off';

export interface NodeLag {
  /** Bytes the node's replay position is behind its upstream (and, cascading, the primary). */
  readonly bytes: number | null;
  /** replay_lag; 0 when idle and caught up; null when unknown. */
  readonly replayMs: number | null;
  readonly writeMs: number | null;
  readonly flushMs: number | null;
  /** Received but not yet replayed (the replica's own view). */
  readonly receiveReplayBytes: number | null;
  /** now() − pg_last_xact_replay_timestamp(): time since the last replayed commit (grows while the primary is idle). */
  readonly lastReplayAgeMs: number | null;
}

export interface NodeStatus {
  readonly key: NodeKey;
  /** What the views call the node (the container for the workshop's cluster). */
  readonly name: string;
  /** Where this machine reaches it. */
  readonly address: NodeAddress;
  readonly service: string;
  readonly container: string;
  readonly hostPort: number;
  readonly containerState: ContainerState;
  readonly role: NodeRole;
  readonly health: Health;
  /** Where this node streams from (a node of the topology) ... */
  readonly upstream?: NodeKey;
  /** ... or the raw host when it is not one of ours / not known. */
  readonly upstreamHost?: string;
  readonly timeline?: number;
  readonly currentLsn?: string | null;
  readonly receiveLsn?: string | null;
  readonly replayLsn?: string | null;
  readonly lag?: NodeLag;
  /** sync_state in the upstream's pg_stat_replication (async, sync, potential, quorum). */
  readonly syncState?: string;
  readonly replayPaused?: boolean | null;
  /** recovery_min_apply_delay (ms) of a delayed replica (Exercise 3); 0 or undefined otherwise. */
  readonly applyDelayMs?: number;
  /** Standbys connected to this node (its pg_stat_replication). */
  readonly downstream: readonly ReplicationRow[];
  readonly walReceiver?: WalReceiverInfo | null;
  readonly slots: readonly SlotInfo[];
  readonly synchronousStandbyNames?: string;
  readonly primaryConninfo?: string;
  /** Why PostgreSQL did not answer, in words. */
  readonly problem?: string;
  /** Epoch ms of the probe the figures come from. */
  readonly probedAt?: number;
}

export interface PgBouncerStatus {
  readonly container: string;
  readonly hostPort: number;
  readonly containerState: ContainerState;
  readonly health: Health;
  /** Host PgBouncer sends the workshop database to, and which node that is. */
  readonly targetHost?: string;
  readonly targetPort?: number;
  readonly target?: NodeKey;
  /** True when the target is the one writable node; false when it points elsewhere. */
  readonly targetIsPrimary?: boolean;
  readonly paused?: boolean;
  readonly pools: NonNullable<Extract<PgBouncerProbe, { ok: true }>['pools']>;
  readonly problem?: string;
}

export type AlertKind =
  | 'splitBrain'
  | 'timelineDivergence'
  | 'lagOverThreshold'
  | 'slotRetainedWal'
  | 'inactiveSlot'
  | 'notStreaming'
  | 'noPrimary'
  | 'tooFewStreamingReplicas'
  | 'pgbouncerNotOnPrimary';

export interface Alert {
  /** Stable while the condition lasts: notify once per id. */
  readonly id: string;
  readonly kind: AlertKind;
  readonly severity: 'error' | 'warning';
  readonly nodes: readonly NodeKey[];
  readonly message: string;
}

export interface ClusterStatus {
  readonly at: number;
  readonly docker: { readonly ok: true } | { readonly ok: false; readonly problem: DockerProblem; readonly message: string };
  /** running: every container runs; stopped: none does (or none exists); partial: the rest. */
  readonly clusterState: 'running' | 'stopped' | 'partial';
  readonly nodes: readonly NodeStatus[];
  readonly pgbouncer: PgBouncerStatus;
  /** The single writable node; undefined when there is none or more than one. */
  readonly primary?: NodeKey;
  readonly writable: readonly NodeKey[];
  readonly maxLag: { readonly bytes: number | null; readonly replayMs: number | null; readonly node?: NodeKey };
  readonly splitBrain: boolean;
  readonly timelineDivergence: boolean;
  readonly alerts: readonly Alert[];
  readonly thresholds: Thresholds;
}

const missing = (name: string): ContainerState => ({ name, status: 'missing' });

function hostOf(conninfo: string): string | undefined {
  const m = /(?:^|\s)host=('(?:[^'\\]|\\.)*'|\S+)/.exec(conninfo);
  return m ? m[1].replace(/^'|'$/g, '') : undefined;
}

function nodeForHost(t: ClusterTopology, host: string | null | undefined, port?: number | null): NodeKey | undefined {
  if (!host) return undefined;
  // Inside the cluster's own network nodes name each other by service; an attached cluster's
  // standbys name their upstream by the address this machine reaches it on.
  return (
    t.nodes.find((n) => n.service === host || n.container === host)?.key ??
    t.nodes.find((n) => {
      const a = nodeAddress(t, n);
      return a.host === host && (port === undefined || port === null || a.port === port);
    })?.key
  );
}

function portOf(conninfo: string): number | undefined {
  const m = /(?:^|\s)port=(\d+)/.exec(conninfo);
  return m ? Number(m[1]) : undefined;
}

interface Draft {
  spec: PgNodeSpec;
  cs: ContainerState;
  probe?: NodeProbeOk;
  role: NodeRole;
  problem?: string;
}

function baseRole(spec: PgNodeSpec, cs: ContainerState, p: NodeProbe | undefined, now: number): Draft {
  if (!mayAnswer(cs)) {
    const problem = cs.status === 'missing' ? 'container does not exist' : `container ${cs.status}${cs.exitCode !== undefined ? ` (exit code ${cs.exitCode})` : ''}`;
    return { spec, cs, role: 'down', problem };
  }
  // A probe answered before the container's latest start describes a previous life of the node.
  const fresh = p && (cs.startedAt === undefined || p.at >= cs.startedAt);
  if (!p || !fresh) return { spec, cs, role: 'starting' };
  if (p.ok) return { spec, cs, probe: p, role: p.inRecovery ? 'notStreaming' : 'primary' };
  const f = p.failure;
  if (f.kind === 'starting') return { spec, cs, role: 'starting', problem: f.message };
  const young = cs.startedAt !== undefined && now - cs.startedAt < START_GRACE_MS;
  if ((f.kind === 'refused' || f.kind === 'connectionLost' || f.kind === 'shuttingDown') && young) return { spec, cs, role: 'starting', problem: f.message };
  return { spec, cs, role: 'unreachable', problem: f.message };
}

export function deriveStatus(
  probes: ProbeRound,
  containers: ContainerSnapshot,
  topology: ClusterTopology,
  thresholds: Thresholds = DEFAULT_THRESHOLDS,
  now: number = Date.now(),
): ClusterStatus {
  const states = containers.ok ? containers.states : {};
  const cs = (name: string) => states[name] ?? missing(name);
  const drafts = topology.nodes.map((spec) => baseRole(spec, cs(spec.container), probes.nodes[spec.key], now));
  const byKey = new Map(drafts.map((d) => [d.spec.key, d]));

  // Who streams from whom: the sender's pg_stat_replication first (application_name = cluster_name
  // = service), then the receiver's own pg_stat_wal_receiver, then its primary_conninfo.
  const senderRow = (d: Draft): { from: Draft; row: ReplicationRow } | undefined => {
    const appName = d.probe?.clusterName || d.spec.service;
    let best: { from: Draft; row: ReplicationRow } | undefined;
    for (const other of drafts) {
      if (other === d || !other.probe) continue;
      const row = other.probe.replication.find((r) => r.applicationName === appName);
      if (row && (!best || row.state === 'streaming')) best = { from: other, row };
    }
    return best;
  };

  interface Link {
    upstream?: NodeKey;
    upstreamHost?: string;
    row?: ReplicationRow;
  }
  const links = new Map<NodeKey, Link>();
  for (const d of drafts) {
    if (!d.probe || !d.probe.inRecovery) continue;
    const s = senderRow(d);
    const wr = d.probe.walReceiver;
    const host = wr?.senderHost ?? hostOf(d.probe.primaryConninfo);
    const port = wr?.senderHost ? wr.senderPort : portOf(d.probe.primaryConninfo);
    links.set(d.spec.key, { upstream: s?.from.spec.key ?? nodeForHost(topology, host, port), upstreamHost: s ? s.from.spec.service : host, row: s?.row });
    const streaming = wr?.status === 'streaming' || s?.row.state === 'streaming';
    if (streaming) {
      const up = s?.from ?? (links.get(d.spec.key)?.upstream ? byKey.get(links.get(d.spec.key)!.upstream!) : undefined);
      d.role = up?.probe?.inRecovery ? 'cascadingReplica' : 'replica';
    }
  }

  // Lag, following cascades up to the primary (bounded: a loop cannot occur, but guard anyway).
  const lagOf = (key: NodeKey, depth = 0): NodeLag | undefined => {
    const d = byKey.get(key);
    if (!d?.probe?.inRecovery) return undefined;
    const link = links.get(key);
    const row = link?.row;
    // Probes are read at slightly different moments: a replica can look a few bytes "ahead" of
    // its upstream. Lag is never negative (see nonNegative).
    let bytes: number | null = nonNegative(row?.replayBytes ?? null);
    if (bytes !== null && d.role === 'cascadingReplica' && link?.upstream && depth < 4) {
      const upLag = lagOf(link.upstream, depth + 1);
      bytes = upLag?.bytes === null || upLag?.bytes === undefined ? bytes : bytes + upLag.bytes;
    }
    const replayMs = row ? nonNegative(row.replayLagMs ?? (bytes === 0 ? 0 : null)) : null;
    return {
      bytes,
      replayMs,
      writeMs: nonNegative(row?.writeLagMs ?? null),
      flushMs: nonNegative(row?.flushLagMs ?? null),
      receiveReplayBytes: nonNegative(d.probe.receiveReplayBytes),
      lastReplayAgeMs: nonNegative(d.probe.replayAgeMs),
    };
  };

  const writable = drafts.filter((d) => d.role === 'primary').map((d) => d.spec.key);
  const splitBrain = writable.length >= 2;
  const alerts: Alert[] = [];
  const name = (k: NodeKey) => byKey.get(k)!.spec.container;

  if (splitBrain) {
    alerts.push({
      id: `splitBrain:${writable.join(',')}`,
      kind: 'splitBrain',
      severity: 'error',
      nodes: writable,
      // The alert's title ("Split brain") is put in front by whoever shows it: not repeated here.
      message: `${writable.map(name).join(writable.length === 2 ? ' and ' : ', ')} ${writable.length === 2 ? 'both' : 'all'} accept writes. Stop (fence) the one that must not take writes, then rejoin it as a replica.`,
    });
  }

  // Timeline divergence.
  const primTimelines = drafts.filter((d) => d.role === 'primary' && d.probe).map((d) => d.probe!.timeline);
  const newest = primTimelines.length ? Math.max(...primTimelines) : undefined;
  const diverged: NodeKey[] = [];
  if (newest !== undefined) {
    for (const d of drafts) {
      if (!d.probe || d.probe.timeline >= newest) continue;
      // A writable node on an older timeline has history the newest primary does not have. A
      // standby that points at a node on the newer timeline and still does not stream cannot
      // follow it (WAL beyond the fork point). A standby whose upstream is simply gone is only
      // not streaming: repointing it is enough.
      const up = links.get(d.spec.key)?.upstream;
      const upDraft = up ? byKey.get(up) : undefined;
      const stuckOnNewer = d.role === 'notStreaming' && upDraft?.probe !== undefined && upDraft.probe.timeline >= newest;
      if (d.role === 'primary' || stuckOnNewer) diverged.push(d.spec.key);
    }
  }
  if (diverged.length) {
    alerts.push({
      id: `timelineDivergence:${diverged.join(',')}`,
      kind: 'timelineDivergence',
      severity: 'error',
      nodes: diverged,
      message: `${diverged.map((k) => `${name(k)} is on timeline ${byKey.get(k)!.probe!.timeline}`).join(', ')} while the newest primary is on timeline ${newest}. Rejoin with pg_rewind (or re-clone) before it streams again.`,
    });
  }

  const nodes: NodeStatus[] = drafts.map((d) => {
    const p = d.probe;
    const link = links.get(d.spec.key);
    const lag = lagOf(d.spec.key);
    let health: Health;
    switch (d.role) {
      case 'down':
        health = 'off';
        break;
      case 'starting':
        health = 'pending';
        break;
      case 'unreachable':
        health = 'error';
        break;
      case 'notStreaming':
        health = 'warning';
        break;
      default:
        health = 'ok';
    }
    if (splitBrain && writable.includes(d.spec.key)) health = 'error';
    if (diverged.includes(d.spec.key)) health = 'error';
    // A delayed replica (Exercise 3) is behind on purpose: only lag beyond its delay counts.
    const delayMs = p?.inRecovery ? (p.minApplyDelayMs ?? 0) : 0;
    if (lag && lag.replayMs !== null && lag.replayMs - delayMs > thresholds.lagSeconds * 1000) {
      health = health === 'error' ? 'error' : 'warning';
      alerts.push({
        id: `lag:${d.spec.key}`,
        kind: 'lagOverThreshold',
        severity: 'warning',
        nodes: [d.spec.key],
        message: `${d.spec.container} replays ${formatDuration(lag.replayMs)} behind (${formatBytes(lag.bytes)})${delayMs ? ` with an apply delay of ${formatDuration(delayMs)}` : ''}, over the ${thresholds.lagSeconds} s alert threshold.`,
      });
    }
    if (d.role === 'notStreaming') {
      alerts.push({
        id: `notStreaming:${d.spec.key}`,
        kind: 'notStreaming',
        severity: 'warning',
        nodes: [d.spec.key],
        message: `${d.spec.container} is a standby but does not stream${p?.walReceiver ? ` (WAL receiver ${p.walReceiver.status})` : ''}${link?.upstreamHost ? ` from ${link.upstreamHost}` : ''}${
          link?.upstream && byKey.get(link.upstream)?.role === 'down' ? `, which is down${writable.length === 1 ? ': repoint it to the primary' : ''}` : ''
        }.`,
      });
    }
    for (const s of p?.slots ?? []) {
      const bytes = s.retainedBytes ?? 0;
      if (bytes >= thresholds.retainedWalBytes) {
        health = 'error';
        alerts.push({
          id: `slotRetainedWal:${d.spec.key}:${s.name}`,
          kind: 'slotRetainedWal',
          severity: 'error',
          nodes: [d.spec.key],
          message: `Slot ${s.name} on ${d.spec.container} retains ${formatBytes(bytes)} of WAL (alert at ${formatBytes(thresholds.retainedWalBytes)})${s.active ? '' : ' and is inactive'}: the disk can fill up. Bring its replica back or drop the slot.`,
        });
      } else if (!s.active && !p?.inRecovery) {
        health = health === 'ok' ? 'warning' : health;
        alerts.push({
          id: `inactiveSlot:${d.spec.key}:${s.name}`,
          kind: 'inactiveSlot',
          severity: 'warning',
          nodes: [d.spec.key],
          message: `Slot ${s.name} on ${d.spec.container} is inactive and retains ${formatBytes(bytes)} of WAL (no limit by default).`,
        });
      }
    }
    return {
      key: d.spec.key,
      name: nodeName(d.spec),
      address: nodeAddress(topology, d.spec),
      service: d.spec.service,
      container: d.spec.container,
      hostPort: d.spec.hostPort,
      containerState: d.cs,
      role: d.role,
      health,
      upstream: link?.upstream,
      upstreamHost: link?.upstreamHost,
      timeline: p?.timeline,
      currentLsn: p?.currentLsn,
      receiveLsn: p?.receiveLsn,
      replayLsn: p?.replayLsn,
      lag,
      syncState: link?.row?.syncState,
      replayPaused: p?.replayPaused,
      applyDelayMs: p?.inRecovery ? p.minApplyDelayMs : undefined,
      downstream: p?.replication ?? [],
      walReceiver: p?.walReceiver,
      slots: p?.slots ?? [],
      synchronousStandbyNames: p?.synchronousStandbyNames,
      primaryConninfo: p?.primaryConninfo,
      problem: d.problem,
      probedAt: probes.nodes[d.spec.key]?.at,
    };
  });

  const running = drafts.filter((d) => mayAnswer(d.cs)).length;
  const settled = drafts.every((d) => !mayAnswer(d.cs) || d.probe || d.role === 'unreachable');
  if (writable.length === 0 && running > 0 && settled && drafts.some((d) => d.probe)) {
    alerts.push({ id: 'noPrimary', kind: 'noPrimary', severity: 'warning', nodes: [], message: 'No node accepts writes: every reachable node is a standby. Promote one (PG HA Workshop: Promote Replica).' });
  }

  // The workshop's "replica disconnected" rule (count(*) < 2 FROM pg_stat_replication WHERE
  // state = 'streaming'), counted over the whole tree so that a cascaded replica still counts.
  const minStreaming = thresholds.minStreamingReplicas ?? 2;
  const streamingReplicas = nodes.filter((n) => n.role === 'replica' || n.role === 'cascadingReplica');
  if (writable.length === 1 && running > 0 && settled && !drafts.some((d) => d.role === 'starting') && streamingReplicas.length < minStreaming) {
    const missingReplicas = nodes.filter((n) => n.key !== writable[0] && !streamingReplicas.includes(n));
    alerts.push({
      id: `tooFewStreamingReplicas:${missingReplicas.map((n) => n.key).join(',')}`,
      kind: 'tooFewStreamingReplicas',
      severity: 'warning',
      nodes: missingReplicas.map((n) => n.key),
      message: `Only ${streamingReplicas.length} replica${streamingReplicas.length === 1 ? '' : 's'} stream${streamingReplicas.length === 1 ? 's' : ''} (alert below ${minStreaming}): ${missingReplicas.map((n) => n.container).join(', ')} ${missingReplicas.length === 1 ? 'is' : 'are'} disconnected.`,
    });
  }

  // PgBouncer.
  const bcs = cs(topology.pgbouncer.container);
  const bp = probes.pgbouncer;
  const fresh = bp && (bcs.startedAt === undefined || bp.at >= bcs.startedAt);
  const db = bp?.ok && fresh ? (bp.databases.find((x) => x.name === topology.superuser.database) ?? bp.databases[0]) : undefined;
  const target = nodeForHost(topology, db?.host);
  const primary = writable.length === 1 ? writable[0] : undefined;
  let bHealth: Health = bcs.status !== 'running' ? 'off' : !bp || !fresh ? 'pending' : bp.ok ? 'ok' : 'error';
  const targetIsPrimary = db ? (primary !== undefined ? target === primary : undefined) : undefined;
  if (bHealth === 'ok' && (targetIsPrimary === false || db?.paused)) bHealth = 'warning';
  if (bcs.status === 'running' && targetIsPrimary === false && primary) {
    alerts.push({
      id: `pgbouncerNotOnPrimary:${target ?? db?.host}`,
      kind: 'pgbouncerNotOnPrimary',
      severity: 'warning',
      nodes: target ? [target] : [],
      message: `PgBouncer sends ${topology.superuser.database} to ${db?.host ?? '?'}, but the primary is ${name(primary)}: writes through PgBouncer fail. Repoint PgBouncer.`,
    });
  }
  const pgbouncer: PgBouncerStatus = {
    container: topology.pgbouncer.container,
    hostPort: topology.pgbouncer.hostPort,
    containerState: bcs,
    health: bHealth,
    targetHost: db?.host ?? undefined,
    targetPort: db?.port ?? undefined,
    target,
    targetIsPrimary,
    paused: db?.paused,
    pools: bp?.ok && fresh ? bp.pools : [],
    problem: bcs.status !== 'running' ? (bcs.status === 'missing' ? 'container does not exist' : `container ${bcs.status}`) : bp && !bp.ok ? bp.failure.message : undefined,
  };

  // Worst lag over the replicas.
  let maxLag: ClusterStatus['maxLag'] = { bytes: null, replayMs: null };
  for (const n of nodes) {
    if (!n.lag) continue;
    const b = n.lag.bytes;
    const m = n.lag.replayMs;
    const worse = (m ?? -1) > (maxLag.replayMs ?? -1) || ((m ?? -1) === (maxLag.replayMs ?? -1) && (b ?? -1) > (maxLag.bytes ?? -1));
    maxLag = {
      bytes: b === null ? maxLag.bytes : Math.max(b, maxLag.bytes ?? 0),
      replayMs: m === null ? maxLag.replayMs : Math.max(m, maxLag.replayMs ?? 0),
      node: worse ? n.key : maxLag.node,
    };
  }

  // An attached cluster has no containers (and no PgBouncer of ours): its nodes count as up when they answer.
  const attached = topology.kind === 'attached';
  const all = attached ? drafts.map((d) => (d.role === 'unreachable' ? { ...d.cs, status: 'exited' as const } : d.cs)) : [...drafts.map((d) => d.cs), bcs];
  const up = all.filter((c) => mayAnswer(c)).length;
  const clusterState = up === all.length ? 'running' : up === 0 ? 'stopped' : 'partial';

  return {
    at: now,
    docker: containers.ok ? { ok: true } : { ok: false, problem: containers.problem, message: containers.message },
    clusterState,
    nodes,
    pgbouncer,
    primary,
    writable,
    maxLag,
    splitBrain,
    timelineDivergence: diverged.length > 0,
    alerts,
    thresholds,
  };
}
