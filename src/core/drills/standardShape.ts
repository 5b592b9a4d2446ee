// Every drill starts from the cluster's standard shape: postgres-primary writable, both replicas
// streaming from it, PgBouncer on it, asynchronous, no paused replay. A drill that ends otherwise
// (a promoted replica, a killed node) is put back by recreating the cluster (compose down -v, up):
// slower than repairing it, but the next drill then starts from exactly the same state.
//
// API (no vscode): standardShapeProblem(ctx) → string | undefined; restoreStandardShape(ctx, note)
import { composeDown, composeUp } from '../../docker/compose';
import { surveyCluster, type FailoverContext } from '../failover';
import { setSynchronousReplication } from '../syncReplication';
import { healPartitionsAndPauses } from './faults';

export async function standardShapeProblem(ctx: FailoverContext): Promise<string | undefined> {
  const s = await surveyCluster(ctx);
  for (const n of s.nodes) if (n.containerState.status !== 'running') return `${n.container} is ${n.containerState.status}`;
  if (s.pgbouncer.containerState.status !== 'running') return `${s.pgbouncer.container} is ${s.pgbouncer.containerState.status}`;
  if (s.splitBrain) return 'split brain';
  if (s.primary !== 'primary') return `the primary is ${s.primary ?? 'none'}`;
  for (const n of s.nodes.filter((x) => x.key !== 'primary')) {
    if (n.role !== 'replica' || n.upstream !== 'primary') return `${n.container} is ${n.role}${n.upstream ? ` from ${n.upstream}` : ''}`;
    if (n.replayPaused) return `${n.container} has replay paused`;
    if (n.applyDelayMs) return `${n.container} is delayed`;
  }
  const p = s.nodes.find((n) => n.key === 'primary')!;
  if (p.synchronousStandbyNames) return `synchronous_standby_names = '${p.synchronousStandbyNames}'`;
  if (s.pgbouncer.target !== 'primary') return `PgBouncer points at ${s.pgbouncer.targetHost ?? 'nothing'}`;
  if (s.pgbouncer.paused) return 'PgBouncer is paused';
  return undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Puts the cluster in its standard shape; `note` hears what was done. */
export async function restoreStandardShape(ctx: FailoverContext, note: (m: string) => void, timeoutMs = 300_000): Promise<void> {
  for (const m of await healPartitionsAndPauses(ctx).catch((e: Error) => [`could not heal: ${e.message}`])) note(m);
  let why = await standardShapeProblem(ctx).catch((e: Error) => e.message);
  // A replica or PgBouncer that was only stopped or killed comes back by starting it.
  const restartable = [...ctx.topology.nodes.filter((n) => n.key !== 'primary').map((n) => n.container), ctx.topology.pgbouncer.container];
  const down = why && /^(\S+) is (exited|created)$/.exec(why);
  if (down && restartable.includes(down[1])) {
    for (const name of restartable) {
      const st = await ctx.containers.state(name);
      if (st && st.Status !== 'running') {
        await ctx.containers.start(name);
        note(`started ${name}`);
      }
    }
    for (let i = 0; i < 120; i++) {
      why = await standardShapeProblem(ctx).catch((e: Error) => e.message);
      if (!why || /split brain|the primary is|points at/.test(why)) break;
      await sleep(500);
    }
  }
  // A node that was just restarted may need a moment to stream again.
  for (let i = 0; why && i < 10 && !/split brain|the primary is|points at|synchronous|is (exited|created|missing|dead)/.test(why); i++) {
    await sleep(500);
    why = await standardShapeProblem(ctx).catch((e: Error) => e.message);
  }
  if (why?.startsWith('synchronous_standby_names')) {
    // Only the replication mode differs: switching it back is enough.
    await setSynchronousReplication(ctx, { method: 'async' });
    note('back to asynchronous replication');
    why = await standardShapeProblem(ctx).catch((e: Error) => e.message);
  }
  if (!why) return;
  note(`recreating the cluster (${why})`);
  // On a busy engine a container can still hold the network when compose removes it: try twice.
  await composeDown(ctx.topology, { volumes: true }).catch(async () => {
    await sleep(3000);
    await composeDown(ctx.topology, { volumes: true });
  });
  await composeUp(ctx.topology);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    why = await standardShapeProblem(ctx).catch((e: Error) => e.message);
    if (!why) return;
    if (Date.now() > deadline) throw new Error(`The cluster did not reach its standard shape within ${Math.round(timeoutMs / 1000)} s (${why}). Check \`docker ps\` and the node logs.`);
    await sleep(500);
  }
}
