// Backups of the workshop cluster (Demo 9, "Replication != Backup"): base backups and logical dumps
// on the shared backup volume (/backup in every node), the WAL archive's state, and point-in-time
// recovery into a NEW node. Nothing here ever writes to a running node's data directory: a restore
// always starts a new container (its own data volume, port and name; archive_mode=off), built
// from cluster/restore-node.sh, the same entry point `cluster/restore-backup.sh` uses.
//
// Layout of the backup volume (docker-compose.yml mounts it at /backup on every node):
//   /backup/base/<YYYYMMDD-HHMMSS>/    base backups taken here (pg_basebackup -Fp)
//   /backup/<anything>/                the workshop's `pg_basebackup -D /backup/$(date +%Y%m%d)`
//   /backup/dump/<db>-<stamp>.sql      logical dumps (pg_dump)
//   /backup/wal/<system identifier>/   the WAL archive (archive-wal.sh)
//
// API (no vscode):
//   readBackupCatalog(ctx)                       → BackupCatalog: backups, dumps, archive state, free space
//   takeBaseBackup(ctx, { onProgress, signal })  → BaseBackup
//   dumpDatabase(ctx, { database?, onProgress, signal }) → DumpFile
//   parseRecoveryTarget(text)                    → RecoveryTarget | throws BackupError('badInput') (pure)
//   planRestore(catalog, target, now)            → { backup } | throws BackupError (pure: before the
//                                                   oldest backup, in the future, past a gap in the archive)
//   restoreToPointInTime(ctx, { target, ... })   → RestoredNode (a new container; removed again on failure)
//   listRestoredNodes(ctx), removeRestoredNode(ctx, name)
//   archiveCurrentWal(ctx)                       pg_switch_wal() on the primary, wait until archived
//   withBackupLock seam: restore/backup take `ctx.lock` when given (the cluster's operation lock)
import type Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import { classifyPgError, withNodeClient } from './connection';
import { surveyCluster } from './failover';
import { RESTORED_NODE_LABEL } from '../docker/compose';
import type { Containers } from '../docker/engine';
import { demuxDockerLogs } from '../docker/logFrames';
import type { ClusterTopology, PgNodeSpec } from './topology';

export const BACKUP_ROOT = '/backup';
const DATA_DIR = '/var/lib/postgresql/data';
/** Label on restored nodes: the compose project they were restored from (composeDown removes them with the cluster). */
export const RESTORE_LABEL = RESTORED_NODE_LABEL;
export const RESTORE_BACKUP_LABEL = 'org.pgha.backup';
export const RESTORE_TARGET_LABEL = 'org.pgha.target';

export type BackupProblem = 'noCluster' | 'noVolume' | 'badInput' | 'beforeBackup' | 'future' | 'missingWal' | 'volumeFull' | 'cancelled' | 'failed';

/** A user-facing failure: what failed, why, what to do. The running cluster is unchanged when it is thrown. */
export class BackupError extends Error {
  constructor(
    message: string,
    readonly problem: BackupProblem,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}

/** Runs an operation under the cluster's operation lock (when the caller has one). */
export type OperationLock = <T>(what: string, fn: () => Promise<T>) => Promise<T>;

export interface BackupContext {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
  readonly log?: (message: string) => void;
  /** The cluster's operation lock: restore and backup run inside it when given. */
  readonly lock?: OperationLock;
}

export interface BaseBackup {
  /** Folder under /backup, e.g. base/20261201-210503 or 20261201. */
  readonly name: string;
  /** Epoch ms: START TIME of backup_label. */
  readonly startedAt?: number;
  /** Epoch ms when the backup ended (its manifest was written): the earliest point it restores to. */
  readonly endedAt: number;
  readonly startLsn?: string;
  readonly endLsn?: string;
  readonly timeline?: number;
  readonly sizeBytes: number;
}

export interface DumpFile {
  /** Path under /backup, e.g. dump/demodb-20261201-210503.sql */
  readonly name: string;
  readonly endedAt: number;
  readonly sizeBytes: number;
}

export interface ArchivedSegment {
  readonly name: string;
  /** Epoch ms the file was archived. */
  readonly at: number;
}

export interface ArchiveState {
  /** Node whose pg_stat_archiver this is (the writable one). */
  readonly node?: string;
  readonly mode?: string;
  readonly archivedCount?: number;
  readonly lastArchivedWal?: string | null;
  readonly lastArchivedAt?: number | null;
  readonly failedCount?: number;
  readonly lastFailedWal?: string | null;
  readonly lastFailedAt?: number | null;
  /** The archive's folder for this database system and what it holds. */
  readonly folder?: string;
  readonly segments: readonly ArchivedSegment[];
  readonly sizeBytes: number;
  /** Why the state could not be read (no writable node), when so. */
  readonly problem?: string;
}

export interface BackupCatalog {
  readonly backups: readonly BaseBackup[];
  readonly dumps: readonly DumpFile[];
  readonly archive: ArchiveState;
  readonly volumeFreeBytes?: number;
  readonly volumeSizeBytes?: number;
  /** The container the volume was read through. */
  readonly readVia: string;
}

export interface Progress {
  /** 0..1 when known. */
  readonly fraction?: number;
  readonly message: string;
  readonly bytes?: number;
}

export interface OperationOptions {
  readonly onProgress?: (p: Progress) => void;
  readonly signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------------
// Docker plumbing: a streaming exec that can be cancelled (the process gets SIGTERM).

interface StreamExecResult {
  readonly exitCode: number;
  readonly output: string;
  readonly cancelled: boolean;
}

/** Runs a shell script in the container as postgres and resolves when it has ended (never rejects). */
async function runToEnd(c: Docker.Container, script: string): Promise<void> {
  try {
    const k = await c.exec({ Cmd: ['/bin/sh', '-c', script], User: 'postgres', AttachStdout: true, AttachStderr: true });
    const s = await k.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      s.on('end', () => resolve());
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
  } catch {
    // The container is gone: so is the process.
  }
}

const shQuote = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;

/**
 * A POSIX sh script (the postgres image has no procps) that stops every process whose command
 * line is exactly argv, forks included (pg_basebackup -X stream forks its WAL streamer, which holds
 * the connection open): SIGTERM, again for late forks, SIGKILL after 5 s, until none is left (10 s).
 */
function stopProcessesScript(argv: readonly string[]): string {
  const want = shQuote(`${argv.join(' ')} `);
  return [
    `want=${want}`,
    `scan() { for f in /proc/[0-9]*/cmdline; do [ "$(tr '\\0' ' ' < $f 2>/dev/null)" = "$want" ] && { p=\${f#/proc/}; echo \${p%/cmdline}; }; done; }`,
    `i=0; while [ $i -lt 100 ]; do`,
    `  pids=$(scan); [ -n "$pids" ] || exit 0`,
    `  if [ $i -lt 50 ]; then kill -TERM $pids 2>/dev/null; else kill -KILL $pids 2>/dev/null; fi`,
    `  sleep 0.1; i=$((i+1))`,
    `done`,
  ].join('\n');
}

/**
 * Runs argv in the container as postgres, its output (stdout and stderr) line by line to onLine.
 * On abort the program is stopped in the container and awaited: killing the `docker exec` client
 * would leave it running.
 */
async function execStreaming(
  docker: Docker,
  container: string,
  argv: readonly string[],
  o: { onLine?: (line: string) => void; signal?: AbortSignal; env?: string[] } = {},
): Promise<StreamExecResult> {
  // Cancelled before it started: nothing to stop, nothing to clean.
  if (o.signal?.aborted) return { exitCode: -1, output: '', cancelled: true };
  const c = docker.getContainer(container);
  const exec = await c.exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true, User: 'postgres', Env: o.env });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  let output = '';
  let pending = '';
  const onChunk = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    output += text;
    if (output.length > 200_000) output = output.slice(-100_000);
    pending += text;
    const parts = pending.split(/\r\n|\r|\n/);
    pending = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) o.onLine?.(l);
  };
  out.on('data', onChunk);
  docker.modem.demuxStream(stream, out, out);
  let cancelled = false;
  let stopping: Promise<void> | undefined;
  const onAbort = () => {
    cancelled = true;
    stopping = runToEnd(c, stopProcessesScript(argv));
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', reject);
    });
    await stopping;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (pending.trim()) o.onLine?.(pending);
  const info = await exec.inspect();
  return { exitCode: info.ExitCode ?? -1, output, cancelled };
}

