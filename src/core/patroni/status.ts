// What `patronictl list` shows, plus the DCS health and the settings: one read of a Patroni
// cluster. The REST answers are folded by pure functions (unit-tested); readPatroniStatus does the
// I/O, asks any member that answers for the cluster-wide views, and never throws.
//
// API (no vscode):
//   readPatroniStatus(topology, { timeoutMs }) → PatroniStatus
//   memberRows(clusterInfo, nodeInfos) → PatroniMemberRow[]   (pure)
//   roleLabel(role) → 'Leader' | 'Sync Standby' | 'Replica' | ...
import { readDcsHealth, type DcsHealth } from './etcd';
import { PatroniRestClient, type PatroniClusterInfo, type PatroniDynamicConfig, type PatroniHistoryEntry, type PatroniNodeInfo } from './rest';
import { settingsNotes, settingsOf, validatePatroniSettings, type PatroniSettings } from './settings';
import type { PatroniTopology } from './topology';

export type PatroniRole = 'leader' | 'standby_leader' | 'sync_standby' | 'replica' | 'unknown';

export interface PatroniMemberRow {
  readonly name: string;
  readonly host?: string;
  readonly role: PatroniRole;
  readonly roleLabel: string;
  readonly state: string;
  readonly timeline?: number;
  /** Bytes behind the leader (Patroni's own figure), undefined when unknown. */
  readonly lagBytes?: number;
  /** pg_last_wal_receive_lsn / replay_lsn as LSN text, from the member's GET /patroni. */
  readonly receiveLsn?: string;
  readonly replayLsn?: string;
  /** For the leader: its current WAL position. */
  readonly lsn?: string;
  readonly pendingRestart: boolean;
  readonly scheduledRestart?: string;
  readonly tags: Readonly<Record<string, unknown>>;
}

export interface PatroniStatus {
  readonly at: number;
  /** A member answered GET /cluster. */
  readonly reachable: boolean;
  readonly members: readonly PatroniMemberRow[];
  readonly leader?: string;
  readonly paused: boolean;
  readonly scheduledSwitchover?: { readonly at: string; readonly from: string; readonly to?: string };
  readonly settings?: PatroniSettings;
  readonly settingsProblems: readonly string[];
  readonly settingsNotes: readonly string[];
  readonly config?: PatroniDynamicConfig;
  readonly history: readonly PatroniHistoryEntry[];
  readonly dcs: DcsHealth;
  /** Members whose REST API did not answer, with why. */
  readonly problems: readonly string[];
}

export function normalizeRole(role: string | undefined): PatroniRole {
  switch (role) {
    case 'leader':
    case 'master':
    case 'primary':
      return 'leader';
    case 'standby_leader':
      return 'standby_leader';
    case 'sync_standby':
      return 'sync_standby';
    case 'replica':
      return 'replica';
    default:
      return 'unknown';
  }
}

export function roleLabel(role: PatroniRole): string {
  return { leader: 'Leader', standby_leader: 'Standby Leader', sync_standby: 'Sync Standby', replica: 'Replica', unknown: 'Unknown' }[role];
}

