// The operation lock of an attached cluster, kept in the cluster itself: a cluster this machine
// only connects to has no Docker engine of ours, but every window, process or machine that can
// change it connects to the same servers. The lock is a session advisory lock
// (pg_try_advisory_lock) taken on every node that answers, in the topology's order, each held by
// one connection for as long as the operation runs: a second operation finds at least one node
// taken and is refused. A holder that dies loses its connections, and the server drops its locks
// with them, so a crash never leaves the lock stuck. Advisory locks work on standbys too, and no
// table or row is locked: monitoring and the cluster's own traffic never wait on it.
//
// Who holds it: the holder's lock query carries a comment with holder, what, nodes and since
// (pg_stat_activity.query, readable with pg_monitor); without that privilege the holder's
// application_name and address are named instead.
//
// API (no vscode; used by operationLock.ts, which picks it for kind 'attached'):
//   acquireInCluster(topology, options)  → Acquired | OperationLockInfo (who holds it)
//   readInClusterLock(topology)          → OperationLockInfo | undefined
import * as os from 'node:os';
import { Client } from 'pg';
import { nodeClientConfig } from './connection';
import type { Acquired, OperationLockInfo, OperationLockOptions } from './operationLock';
import type { ClusterTopology, PgNodeSpec } from './topology';

/** Advisory lock keys: 'pgha' and 1 (two int4 keys: objsubid 2 in pg_locks). */
const KEY1 = 0x70676861;
const KEY2 = 1;
const MARK = 'pg-ha-workshop operation lock';
const CONNECT_MS = 5000;

interface LockNote {
  readonly holder: string;
  readonly what: string;
  readonly nodes: readonly string[];
  readonly since: number;
  readonly pid: number;
  readonly host: string;
}

function lockSql(note: LockNote): string {
  // A comment cannot end early: "*/" inside the JSON is broken up.
  return `/* ${MARK} ${JSON.stringify(note).replace(/\*\//g, '* /')} */ SELECT pg_try_advisory_lock(${KEY1}, ${KEY2}) AS got`;
}

async function connect(t: ClusterTopology, n: PgNodeSpec, applicationName: string): Promise<Client | undefined> {
  const c = new Client(nodeClientConfig(t, n.hostPort, { host: n.host, connectTimeoutMs: CONNECT_MS, queryTimeoutMs: CONNECT_MS + 5000, statementTimeoutMs: CONNECT_MS, applicationName: applicationName.slice(0, 63) }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    return c;
  } catch {
    await c.end().catch(() => undefined);
    return undefined; // a node that does not answer cannot be changed either
  }
}

const HOLDER_SQL = `SELECT a.query, a.application_name, host(a.client_addr) AS addr, a.pid, extract(epoch FROM a.backend_start) * 1000 AS started
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.classid = ${KEY1} AND l.objid = ${KEY2} AND l.objsubid = 2 AND l.granted
 LIMIT 1`;

/** The holder as this node shows it; undefined when nobody holds it there. */
async function holderOn(c: Client, t: ClusterTopology, n: PgNodeSpec): Promise<OperationLockInfo | undefined> {
  const r = (await c.query<{ query: string | null; application_name: string | null; addr: string | null; pid: number | null; started: string | null }>(HOLDER_SQL)).rows[0];
  if (!r) return undefined;
  const m = r.query ? /\/\* pg-ha-workshop operation lock (\{.*?\}) \*\//s.exec(r.query) : null;
  let note: Partial<LockNote> = {};
  try {
    if (m) note = JSON.parse(m[1]) as Partial<LockNote>;
  } catch {
    // an unreadable note: the session's own facts below
  }
  const since = typeof note.since === 'number' ? note.since : Number(r.started ?? Date.now());
  return {
    id: `${n.name ?? n.key}:${r.pid ?? '?'}`,
    holder: note.holder ?? `${r.application_name || 'a session'} from ${r.addr ?? 'a local socket'} (server pid ${r.pid ?? '?'} on ${n.name ?? n.key})`,
    what: note.what ?? (r.application_name?.replace(/^pg-ha-workshop lock: /, '') || 'a cluster operation'),
    nodes: note.nodes ?? [],
    since,
    expires: Number.MAX_SAFE_INTEGER,
    pid: note.pid ?? 0,
    host: note.host ?? '',
    running: true,
  };
}

export async function acquireInCluster(t: ClusterTopology, o: OperationLockOptions, attempt = 0): Promise<Acquired | OperationLockInfo> {
  const since = Date.now();
  const note: LockNote = { holder: o.holder, what: o.what, nodes: o.nodes ?? [], since, pid: process.pid, host: os.hostname() };
  const held: Client[] = [];
  const releaseAll = async () => {
    await Promise.all(held.splice(0).map((c) => c.end().catch(() => undefined)));
  };
  try {
    // One after the other, in the same order for everyone: two operations never each wait on the other.
    for (const n of t.nodes) {
      const c = await connect(t, n, `pg-ha-workshop lock: ${o.what}`);
      if (!c) continue;
      let got = false;
      try {
        got = (await c.query<{ got: boolean }>(lockSql(note))).rows[0]?.got === true;
      } catch {
        await c.end().catch(() => undefined);
        continue;
      }
      if (got) {
        held.push(c);
        continue;
      }
      const other = await holderOn(c, t, n).catch(() => undefined);
      await c.end().catch(() => undefined);
      await releaseAll();
      if (other) return other;
      // Released between our try and our look: try again (a few times; then report it as held).
      if (attempt < 3) return acquireInCluster(t, o, attempt + 1);
      return { id: `${n.name ?? n.key}`, holder: 'another session', what: 'a cluster operation', nodes: [], since, expires: Number.MAX_SAFE_INTEGER, pid: 0, host: '', running: true };
    }
  } catch (e) {
    await releaseAll();
    throw e;
  }
  const info: OperationLockInfo = { id: `advisory:${KEY1}:${KEY2}`, holder: o.holder, what: o.what, nodes: o.nodes ?? [], since, expires: Number.MAX_SAFE_INTEGER, pid: process.pid, host: os.hostname(), running: true };
  return { info, release: releaseAll };
}

export async function readInClusterLock(t: ClusterTopology): Promise<OperationLockInfo | undefined> {
  for (const n of t.nodes) {
    const c = await connect(t, n, 'pg-ha-workshop');
    if (!c) continue;
    try {
      const h = await holderOn(c, t, n);
      if (h) return h;
    } catch {
      // not readable here: ask the next node
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  return undefined;
}