async function shell(ctx: BackupContext, container: string, script: string): Promise<string> {
  const r = await ctx.containers.exec(container, ['/bin/sh', '-c', script], { user: 'postgres' });
  if (r.exitCode !== 0) throw new BackupError(`${container}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' ')}`, 'failed');
  return r.stdout;
}

/** A running node of the cluster that has the backup volume mounted (any role will do for files). */
async function volumeNode(ctx: BackupContext): Promise<{ spec: PgNodeSpec; info: Docker.ContainerInspectInfo }> {
  const snap = await ctx.containers.snapshot(ctx.topology.nodes.map((n) => n.container));
  const running = ctx.topology.nodes.filter((n) => snap[n.container]?.status === 'running');
  if (running.length === 0) throw new BackupError('No node of the workshop cluster is running: start the cluster first (PG HA Workshop: Start Cluster).', 'noCluster');
  for (const spec of running) {
    const info = await ctx.containers.inspect(spec.container);
    if (info.Mounts.some((m) => m.Destination === BACKUP_ROOT)) return { spec, info };
  }
  throw new BackupError(
    `${running[0].container} has no backup volume at ${BACKUP_ROOT}: the cluster was created before backups existed. Reset the cluster (PG HA Workshop: Reset Cluster, or docker compose down -v && docker compose up -d) to get the backup volume and the WAL archive.`,
    'noVolume',
  );
}

/** The writable node (backups are taken from it); BackupError when there is none or two. */
async function writableNode(ctx: BackupContext): Promise<PgNodeSpec> {
  const s = await surveyCluster(ctx);
  if (s.splitBrain) throw new BackupError('Split brain: two nodes accept writes. Resolve it first (Demo 6), then back up the primary.', 'noCluster');
  if (!s.primary) throw new BackupError('No node accepts writes: start the cluster (or fail over) first.', 'noCluster');
  return ctx.topology.nodes.find((n) => n.key === s.primary)!;
}

const stamp = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

// ---------------------------------------------------------------------------------------------
// Catalog

/** Shell script printing one line per fact; parsed by parseCatalog (pure, unit-tested). */
const CATALOG_SCRIPT = `
cd ${BACKUP_ROOT} || exit 3
for d in base/* *; do
  [ -f "$d/backup_label" ] || continue
  e=$(stat -c %Y "$d/backup_manifest" 2>/dev/null || stat -c %Y "$d/backup_label")
  s=$(du -sb "$d" | cut -f1)
  st=$(sed -n 's/^START TIME: //p' "$d/backup_label")
  sl=$(sed -n 's/^START WAL LOCATION: \\([^ ]*\\).*/\\1/p' "$d/backup_label")
  tl=$(sed -n 's/^START TIMELINE: //p' "$d/backup_label")
  el=$(grep -o '"End-LSN": *"[^"]*"' "$d/backup_manifest" 2>/dev/null | tail -n 1 | sed 's/.*"\\([^"]*\\)"$/\\1/')
  printf 'backup\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$d" "$e" "$s" "$st" "$sl" "$el" "$tl"
done
for f in dump/*; do
  [ -f "$f" ] || continue
  printf 'dump\\t%s\\t%s\\t%s\\n' "$f" "$(stat -c %Y "$f")" "$(stat -c %s "$f")"
done
df -B1 ${BACKUP_ROOT} | awk 'NR==2 { printf "df\\t%s\\t%s\\n", $4, $2 }'
`;

