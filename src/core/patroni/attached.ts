// An attached cluster that Patroni manages: switchover and restart go through Patroni's REST API
// with the same client and operations as the Patroni profile (operations.ts); Patroni decides, we
// ask. Nothing here uses Docker or changes roles over SQL.
//
// The profile names one or more REST URLs (any member's is enough to read /cluster; restarting a
// member needs that member's own API). Patroni's members are named in /cluster, with the addresses
// Patroni advertises, which are often not the ones this machine reaches (a NAT, a container
// network). So each attached node is matched to its member by what the node itself says: the one
// not in recovery is the leader, a standby names its member in its WAL receiver's conninfo
// (Patroni sets application_name to the member name; one standby left without a receiver is the
// one member left), and a REST URL belongs to the node whose postmaster started at the time
// /patroni reports. The match is made fresh for every operation
// (a restart or a switchover changes it).
//
// API (no vscode):
//   patroniUrlsOf(text)                          → REST URLs of a profile ("http://a:8008, http://b:8008")
//   resolveAttachedPatroni(cluster, urls)        → { topology (PatroniTopology), memberOf(nodeKey) }
//   switchoverAttached(cluster, urls, nodeKey)   → the node's member becomes the leader (POST /switchover)
//   restartAttached(cluster, urls, nodeKey)      → Patroni restarts the node's PostgreSQL (POST /restart)
import { withNodeClient } from '../connection';
import type { ClusterTopology, NodeKey } from '../topology';
import { PatroniOperationError, restartMember, switchover } from './operations';
import { PatroniRestClient, type ActionResult, type PatroniClusterMember } from './rest';
import type { PatroniMemberSpec, PatroniTopology } from './topology';

