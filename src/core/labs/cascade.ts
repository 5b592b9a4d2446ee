// Exercise 2, cascading replication: postgres-replica2 streams from postgres-replica1 instead of
// the primary (primary → replica1 → replica2), and back. Reuses the failover's repointing
// (slot on the new upstream + primary_conninfo/primary_slot_name with ALTER SYSTEM + reload: no
// restart). The slot a node no longer uses is dropped, because an inactive slot retains WAL
// without limit (the workshop's third alert).
//
// API (no vscode):
//   setupCascade(ctx)   → LabResult   (refuses unless the topology is the standard one)
//   undoCascade(ctx)    → LabResult   (LabError 'alreadyUndone' when replica2 streams from the primary)
//   checkCascade(status) → LabCheck   (pure: the chain and the lag of each hop)
import { formatBytes, formatDuration } from '../format';
import { repointReplica, waitStreaming } from '../failover';
import type { ClusterStatus, NodeStatus } from '../status';
import { checkOf, LabError, nodeSpec, requireStandardTopology, sqlOn, surveyCluster, type LabCheck, type LabCheckItem, type LabContext, stopIfCancelled } from './common';

export interface LabResult {
  readonly message: string;
  readonly tookMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Drops a slot once its walsender has gone (an active slot cannot be dropped). */
async function dropSlotWhenInactive(ctx: LabContext, on: 'primary' | 'replica1', slot: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await sqlOn<{ active: boolean }>(ctx, on, 'SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length === 0) return false;
    if (!rows[0].active) {
      try {
        await sqlOn(ctx, on, 'SELECT pg_drop_replication_slot($1)', [slot]);
        return true;
      } catch {
        /* became active again in between: retry */
      }
    }
    if (Date.now() > deadline || ctx.signal?.aborted) return false;
    await sleep(250);
  }
}

export async function setupCascade(ctx: LabContext): Promise<LabResult> {
  const t0 = Date.now();
  await requireStandardTopology(ctx, 'Exercise 2 (cascading replication)');
  const t = ctx.topology;
  const [primary, replica1, replica2] = [nodeSpec(t, 'primary'), nodeSpec(t, 'replica1'), nodeSpec(t, 'replica2')];
  stopIfCancelled(ctx, 'Nothing was changed.');
  ctx.log?.(`Exercise 2: creating slot ${replica2.slot} on ${replica1.container} and pointing ${replica2.container} at it`);
  await repointReplica(ctx, replica2, replica1);
  const streaming = await waitStreaming(ctx, replica1.hostPort, replica2.service, 60_000);
  stopIfCancelled(ctx, `${replica2.container} is already pointed at ${replica1.container} and may stream from it in a moment; PG HA Workshop: Undo Exercise 2 points it back at ${primary.container}.`);
  if (!streaming) {
    throw new LabError(
      `${replica2.container} was pointed at ${replica1.container} but does not stream from it after 60 s. Check its log (PG HA Workshop: Show Node Logs), then undo the lab (PG HA Workshop: Undo Exercise 2).`,
      'failed',
    );
  }
  const dropped = await dropSlotWhenInactive(ctx, 'primary', replica2.slot);
  ctx.log?.(`Exercise 2: ${replica2.container} streams from ${replica1.container}${dropped ? `; slot ${replica2.slot} dropped on ${primary.container}` : ''}`);
  return {
    message: `${replica2.container} now streams from ${replica1.container}: ${primary.service} → ${replica1.service} → ${replica2.service}.${dropped ? ` Its old slot on ${primary.container} was dropped (an unused slot would keep WAL forever).` : ''}`,
    tookMs: Date.now() - t0,
  };
}

export async function undoCascade(ctx: LabContext): Promise<LabResult> {
  const t0 = Date.now();
  const t = ctx.topology;
  const [primary, replica1, replica2] = [nodeSpec(t, 'primary'), nodeSpec(t, 'replica1'), nodeSpec(t, 'replica2')];
  const s = await surveyCluster(ctx);
  const r2 = s.nodes.find((n) => n.key === 'replica2');
  const p = s.nodes.find((n) => n.key === 'primary');
  if (r2?.role === 'replica' && r2.upstream === 'primary') {
    throw new LabError(`Exercise 2 is already undone: ${replica2.container} streams from ${primary.container}. Nothing was changed.`, 'alreadyUndone');
  }
  if (p?.role !== 'primary' || s.splitBrain) {
    throw new LabError(
      `${primary.container} is not the one primary (${p?.role ?? 'missing'}${s.splitBrain ? ', split brain' : ''}), so ${replica2.container} cannot be pointed back at it. Reset the cluster (PG HA Workshop: Reset Cluster) to get the standard topology back.`,
      'notStandard',
    );
  }
  if (r2?.role !== 'cascadingReplica' && r2?.role !== 'notStreaming' && r2?.role !== 'replica') {
    throw new LabError(`${replica2.container} is ${r2?.role ?? 'missing'}: start it first, or reset the cluster.`, 'notStandard');
  }
  stopIfCancelled(ctx, 'Nothing was changed.');
  await repointReplica(ctx, replica2, primary);
  const back = await waitStreaming(ctx, primary.hostPort, replica2.service, 60_000);
  stopIfCancelled(ctx, `${replica2.container} is already pointed back at ${primary.container} and may stream from it in a moment.`);
  if (!back) {
    throw new LabError(`${replica2.container} was pointed back at ${primary.container} but does not stream after 60 s. Check its log, or reset the cluster.`, 'failed');
  }
  const dropped = s.nodes.find((n) => n.key === 'replica1')?.slots.some((x) => x.name === replica2.slot) ? await dropSlotWhenInactive(ctx, 'replica1', replica2.slot) : false;
  return {
    message: `${replica2.container} streams from ${primary.container} again (standard topology).${dropped ? ` Slot ${replica2.slot} on ${replica1.container} dropped.` : ''}`,
    tookMs: Date.now() - t0,
  };
}

function hop(from: NodeStatus | undefined, to: NodeStatus | undefined): LabCheckItem {
  const label = `${from?.container ?? '?'} → ${to?.container ?? '?'}`;
  const row = from?.downstream.find((r) => r.applicationName === to?.service);
  if (!row) return { label, ok: false, detail: `${to?.container ?? '?'} does not stream from ${from?.container ?? '?'}` };
  return {
    label,
    ok: row.state === 'streaming',
    detail: `${row.state}, hop lag ${formatBytes(row.replayBytes)}${row.replayLagMs === null ? '' : ` · ${formatDuration(row.replayLagMs)}`}`,
  };
}

/** Whether the cluster shows the chain primary → replica1 → replica2, with each hop's lag. */
export function checkCascade(s: ClusterStatus): LabCheck {
  const by = (k: string) => s.nodes.find((n) => n.key === k);
  const [p, r1, r2] = [by('primary'), by('replica1'), by('replica2')];
  const items: LabCheckItem[] = [
    hop(p, r1),
    hop(r1, r2),
    {
      label: `${r2?.container ?? 'replica2'} is a cascading replica`,
      ok: r2?.role === 'cascadingReplica' && r2.upstream === 'replica1',
      detail: r2 ? `${r2.role}${r2.upstreamHost ? ` of ${r2.upstreamHost}` : ''}${r2.lag ? `, total lag ${formatBytes(r2.lag.bytes)} behind the primary` : ''}` : 'missing',
    },
    {
      label: `${p?.container ?? 'primary'} no longer sends to ${r2?.container ?? 'replica2'}`,
      ok: !!p && !p.downstream.some((r) => r.applicationName === r2?.service),
      detail: p ? `standbys of the primary: ${p.downstream.map((r) => r.applicationName).join(', ') || 'none'}` : 'missing',
    },
  ];
  return checkOf(items, `Cascading replication works: ${p?.service} → ${r1?.service} → ${r2?.service}.`, 'Not cascading yet.');
}
