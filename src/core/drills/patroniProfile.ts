// The drills on the Patroni profile (cluster/patroni/): the same faults on the same containers, but
// Patroni decides roles. Here: the standard shape of a Patroni cluster before a drill, its
// synchronous mode, and the waits that stand for our actions (a new leader elected by Patroni, the
// old leader back as a replica once its fault is healed). Nothing here promotes or repoints.
//
// API (no vscode):
//   patroniStandardShapeProblem(ctx, pt, sync) → string | undefined
//   restorePatroniShape(ctx, pt, { sync, note, timeoutMs })   heals, starts, waits; recreates if needed
//   patroniLeader(pt) → the leader's NodeKey (running, GET /primary = 200), undefined when none
//   waitForNewLeader(pt, old, timeoutMs) · syncStandbyOf(pt, timeoutMs) · healMember(ctx, pt, key)
import { composeDown, composeUp } from '../../docker/compose';
import type { FailoverContext } from '../failover';
import type { NodeKey } from '../topology';
import { waitForReplica } from '../patroni/leaderKill';
import { applySettings, waitForLeader } from '../patroni/operations';
import { settingsOf } from '../patroni/settings';
import { sleep } from '../patroni/sleep';
import { askAny } from '../patroni/status';
import { memberByName, patroniTopologyEnv, type PatroniTopology } from '../patroni/topology';
import { injectFault } from './faults';

type Ctx = Pick<FailoverContext, 'containers' | 'topology'>;

/** The peers' name of a member on the dcs network (its REST and replication address there). */
export function peerAlias(memberName: string): string {
  return `${memberName}.dcs`;
}

function keyOf(pt: PatroniTopology, name: string | undefined): NodeKey | undefined {
  return name === undefined ? undefined : memberByName(pt, name)?.key;
}

/** The leader's key once Patroni reports a running leader that answers GET /primary with 200. */
export async function patroniLeader(pt: PatroniTopology): Promise<NodeKey | undefined> {
  return keyOf(pt, await waitForLeader(pt, { timeoutMs: 0 }).catch(() => undefined));
}

/** Waits until Patroni has elected a leader other than `old` (whose key it resolves with). */
export async function waitForNewLeader(pt: PatroniTopology, old: NodeKey | undefined, timeoutMs: number): Promise<NodeKey> {
  const other = old ? pt.members.find((m) => m.key === old)?.name : undefined;
  return keyOf(pt, await waitForLeader(pt, { other, timeoutMs, pollMs: 200 }))!;
}

/** The member Patroni names Sync Standby (waits for one), as a NodeKey. */
export async function syncStandbyOf(pt: PatroniTopology, timeoutMs: number): Promise<NodeKey | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await askAny(pt, (c) => c.cluster(), 2000);
    const s = r.value?.members.find((m) => m.role === 'sync_standby' && (m.state === 'running' || m.state === 'streaming'));
    if (s) return keyOf(pt, s.name);
    if (Date.now() > deadline) return undefined;
    await sleep(500);
  }
}

/** Waits until Patroni reports the member as a replica of the current leader. */
export async function waitForReplicaOf(pt: PatroniTopology, key: NodeKey, timeoutMs: number): Promise<boolean> {
  const name = pt.members.find((m) => m.key === key)?.name;
  return name !== undefined && waitForReplica(pt, name, timeoutMs);
}

/**
 * Heals whatever fault a drill left on the member: starts a stopped or killed container, unpauses
 * a paused one, reconnects it (with its peer alias) to the networks it was cut from.
 */
export async function healMember(ctx: Ctx, pt: PatroniTopology, key: NodeKey): Promise<string[]> {
  const m = pt.members.find((x) => x.key === key)!;
  const done: string[] = [];
  const st = await ctx.containers.state(m.container);
  if (!st) return [`${m.container} is missing`];
  if (st.Paused) {
    await ctx.containers.docker.getContainer(m.container).unpause();
    done.push(`docker unpause ${m.container}`);
  }
  const r = await injectFault(ctx as FailoverContext, 'reconnect', m.container, undefined);
  if (!/was not disconnected/.test(r.message)) done.push(r.message);
  const info = await ctx.containers.inspect(m.container);
  const nets = Object.keys(info.NetworkSettings.Networks ?? {});
  const want: [string, string[]][] = [
    [`${pt.cluster.projectName}_default`, [m.name]],
    [pt.dcsNetwork, [m.name, peerAlias(m.name)]],
  ];
  for (const [network, aliases] of want) {
    if (nets.includes(network)) continue;
    await ctx.containers.docker.getNetwork(network).connect({ Container: m.container, EndpointConfig: { Aliases: aliases } });
    done.push(`docker network connect ${network} ${m.container}`);
  }
  if (!st.Running || st.Status === 'exited' || st.Status === 'created') {
    await ctx.containers.start(m.container);
    done.push(`docker start ${m.container}`);
  }
  return done;
}