/** LSN text (X/Y) of a byte position. */
export function lsnText(pos: number | undefined): string | undefined {
  if (pos === undefined || !Number.isFinite(pos) || pos < 0) return undefined;
  const n = BigInt(Math.trunc(pos));
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function memberRows(cluster: PatroniClusterInfo, nodes: ReadonlyMap<string, PatroniNodeInfo | undefined> = new Map()): PatroniMemberRow[] {
  return [...cluster.members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => {
      const role = normalizeRole(m.role);
      const n = nodes.get(m.name);
      const isLeader = role === 'leader' || role === 'standby_leader';
      return {
        name: m.name,
        host: m.host,
        role,
        roleLabel: roleLabel(role),
        state: m.state,
        timeline: m.timeline ?? n?.timeline,
        lagBytes: typeof m.lag === 'number' ? m.lag : undefined,
        receiveLsn: isLeader ? undefined : lsnText(n?.xlog?.received_location),
        replayLsn: isLeader ? undefined : lsnText(n?.xlog?.replayed_location),
        lsn: isLeader ? lsnText(n?.xlog?.location) : undefined,
        pendingRestart: m.pending_restart === true || n?.pending_restart === true,
        scheduledRestart: m.scheduled_restart?.schedule,
        tags: m.tags ?? {},
      };
    });
}

/** One line per member, like `patronictl list` (for logs and reports). */
export function formatMemberTable(rows: readonly PatroniMemberRow[]): string {
  const head = ['Member', 'Host', 'Role', 'State', 'TL', 'Lag in MB', 'Pending restart'];
  const body = rows.map((r) => [
    r.name,
    r.host ?? '',
    r.roleLabel,
    r.state,
    r.timeline === undefined ? '' : String(r.timeline),
    r.role === 'leader' ? '' : r.lagBytes === undefined ? 'unknown' : String(Math.round(r.lagBytes / 1048576)),
    r.pendingRestart ? '*' : '',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i])).join(' | ')} |`;
  return [line(head), ...body.map(line)].join('\n');
}

export function clientsOf(t: PatroniTopology, timeoutMs = 3000): Map<string, PatroniRestClient> {
  return new Map(t.members.map((m) => [m.name, new PatroniRestClient({ baseUrl: m.restUrl, timeoutMs, name: m.container })]));
}

/** The first member answering `fn`, with the problems of those that did not. */
export async function askAny<T>(t: PatroniTopology, fn: (c: PatroniRestClient) => Promise<T>, timeoutMs = 3000): Promise<{ value?: T; from?: string; problems: string[] }> {
  const problems: string[] = [];
  const clients = clientsOf(t, timeoutMs);
  const answers = await Promise.all(
    [...clients].map(async ([name, c]) => {
      try {
        return { name, value: await fn(c) };
      } catch (e) {
        problems.push(e instanceof Error ? e.message : String(e));
        return undefined;
      }
    }),
  );
  const a = answers.find((x) => x !== undefined);
  return { value: a?.value, from: a?.name, problems };
}

export async function readPatroniStatus(t: PatroniTopology, o: { timeoutMs?: number; withHistory?: boolean } = {}): Promise<PatroniStatus> {
  const timeoutMs = o.timeoutMs ?? 3000;
  const clients = clientsOf(t, timeoutMs);
  const problems: string[] = [];
  const [nodeInfos, dcs] = await Promise.all([
    Promise.all(
      [...clients].map(async ([name, c]) => {
        try {
          return [name, await c.patroni()] as const;
        } catch (e) {
          problems.push(e instanceof Error ? e.message : String(e));
          return [name, undefined] as const;
        }
      }),
    ),
    readDcsHealth(t.etcd, { scope: t.scope, namespace: t.namespace, timeoutMs }),
  ]);
  const answering = nodeInfos.filter(([, n]) => n !== undefined).map(([name]) => clients.get(name)!);
  // Cluster-wide views from the first answering member (they all read the same DCS).
  let cluster: PatroniClusterInfo | undefined;
  let config: PatroniDynamicConfig | undefined;
  let history: PatroniHistoryEntry[] = [];
  for (const c of answering) {
    try {
      [cluster, config, history] = await Promise.all([c.cluster(), c.config(), o.withHistory === false ? Promise.resolve([]) : c.history()]);
      break;
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  const rows = cluster ? memberRows(cluster, new Map(nodeInfos)) : [];
  const settings = config ? settingsOf(config) : undefined;
  return {
    at: Date.now(),
    reachable: cluster !== undefined,
    members: rows,
    leader: rows.find((r) => r.role === 'leader' || r.role === 'standby_leader')?.name,
    paused: cluster?.pause === true || config?.pause === true,
    scheduledSwitchover: cluster?.scheduled_switchover,
    settings,
    settingsProblems: settings ? validatePatroniSettings({}, settings) : [],
    settingsNotes: settings ? settingsNotes(settings) : [],
    config,
    history,
    dcs,
    problems,
  };
}
