// Demo 6, Split-Brain Prevention. Starts where Demo 4 ends (old primary stopped, a replica
// promoted): 1 reproduce: `docker start` the old primary → it comes back as a primary;
// 2 detect: both nodes answer pg_is_in_recovery() = false (and the status sees split brain);
// 3 fence: stop the node on the older timeline (STONITH in miniature);
// 4 rejoin: pg_rewind it (or clone it afresh) and start it as a replica of the new primary.
import { DemoFailed, DemoNotReady, check, connect, result, sleep, specOf, type DemoContext, type DemoResult } from './common';
import { surveyCluster } from '../failover';
import { fenceNode, splitBrainAdvice } from '../fencing';
import { startNode, waitUntilReady } from '../nodeActions';
import { rejoinAsReplica } from '../rejoin';
import type { ClusterStatus } from '../status';
import type { NodeKey } from '../topology';

export interface SplitBrainMeasures {
  readonly oldPrimary: string;
  readonly newPrimary: string;
  /** pg_is_in_recovery() of both, while both ran. */
  readonly inRecovery: Readonly<Record<string, boolean | null>>;
  readonly timelines: Readonly<Record<string, number | null>>;
  readonly detectedMs: number | null;
  readonly fenced: string;
  readonly fenceReason: string;
  readonly stillWritableAfterFence: boolean;
  readonly rejoinMethod?: string;
  readonly rejoinMs?: number;
  readonly streamingAfterRejoin: boolean;
}

/** The old primary Demo 6 restarts: a stopped node while another one, promoted (timeline > 1), is primary. */
export function splitBrainStart(s: ClusterStatus): { old: NodeKey; primary: NodeKey } | undefined {
  if (s.splitBrain && s.writable.length === 2) {
    const a = splitBrainAdvice(s);
    return a ? { old: a.fence, primary: a.keep } : undefined;
  }
  if (!s.primary) return undefined;
  const p = s.nodes.find((n) => n.key === s.primary)!;
  const down = s.nodes.find((n) => n.role === 'down' && n.containerState.status !== 'missing');
  if (!down || (p.timeline ?? 1) <= 1) return undefined;
  return { old: down.key, primary: p.key };
}

async function recovery(ctx: DemoContext, key: NodeKey): Promise<{ rec: boolean | null; tl: number | null }> {
  const c = await connect(ctx.topology, specOf(ctx.topology, key).hostPort, 'postgres').catch(() => undefined);
  if (!c) return { rec: null, tl: null };
  try {
    const r = await c.query<{ rec: boolean; tl: number }>("SELECT pg_is_in_recovery() AS rec, CASE WHEN pg_is_in_recovery() THEN NULL ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tl");
    return { rec: r.rows[0].rec, tl: r.rows[0].tl };
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function splitBrain(ctx: DemoContext): Promise<DemoResult<SplitBrainMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 6: ${m}`);
  let s: ClusterStatus;
  try {
    s = await surveyCluster(ctx);
  } catch (e) {
    throw new DemoNotReady('docker', e instanceof Error ? e.message : String(e));
  }
  if (s.clusterState === 'stopped') throw new DemoNotReady('cluster', 'The workshop cluster is not running.');
  const start = splitBrainStart(s);
  if (!start) {
    throw new DemoNotReady(
      'failover',
      'Demo 6 starts where Demo 4 ends: the old primary stopped and a replica promoted in its place. Now no node is stopped after a promotion, so there is nothing to restart into a split brain. Run Demo 4 (failover) first.',
    );
  }
  const old = specOf(t, start.old);
  const primary = specOf(t, start.primary);
  let phase = 'start';
  try {
    if (!s.splitBrain) {
      say(`docker start ${old.container} (the old primary, DON'T DO THIS IN PRODUCTION)`);
      // On purpose, to show the split brain: the failover fenced it, the demo lifts that fence.
      await startNode(ctx, old.key, { unfence: true });
      await waitUntilReady(ctx, old.key, 60_000);
    } else {
      say(`split brain already there: ${old.container} and ${primary.container} both accept writes`);
    }
    phase = 'splitBrain';
    const t0 = Date.now();
    const [a, b] = await Promise.all([recovery(ctx, old.key), recovery(ctx, primary.key)]);
    say(`${old.container} (port ${old.hostPort}): pg_is_in_recovery() = ${a.rec}, timeline ${a.tl}`);
    say(`${primary.container} (port ${primary.hostPort}): pg_is_in_recovery() = ${b.rec}, timeline ${b.tl}`);
    let detectedMs: number | null = null;
    let advice = splitBrainAdvice(s);
    while (Date.now() - t0 < 15_000) {
      s = await surveyCluster(ctx);
      if (s.splitBrain) {
        detectedMs = Date.now() - t0;
        advice = splitBrainAdvice(s);
        break;
      }
      await sleep(250);
    }
    say(detectedMs === null ? 'the cluster status did not report split brain' : `cluster status: split brain (${s.alerts.find((x) => x.kind === 'splitBrain')?.message ?? 'two writable nodes'})`);
    const fence = advice ? specOf(t, advice.fence) : old;
    const fenceReason = advice?.reason ?? `${old.container} is the old primary`;
    say(`fence ${fence.container}: ${fenceReason}`);
    const f = await fenceNode(ctx, fence.key, 'stop');
    say(f.message + (f.stillWritable ? ' BUT IT STILL ACCEPTS WRITES' : ''));
    phase = 'fenced';
    say(`rejoin ${fence.container} as a replica (pg_rewind, else a fresh clone)`);
    const rj = await rejoinAsReplica(ctx, fence.key, { method: 'auto' });
    phase = 'rejoined';
    const after = await surveyCluster(ctx);
    const m: SplitBrainMeasures = {
      oldPrimary: old.service,
      newPrimary: primary.service,
      inRecovery: { [old.service]: a.rec, [primary.service]: b.rec },
      timelines: { [old.service]: a.tl, [primary.service]: b.tl },
      detectedMs,
      fenced: fence.service,
      fenceReason,
      stillWritableAfterFence: f.stillWritable,
      rejoinMethod: rj.method,
      rejoinMs: rj.tookMs,
      streamingAfterRejoin: rj.streaming,
    };
    const checks = [
      check('bothWritable', a.rec === false && b.rec === false, `${old.service}: ${a.rec}, ${primary.service}: ${b.rec}`),
      check('detected', detectedMs !== null, detectedMs === null ? 'not detected' : `detected in ${detectedMs} ms`),
      check('fenced', !f.stillWritable && fence.key === old.key, `${fence.service} stopped; ${fenceReason}`),
      check('rejoined', rj.streaming && !after.splitBrain && after.writable.length === 1, `${rj.message} (${rj.method}, ${rj.tookMs} ms)`),
    ];
    return result('demo6', started, checks, m, `${primary.container} is the only primary; ${fence.container} is its replica.`);
  } catch (e) {
    if (e instanceof DemoNotReady) throw e;
    const where =
      phase === 'start'
        ? `${old.container} may be starting as a second primary: check the cluster view (split brain) and stop it if so.`
        : phase === 'splitBrain'
          ? `SPLIT BRAIN: ${old.container} and ${primary.container} both accept writes. Stop ${old.container} now (PG HA Workshop: Stop Node), then run Demo 6 again.`
          : phase === 'fenced'
            ? `${old.container} is stopped (fenced) but not rejoined: run Demo 6 again or reset the cluster.`
            : 'see the cluster view';
    throw new DemoFailed(`Demo 6 failed: ${e instanceof Error ? e.message : String(e)}`, where, e);
  }
}