function archiveScript(folder: string): string {
  return `cd ${folder} 2>/dev/null || exit 0\nfor f in *; do [ -f "$f" ] && printf 'wal\\t%s\\t%s\\t%s\\n' "$f" "$(stat -c %Y "$f")" "$(stat -c %s "$f")"; done\n`;
}

export interface ParsedCatalog {
  readonly backups: BaseBackup[];
  readonly dumps: DumpFile[];
  readonly segments: ArchivedSegment[];
  readonly archiveBytes: number;
  readonly freeBytes?: number;
  readonly sizeBytes?: number;
}

/** Parses the catalog script's output (tab-separated lines). Pure. */
export function parseCatalog(text: string): ParsedCatalog {
  const backups: BaseBackup[] = [];
  const dumps: DumpFile[] = [];
  const segments: ArchivedSegment[] = [];
  let archiveBytes = 0;
  let freeBytes: number | undefined;
  let sizeBytes: number | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'backup' && f.length >= 4) {
      const started = f[4] ? Date.parse(f[4].replace(' UTC', 'Z').replace(' ', 'T')) : NaN;
      backups.push({
        name: f[1],
        endedAt: Number(f[2]) * 1000,
        sizeBytes: Number(f[3]),
        startedAt: Number.isFinite(started) ? started : undefined,
        startLsn: f[5] || undefined,
        endLsn: f[6] || undefined,
        timeline: f[7] ? Number(f[7]) : undefined,
      });
    } else if (f[0] === 'dump' && f.length >= 4) {
      dumps.push({ name: f[1], endedAt: Number(f[2]) * 1000, sizeBytes: Number(f[3]) });
    } else if (f[0] === 'wal' && f.length >= 4) {
      segments.push({ name: f[1], at: Number(f[2]) * 1000 });
      archiveBytes += Number(f[3]) || 0;
    } else if (f[0] === 'df' && f.length >= 3) {
      freeBytes = Number(f[1]);
      sizeBytes = Number(f[2]);
    }
  }
  backups.sort((a, b) => b.endedAt - a.endedAt);
  dumps.sort((a, b) => b.endedAt - a.endedAt);
  segments.sort((a, b) => a.name.localeCompare(b.name));
  return { backups, dumps, segments, archiveBytes, freeBytes, sizeBytes };
}

async function systemIdentifier(ctx: BackupContext, container: string): Promise<string | undefined> {
  const out = await shell(ctx, container, `pg_controldata ${DATA_DIR} | sed -n 's/^Database system identifier: *//p'`).catch(() => '');
  return out.trim() || undefined;
}

async function readArchiver(ctx: BackupContext): Promise<Partial<ArchiveState> & { node?: string }> {
  // pg_stat_archiver counts on the node that archives: the writable one. One query per node, in
  // order, until one is not in recovery (cheaper than a full survey: the view polls this).
  let lastProblem = 'no writable node: pg_stat_archiver is read on the primary';
  for (const spec of ctx.topology.nodes) {
    try {
      const a = await withNodeClient(
        ctx.topology,
        spec.hostPort,
        async (c) =>
          (
            await c.query<{ rec: boolean; mode: string; archived_count: string; last_archived_wal: string | null; last_archived_time: Date | null; failed_count: string; last_failed_wal: string | null; last_failed_time: Date | null }>(
              "SELECT pg_is_in_recovery() AS rec, current_setting('archive_mode') AS mode, archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal, last_failed_time FROM pg_stat_archiver",
            )
          ).rows[0],
        { database: 'postgres', connectTimeoutMs: 15_000, queryTimeoutMs: 30_000 },
      );
      if (a.rec) continue;
      return {
        node: spec.service,
        mode: a.mode,
        archivedCount: Number(a.archived_count),
        lastArchivedWal: a.last_archived_wal,
        lastArchivedAt: a.last_archived_time?.getTime() ?? null,
        failedCount: Number(a.failed_count),
        lastFailedWal: a.last_failed_wal,
        lastFailedAt: a.last_failed_time?.getTime() ?? null,
      };
    } catch (e) {
      lastProblem = `${spec.container}: ${classifyPgError(e).message}`;
    }
  }
  return { problem: lastProblem };
}

/** Backups, dumps, the archive's state and the volume's free space, in one look. */
export async function readBackupCatalog(ctx: BackupContext): Promise<BackupCatalog> {
  const { spec } = await volumeNode(ctx);
  const sysid = await systemIdentifier(ctx, spec.container);
  const folder = sysid ? `${BACKUP_ROOT}/wal/${sysid}` : undefined;
  const [text, archiver] = await Promise.all([shell(ctx, spec.container, CATALOG_SCRIPT + (folder ? archiveScript(folder) : '')), readArchiver(ctx)]);
  const p = parseCatalog(text);
  return {
    backups: p.backups,
    dumps: p.dumps,
    archive: { ...archiver, folder, segments: p.segments.filter((x) => !x.name.startsWith('.')), sizeBytes: p.archiveBytes },
    volumeFreeBytes: p.freeBytes,
    volumeSizeBytes: p.sizeBytes,
    readVia: spec.container,
  };
}

