// Cluster profiles: which cluster the views show. The workshop's own Compose cluster is the
// built-in profile; an attached profile names a cluster this machine only connects to (any
// number of nodes, any hosts, TLS), read-only unless the user says it is a lab. Passwords are
// never part of a profile: the extension keeps them in VS Code's SecretStorage. Pure, no vscode.
//
// API:
//   parseAttachInput(text)            → AttachInput (host:port list, or a libpq URI / keyword conninfo)
//   sslConfig(ssl, readFile)          → node-postgres `ssl` option for a profile's TLS settings
//   attachedTopology(profile, nodes, password) → ClusterTopology the monitor and notebook use
//   defaultProfileLabel(nodeNames)    → "db1 +4": short enough for the view's title bar
//   shortProfileLabel(label, max?)    → the label cut at a word boundary with "…" (the full one goes in tooltips)
import type { ConnectionOptions } from 'node:tls';
import { formatAddress, parseAddress, type NodeAddress } from './nodes';
import type { ClusterTopology, PgNodeSpec } from './topology';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
export const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export interface SslSettings {
  readonly mode: SslMode;
  /** CA certificate file (PEM) that signed the server's certificate. */
  readonly rootCert?: string;
  /** Client certificate and key files (PEM), for `hostssl ... cert` rules. */
  readonly cert?: string;
  readonly key?: string;
}

export interface AttachedProfile {
  readonly id: string;
  readonly label: string;
  readonly kind: 'attached';
  /** The addresses the user gave; discovery adds the rest. */
  readonly seeds: readonly NodeAddress[];
  /** Every node found at attach time (seeds and discovered), monitored from then on. */
  readonly nodes: readonly AttachedNodeEntry[];
  readonly user: string;
  readonly database: string;
  readonly ssl: SslSettings;
  /**
   * Patroni REST API of its members (http://host:8008, comma separated), when the cluster is
   * Patroni-managed: any one reads the cluster; restarting a member needs that member's own.
   */
  readonly patroniUrl?: string;
  /** The user says this cluster is theirs to break: commands that change it are offered. */
  readonly lab: boolean;
}

export interface AttachedNodeEntry {
  readonly name: string;
  readonly address: NodeAddress;
  /** The name standbys use for it in pg_stat_replication (cluster_name), when it has one. */
  readonly applicationName?: string;
}

export interface AttachInput {
  readonly addresses: readonly NodeAddress[];
  readonly user?: string;
  readonly database?: string;
  readonly sslmode?: SslMode;
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  /** A password typed into the connection string: moved to SecretStorage, never stored in the profile. */
  readonly password?: string;
}

export class AttachInputError extends Error {
  override readonly name = 'AttachInputError';
}

function sslModeOf(v: string | undefined): SslMode | undefined {
  if (v === undefined || v === '') return undefined;
  if ((SSL_MODES as readonly string[]).includes(v)) return v as SslMode;
  throw new AttachInputError(`sslmode=${v} is not a libpq sslmode. Use one of: ${SSL_MODES.join(', ')}.`);
}

/** libpq keyword/value conninfo: host=a,b port=5432,5433 user='x y' sslmode=require. */
function parseKeywords(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([a-zA-Z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(text)) !== null) {
    out[m[1].toLowerCase()] = m[2].startsWith("'") ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2];
    last = re.lastIndex;
  }
  if (text.slice(last).trim() !== '') throw new AttachInputError(`Could not read "${text.slice(last).trim()}" in the connection string: write keyword=value pairs (host=db1 port=5432 user=monitor).`);
  return out;
}

function hostsWithPorts(hosts: string[], ports: string[], where: string): NodeAddress[] {
  if (ports.length > 1 && ports.length !== hosts.length) throw new AttachInputError(`${where}: ${hosts.length} hosts but ${ports.length} ports. Give one port, or one per host.`);
  return hosts.map((h, i) => parseAddress(`${h.includes(':') && !h.startsWith('[') ? `[${h}]` : h}:${ports[ports.length > 1 ? i : 0] || '5432'}`));
}

/**
 * What the user typed into "Attach to Cluster": `db1:5432, db2:5433`, a libpq URI
 * (`postgresql://monitor@db1:5432,db2:5432/app?sslmode=verify-full&sslrootcert=/ca.pem`) or a
 * keyword conninfo (`host=db1,db2 port=5432 user=monitor sslmode=require`).
 */
