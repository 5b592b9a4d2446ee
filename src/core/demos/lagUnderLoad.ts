// Demo 5, Replication Lag Under Load: the workshop's heavy write loop (INSERT ... SELECT
// generate_series(1, 100), 10 at a time), bounded in count and time, while the byte lag of each
// replica is sampled on the primary; then the time until every replica has caught up (lag 0).
// The workshop says: lag increases during heavy load and catches up after it.
import { LoadGenerator } from '../load';
import { check, connect, readyCluster, result, round1, sleep, type DemoContext, type DemoResult } from './common';
import { loadWhileSampling, sampleReplication } from './replicationSampler';

export interface ReplicaPeak {
  readonly replica: string;
  readonly peakBehindBytes: number;
  readonly peakReplayLagMs: number;
  /** ms from the end of the load until the replica replayed everything; null when not within the bound. */
  readonly caughtUpAfterMs: number | null;
}

export interface LagUnderLoadMeasures {
  readonly primary: string;
  readonly statements: number;
  readonly rows: number;
  readonly loadMs: number;
  readonly rowsPerSec: number;
  readonly failedWrites: number;
  readonly replicas: readonly ReplicaPeak[];
}

// A quiet machine runs the whole bulk load in a few hundred ms and the replica replays it right
// behind: samples 100 ms apart could all fall where it has caught up (peak 0 B, seen in CI).
const SAMPLE_MS = 20;

export async function lagUnderLoad(ctx: DemoContext, o: { statements?: number; rowsPerStatement?: number; concurrency?: number; maxLoadSec?: number; catchUpBoundMs?: number } = {}): Promise<DemoResult<LagUnderLoadMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 5: ${m}`);
  const statements = o.statements ?? 300;
  const rowsPerStatement = o.rowsPerStatement ?? 100;
  const concurrency = o.concurrency ?? 10;
  const bound = o.catchUpBoundMs ?? 30_000;
  const { primary, replicas } = await readyCluster(ctx, { replicas: 1 });
  const p = await connect(t, primary.hostPort, 'postgres', 'pgha-lag-under-load');
  try {
    say(`heavy load on ${primary.container}: ${statements} INSERTs of ${rowsPerStatement} rows, ${concurrency} at a time (at most ${o.maxLoadSec ?? 30} s); sampling byte lag every ${SAMPLE_MS} ms`);
    const l0 = Date.now();
    const { load: lr, samples } = await loadWhileSampling(p, SAMPLE_MS, new LoadGenerator(t, { target: 'primary', mode: { kind: 'bulk', statements, rowsPerStatement, concurrency, maxDurationSec: o.maxLoadSec ?? 30 } }), ctx.onReplicationSamples);
    const loadEnd = Date.now();
    say(`load done in ${loadEnd - l0} ms: ${lr.ackedRows} rows acknowledged, ${lr.failed} failed`);
    // Catch-up: every replica back at 0 bytes behind, polled every 50 ms, bounded.
    const caught = new Map<string, number>();
    while (Date.now() - loadEnd < bound && caught.size < replicas.length) {
      const round = await sampleReplication(p).catch(() => []);
      ctx.onReplicationSamples?.(round);
      for (const s of round) {
        if (s.behindBytes <= 0 && !caught.has(s.replica)) caught.set(s.replica, s.at - loadEnd);
      }
      if (caught.size < replicas.length) await sleep(50);
    }
    const per: ReplicaPeak[] = replicas.map((r) => {
      const s = samples.filter((x) => x.replica === r.service);
      return {
        replica: r.service,
        peakBehindBytes: s.length ? Math.max(...s.map((x) => x.behindBytes)) : 0,
        peakReplayLagMs: round1(s.length ? Math.max(...s.map((x) => x.replayLagMs)) : 0),
        caughtUpAfterMs: caught.has(r.service) ? Math.max(0, caught.get(r.service)!) : null,
      };
    });
    for (const x of per) say(`${x.replica}: peak ${x.peakBehindBytes} B behind (replay_lag ${x.peakReplayLagMs} ms), caught up ${x.caughtUpAfterMs === null ? `not within ${bound} ms` : `${x.caughtUpAfterMs} ms after the load`}`);
    const loadMs = loadEnd - l0;
    const checks = [
      check('lagGrew', per.every((x) => x.peakBehindBytes > 0), per.map((x) => `${x.replica}: peak ${x.peakBehindBytes} B`).join(', ')),
      check('caughtUp', per.every((x) => x.caughtUpAfterMs !== null), per.map((x) => `${x.replica}: ${x.caughtUpAfterMs === null ? 'not caught up' : `${x.caughtUpAfterMs} ms`}`).join(', ')),
      check('loadRan', lr.acked > 0 && lr.failed === 0, `${lr.acked} statements (${lr.ackedRows} rows), ${lr.failed} failed`),
    ];
    return result('demo5', started, checks, { primary: primary.service, statements: lr.acked, rows: lr.ackedRows, loadMs, rowsPerSec: Math.round(lr.ackedRows / Math.max(0.001, loadMs / 1000)), failedWrites: lr.failed, replicas: per });
  } finally {
    await p.end().catch(() => undefined);
  }
}
