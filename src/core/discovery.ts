// Attach: from one or more addresses to the whole cluster. Each node reached says who it streams
// from (pg_stat_wal_receiver) and who streams from it (pg_stat_replication); those addresses are
// tried in turn, and a Patroni REST URL adds its members (GET /cluster). Nodes reached through
// different addresses are one node when they report the same system identifier and server
// address. Every query runs under a statement_timeout and lock_timeout; nothing is written.
//
// API (no vscode):
//   discoverCluster(seeds, options) → Discovery { nodes, unreachable, warnings, error? }
import { Client } from 'pg';
import { classifyPgError, nodeClientConfig } from './connection';
import type { SslSettings } from './clusterProfile';
import { formatAddress, parseAddress, type NodeAddress } from './nodes';
import { patroniUrlsOf } from './patroni/attached';
import { PatroniRestClient } from './patroni/rest';
import type { ClusterTopology } from './topology';

export interface DiscoveryOptions {
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly ssl: SslSettings;
  readonly patroniUrl?: string;
  /** Per connection attempt and per statement; default 10 000 ms (a remote node, a busy machine). */
  readonly timeoutMs?: number;
  /** At most this many addresses are tried (a bound, not a target); default 32. */
  readonly maxAddresses?: number;
}

export interface DiscoveredNode {
  readonly name: string;
  readonly address: NodeAddress;
  readonly applicationName?: string;
  readonly inRecovery: boolean;
  readonly upstream?: string;
  readonly standbys: number;
  /** How it was found: 'given', or the node / Patroni that named it. */
  readonly foundVia: string;
}

export interface Discovery {
  readonly nodes: readonly DiscoveredNode[];
  /** Addresses tried and not reached, with why (a down node, a wrong password, TLS ...). */
  readonly unreachable: readonly { readonly address: string; readonly message: string; readonly foundVia: string }[];
  /** Worth knowing before attaching (superuser, a single server, a standby not reachable from here). */
  readonly warnings: readonly string[];
  /** Set when there is nothing to attach to: what failed, why, what to do. */
  readonly error?: string;
  /** TLS settings that worked (sslmode=prefer falls back to plain on a server without TLS). */
  readonly ssl: SslSettings;
}

const DISCOVERY_SQL = `
SELECT pg_is_in_recovery() AS rec,
       current_setting('cluster_name') AS cluster_name,
       (SELECT system_identifier::text FROM pg_control_system()) AS sysid,
       host(inet_server_addr()) AS server_addr,
       inet_server_port() AS server_port,
       pg_has_role(current_user, 'pg_monitor', 'USAGE') AS monitor,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
       (SELECT coalesce(json_agg(json_build_object('app', application_name, 'addr', host(client_addr), 'state', state)), '[]'::json) FROM pg_stat_replication) AS downstream,
       (SELECT json_build_object('host', sender_host, 'port', sender_port, 'status', status) FROM pg_stat_wal_receiver LIMIT 1) AS upstream`;

interface Row {
  rec: boolean;
  cluster_name: string | null;
  sysid: string | null;
  server_addr: string | null;
  server_port: number | null;
  monitor: boolean;
  superuser: boolean;
  downstream: { app: string | null; addr: string | null; state: string | null }[];
  upstream: { host: string | null; port: number | null; status: string | null } | null;
}

interface Reached {
  address: NodeAddress;
  row: Row;
  foundVia: string;
}

function topologyFor(o: DiscoveryOptions, ssl: SslSettings): ClusterTopology {
  return {
    kind: 'attached',
    ssl,
    projectName: 'discovery',
    composeFile: '',
    containerPrefix: '',
    host: '127.0.0.1',
    nodes: [],
    pgbouncer: { service: '', container: '', hostPort: 0 },
    superuser: { user: o.user, password: o.password, database: o.database },
    replicationUser: { user: '', password: '' },
    internalPort: 5432,
    postgresImage: '',
    pgbouncerImage: '',
  };
}

