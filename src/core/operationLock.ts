// The cluster's operation lock: one cluster-changing operation at a time (failover, switchover,
// promote, fence, rejoin, start of a fenced node, demos, labs, the automatic-failover watcher,
// drills, backups), across every window and process of the extension and the workshop's
// role-changing terminal scripts.
//
// Where the lock lives, and why: in the Docker engine that runs the cluster, as a small container
// named `<prefix>pgha-operation-lock`. The cluster exists only in that engine, so whoever can change
// it (every VS Code window, a test, `cluster/promote-replica.sh`, a second machine pointed at the
// same DOCKER_HOST) can see the lock there; a lock file on one machine would not cover the last
// case and the scripts inside the containers could not see it.
//   - Taking it is atomic: the engine refuses a second container with the same name (409).
//   - It is visible: `docker ps --filter label=pg-ha-workshop.lock` shows holder, what, since (labels),
//     and on the cluster's network the host name `pgha-operation-lock` resolves while it is held,
//     so the node entry scripts (setup-replica.sh) can see it too.
//   - It cannot be left stuck by a crashed holder: the container runs `cat` on a stdin that only the
//     holder keeps open (OpenStdin + StdinOnce, like `docker run -i --rm`). When the holder's
//     process ends, however it ends, the engine closes that stdin, `cat` exits and the container is
//     removed (AutoRemove). A holder that hangs but lives keeps it; its `expires` label (since +
//     maxAgeMs) then lets the next operation take it over, and so does a dead holder's pid on this
//     machine (the liveness check of a lock whose container somehow outlived its holder).
//
// An attached cluster (a cluster this machine only connects to, kind 'attached') has no Docker engine
// of ours: there the lock lives in the cluster itself (inClusterLock.ts), as a session advisory lock
// on every node that answers. Same API, same refusal; the engine is never asked.
//
// API (no vscode):
//   withOperationLock(cluster, { holder, what, nodes?, waitMs?, signal? }, fn)  → fn's result
//       reentrant within one async call chain (a switchover that runs a failover and a rejoin takes it once)
//   readOperationLock(cluster)         → OperationLockInfo | undefined (who holds it, since when, doing what)
//   heldOperation()                    → the lock this async call chain holds, if any
//   OperationBusyError                 .info names the running operation; its message says what to do
import { AsyncLocalStorage } from 'node:async_hooks';
import * as os from 'node:os';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { Containers } from '../docker/engine';
import { acquireInCluster, readInClusterLock } from './inClusterLock';
import type { ClusterTopology } from './topology';

export interface LockCluster {
  readonly topology: ClusterTopology;
  readonly containers: Containers;
}

export interface OperationLockInfo {
  /** Container id of the lock (takeover removes exactly this one). */
  readonly id: string;
  /** Who runs the operation: "VS Code window (pid 123)", "promote-replica.sh", "automatic failover". */
  readonly holder: string;
  /** What it does, in words: "Fail over (auto candidate, kill)". */
  readonly what: string;
  /** Nodes it changes (keys or services); empty: the whole cluster. */
  readonly nodes: readonly string[];
  readonly since: number;
  readonly expires: number;
  readonly pid: number;
  readonly host: string;
  readonly running: boolean;
}

export interface OperationLockOptions {
  readonly holder: string;
  readonly what: string;
  readonly nodes?: readonly string[];
  /** How long to wait for a running operation to finish before refusing. Default 0: refuse at once. */
  readonly waitMs?: number;
  /** After this long a lock counts as abandoned (a hung holder). Default 30 min. */
  readonly maxAgeMs?: number;
  readonly signal?: AbortSignal;
  /**
   * Start the lock's container beside `fn` instead of before it. The create alone is the lock (its
   * name is taken atomically); the start adds only the holder's liveness and the lock's host name
   * on the cluster's network. For a failover, whose outage is ~0.5 s shorter for it; never for an
   * operation that changes the cluster's network (Cleanup's `down` would meet the lock joining it).
   */
  readonly startBeside?: boolean;
}

export const LOCK_LABEL = 'pg-ha-workshop.lock';
export const LOCK_ALIAS = 'pgha-operation-lock';
const DEFAULT_MAX_AGE_MS = 30 * 60_000;

export function lockContainerName(t: ClusterTopology): string {
  return `${t.containerPrefix}${LOCK_ALIAS}`;
}

