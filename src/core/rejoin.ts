// Rejoin an old primary (or any diverged node) as a replica of the current primary.
//
// The node's container runs PostgreSQL as its main process, so pg_rewind cannot run inside it
// while it is stopped: a short-lived helper container with the same image, the same data volume
// and the same network runs it (as user postgres), then writes the standby settings
// (standby.signal, primary_conninfo, primary_slot_name) and exits; the node's own container is
// started again and its entry script starts a standby because standby.signal exists. This does
// not depend on the node's entry script, so it works the same for the old primary's container
// (whose script would initdb an empty directory) and for a replica's.
//
//   rewind  pg_rewind --source-server=<primary>: copies only what diverged. pg_rewind runs crash
//           recovery itself when the target was killed; "no rewind required" is fine.
//   clone   empty the data directory and pg_basebackup from the primary (always possible, slower).
//
// API (no vscode):
//   rejoinAsReplica(ctx, node, { method: 'rewind' | 'clone' | 'auto' }) → RejoinResult
//   RejoinError.problem 'rewindImpossible' carries `reason` (why) and the pg_rewind output
//   explainRewindFailure(output) → reason (pure)
// It holds the cluster's operation lock (operationLock.ts) from the survey to the start; its helper
// container has a name of its own per run, so no other run can remove it while pg_rewind works.
// It stops only at safe points when `signal` aborts (before the node is stopped, before the helper
// starts); a pg_rewind or clone that has started is never interrupted half-way.
// The node's fence mark (fenceMarker.ts) is removed by the helper once the standby settings are
// written: a node that did not become a standby stays fenced.
import type Docker from 'dockerode';
import type { Containers } from '../docker/engine';
import { demuxDockerLogs } from '../docker/logFrames';
import { classifyPgError } from './connection';
import { ensureSlot, replicaConninfo, surveyCluster, waitStreaming, type FailoverContext } from './failover';
import { holderOf, resolveNode, startNode, stopNode } from './nodeActions';
import { FENCE_FILE } from './fenceMarker';
import { withOperationLock } from './operationLock';
import { randomBytes } from 'node:crypto';
import { withNodeClient } from './connection';
import type { PgNodeSpec } from './topology';

export type RejoinMethod = 'rewind' | 'clone' | 'auto';

export interface RejoinOptions {
  readonly method?: RejoinMethod;
  /** How long to wait for the node to stream after its start. Default 90 s. */
  readonly streamTimeoutMs?: number;
  readonly onStep?: (message: string) => void;
  /** Cancel: honoured at the safe points only (before the node is stopped, before the helper runs). */
  readonly signal?: AbortSignal;
}

export interface RejoinResult {
  readonly node: PgNodeSpec['key'];
  readonly container: string;
  readonly upstream: string;
  /** What was done: a rewind, nothing to rewind, or a fresh clone. */
  readonly method: 'rewind' | 'noRewindNeeded' | 'clone' | 'alreadyStreaming';
  readonly rewindFailure?: string;
  readonly output: string;
  readonly streaming: boolean;
  readonly tookMs: number;
  readonly message: string;
}

export type RejoinProblem = 'noPrimary' | 'isOnlyPrimary' | 'rewindImpossible' | 'cloneFailed' | 'docker' | 'cancelled';

export class RejoinError extends Error {
  constructor(
    message: string,
    readonly problem: RejoinProblem,
    readonly reason?: string,
    readonly output?: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'RejoinError';
  }
}

const DATA_DIR = '/var/lib/postgresql/data';