async function query(a: NodeAddress, o: DiscoveryOptions, ssl: SslSettings): Promise<Row> {
  const timeout = o.timeoutMs ?? 10_000;
  const c = new Client(nodeClientConfig(topologyFor(o, ssl), a.port, { host: a.host, connectTimeoutMs: timeout, queryTimeoutMs: timeout + 1000, statementTimeoutMs: timeout, applicationName: 'pg-ha-workshop attach' }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query<Row>(DISCOVERY_SQL);
    return r.rows[0];
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Patroni's members (GET /cluster on the first of the profile's REST URLs that answers). */
async function patroniMembers(urls: readonly string[], timeoutMs: number): Promise<{ name: string; address: NodeAddress }[]> {
  let last: unknown;
  for (const baseUrl of urls) {
    try {
      const { members } = await new PatroniRestClient({ baseUrl, timeoutMs }).cluster();
      return members.flatMap((m) => (m.host ? [{ name: m.name, address: { host: m.host, port: m.port ?? 5432 } }] : []));
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}

export async function discoverCluster(seeds: readonly NodeAddress[], o: DiscoveryOptions): Promise<Discovery> {
  const timeout = o.timeoutMs ?? 10_000;
  const max = o.maxAddresses ?? 32;
  let ssl = o.ssl;
  const queue: { address: NodeAddress; foundVia: string }[] = seeds.map((address) => ({ address, foundVia: 'given' }));
  const tried = new Set<string>();
  const reached: Reached[] = [];
  const identities = new Set<string>();
  const unreachable: { address: string; message: string; foundVia: string }[] = [];
  const warnings: string[] = [];

  let patroniMemberCount = 0;
  if (o.patroniUrl) {
    try {
      const members = await patroniMembers(patroniUrlsOf(o.patroniUrl), timeout);
      patroniMemberCount = members.length;
      for (const m of members) queue.push({ address: m.address, foundVia: `Patroni member ${m.name}` });
    } catch (e) {
      warnings.push(`Patroni at ${o.patroniUrl} did not list its members (${e instanceof Error ? e.message : String(e)}): only the nodes reached through PostgreSQL are attached.`);
    }
  }

  while (queue.length && tried.size < max) {
    const { address, foundVia } = queue.shift()!;
    const key = formatAddress(address);
    if (tried.has(key)) continue;
    tried.add(key);
    let row: Row;
    try {
      try {
        row = await query(address, o, ssl);
      } catch (e) {
        // sslmode=prefer/allow: a server without TLS is still reached, in plain text (libpq does the same).
        if ((ssl.mode === 'prefer' || ssl.mode === 'allow') && /does not support SSL/i.test(e instanceof Error ? e.message : String(e))) {
          ssl = { ...ssl, mode: 'disable' };
          row = await query(address, o, ssl);
        } else throw e;
      }
    } catch (e) {
      const f = classifyPgError(e);
      const what =
        f.code === 'ECONNREFUSED'
          ? `${f.message}. Is PostgreSQL running there, and is the port right?`
          : f.kind === 'timeout'
            ? `${f.message}. Check the address, the firewall and the VPN.`
            : f.kind === 'connectionLost'
              ? `${f.message}: the server closed the connection at once. It may be starting up, or something other than PostgreSQL listens there.`
              : f.message;
      unreachable.push({ address: key, message: what, foundVia });
      continue;
    }
    const identity = `${row.sysid}/${row.server_addr ?? key}:${row.server_port ?? ''}`;
    if (identities.has(identity)) continue; // the same node through another address
    identities.add(identity);
    reached.push({ address, row, foundVia });
    const via = row.cluster_name || key;
    if (row.upstream?.host) {
      try {
        queue.push({ address: parseAddress(row.upstream.host, row.upstream.port ?? 5432), foundVia: `${via} (streams from it)` });
      } catch {
        // A unix-socket sender_host: nothing to try from here.
      }
    }
    for (const d of row.downstream) {
      // A standby's client address with this node's port, then with the port the node itself
      // listens on: guesses, tried like any other address (a standby reached twice is one node).
      if (!d.addr) continue;
      for (const port of new Set([address.port, row.server_port ?? 5432])) queue.push({ address: { host: d.addr, port }, foundVia: `${via} (standby ${d.app ?? '?'} streams from it)` });
    }
  }

  // A guessed standby address that failed is only worth a message when that standby was not reached otherwise.
  const appNames = new Set(reached.map((r) => r.row.cluster_name).filter((x): x is string => !!x));
  const serverAddrs = new Set(reached.map((r) => r.row.server_addr).filter((x): x is string => !!x));
  const missingStandbys: string[] = [];
  for (const r of reached) for (const d of r.row.downstream) if (!(d.app && appNames.has(d.app)) && !(d.addr && serverAddrs.has(d.addr))) missingStandbys.push(`${d.app || '?'} (${d.addr ?? 'local'}, streaming from ${r.row.cluster_name || formatAddress(r.address)})`);
  // Guessed addresses that failed are noise when the node was reached another way: a standby's
  // client address, or an upstream named the way its standbys name it (a host name only their
  // network resolves, matching a reached node's cluster_name or server address).
  const guessFailed = (u: { address: string; foundVia: string }) => {
    if (u.foundVia.includes('(standby ')) return true;
    // Patroni advertises the addresses its members use among themselves (a container network, a
    // NAT): not worth a message once as many nodes as it has members were reached another way.
    if (u.foundVia.startsWith('Patroni member ') && reached.length >= patroniMemberCount) return true;
    if (!u.foundVia.endsWith('(streams from it)')) return false;
    const host = u.address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return appNames.has(host) || serverAddrs.has(host);
  };
  const shownUnreachable = unreachable.filter((u) => !guessFailed(u));
  if (missingStandbys.length) warnings.push(`Standbys seen in pg_stat_replication but not reachable from here: ${missingStandbys.join(', ')}. Add their addresses to attach them too.`);

  const base = { unreachable: shownUnreachable, ssl };
  if (reached.length === 0) {
    const detail = shownUnreachable.map((u) => `${u.address}: ${u.message}`).join(' ');
    return { ...base, nodes: [], warnings, error: `Could not attach: no node answered. ${detail}` };
  }
  const sysids = new Set(reached.map((r) => r.row.sysid));
  if (sysids.size > 1) {
    return { ...base, nodes: [], warnings, error: `These servers are not one cluster (different system identifiers: ${reached.map((r) => `${formatAddress(r.address)} ${r.row.sysid}`).join(', ')}). Attach each cluster as its own profile.` };
  }
  const first = reached[0].row;
  if (first.superuser) warnings.push(`User ${o.user} is a superuser. Watching needs only pg_monitor: CREATE ROLE watcher LOGIN PASSWORD '…' IN ROLE pg_monitor; and attach with that role.`);
  else if (!first.monitor) warnings.push(`User ${o.user} is not a member of pg_monitor, so lag and standby figures stay empty. Run GRANT pg_monitor TO ${o.user}; on the primary.`);
  if (reached.length === 1 && !first.rec && first.downstream.length === 0) {
    warnings.push(`${formatAddress(reached[0].address)} is a single server: it is not a standby and no standby streams from it, so there is no replication to watch. Attach to a node of a replicating cluster, or attach anyway to watch this one server.`);
  }

  // Names: cluster_name when it is set and unique, the address otherwise.
  const names = reached.map((r) => r.row.cluster_name || '');
  const unique = (n: string) => n !== '' && names.filter((x) => x === n).length === 1;
  const nodes = reached.map(
    (r): DiscoveredNode => ({
      name: unique(r.row.cluster_name ?? '') ? r.row.cluster_name! : formatAddress(r.address),
      address: r.address,
      applicationName: r.row.cluster_name || undefined,
      inRecovery: r.row.rec,
      upstream: r.row.upstream?.host ? `${r.row.upstream.host}:${r.row.upstream.port ?? ''}` : undefined,
      standbys: r.row.downstream.length,
      foundVia: r.foundVia,
    }),
  );
  return { ...base, nodes, warnings };
}
