// Demo 4, Primary Failure - Manual Failover: a steady write load runs against the primary; the
// primary is stopped (`docker stop`, as in the workshop); the load sees errors; replica1 is
// promoted (E's failover: fence, promote, repoint replicas and PgBouncer) and accepts writes.
// What it cost is measured from the load's ledger: RTO (first failed write → first successful
// write on the new primary) and RPO (acknowledged writes missing on the new primary).
import { failover, FailoverError, type FailoverResult } from '../failover';
import { renderFailoverReport } from '../failoverReport';
import { LoadGenerator } from '../load';
import { stopNode } from '../nodeActions';
import { check, connect, DemoFailed, readyCluster, result, sleep, type DemoContext, type DemoResult } from './common';

export interface FailoverMeasures {
  readonly oldPrimary: string;
  readonly newPrimary: string;
  readonly timeline: number;
  readonly rtoMs: number | null;
  readonly failedWrites: number;
  readonly rpoLostWrites: number | null;
  readonly rpoAcked: number | null;
  readonly rpoWindowMs: number | null;
  readonly promotionMs: number;
  readonly afterFailoverRowId: number | null;
  /** The failover report (Markdown, from failoverReport.ts). */
  readonly report: string;
  readonly measureNote?: string;
}

export async function primaryFailover(ctx: DemoContext, o: { outageMs?: number; ratePerSec?: number } = {}): Promise<DemoResult<FailoverMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 4: ${m}`);
  const { primary, replicas } = await readyCluster(ctx, { replicas: 1 });
  const candidate = replicas.find((r) => r.key === 'replica1') ?? replicas[0];
  const load = new LoadGenerator(t, { target: 'primary', mode: { kind: 'rate', ratePerSec: o.ratePerSec ?? 20, durationSec: 90 } });
  let loadDone = false;
  say(`write load started (${o.ratePerSec ?? 20} writes/s, follows the writable node)`);
  const running = load.run().finally(() => (loadDone = true));
  let fo: FailoverResult | undefined;
  let stopped = false;
  try {
    while (load.ledger.writes.length < 10 && !loadDone && Date.now() - started < 10_000) await sleep(50);
    say(`docker stop ${primary.container} (primary failure)`);
    await stopNode(ctx, primary.key, { timeoutSec: 10 });
    stopped = true;
    await sleep(o.outageMs ?? 2000);
    say(`no primary for ${o.outageMs ?? 2000} ms so far (${load.ledger.failures.length} writes failed until now; the report counts them all); promoting ${candidate.container}`);
    fo = await failover(ctx, { candidate: candidate.key, ledger: load.ledger, loadRunning: () => !loadDone, waitForLoadMs: 20_000 });
    await sleep(500);
  } catch (e) {
    load.cancel();
    await running.catch(() => undefined);
    const msg = e instanceof Error ? e.message : String(e);
    const state = e instanceof FailoverError ? e.state : stopped ? `${primary.container} is stopped and no replica was promoted` : 'unchanged';
    throw new DemoFailed(`Demo 4 failed: ${msg}`, stopped && state === 'unchanged' ? `${primary.container} is stopped and no replica was promoted: start it again (PG HA Workshop: Start Node) or reset the cluster.` : state, e);
  } finally {
    load.cancel();
  }
  const lr = await running;
  load.dispose();
  const np = t.nodes.find((n) => n.key === fo.newPrimary.key)!;
  let afterId: number | null = null;
  try {
    const c = await connect(t, np.hostPort);
    try {
      afterId = (await c.query<{ id: number }>("INSERT INTO users (name, email) VALUES ('AfterFailover', 'after@example.com') RETURNING id")).rows[0].id;
    } finally {
      await c.end().catch(() => undefined);
    }
  } catch (e) {
    say(`INSERT on ${np.container} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  say(`INSERT AfterFailover on ${np.container} (port ${np.hostPort}): ${afterId === null ? 'FAILED' : `id ${afterId}`}`);
  const report = renderFailoverReport(fo);
  for (const line of report.split('\n').filter((l) => l.startsWith('| **'))) say(line);
  const m: FailoverMeasures = {
    oldPrimary: primary.service,
    newPrimary: fo.newPrimary.service,
    timeline: fo.newPrimary.timeline,
    rtoMs: fo.rto?.ms ?? null,
    // The failed writes of the outage, as the report counts them (first failure → first success).
    failedWrites: fo.rto?.failedWrites ?? lr.failed,
    rpoLostWrites: fo.rpo?.lostWrites ?? null,
    rpoAcked: fo.rpo?.acked ?? null,
    rpoWindowMs: fo.rpo ? (fo.rpo.window?.ms ?? 0) : null,
    promotionMs: fo.promotionMs,
    afterFailoverRowId: afterId,
    report,
    measureNote: fo.measureNote,
  };
  const checks = [
    check('promoted', fo.newPrimary.key === candidate.key, `${fo.newPrimary.container} is the primary on timeline ${fo.newPrimary.timeline}`),
    check('acceptsWrites', afterId !== null, `INSERT on ${np.container}: ${afterId === null ? 'failed' : `id ${afterId}`}`),
    check('rtoMeasured', m.rtoMs !== null, m.rtoMs !== null ? `RTO ${m.rtoMs} ms, ${m.failedWrites} failed writes` : (fo.measureNote ?? 'not measured')),
    check('rpoMeasured', m.rpoLostWrites !== null, m.rpoLostWrites !== null ? `RPO ${m.rpoLostWrites} of ${m.rpoAcked} acknowledged writes lost (${m.rpoWindowMs} ms window)` : (fo.measureNote ?? 'not measured')),
  ];
  return result('demo4', started, checks, m, `${fo.newPrimary.container} is the primary; ${primary.container} is stopped (fenced). Demo 6 starts it again to show split brain.`);
}