export function parseAttachInput(text: string): AttachInput {
  const s = text.trim();
  if (!s) throw new AttachInputError('Give at least one host:port (for example db1.example.com:5432), or a connection string.');
  if (/^postgres(ql)?:\/\//i.test(s)) {
    const m = /^postgres(?:ql)?:\/\/(?:([^@/]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(s);
    if (!m) throw new AttachInputError(`"${s}" is not a postgresql:// URI (postgresql://user@host1:5432,host2:5432/database).`);
    const [user, password] = (m[1] ?? '').split(':').map((x) => decodeURIComponent(x));
    const params = new URLSearchParams(m[4] ?? '');
    const hostList = m[2] ? m[2].split(',') : [];
    if (hostList.length === 0 || hostList.some((h) => h.trim() === '')) throw new AttachInputError(`"${s}" names no host. Put them after the @: postgresql://user@db1:5432,db2:5432/database.`);
    const addresses = hostList.map((h) => parseAddress(decodeURIComponent(h)));
    return {
      addresses,
      user: user || params.get('user') || undefined,
      password: password || undefined,
      database: m[3] ? decodeURIComponent(m[3]) : (params.get('dbname') ?? undefined),
      sslmode: sslModeOf(params.get('sslmode') ?? undefined),
      sslrootcert: params.get('sslrootcert') ?? undefined,
      sslcert: params.get('sslcert') ?? undefined,
      sslkey: params.get('sslkey') ?? undefined,
    };
  }
  if (/^\s*[a-zA-Z_]+\s*=/.test(s)) {
    const kw = parseKeywords(s);
    const hosts = (kw.host ?? kw.hostaddr ?? '').split(',').filter((h) => h !== '');
    if (hosts.length === 0) throw new AttachInputError('The connection string names no host: add host=db1,db2 (and port=5432).');
    return {
      addresses: hostsWithPorts(hosts, (kw.port ?? '').split(',').filter((p) => p !== ''), 'The connection string'),
      user: kw.user,
      password: kw.password,
      database: kw.dbname,
      sslmode: sslModeOf(kw.sslmode),
      sslrootcert: kw.sslrootcert,
      sslcert: kw.sslcert,
      sslkey: kw.sslkey,
    };
  }
  const parts = s.split(/[\s,;]+/).filter((p) => p !== '');
  return { addresses: parts.map((p) => parseAddress(p)) };
}

/** node-postgres's `ssl` option for these settings; `readFile` reads the certificate files. */
export function sslConfig(ssl: SslSettings | undefined, readFile: (path: string) => string): false | ConnectionOptions {
  if (!ssl || ssl.mode === 'disable') return false;
  const files: ConnectionOptions = {
    ...(ssl.rootCert ? { ca: readFile(ssl.rootCert) } : {}),
    ...(ssl.cert ? { cert: readFile(ssl.cert) } : {}),
    ...(ssl.key ? { key: readFile(ssl.key) } : {}),
  };
  switch (ssl.mode) {
    case 'verify-full':
      return { ...files, rejectUnauthorized: true };
    case 'verify-ca':
      // The chain is checked, the host name is not (libpq's verify-ca).
      return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'require':
      // libpq: require with a root certificate behaves as verify-ca; without one, no check.
      return ssl.rootCert ? { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined } : { ...files, rejectUnauthorized: false };
    default:
      // allow / prefer: encrypted without checks (discovery falls back to plain when the server has no TLS).
      return { ...files, rejectUnauthorized: false };
  }
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'cluster'
  );
}

/** A profile's name when the user gives none: the first node and how many more. */
export function defaultProfileLabel(nodeNames: readonly string[]): string {
  if (nodeNames.length === 0) return 'cluster';
  return nodeNames.length === 1 ? nodeNames[0] : `${nodeNames[0]} +${nodeNames.length - 1}`;
}

/**
 * The label as the view's title bar shows it (the sidebar leaves room for about 30 characters
 * after the view's name): at most `max` characters, cut after a separator when there is one.
 */
export function shortProfileLabel(label: string, max = 22): string {
  const s = label.trim().replace(/\s+/g, ' ');
  if (s.length <= max) return s;
  const head = s.slice(0, max - 1);
  const cut = Math.max(head.lastIndexOf(', '), head.lastIndexOf(' '));
  return `${(cut >= max / 2 ? head.slice(0, cut) : head).replace(/[\s,;·-]+$/, '')}…`;
}

/** The topology the monitor and the notebook use for an attached profile: nodes as a list, no containers. */
export function attachedTopology(profile: AttachedProfile, password: string): ClusterTopology {
  const nodes: PgNodeSpec[] = profile.nodes.map((n) => ({
    key: formatAddress(n.address),
    name: n.name,
    // application_name its standbys report (cluster_name), so pg_stat_replication rows find it.
    service: n.applicationName || formatAddress(n.address),
    container: n.name,
    host: n.address.host,
    hostPort: n.address.port,
    initialRole: 'replica',
    slot: '',
  }));
  return {
    kind: 'attached',
    projectName: `attached-${profile.id}`,
    composeFile: '',
    containerPrefix: '',
    host: profile.nodes[0]?.address.host ?? '127.0.0.1',
    nodes,
    pgbouncer: { service: '', container: '', hostPort: 0 },
    superuser: { user: profile.user, password, database: profile.database },
    replicationUser: { user: '', password: '' },
    internalPort: 5432,
    postgresImage: '',
    pgbouncerImage: '',
    ssl: profile.ssl,
  };
}
