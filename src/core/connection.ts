// How the core connects to a node: pg settings with short timeouts, so a dead or hung node costs
// at most a bounded wait, and a message for every connection failure that says what to do.
//
// API (used by the monitor, node actions, failover and the notebook):
//   nodeClientConfig(topology, hostPort, opts)  → pg.ClientConfig for one node (or PgBouncer)
//   withNodeClient(topology, hostPort, fn, opts) → opens one client, runs fn, always closes it
//   classifyPgError(e)                          → PgFailure { kind, message, code? }
import { readFileSync } from 'node:fs';
import { Client, type ClientConfig } from 'pg';
import { sslConfig } from './clusterProfile';
import type { ClusterTopology } from './topology';

export interface ConnectOptions {
  /** Database to connect to; default the workshop database (`demodb`). */
  database?: string;
  /** TCP connect + startup deadline. */
  connectTimeoutMs?: number;
  /** Client-side deadline per query (works through PgBouncer too). */
  queryTimeoutMs?: number;
  /** Server-side statement_timeout; leave unset for PgBouncer (its admin console rejects it). */
  statementTimeoutMs?: number;
  applicationName?: string;
  /** Host to connect to; default the topology's host (a node of an attached cluster has its own). */
  host?: string;
}

export function nodeClientConfig(t: ClusterTopology, hostPort: number, o: ConnectOptions = {}): ClientConfig {
  const cfg: ClientConfig = {
    host: o.host ?? t.host,
    port: hostPort,
    user: t.superuser.user,
    password: t.superuser.password,
    database: o.database ?? t.superuser.database,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 2000,
    query_timeout: o.queryTimeoutMs ?? 10_000,
    application_name: o.applicationName ?? 'pg-ha-workshop',
    keepAlive: true,
  };
  if (o.statementTimeoutMs !== undefined) cfg.statement_timeout = o.statementTimeoutMs;
  if (t.kind === 'attached') {
    // Someone else's cluster: never wait on a lock (a probe gives up instead of queueing behind DDL).
    cfg.lock_timeout = 1000;
    const ssl = sslConfig(t.ssl, (f) => readFileSync(f, 'utf8'));
    if (ssl) cfg.ssl = ssl;
  }
  return cfg;
}

/** Opens a client, runs `fn`, closes the client whatever happens. Errors keep their pg shape. */
export async function withNodeClient<T>(t: ClusterTopology, hostPort: number, fn: (c: Client) => Promise<T>, o: ConnectOptions = {}): Promise<T> {
  const client = new Client(nodeClientConfig(t, hostPort, o));
  // A connection dropped while idle emits 'error' on the client; without a listener Node throws.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export type PgFailureKind =
  | 'refused' // nothing listens on the port (container stopped, port not published)
  | 'timeout' // no answer within the deadline
  | 'starting' // PostgreSQL is starting up / in crash recovery (57P03)
  | 'shuttingDown' // PostgreSQL is shutting down (57P03 / 57P01 admin shutdown)
  | 'auth' // password or pg_hba rejected us
  | 'connectionLost' // the server closed the connection mid-query
  | 'other';

export interface PgFailure {
  readonly kind: PgFailureKind;
  /** What happened, in words a user can act on. */
  readonly message: string;
  /** SQLSTATE or errno when there is one. */
  readonly code?: string;
}

function field(e: unknown, name: string): string | undefined {
  if (typeof e !== 'object' || e === null || !(name in e)) return undefined;
  const v = (e as Record<string, unknown>)[name];
  return v === undefined || v === null ? undefined : String(v);
}

export function classifyPgError(e: unknown): PgFailure {
  const code = field(e, 'code');
  const raw = e instanceof Error ? e.message : String(e);
  if (code === 'ECONNREFUSED') return { kind: 'refused', code, message: 'connection refused (nothing listens on the port)' };
  if (code === 'ETIMEDOUT' || /timeout/i.test(raw)) return { kind: 'timeout', code, message: `no answer in time (${raw})` };
  if (code === '57P03') {
    if (/shutting down/i.test(raw)) return { kind: 'shuttingDown', code, message: raw };
    return { kind: 'starting', code, message: raw };
  }
  if (code === '57P01' || code === '57P02') return { kind: 'shuttingDown', code, message: raw };
  if (code === '28P01') return { kind: 'auth', code, message: `${raw}: the password (or user) is wrong. Enter it again.` };
  if (code === '28000' && /no encryption|SSL off/i.test(raw)) return { kind: 'auth', code, message: `${raw}: the server accepts only TLS connections (hostssl in pg_hba.conf). Set sslmode=require, or verify-full with the server's CA certificate.` };
  if (code === '28000') return { kind: 'auth', code, message: raw };
  if (/does not support SSL/i.test(raw)) return { kind: 'other', code, message: `${raw}: the server has TLS off. Use sslmode=prefer or disable, or turn ssl on in postgresql.conf.` };
  if (/self[- ]signed certificate|unable to verify|certificate/i.test(raw) && !code?.startsWith('28')) {
    return { kind: 'other', code, message: `${raw}: the server's certificate is not trusted. Give the CA certificate that signed it (sslrootcert), or use sslmode=require to encrypt without checking it.` };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: 'refused', code, message: `the host name does not resolve (${raw}). Check the spelling, or give an IP address.` };
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return { kind: 'refused', code, message: `no route to the host (${raw}). Check the address and the network (VPN, firewall).` };
  if (code === 'ECONNRESET' || code === 'EPIPE' || /Connection terminated|connection.*(closed|ended)/i.test(raw)) {
    return { kind: 'connectionLost', code, message: raw };
  }
  return { kind: 'other', code, message: raw };
}