/** What identifies the lock within this process (reentrancy): the container, or the attached cluster. */
function lockKey(t: ClusterTopology): string {
  return t.kind === 'attached' ? `attached:${t.projectName}` : lockContainerName(t);
}

export class OperationBusyError extends Error {
  constructor(readonly info: OperationLockInfo) {
    super(describeBusy(info));
    this.name = 'OperationBusyError';
  }
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + ' UTC';
}

/** The refusal a second operation gets. Pure. */
export function describeBusy(i: Pick<OperationLockInfo, 'holder' | 'what' | 'since' | 'nodes'>, now = Date.now()): string {
  const age = Math.max(0, Math.round((now - i.since) / 1000));
  const on = i.nodes.length ? ` on ${i.nodes.join(', ')}` : '';
  return `Another cluster operation is running: "${i.what}"${on}, by ${i.holder}, since ${clock(i.since)} (${age} s ago). Wait until it finishes, then try again.`;
}

interface Held {
  readonly name: string;
  readonly info: OperationLockInfo;
}

const held = new AsyncLocalStorage<Map<string, Held>>();

/** The lock the current async call chain holds on this cluster, if any. */
export function heldOperation(t: ClusterTopology): OperationLockInfo | undefined {
  return held.getStore()?.get(lockKey(t))?.info;
}

function infoOf(c: Docker.ContainerInspectInfo): OperationLockInfo {
  const l = c.Config.Labels ?? {};
  const num = (k: string) => Number(l[`${LOCK_LABEL}.${k}`] ?? 0);
  return {
    id: c.Id,
    holder: l[`${LOCK_LABEL}.holder`] ?? '?',
    what: l[`${LOCK_LABEL}.what`] ?? '?',
    nodes: (l[`${LOCK_LABEL}.nodes`] ?? '').split(',').filter(Boolean),
    since: num('since') || Date.parse(c.Created),
    expires: num('expires') || Date.parse(c.Created) + DEFAULT_MAX_AGE_MS,
    pid: num('pid'),
    host: l[`${LOCK_LABEL}.host`] ?? '',
    running: c.State.Running,
  };
}

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e ? Number((e as { statusCode: unknown }).statusCode) : undefined;
}