// ---------------------------------------------------------------------------------------------
// Base backup and dump

/** pg_basebackup -P prints "12345/67890 kB (18%), 0/1 tablespace". */
export function parseBasebackupProgress(line: string): { doneKb: number; totalKb: number; percent: number } | undefined {
  const m = /(\d+)\/(\d+) kB \((\d+)%\)/.exec(line);
  return m ? { doneKb: Number(m[1]), totalKb: Number(m[2]), percent: Number(m[3]) } : undefined;
}

function failureOf(output: string, what: string, folder: string): BackupError {
  const lines = output.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const last = lines.filter((l) => /error|fatal|could not|No space/i.test(l)).slice(-1)[0] ?? lines.slice(-1)[0] ?? 'no output';
  if (/No space left on device|disk full|could not extend/i.test(output)) {
    return new BackupError(`${what} failed: the backup volume is full (${last}). The partial copy ${folder} was removed; the cluster is unchanged. Remove old backups or dumps (docker exec NODE rm -rf /backup/base/OLD), then try again.`, 'volumeFull');
  }
  return new BackupError(`${what} failed: ${last}. The partial copy ${folder} was removed; the cluster is unchanged.`, 'failed');
}

async function run<T>(ctx: BackupContext, what: string, fn: () => Promise<T>): Promise<T> {
  return ctx.lock ? ctx.lock(what, fn) : fn();
}

/**
 * After a cancelled base backup the server's walsenders for it (the copy and its WAL stream) end
 * when they notice the closed socket: wait for that (bounded), so "cancelled" means nothing runs.
 */
