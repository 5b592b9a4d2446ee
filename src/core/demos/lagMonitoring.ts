// Demo 3, Replication Lag Monitoring: a short steady write load (the workshop's generate-load.sh,
// bounded) while pg_stat_replication is sampled on the primary (state, sync_state, replay_lag,
// byte lag) and each replica reports now() − pg_last_xact_replay_timestamp(). The workshop says:
// lag usually < 100 ms, sync_state = async.
import { LoadGenerator } from '../load';
import { check, connect, percentileOf, readyCluster, result, round1, type DemoContext, type DemoResult } from './common';
import { loadWhileSampling } from './replicationSampler';

export const LAG_PROMISE_MS = 100;

export interface ReplicaLag {
  readonly replica: string;
  readonly samples: number;
  readonly states: readonly string[];
  readonly syncStates: readonly string[];
  readonly p50ReplayLagMs: number;
  readonly maxReplayLagMs: number;
  readonly maxBehindBytes: number;
  /** now() − pg_last_xact_replay_timestamp() at the end (time since the last replayed commit). */
  readonly lastReplayAgeMs: number | null;
}

export interface LagMonitoringMeasures {
  readonly primary: string;
  readonly durationSec: number;
  readonly writes: number;
  readonly writesPerSec: number;
  readonly failedWrites: number;
  readonly replicas: readonly ReplicaLag[];
}

export async function lagMonitoring(ctx: DemoContext, o: { durationSec?: number; ratePerSec?: number; sampleEveryMs?: number } = {}): Promise<DemoResult<LagMonitoringMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 3: ${m}`);
  const durationSec = Math.min(Math.max(1, o.durationSec ?? 6), 120);
  const ratePerSec = o.ratePerSec ?? 20;
  const { primary, replicas } = await readyCluster(ctx, { replicas: 1 });
  const p = await connect(t, primary.hostPort, 'postgres', 'pgha-lag-monitor');
  try {
    say(`write load: ${ratePerSec} writes/s for ${durationSec} s on ${primary.container}; sampling pg_stat_replication every ${o.sampleEveryMs ?? 250} ms`);
    const { load: lr, samples } = await loadWhileSampling(p, o.sampleEveryMs ?? 250, new LoadGenerator(t, { target: 'primary', mode: { kind: 'rate', ratePerSec, durationSec } }), ctx.onReplicationSamples);
    const ages = await Promise.all(
      replicas.map(async (r) => {
        const c = await connect(t, r.hostPort, 'postgres').catch(() => undefined);
        if (!c) return null;
        try {
          const x = await c.query<{ ms: number | null }>('SELECT (EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS ms');
          return x.rows[0].ms === null ? null : round1(Number(x.rows[0].ms));
        } finally {
          await c.end().catch(() => undefined);
        }
      }),
    );
    const per: ReplicaLag[] = replicas.map((r, i) => {
      const s = samples.filter((x) => x.replica === r.service);
      const lags = s.map((x) => x.replayLagMs);
      return {
        replica: r.service,
        samples: s.length,
        states: [...new Set(s.map((x) => x.state))],
        syncStates: [...new Set(s.map((x) => x.syncState))],
        p50ReplayLagMs: round1(percentileOf(lags, 50) ?? 0),
        maxReplayLagMs: round1(lags.length ? Math.max(...lags) : 0),
        maxBehindBytes: s.length ? Math.max(...s.map((x) => x.behindBytes)) : 0,
        lastReplayAgeMs: ages[i],
      };
    });
    for (const x of per) say(`${x.replica}: ${x.samples} samples, state ${x.states.join('/')}, sync_state ${x.syncStates.join('/')}, replay_lag p50 ${x.p50ReplayLagMs} ms max ${x.maxReplayLagMs} ms, max ${x.maxBehindBytes} B behind`);
    say(`load: ${lr.acked} writes acknowledged (${round1(lr.avgWritesPerSec)}/s), ${lr.failed} failed`);
    const checks = [
      check('streaming', per.every((x) => x.samples > 0 && x.states.every((s) => s === 'streaming')), per.map((x) => `${x.replica}: ${x.states.join('/') || 'no samples'}`).join(', ')),
      check('async', per.every((x) => x.syncStates.length > 0 && x.syncStates.every((s) => s === 'async')), per.map((x) => `${x.replica}: ${x.syncStates.join('/') || '?'}`).join(', ')),
      check('lagUnder100ms', per.every((x) => x.p50ReplayLagMs < LAG_PROMISE_MS), per.map((x) => `${x.replica}: p50 ${x.p50ReplayLagMs} ms, max ${x.maxReplayLagMs} ms`).join(', ')),
      check('loadRan', lr.acked > 0 && lr.failed === 0, `${lr.acked} writes, ${lr.failed} failed`),
    ];
    return result('demo3', started, checks, { primary: primary.service, durationSec, writes: lr.acked, writesPerSec: round1(lr.avgWritesPerSec), failedWrites: lr.failed, replicas: per });
  } finally {
    await p.end().catch(() => undefined);
  }
}