export async function readOperationLock(cluster: LockCluster): Promise<OperationLockInfo | undefined> {
  if (cluster.topology.kind === 'attached') return readInClusterLock(cluster.topology);
  try {
    return infoOf(await cluster.containers.docker.getContainer(lockContainerName(cluster.topology)).inspect());
  } catch (e) {
    if (statusCode(e) === 404) return undefined;
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a lock someone else holds may be taken over, or undefined while its holder may still be working. Pure but for the pid check. */
export function abandonedBecause(i: OperationLockInfo, now = Date.now(), hostname = os.hostname(), alive: (pid: number) => boolean = pidAlive): string | undefined {
  if (!i.running && now - i.since > 15_000) return 'its holder never started it (crashed while taking it)';
  if (now > i.expires) return `it expired at ${clock(i.expires)}`;
  if (i.host === hostname && i.pid > 0 && !alive(i.pid)) return `its holder (pid ${i.pid}) is gone`;
  return undefined;
}

/** The cluster's network and image, from the first node container that exists (one inspect). */
async function clusterFacts(cluster: LockCluster): Promise<{ network?: string; image: string }> {
  for (const n of cluster.topology.nodes) {
    try {
      const c = await cluster.containers.docker.getContainer(n.container).inspect();
      return { network: Object.keys(c.NetworkSettings.Networks ?? {})[0], image: c.Config.Image };
    } catch {
      // not created yet: try the next
    }
  }
  return { image: cluster.topology.postgresImage };
}

export interface Acquired {
  readonly info: OperationLockInfo;
  release(): Promise<void>;
}

/** One attempt: the lock, or the info of whoever holds it. */
async function tryAcquire(cluster: LockCluster, o: OperationLockOptions): Promise<Acquired | OperationLockInfo> {
  const docker = cluster.containers.docker;
  const name = lockContainerName(cluster.topology);
  const since = Date.now();
  const expires = since + (o.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
  const { network, image } = await clusterFacts(cluster);
  const labels: Record<string, string> = {
    [LOCK_LABEL]: cluster.topology.projectName,
    [`${LOCK_LABEL}.holder`]: o.holder,
    [`${LOCK_LABEL}.what`]: o.what,
    [`${LOCK_LABEL}.nodes`]: (o.nodes ?? []).join(','),
    [`${LOCK_LABEL}.since`]: String(since),
    [`${LOCK_LABEL}.expires`]: String(expires),
    [`${LOCK_LABEL}.pid`]: String(process.pid),
    [`${LOCK_LABEL}.host`]: os.hostname(),
  };
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name,
      Image: image,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['cat >/dev/null'],
      Labels: labels,
      OpenStdin: true,
      StdinOnce: true,
      AttachStdin: true,
      HostConfig: { AutoRemove: true, NetworkMode: network ?? 'none' },
      NetworkingConfig: network ? { EndpointsConfig: { [network]: { Aliases: [LOCK_ALIAS] } } } : undefined,
    });
  } catch (e) {
    // No image for the lock means no node container was ever created from it: there is no cluster
    // to protect, and the operation will say so itself ("start the cluster first").
    if (statusCode(e) === 404) return { info: { id: '', holder: o.holder, what: o.what, nodes: o.nodes ?? [], since, expires, pid: process.pid, host: os.hostname(), running: true }, release: async () => undefined };
    if (statusCode(e) !== 409) throw e;
    const other = await readOperationLock(cluster);
    // Released between our create and our look: try again at once.
    return other ?? tryAcquire(cluster, o);
  }
  // The create above is the lock; the start adds its liveness (removed when this process ends) and
  // its host name. With startBeside it runs beside the operation: a lock that is created but not yet
  // running is not taken over by others for 15 s (abandonedBecause).
  let stream: Duplex | undefined;
  const started = (async () => {
    try {
      stream = (await container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true })) as unknown as Duplex;
      stream.on('error', () => undefined);
      await container.start();
    } catch (e) {
      if (!o.startBeside) throw e;
      // Still held (created); released below. Only its liveness is missing.
    }
  })();
  if (!o.startBeside) {
    try {
      await started;
    } catch (e) {
      stream?.destroy();
      await container.remove({ force: true }).catch(() => undefined);
      throw e;
    }
  }
  const info: OperationLockInfo = { id: container.id, holder: o.holder, what: o.what, nodes: o.nodes ?? [], since, expires, pid: process.pid, host: os.hostname(), running: true };
  return {
    info,
    async release() {
      await started;
      stream?.end();
      stream?.destroy();
      await container.remove({ force: true }).catch(() => undefined);
    },
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * Runs `fn` while this process holds the cluster's operation lock. Refuses (OperationBusyError, naming
 * the running operation) when another holder keeps it longer than `waitMs`. Takes over a lock whose
 * holder is gone or that expired. Reentrant: a nested call in the same async chain just runs `fn`.
 */
export async function withOperationLock<T>(cluster: LockCluster, o: OperationLockOptions, fn: (lock: OperationLockInfo) => Promise<T>): Promise<T> {
  const name = lockKey(cluster.topology);
  const attached = cluster.topology.kind === 'attached';
  const mine = held.getStore()?.get(name);
  if (mine) return fn(mine.info);
  const deadline = Date.now() + (o.waitMs ?? 0);
  let acquired: Acquired | undefined;
  for (;;) {
    if (o.signal?.aborted) throw new Error(`Cancelled while waiting for the cluster's operation lock (${o.what}).`);
    const r = attached ? await acquireInCluster(cluster.topology, o) : await tryAcquire(cluster, o);
    if ('release' in r) {
      acquired = r;
      break;
    }
    // In a cluster the server itself drops a gone holder's lock with its session.
    if (!attached && abandonedBecause(r)) {
      // Remove exactly the abandoned one (by id): a fresh lock someone else took meanwhile stays.
      await cluster.containers.docker.getContainer(r.id).remove({ force: true }).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) throw new OperationBusyError(r);
    await sleep(Math.min(250, Math.max(0, deadline - Date.now())), o.signal);
  }
  const store = new Map(held.getStore() ?? []);
  store.set(name, { name, info: acquired.info });
  try {
    return await held.run(store, () => fn(acquired.info));
  } finally {
    await acquired.release();
  }
}

/** The holder name of this process, for locks taken on a user's behalf. */
export function processHolder(kind: string): string {
  return `${kind} (pid ${process.pid} on ${os.hostname()})`;
}