/** What keeps the Patroni cluster from a drill's starting shape, or undefined. */
export async function patroniStandardShapeProblem(ctx: Ctx, pt: PatroniTopology, sync: boolean): Promise<string | undefined> {
  const names = [...pt.members.map((m) => m.container), pt.cluster.pgbouncer.container, ...pt.etcd.map((e) => e.container)];
  for (const n of names) {
    const st = await ctx.containers.state(n);
    if (!st) return `${n} is missing`;
    if (st.Paused) return `${n} is paused`;
    if (st.Status !== 'running') return `${n} is ${st.Status}`;
  }
  const r = await askAny(pt, (c) => c.cluster(), 3000);
  if (!r.value) return `no Patroni member answers (${r.problems[0] ?? 'unknown'})`;
  if (r.value.pause) return 'Patroni is paused (maintenance mode)';
  const ms = r.value.members;
  const leaders = ms.filter((m) => m.role === 'leader' && m.state === 'running');
  if (leaders.length !== 1) return `${leaders.length} running leaders`;
  for (const m of ms.filter((x) => x.role !== 'leader')) {
    if (!(m.role === 'replica' || m.role === 'sync_standby') || !(m.state === 'running' || m.state === 'streaming') || m.lag === 'unknown') return `${m.name} is ${m.role} ${m.state}`;
  }
  if (ms.length !== pt.members.length) return `${ms.length} of ${pt.members.length} members registered`;
  const cfg = await askAny(pt, (c) => c.config(), 3000);
  if (!cfg.value) return 'no member returns the configuration';
  if (settingsOf(cfg.value).synchronous_mode !== sync) return `synchronous_mode is ${settingsOf(cfg.value).synchronous_mode}`;
  if (sync && !ms.some((m) => m.role === 'sync_standby')) return 'no Sync Standby yet';
  return undefined;
}

/**
 * Puts the Patroni cluster in a drill's starting shape: every fault healed, every member running,
 * one leader and two streaming replicas, synchronous_mode as the drill says (and a Sync Standby
 * named). Which member leads does not matter: the names are only names. When it does not get there
 * within the time, recreates the cluster (compose down -v, up).
 */
export async function restorePatroniShape(ctx: Ctx, pt: PatroniTopology, o: { sync: boolean; note: (m: string) => void; timeoutMs?: number }): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 300_000;
  for (const m of pt.members) for (const d of await healMember(ctx, pt, m.key).catch((e: Error) => [`could not heal ${m.container}: ${e.message}`])) o.note(d);
  for (const e of [...pt.etcd.map((x) => x.container), pt.cluster.pgbouncer.container]) {
    const st = await ctx.containers.state(e);
    if (st && st.Status !== 'running') {
      await ctx.containers.start(e);
      o.note(`docker start ${e}`);
    }
  }
  const settle = async (ms: number): Promise<string | undefined> => {
    const deadline = Date.now() + ms;
    let why: string | undefined;
    let asked = false;
    for (;;) {
      why = await patroniStandardShapeProblem(ctx, pt, o.sync).catch((e: Error) => e.message);
      if (!why) return undefined;
      if (why.startsWith('synchronous_mode') && !asked) {
        asked = true;
        await applySettings(pt, { synchronous_mode: o.sync }).then(
          () => o.note(`synchronous_mode: ${o.sync}`),
          (e: Error) => o.note(`could not set synchronous_mode: ${e.message}`),
        );
      }
      if (Date.now() > deadline) return why;
      await sleep(1000);
    }
  };
  // A cluster that was never started (or was removed) is created at once, not waited for.
  const first = await patroniStandardShapeProblem(ctx, pt, o.sync).catch((e: Error) => e.message);
  let why = first && / is missing$/.test(first) ? first : await settle(timeoutMs);
  if (!why) return;
  o.note(`recreating the Patroni cluster (${why})`);
  const opts = { env: { ...process.env, ...patroniTopologyEnv(pt) } };
  await composeDown(pt.cluster, { ...opts, volumes: true }).catch(async () => {
    await sleep(3000);
    await composeDown(pt.cluster, { ...opts, volumes: true });
  });
  await composeUp(pt.cluster, opts);
  why = await settle(timeoutMs * 2);
  if (why) throw new Error(`The Patroni cluster did not reach a drill's starting shape within ${Math.round((timeoutMs * 3) / 1000)} s (${why}). Check \`docker ps\`, the nodes' logs and etcd's health.`);
}

/** The leader's timeline as Patroni reports it. */
export async function leaderTimeline(pt: PatroniTopology): Promise<number | undefined> {
  const r = await askAny(pt, (c) => c.cluster(), 3000);
  return r.value?.members.find((m) => m.role === 'leader')?.timeline;
}