/** Why pg_rewind could not run, in words, from its output. Pure. */
export function explainRewindFailure(output: string): string {
  // Only pg_rewind's own error lines count (the helper's progress lines mention wal_log_hints too).
  const o = output
    .split('\n')
    .filter((l) => /error|fatal|could not|failed|must be/i.test(l))
    .join('\n');
  if (/wal_log_hints|data checksums/i.test(o)) return 'the old primary runs without wal_log_hints=on and without data checksums, so pg_rewind cannot tell which pages changed';
  if (/different systems|system identifier/i.test(o)) return 'the two nodes are different clusters (different system identifiers): there is no shared history to rewind to';
  if (/could not find common ancestor/i.test(o)) return 'the two nodes have no common timeline history';
  if (/could not (open|find|read).*(WAL|pg_wal|previous WAL record)|requested WAL segment .* has already been removed/i.test(o)) {
    return 'the WAL written by the old primary since the fork point is no longer there, so pg_rewind cannot find what diverged';
  }
  if (/could not connect|connection to server .* failed|password authentication failed/i.test(o)) return 'pg_rewind could not connect to the new primary';
  if (/must be shut down cleanly|single-user/i.test(o)) return 'the old primary was not shut down cleanly and its crash recovery failed';
  const lines = o.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.length ? lines.slice(-2).join(' ') : 'pg_rewind failed (see its output)';
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The script the helper container runs: rewind or clone, then standby settings. */
export function helperScript(method: 'rewind' | 'clone', t: FailoverContext['topology'], upstream: string, node: PgNodeSpec): string {
  const su = t.superuser;
  const src = `host=${upstream} port=${t.internalPort} user=${su.user} password=${su.password} dbname=postgres connect_timeout=5`;
  const conninfo = replicaConninfo(t, upstream, node.service);
  // The node's container is stopped, so its postmaster.pid is stale; left in place it names PID 1,
  // which in this helper is the shell, and the crash recovery pg_rewind runs would refuse to start.
  const head = `set -e\nD=${DATA_DIR}\nrm -f "$D/postmaster.pid"\n`;
  const work =
    method === 'rewind'
      ? // pg_rewind would run crash recovery itself, but with the data directory's own postgresql.conf
        // (wal_log_hints off) instead of the node's: the shutdown checkpoint then records
        // wal_log_hints=off and pg_rewind refuses; and with wal_keep_size 0 its end-of-recovery
        // checkpoint recycles the WAL pg_rewind must read. Recover here with the node's settings.
        `if pg_controldata "$D" | grep -Eq 'cluster state: +in production|wal_log_hints setting: +off'; then\n` +
        `  echo "crash recovery (single-user, wal_log_hints=on)"\n` +
        `  postgres --single -F -D "$D" -c wal_log_hints=on -c wal_keep_size=1GB template1 </dev/null 2>&1\n` +
        `fi\n` +
        `pg_rewind --target-pgdata="$D" --source-server=${shellQuote(src)} --progress 2>&1\n`
      : `echo "emptying $D"\nrm -rf "$D"/* "$D"/.[!.]* 2>/dev/null || true\n` +
        `PGPASSWORD=${shellQuote(t.replicationUser.password)} pg_basebackup -h ${upstream} -p ${t.internalPort} -U ${t.replicationUser.user} -D "$D" -R -X stream -S ${node.slot} -c fast --no-password 2>&1\necho "clone done"\n`;
  // Appended lines win over earlier ones (also over settings pg_rewind copied from the source).
  const standby =
    `touch "$D/standby.signal"\n` +
    `printf '%s\\n' "# rejoined as a standby of ${upstream}" ${shellQuote(`primary_conninfo = '${conninfo}'`)} ${shellQuote(`primary_slot_name = '${node.slot}'`)} >> "$D/postgresql.auto.conf"\n` +
    `chmod 700 "$D"\nrm -f "$D/${FENCE_FILE}"\necho "standby settings written"\n`;
  return head + work + standby;
}

async function runHelper(docker: Docker, source: Docker.ContainerInspectInfo, name: string, script: string, timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const data = source.Mounts.find((m) => m.Destination === DATA_DIR);
  if (!data) throw new RejoinError(`${source.Name.replace(/^\//, '')} has no volume at ${DATA_DIR}: cannot rewind or clone it.`, 'docker');
  const network = Object.keys(source.NetworkSettings.Networks ?? {})[0];
  const helper = await docker.createContainer({
    name,
    Image: source.Config.Image,
    User: 'postgres',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [script],
    Labels: { 'pg-ha-workshop.helper': 'rejoin' },
    HostConfig: {
      Mounts: [data.Type === 'volume' ? { Type: 'volume', Source: data.Name!, Target: DATA_DIR } : { Type: 'bind', Source: data.Source, Target: DATA_DIR }],
      NetworkMode: network,
    },
  });
  try {
    await helper.start();
    let timeoutHandle: NodeJS.Timeout | undefined;
    const timer = new Promise<'timeout'>((r) => (timeoutHandle = setTimeout(() => r('timeout'), timeoutMs)));
    // Cleared at once: a pending 5-minute timer would keep a short-lived process (a test, a script) alive.
    const res = await Promise.race([helper.wait() as Promise<{ StatusCode: number }>, timer]).finally(() => clearTimeout(timeoutHandle));
    if (res === 'timeout') await helper.kill().catch(() => undefined);
    const buf = (await helper.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    const output = demuxDockerLogs(buf);
    return { exitCode: res === 'timeout' ? -1 : res.StatusCode, output: res === 'timeout' ? `${output}\n(timed out after ${Math.round(timeoutMs / 1000)} s)` : output };
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}

export async function rejoinAsReplica(ctx: FailoverContext & { readonly containers: Containers }, node: string, o: RejoinOptions = {}): Promise<RejoinResult> {
  const target = resolveNode(ctx.topology, node);
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Rejoin ${target.container} as a replica (${o.method ?? 'rewind'})`, nodes: [target.container], signal: o.signal }, () => rejoinLocked(ctx, node, o));
}

async function rejoinLocked(ctx: FailoverContext & { readonly containers: Containers }, node: string, o: RejoinOptions): Promise<RejoinResult> {
  const t0 = Date.now();
  const t = ctx.topology;
  const target = resolveNode(t, node);
  if (target.kind !== 'postgres') throw new RejoinError(`${target.container} is PgBouncer, not a PostgreSQL node.`, 'docker');
  const spec = target.spec;
  const say = (m: string) => {
    ctx.log?.(`rejoin ${spec.container}: ${m}`);
    o.onStep?.(m);
  };
  const s = await surveyCluster(ctx);
  const others = s.writable.filter((k) => k !== spec.key);
  if (others.length === 0) {
    if (s.writable.includes(spec.key)) throw new RejoinError(`${spec.container} is the only primary: rejoining it as a replica would leave no node that accepts writes. Fail over first.`, 'isOnlyPrimary');
    const seen = s.nodes.map((n) => `${n.container}: ${n.role}${n.problem ? ` (${n.problem})` : ''}`).join('; ');
    throw new RejoinError(`No other node accepts writes, so ${spec.container} has nothing to follow (${seen}). Promote a replica (or start the primary) first.`, 'noPrimary');
  }
  if (others.length > 1) throw new RejoinError(`Split brain among ${others.map((k) => t.nodes.find((n) => n.key === k)!.container).join(', ')}: fence one of them first.`, 'noPrimary');
  const primary = t.nodes.find((n) => n.key === others[0])!;
  const method = o.method ?? 'rewind';
  const me = s.nodes.find((n) => n.key === spec.key)!;
  if (me.role === 'replica' && me.upstream === primary.key && method !== 'clone') {
    const message = `${spec.container} already streams from ${primary.container}: nothing to do.`;
    say(message);
    return { node: spec.key, container: spec.container, upstream: primary.service, method: 'alreadyStreaming', output: '', streaming: true, tookMs: Date.now() - t0, message };
  }

  const safePoint = (where: string) => {
    if (o.signal?.aborted) throw new RejoinError(`Rejoin of ${spec.container} cancelled ${where}.`, 'cancelled');
  };
  safePoint(`before anything was changed: ${spec.container} is as it was`);
  // Fence/stop the node: pg_rewind needs the target stopped.
  const st = await ctx.containers.state(spec.container);
  if (!st) throw new RejoinError(`${spec.container} does not exist: start the cluster first.`, 'docker');
  if (st.Status === 'running' || st.Status === 'restarting') {
    say('stopping it (pg_rewind needs the target stopped)');
    await stopNode(ctx, spec.key, { timeoutSec: 20 });
  }

  say(`CHECKPOINT on ${primary.container}, slot ${spec.slot} there`);
  try {
    await withNodeClient(t, primary.hostPort, (c) => c.query('CHECKPOINT'), { database: 'postgres', connectTimeoutMs: 10_000, queryTimeoutMs: 60_000 });
    await ensureSlot(ctx, primary, spec.slot);
  } catch (e) {
    throw new RejoinError(`${primary.container} did not answer (${classifyPgError(e).message}); ${spec.container} is stopped and unchanged. Start it again or retry.`, 'noPrimary', undefined, undefined, e);
  }

  const info = await ctx.containers.inspect(spec.container);
  safePoint(`after ${spec.container} was stopped, before pg_rewind: it stays stopped (and fenced if it was), unchanged`);
  // A name per run: a second rejoin (refused by the lock anyway) could never remove this one's helper.
  const helperName = `${t.containerPrefix}pgha-rejoin-${spec.service}-${randomBytes(3).toString('hex')}`;
  let done: RejoinResult['method'];
  let output = '';
  let rewindFailure: string | undefined;
  if (method !== 'clone') {
    say(`pg_rewind against ${primary.service} (helper container ${helperName})`);
    const r = await runHelper(ctx.containers.docker, info, helperName, helperScript('rewind', t, primary.service, spec), 300_000);
    output = r.output;
    if (r.exitCode === 0) {
      done = /no rewind required/i.test(r.output) ? 'noRewindNeeded' : 'rewind';
    } else {
      rewindFailure = explainRewindFailure(r.output);
      say(`pg_rewind failed: ${rewindFailure}`);
      if (method === 'rewind') {
        throw new RejoinError(
          `pg_rewind cannot rejoin ${spec.container}: ${rewindFailure}. It stays stopped. A fresh clone (empty its data, copy ${primary.container} with pg_basebackup) always works.`,
          'rewindImpossible',
          rewindFailure,
          r.output,
        );
      }
    }
  }
  if (method === 'clone' || rewindFailure) {
    say(`fresh clone of ${primary.service} (pg_basebackup, slot ${spec.slot})`);
    const r = await runHelper(ctx.containers.docker, info, helperName, helperScript('clone', t, primary.service, spec), 600_000);
    output += (output ? '\n' : '') + r.output;
    if (r.exitCode !== 0) {
      throw new RejoinError(`The fresh clone of ${spec.container} from ${primary.container} failed: ${r.output.trim().split('\n').slice(-2).join(' ')}. ${spec.container} is stopped with an empty or partial data directory; retry the clone.`, 'cloneFailed', undefined, r.output);
    }
    done = 'clone';
  }

  say('starting it as a standby');
  await startNode(ctx, spec.key, { unfence: true });
  const streaming = await waitStreaming(ctx, primary.hostPort, spec.service, o.streamTimeoutMs ?? 90_000);
  const how = done! === 'clone' ? 'fresh clone' : done! === 'noRewindNeeded' ? 'no rewind needed' : 'pg_rewind';
  const message = streaming
    ? `${spec.container} rejoined as a replica of ${primary.container} (${how}, slot ${spec.slot}) and streams.`
    : `${spec.container} was rejoined (${how}) and started, but does not stream from ${primary.container} yet: check its log.`;
  say(message);
  return { node: spec.key, container: spec.container, upstream: primary.service, method: done!, rewindFailure, output, streaming, tookMs: Date.now() - t0, message };
}