async function basebackupSendersGone(ctx: BackupContext, hostPort: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const n = await withNodeClient(
      ctx.topology,
      hostPort,
      async (c) => Number((await c.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_replication WHERE application_name = 'pg_basebackup'")).rows[0].n),
      { database: 'postgres', connectTimeoutMs: 15_000 },
    ).catch(() => 0);
    if (n === 0) return;
    if (Date.now() > until) {
      ctx.log?.(`cancelled base backup: ${n} pg_basebackup walsender(s) still on the server after ${timeoutMs / 1000} s`);
      return;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** pg_basebackup of the writable node into /backup/base/<stamp> (plain format, WAL streamed, fast checkpoint). */
export async function takeBaseBackup(ctx: BackupContext, o: OperationOptions = {}): Promise<BaseBackup> {
  return run(ctx, 'take a base backup', async () => {
    await volumeNode(ctx);
    const node = await writableNode(ctx);
    const name = `base/${stamp()}`;
    const folder = `${BACKUP_ROOT}/${name}`;
    ctx.log?.(`base backup of ${node.container} into ${folder}`);
    o.onProgress?.({ message: `pg_basebackup from ${node.service}`, fraction: 0 });
    // Over the local socket (trust): the container's own server, no password.
    const r = await execStreaming(ctx.containers.docker, node.container, ['pg_basebackup', '-U', 'postgres', '-D', folder, '-c', 'fast', '-X', 'stream', '-P', '-l', `pgha-${name.slice(5)}`], {
      signal: o.signal,
      onLine: (l) => {
        const p = parseBasebackupProgress(l);
        if (p) o.onProgress?.({ fraction: p.percent / 100, bytes: p.doneKb * 1024, message: `${Math.round(p.doneKb / 1024)} / ${Math.round(p.totalKb / 1024)} MB` });
      },
    });
    if (r.exitCode !== 0 || r.cancelled) {
      await shell(ctx, node.container, `rm -rf ${folder}`).catch(() => undefined);
      if (r.cancelled) {
        await basebackupSendersGone(ctx, node.hostPort);
        throw new BackupError(`Base backup cancelled; the partial copy ${folder} was removed. The cluster is unchanged.`, 'cancelled');
      }
      throw failureOf(r.output, 'The base backup', folder);
    }
    const cat = await readBackupCatalog(ctx);
    const b = cat.backups.find((x) => x.name === name);
    if (!b) throw new BackupError(`pg_basebackup finished but ${folder} holds no backup_label.`, 'failed');
    ctx.log?.(`base backup ${name}: ${b.sizeBytes} bytes, ends at ${b.endLsn ?? '?'}`);
    return b;
  });
}

/** pg_dump of a database into /backup/dump/<db>-<stamp>.sql (plain SQL, as the workshop's command). */
export async function dumpDatabase(ctx: BackupContext, o: OperationOptions & { database?: string } = {}): Promise<DumpFile> {
  const database = o.database ?? ctx.topology.superuser.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new BackupError(`"${database}" is not a database name: use letters, digits and _ (e.g. demodb).`, 'badInput');
  return run(ctx, 'dump a database', async () => {
    await volumeNode(ctx);
    const node = await writableNode(ctx);
    const dbSize = await withNodeClient(ctx.topology, node.hostPort, async (c) => Number((await c.query<{ n: string }>('SELECT pg_database_size($1) AS n', [database])).rows[0].n), {
      database: 'postgres',
      // An operation, not a probe: a loaded machine may take seconds to accept a connection.
      connectTimeoutMs: 15_000,
    }).catch((e: unknown) => {
      throw new BackupError(`Cannot dump ${database}: ${classifyPgError(e).message}`, /does not exist/.test(String(e)) ? 'badInput' : 'failed', e);
    });
    const name = `dump/${database}-${stamp()}.sql`;
    const file = `${BACKUP_ROOT}/${name}`;
    ctx.log?.(`pg_dump ${database} on ${node.container} into ${file}`);
    o.onProgress?.({ message: `pg_dump ${database}`, fraction: 0 });
    const poll = () =>
      ctx.containers
        .exec(node.container, ['stat', '-c', '%s', file], { user: 'postgres' })
        .then((x) => {
          const n = Number(x.stdout.trim());
          // A dump is smaller than the database (no indexes, no free space): an estimate, capped.
          if (Number.isFinite(n)) o.onProgress?.({ bytes: n, fraction: Math.min(0.95, n / Math.max(1, dbSize * 0.6)), message: `${(n / 1048576).toFixed(1)} MB written` });
        })
        .catch(() => undefined);
    const tick = setInterval(() => void poll(), 1000);
    let r: StreamExecResult;
    try {
      r = await execStreaming(ctx.containers.docker, node.container, ['pg_dump', '-U', 'postgres', '-d', database, '-f', file], { signal: o.signal });
    } finally {
      clearInterval(tick);
    }
    if (r.exitCode !== 0 || r.cancelled) {
      await shell(ctx, node.container, `rm -f ${file}`).catch(() => undefined);
      if (r.cancelled) throw new BackupError(`Dump cancelled; the partial file ${file} was removed. The cluster is unchanged.`, 'cancelled');
      throw failureOf(r.output, 'The dump', file);
    }
    const size = Number((await shell(ctx, node.container, `stat -c %s ${file}`)).trim());
    return { name, endedAt: Date.now(), sizeBytes: size };
  });
}

/**
 * Forces the current WAL segment into the archive (pg_switch_wal) and waits until pg_stat_archiver
 * reports it: the archive then covers every commit up to now. Returns the segment's name.
 */
export async function archiveCurrentWal(ctx: BackupContext, timeoutMs = 60_000): Promise<string> {
  const node = await writableNode(ctx);
  return withNodeClient(
    ctx.topology,
    node.hostPort,
    async (c) => {
      const mode = (await c.query<{ m: string }>("SELECT current_setting('archive_mode') AS m")).rows[0].m;
      if (mode === 'off') throw new BackupError(`${node.container} does not archive WAL (archive_mode = off): the cluster was created without the backup volume. Reset the cluster to get it.`, 'noVolume');
      const seg = (await c.query<{ w: string }>('SELECT pg_walfile_name(pg_switch_wal()) AS w')).rows[0].w;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const a = (await c.query<{ last: string | null; failed: string | null; ft: Date | null; lt: Date | null }>('SELECT last_archived_wal AS last, last_failed_wal AS failed, last_failed_time AS ft, last_archived_time AS lt FROM pg_stat_archiver')).rows[0];
        if (a.last && a.last.slice(0, 24) >= seg) return seg;
        if (Date.now() > deadline) {
          const why = a.failed && (!a.lt || (a.ft && a.ft > a.lt)) ? ` archive_command keeps failing on ${a.failed} (see docker logs ${node.container}: is the backup volume full?)` : '';
          throw new BackupError(`WAL segment ${seg} was not archived within ${Math.round(timeoutMs / 1000)} s.${why}`, 'failed');
        }
        await new Promise((res) => setTimeout(res, 200));
      }
    },
    { database: 'postgres', connectTimeoutMs: 15_000, queryTimeoutMs: 30_000 },
  );
}

// ---------------------------------------------------------------------------------------------
// Point-in-time recovery

export type RecoveryTarget = { readonly kind: 'time'; readonly at: number; readonly text: string } | { readonly kind: 'lsn'; readonly lsn: string } | { readonly kind: 'end' };

/**
 * A target as a user types it: a time ('2026-12-01 21:05:03', '21:05:03.250+07', ISO), an LSN
 * ('0/5000028') or 'end' / empty (replay the whole archive). A time without zone is UTC, a time
 * without date is today (UTC). Pure.
 */
export function parseRecoveryTarget(text: string, now = Date.now()): RecoveryTarget {
  const raw = (text ?? '').trim();
  if (!raw || /^(end|latest)$/i.test(raw)) return { kind: 'end' };
  if (/^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(raw)) return { kind: 'lsn', lsn: raw.toUpperCase() };
  let s = raw.replace(/\s+UTC$/i, 'Z');
  if (/^\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?/.test(s)) s = `${new Date(now).toISOString().slice(0, 10)} ${s}`;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(s);
  if (!m) {
    throw new BackupError(`"${raw}" is neither a time nor a WAL position. Write a time like 2026-12-01 21:05:03 (UTC unless you add a zone, e.g. +07), or an LSN like 0/5000028.`, 'badInput');
  }
  let zone = m[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(zone)) zone += ':00';
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const time = m[2].length === 4 ? `0${m[2]}` : m[2];
  const at = Date.parse(`${m[1]}T${time.length === 5 ? `${time}:00` : time}${zone}`);
  if (!Number.isFinite(at)) throw new BackupError(`"${raw}" is not a valid date and time.`, 'badInput');
  return { kind: 'time', at, text: new Date(at).toISOString() };
}

/** PostgreSQL's recovery_target_time for an epoch ms: ISO with microseconds precision kept at ms. */
export function targetTimeSetting(at: number): string {
  return new Date(at).toISOString().replace('T', ' ').replace('Z', '+00');
}

const SEG_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;

function segNo(name: string): bigint | undefined {
  const m = SEG_RE.exec(name);
  return m ? BigInt(`0x${m[2]}`) * 0x100n + BigInt(`0x${m[3]}`) : undefined;
}

export function lsnValue(lsn: string): bigint | undefined {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn.trim());
  return m ? (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`) : undefined;
}

/** The WAL segment holding an LSN (16 MB segments), without timeline: a number. */
export function segNoOfLsn(lsn: string): bigint | undefined {
  const v = lsnValue(lsn);
  return v === undefined ? undefined : v / 0x1000000n;
}

/** First segment number missing from the archive after `from` (up to the newest archived one). Pure. */
export function firstGap(segments: readonly ArchivedSegment[], from: bigint): { missing: bigint; coveredUntil?: number } | undefined {
  const byNo = new Map<bigint, number>();
  for (const s of segments) {
    const n = segNo(s.name);
    if (n !== undefined) byNo.set(n, Math.max(byNo.get(n) ?? 0, s.at));
  }
  const nos = [...byNo.keys()].filter((n) => n >= from).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (nos.length === 0) return undefined;
  for (let n = from; n <= nos[nos.length - 1]; n++) {
    if (!byNo.has(n)) return { missing: n, coveredUntil: byNo.get(n - 1n) };
  }
  return undefined;
}

export function segmentName(timeline: number, no: bigint): string {
  const hex = (v: bigint | number) => v.toString(16).toUpperCase().padStart(8, '0');
  return `${hex(timeline)}${hex(no / 0x100n)}${hex(no % 0x100n)}`;
}

const fmt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/**
 * Which backup a target restores from, or why it cannot (pure): the newest backup that ended
 * before the target; refuses a target before the oldest backup, in the future, or past a missing
 * WAL segment in the archive.
 */
export function planRestore(cat: Pick<BackupCatalog, 'backups' | 'archive'>, target: RecoveryTarget, now = Date.now(), backupName?: string): { backup: BaseBackup } {
  if (cat.backups.length === 0) throw new BackupError('There is no base backup yet: take one first (PG HA Workshop: Take Base Backup). A restore starts from a base backup and replays the WAL archive after it.', 'beforeBackup');
  let backup: BaseBackup | undefined;
  if (backupName) {
    backup = cat.backups.find((b) => b.name === backupName);
    if (!backup) throw new BackupError(`There is no base backup "${backupName}". Backups: ${cat.backups.map((b) => b.name).join(', ')}.`, 'badInput');
  }
  if (target.kind === 'time') {
    if (target.at > now + 1000) throw new BackupError(`${fmt(target.at)} is in the future: the archive holds WAL only up to now (${fmt(now)}). Pick an earlier time.`, 'future');
    const oldest = cat.backups[cat.backups.length - 1];
    if (backup && backup.endedAt >= target.at) throw new BackupError(`Backup ${backup.name} ended at ${fmt(backup.endedAt)}, after ${fmt(target.at)}: a backup can only be rolled forward. Pick a later time or an older backup.`, 'beforeBackup');
    backup ??= cat.backups.find((b) => b.endedAt < target.at);
    if (!backup) {
      throw new BackupError(
        `${fmt(target.at)} is before the oldest base backup (${oldest.name}, ended ${fmt(oldest.endedAt)}): a backup can only be rolled forward, never back. Pick a time after ${fmt(oldest.endedAt)}.`,
        'beforeBackup',
      );
    }
  } else if (target.kind === 'lsn') {
    const want = lsnValue(target.lsn)!;
    const end = (b: BaseBackup) => (b.endLsn ? lsnValue(b.endLsn) : undefined);
    if (backup) {
      const e = end(backup);
      if (e !== undefined && e >= want) throw new BackupError(`Backup ${backup.name} ends at ${backup.endLsn}, after ${target.lsn}: a backup can only be rolled forward. Pick a later LSN or an older backup.`, 'beforeBackup');
    }
    backup ??= cat.backups.find((b) => {
      const e = end(b);
      return e !== undefined && e < want;
    });
    if (!backup) {
      const oldest = cat.backups[cat.backups.length - 1];
      throw new BackupError(`LSN ${target.lsn} is before the end of the oldest base backup (${oldest.name}, ends at ${oldest.endLsn ?? 'unknown'}): a backup can only be rolled forward, never back. Pick a later LSN.`, 'beforeBackup');
    }
  } else {
    backup ??= cat.backups[0];
  }
  // The archive must hold every segment from the backup's start onwards, without a hole.
  const from = backup.startLsn ? segNoOfLsn(backup.startLsn) : undefined;
  if (from !== undefined) {
    const gap = firstGap(cat.archive.segments, from);
    if (gap) {
      const name = segmentName(backup.timeline ?? 1, gap.missing);
      const until = gap.coveredUntil;
      const reachable = target.kind === 'time' && until !== undefined && target.at < until;
      if (!reachable) {
        throw new BackupError(
          `WAL segment ${name} is missing from the archive (${cat.archive.folder ?? `${BACKUP_ROOT}/wal`}): replay from ${backup.name} stops there${until ? `, at about ${fmt(until)}` : ''}. Pick a time before that, or take a new base backup (it starts after the hole).`,
          'missingWal',
        );
      }
    }
  }
  return { backup };
}

export interface RestoredNode {
  readonly container: string;
  readonly hostPort: number;
  readonly backup: string;
  readonly target: string;
  /** What PostgreSQL logged where it stopped (e.g. "recovery stopping before commit of transaction 812, time …"). */
  readonly stoppedAt?: string;
  readonly sizeBytes?: number;
  readonly tookMs: number;
  /** Phase durations: copying the base backup, replaying WAL. */
  readonly copyMs?: number;
  readonly replayMs?: number;
}

export interface RestoreOptions extends OperationOptions {
  readonly target: RecoveryTarget;
  /** Folder under /backup; default: chosen by planRestore. */
  readonly backup?: string;
  /** Container name; default <prefix>postgres-restore-<stamp>. */
  readonly name?: string;
  /** Host port on 127.0.0.1; default: a free one from 5440 (after the cluster's own). */
  readonly hostPort?: number;
  /** Put the new node's data on a tmpfs of this many MB (a quick look; also how a full volume is tried). */
  readonly dataTmpfsMb?: number;
  /** Give up after this long (default 10 min). */
  readonly timeoutMs?: number;
}

async function freePort(start: number): Promise<number> {
  const net = await import('node:net');
  for (let p = start; p < start + 200; p++) {
    const ok = await new Promise<boolean>((res) => {
      const srv = net.createServer();
      srv.once('error', () => res(false));
      srv.listen({ host: '127.0.0.1', port: p, exclusive: true }, () => srv.close(() => res(true)));
    });
    if (ok) return p;
  }
  throw new BackupError(`No free port on 127.0.0.1 from ${start} to ${start + 199} for the restored node.`, 'failed');
}


/** Why a restored node stopped, from its log: a BackupError that says what to do. */
export function explainRestoreFailure(log: string, target: string): BackupError {
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.filter((l) => /FATAL|PANIC|pgha\[.*error/.test(l)).slice(-1)[0] ?? lines.slice(-1)[0] ?? 'no log';
  const short = fatal.replace(/^.*?(FATAL|PANIC|error):\s*/, '');
  if (/No space left|could not copy|volume full|could not extend|could not write/i.test(log)) {
    return new BackupError(`The restore ran out of space: ${short}. The new node was removed; the cluster is unchanged. Free space on the Docker disk (or give the restored node more room), then try again.`, 'volumeFull');
  }
  if (/before consistent recovery point/i.test(log)) {
    return new BackupError(`The target ${target} lies before the end of the base backup (${short}): a backup can only be rolled forward. Pick a later target. The new node was removed; the cluster is unchanged.`, 'beforeBackup');
  }
  if (/recovery ended before configured recovery target was reached|could not locate required checkpoint record|WAL ends before|requested WAL segment .* has already been removed|invalid record length|could not open file.*pg_wal/i.test(log)) {
    return new BackupError(
      `The archive does not reach ${target}: WAL is missing (${short}). A segment may have been deleted, or the target is later than the newest archived WAL. Pick an earlier target, or take a new base backup. The new node was removed; the cluster is unchanged.`,
      'missingWal',
    );
  }
  return new BackupError(`The restore failed: ${short}. The new node was removed; the cluster is unchanged.`, 'failed');
}

/**
 * Restores a base backup into a NEW node and replays the WAL archive up to `target` (stopping just
 * before it); the node is then promoted: a separate primary on 127.0.0.1:<port> that shares
 * nothing writable with the cluster. On failure or cancel the new node is removed again.
 */
export async function restoreToPointInTime(ctx: BackupContext, o: RestoreOptions): Promise<RestoredNode> {
  return run(ctx, 'restore to a point in time', async () => {
    const t0 = Date.now();
    const { spec, info } = await volumeNode(ctx);
    // The archive must cover the target: push the current segment out first (when a primary runs).
    o.onProgress?.({ message: 'archiving the current WAL segment', fraction: 0 });
    await archiveCurrentWal(ctx).catch((e: unknown) => ctx.log?.(`restore: could not archive the current WAL (${e instanceof Error ? e.message : String(e)}); restoring from what the archive holds`));
    const cat = await readBackupCatalog(ctx);
    const { backup } = planRestore(cat, o.target, Date.now(), o.backup);
    const targetText = o.target.kind === 'time' ? targetTimeSetting(o.target.at) : o.target.kind === 'lsn' ? o.target.lsn : 'end of archive';
    if (o.signal?.aborted) throw new BackupError('Restore cancelled before it started. Nothing was changed.', 'cancelled');
    const docker = ctx.containers.docker;
    const mount = (dest: string) => info.Mounts.find((m) => m.Destination === dest);
    const vol = mount(BACKUP_ROOT)!;
    const pgha = mount('/pgha');
    const conf = mount('/etc/postgresql');
    if (!pgha || !conf) throw new BackupError(`${spec.container} lacks the /pgha or /etc/postgresql mount of cluster/docker-compose.yml: cannot build a restored node like it.`, 'failed');
    const asMount = (m: Docker.ContainerInspectInfo['Mounts'][number], target: string, readOnly: boolean) =>
      m.Type === 'volume' ? { Type: 'volume' as const, Source: m.Name!, Target: target, ReadOnly: readOnly } : { Type: 'bind' as const, Source: m.Source, Target: target, ReadOnly: readOnly };
    const name = o.name ?? `${ctx.topology.containerPrefix}postgres-restore-${stamp()}`;
    const hostPort = o.hostPort ?? (await freePort(Math.max(5440, ...ctx.topology.nodes.map((n) => n.hostPort + 8))));
    const network = Object.keys(info.NetworkSettings.Networks ?? {})[0];
    const project = info.Config.Labels?.['com.docker.compose.project'] ?? ctx.topology.projectName;
    let tmpfs: Record<string, string> | undefined;
    if (o.dataTmpfsMb) {
      const ids = (await shell(ctx, spec.container, 'echo "$(id -u postgres):$(id -g postgres)"')).trim().split(':');
      tmpfs = { [DATA_DIR]: `size=${Math.round(o.dataTmpfsMb)}m,mode=0700,uid=${ids[0]},gid=${ids[1]}` };
    }
    ctx.log?.(`restore ${backup.name} → ${name} (port ${hostPort}), target ${targetText}`);
    const env = [`PGHA_NODE=${name}`, `PGHA_BACKUP=${backup.name}`, `PGHA_TARGET_TIME=${o.target.kind === 'time' ? targetTimeSetting(o.target.at) : ''}`, `PGHA_TARGET_LSN=${o.target.kind === 'lsn' ? o.target.lsn : ''}`];
    const container = await docker.createContainer({
      name,
      Image: info.Config.Image,
      User: 'postgres',
      Entrypoint: ['/bin/sh', '/pgha/restore-node.sh'],
      Env: env,
      StopSignal: 'SIGINT',
      Labels: { [RESTORE_LABEL]: project, [RESTORE_BACKUP_LABEL]: backup.name, [RESTORE_TARGET_LABEL]: targetText },
      ExposedPorts: { '5432/tcp': {} },
      HostConfig: {
        NetworkMode: network,
        PortBindings: { '5432/tcp': [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
        Mounts: [asMount(vol, BACKUP_ROOT, true), asMount(pgha, '/pgha', true), asMount(conf, '/etc/postgresql', true), ...(tmpfs ? [] : [{ Type: 'volume' as const, Source: '', Target: DATA_DIR }])],
        Tmpfs: tmpfs,
      },
    });
    const cleanup = async () => {
      await container.remove({ force: true, v: true }).catch(() => undefined);
    };
    try {
      await container.start();
      const deadline = Date.now() + (o.timeoutMs ?? 600_000);
      let copyDoneAt: number | undefined;
      let lastLog = '';
      for (;;) {
        if (o.signal?.aborted) {
          await cleanup();
          throw new BackupError(`Restore cancelled: ${name} was removed. The cluster is unchanged.`, 'cancelled');
        }
        const st = (await container.inspect()).State;
        lastLog = demuxDockerLogs((await container.logs({ stdout: true, stderr: true, follow: false, tail: 400 })) as unknown as Buffer);
        if (!st.Running) {
          await cleanup();
          throw explainRestoreFailure(lastLog, targetText);
        }
        if (!copyDoneAt) {
          if (/base backup copied/.test(lastLog)) {
            copyDoneAt = Date.now();
            o.onProgress?.({ message: `replaying WAL from the archive up to ${targetText}`, fraction: 0.6 });
          } else {
            const du = await ctx.containers.exec(name, ['du', '-sb', DATA_DIR], { user: 'postgres' }).catch(() => undefined);
            const n = du ? Number(du.stdout.split('\t')[0]) : NaN;
            if (Number.isFinite(n)) o.onProgress?.({ message: `copying base backup ${backup.name}`, bytes: n, fraction: Math.min(0.6, (0.6 * n) / Math.max(1, backup.sizeBytes)) });
          }
        } else {
          const done = await withNodeClient(ctx.topology, hostPort, async (c) => (await c.query<{ r: boolean; lsn: string | null }>('SELECT pg_is_in_recovery() AS r, pg_last_wal_replay_lsn()::text AS lsn')).rows[0], {
            database: 'postgres',
            connectTimeoutMs: 3000,
            queryTimeoutMs: 5000,
          }).catch(() => undefined);
          if (done && !done.r) break;
          if (done?.lsn) o.onProgress?.({ message: `replayed up to ${done.lsn}`, fraction: 0.8 });
        }
        if (Date.now() > deadline) {
          await cleanup();
          throw new BackupError(`${name} did not finish recovery within ${Math.round((o.timeoutMs ?? 600_000) / 1000)} s; it was removed. The cluster is unchanged.`, 'failed');
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const stop = lastLog.split('\n').filter((l) => /recovery stopping|redo done|last completed transaction/.test(l)).map((l) => l.replace(/^.*?LOG:\s*/, ''));
      const du = await ctx.containers.exec(name, ['du', '-sb', DATA_DIR], { user: 'postgres' }).catch(() => undefined);
      const now = Date.now();
      const r: RestoredNode = {
        container: name,
        hostPort,
        backup: backup.name,
        target: targetText,
        stoppedAt: stop.find((l) => /recovery stopping/.test(l)) ?? stop[stop.length - 1],
        sizeBytes: du ? Number(du.stdout.split('\t')[0]) : undefined,
        tookMs: now - t0,
        copyMs: copyDoneAt ? copyDoneAt - t0 : undefined,
        replayMs: copyDoneAt ? now - copyDoneAt : undefined,
      };
      ctx.log?.(`restored ${name}: ${r.stoppedAt ?? ''}`);
      o.onProgress?.({ message: `${name} is up on port ${hostPort}`, fraction: 1 });
      return r;
    } catch (e) {
      await cleanup();
      throw e;
    }
  });
}

export interface RestoredNodeInfo {
  readonly container: string;
  readonly state: string;
  readonly hostPort?: number;
  readonly backup?: string;
  readonly target?: string;
  readonly createdAt: number;
}

/** Restored nodes of this cluster (by label). */
export async function listRestoredNodes(ctx: BackupContext): Promise<RestoredNodeInfo[]> {
  const list = await ctx.containers.docker.listContainers({ all: true, filters: { label: [`${RESTORE_LABEL}=${ctx.topology.projectName}`] } });
  return list
    .map((c) => ({
      container: c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12),
      state: c.State,
      hostPort: c.Ports.find((p) => p.PrivatePort === 5432 && p.PublicPort)?.PublicPort,
      backup: c.Labels[RESTORE_BACKUP_LABEL],
      target: c.Labels[RESTORE_TARGET_LABEL],
      createdAt: c.Created * 1000,
    }))
    .sort((a, b) => b.createdAt - a.createdAt);
}

/** Removes a restored node and its data (never a cluster node: it must carry the restore label). */
export async function removeRestoredNode(ctx: BackupContext, name: string): Promise<void> {
  const c = ctx.containers.docker.getContainer(name);
  const info = await c.inspect().catch(() => undefined);
  if (!info) throw new BackupError(`There is no container ${name}.`, 'badInput');
  if (info.Config.Labels?.[RESTORE_LABEL] === undefined) throw new BackupError(`${name} is not a restored node: only nodes made by Restore to Point in Time can be removed here.`, 'badInput');
  await c.remove({ force: true, v: true });
}