/** The REST URLs a profile gives, separated by commas or spaces; a bare host:port gets http://. */
export function patroniUrlsOf(text: string | undefined): string[] {
  return [
    ...new Set(
      (text ?? '')
        .split(/[\s,]+/)
        .map((u) => u.trim().replace(/\/+$/, ''))
        .filter(Boolean)
        .map((u) => (/^https?:\/\//i.test(u) ? u : `http://${u}`)),
    ),
  ];
}

export interface AttachedPatroni {
  /** Members with the REST URL this machine reaches them at; shaped for operations.ts. */
  readonly topology: PatroniTopology;
  /** The Patroni member an attached node is, when it could be told. */
  memberOf(node: NodeKey): string | undefined;
}

interface NodeFacts {
  readonly key: NodeKey;
  readonly port: number;
  readonly host: string;
  readonly inRecovery: boolean;
  /** Postmaster start, ms since the epoch: what /patroni reports too. */
  readonly startedMs: number;
  /** application_name of its WAL receiver's connection (Patroni: the member name). */
  readonly receiverApp?: string;
}

const NODE_SQL = `SELECT pg_is_in_recovery() AS rec,
  floor(extract(epoch FROM pg_postmaster_start_time()) * 1000)::text AS started,
  (SELECT conninfo FROM pg_stat_wal_receiver LIMIT 1) AS conninfo`;

function appNameIn(conninfo: string | null): string | undefined {
  const m = conninfo ? /(?:^|\s)application_name=('(?:[^'\\]|\\.)*'|\S+)/.exec(conninfo) : null;
  if (!m) return undefined;
  return m[1].startsWith("'") ? m[1].slice(1, -1).replace(/\\(.)/g, '$1') : m[1];
}

async function nodeFacts(cluster: ClusterTopology, timeoutMs: number): Promise<NodeFacts[]> {
  const all = await Promise.all(
    cluster.nodes.map(async (n): Promise<NodeFacts | undefined> => {
      try {
        return await withNodeClient(
          cluster,
          n.hostPort,
          async (c) => {
            const r = (await c.query<{ rec: boolean; started: string; conninfo: string | null }>(NODE_SQL)).rows[0];
            return { key: n.key, port: n.hostPort, host: n.host ?? cluster.host, inRecovery: r.rec, startedMs: Number(r.started), receiverApp: appNameIn(r.conninfo) };
          },
          { host: n.host, connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs + 1000, statementTimeoutMs: timeoutMs, applicationName: 'pg-ha-workshop patroni' },
        );
      } catch {
        return undefined; // a node that does not answer is matched through its REST URL only, or not at all
      }
    }),
  );
  return all.filter((x): x is NodeFacts => x !== undefined);
}

/** "http://postgres-primary:8008/patroni" → "http://postgres-primary:8008". */
function apiBase(apiUrl: string | undefined): string | undefined {
  if (!apiUrl) return undefined;
  try {
    return new URL(apiUrl).origin;
  } catch {
    return undefined;
  }
}

/** Patroni prints "2026-12-02 03:22:46.823516+00:00"; ms since the epoch, truncated like the SQL side. */
function patroniTimeMs(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(s.trim());
  if (!m) return undefined;
  const ms = (m[3] ?? '').padEnd(3, '0').slice(0, 3);
  const v = Date.parse(`${m[1]}T${m[2]}.${ms}${m[4] ?? 'Z'}`);
  return Number.isNaN(v) ? undefined : v;
}

export async function resolveAttachedPatroni(cluster: ClusterTopology, urls: readonly string[], o: { timeoutMs?: number } = {}): Promise<AttachedPatroni> {
  const timeoutMs = o.timeoutMs ?? 5000;
  if (!urls.length) throw new PatroniOperationError('This profile has no Patroni REST URL: attach the cluster again and give the REST API of its members (for example http://db1:8008).', 'unreachable');
  let members: readonly PatroniClusterMember[] | undefined;
  const problems: string[] = [];
  for (const u of urls) {
    try {
      members = (await new PatroniRestClient({ baseUrl: u, timeoutMs }).cluster()).members;
      break;
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (!members) throw new PatroniOperationError(`No Patroni REST URL of this profile answers. ${problems.join(' ')}`, 'unreachable');

  const names = new Set(members.map((m) => m.name));
  // A standby's WAL receiver names its member; one that is (re)connecting names nobody for a few
  // seconds (a new replica, a restart): ask again, bounded, before matching by elimination.
  let facts = await nodeFacts(cluster, timeoutMs);
  // Also a node that does not answer for a moment (Patroni restarting the demoted leader): matching
  // by elimination needs all but one node named.
  const unnamed = (fs: readonly NodeFacts[]) => cluster.nodes.length - fs.filter((f) => !f.inRecovery || (f.receiverApp && names.has(f.receiverApp))).length;
  for (let i = 0; i < 10 && unnamed(facts) > 1; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    facts = await nodeFacts(cluster, timeoutMs);
  }
  const leader = members.find((m) => m.role === 'leader' || m.role === 'master' || m.role === 'standby_leader')?.name;
  const memberByNode = new Map<NodeKey, string>();
  for (const f of facts) {
    const advertised = members.find((m) => m.host === f.host && (m.port ?? 5432) === f.port)?.name;
    const name = advertised ?? (f.receiverApp && names.has(f.receiverApp) ? f.receiverApp : !f.inRecovery ? leader : undefined);
    if (name) memberByNode.set(f.key, name);
  }
  // A standby whose WAL receiver is not up yet (just demoted, catching up from the archive) names
  // nobody: when it is the only node left and one member is left, they are one.
  // So is a node that does not answer at all right now (Patroni restarting it after a demotion).
  const unmatchedNodes = cluster.nodes.filter((n) => !memberByNode.has(n.key));
  const matched = new Set(memberByNode.values());
  const unmatchedMembers = members.filter((m) => !matched.has(m.name));
  if (unmatchedNodes.length === 1 && unmatchedMembers.length === 1) memberByNode.set(unmatchedNodes[0].key, unmatchedMembers[0].name);

  // Every URL we know (the profile's, then what each member advertises): which member answers there.
  const candidates = [...new Set([...urls, ...members.map((m) => apiBase(m.api_url)).filter((x): x is string => !!x)])];
  const urlOfMember = new Map<string, string>();
  await Promise.all(
    candidates.map(async (u) => {
      const info = await new PatroniRestClient({ baseUrl: u, timeoutMs: Math.min(timeoutMs, 3000) }).patroni().catch(() => undefined);
      const started = patroniTimeMs((info as { postmaster_start_time?: string } | undefined)?.postmaster_start_time);
      const node = started === undefined ? undefined : facts.find((f) => f.startedMs === started);
      const name = node && memberByNode.get(node.key);
      // The profile's own URLs first: they are the ones this machine was told it reaches.
      if (name && (!urlOfMember.has(name) || urls.includes(u))) urlOfMember.set(name, u);
    }),
  );

  const specs = members.map((m): PatroniMemberSpec => {
    const node = [...memberByNode].find(([, n]) => n === m.name)?.[0];
    const f = facts.find((x) => x.key === node);
    const restUrl = urlOfMember.get(m.name) ?? apiBase(m.api_url) ?? urls[0];
    let restHostPort = 0;
    try {
      restHostPort = Number(new URL(restUrl).port) || 80;
    } catch {
      // left 0: only the URL is used
    }
    return { key: node ?? `patroni:${m.name}`, name: m.name, container: m.name, pgHostPort: f?.port ?? m.port ?? 0, restHostPort, restUrl };
  });
  const topology: PatroniTopology = { cluster, scope: '', namespace: '', members: specs, etcd: [], dcsNetwork: '', image: '' };
  return { topology, memberOf: (k) => memberByNode.get(k) };
}

function memberFor(p: AttachedPatroni, cluster: ClusterTopology, node: NodeKey): string {
  const name = p.memberOf(node);
  if (name) return name;
  const spec = cluster.nodes.find((n) => n.key === node);
  throw new PatroniOperationError(
    `${spec?.name ?? node} could not be matched to a Patroni member (members: ${p.topology.members.map((m) => m.name).join(', ')}). Check that the node answers and that it is part of this Patroni cluster.`,
    'unknownMember',
  );
}

/** The node's member becomes the leader: a switchover asked of the current leader's REST API. */
export async function switchoverAttached(cluster: ClusterTopology, urls: readonly string[], node: NodeKey): Promise<ActionResult & { leader: string; candidate: string }> {
  const p = await resolveAttachedPatroni(cluster, urls);
  const candidate = memberFor(p, cluster, node);
  const r = await switchover(p.topology, { candidate });
  return { ...r, candidate };
}

/** Patroni restarts the node's PostgreSQL (POST /restart on that member's own REST API). */
export async function restartAttached(cluster: ClusterTopology, urls: readonly string[], node: NodeKey): Promise<ActionResult & { member: string }> {
  const p = await resolveAttachedPatroni(cluster, urls);
  const member = memberFor(p, cluster, node);
  return { ...(await restartMember(p.topology, member)), member };
}
