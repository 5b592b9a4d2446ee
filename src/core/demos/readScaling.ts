// Demo 2, Read Scaling: 20 rounds of SELECT COUNT(*) FROM users on each replica (the workshop's
// loop, with a shorter pause), timed. Shows that every read is served by a replica (in recovery)
// and that the replicas agree with the primary: writes → primary, reads → replicas.
import { check, connect, percentileOf, readyCluster, result, round1, sleep, type DemoContext, type DemoResult } from './common';

export interface ReplicaReads {
  readonly replica: string;
  readonly reads: number;
  readonly failed: number;
  readonly p50Ms?: number;
  readonly maxMs?: number;
  /** COUNT(*) of the last round. */
  readonly lastCount?: number;
  readonly inRecovery: boolean;
}

export interface ReadScalingMeasures {
  readonly rounds: number;
  readonly primary: string;
  readonly primaryCount: number;
  readonly replicas: readonly ReplicaReads[];
  readonly totalReads: number;
  readonly readsPerSec: number;
}

export async function readScaling(ctx: DemoContext, o: { rounds?: number; pauseMs?: number } = {}): Promise<DemoResult<ReadScalingMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const rounds = Math.min(Math.max(1, o.rounds ?? 20), 200);
  const pauseMs = o.pauseMs ?? 50;
  const say = (m: string) => ctx.log?.(`demo 2: ${m}`);
  const { primary, replicas } = await readyCluster(ctx, { replicas: 1 });
  const clients = await Promise.all(replicas.map((r) => connect(t, r.hostPort, undefined, 'pgha-read-scaling')));
  const times: number[][] = replicas.map(() => []);
  const failed = replicas.map(() => 0);
  const last: (number | undefined)[] = replicas.map(() => undefined);
  const t0 = performance.now();
  try {
    const inRecovery = await Promise.all(clients.map(async (c) => (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r));
    for (let i = 1; i <= rounds; i++) {
      for (const [k, c] of clients.entries()) {
        const q0 = performance.now();
        try {
          const r = await c.query<{ n: string }>('SELECT COUNT(*) AS n FROM users');
          times[k].push(performance.now() - q0);
          last[k] = Number(r.rows[0].n);
        } catch {
          failed[k]++;
        }
      }
      if (i === 1 || i === rounds || i % 5 === 0) say(`round ${i}/${rounds}: ${replicas.map((r, k) => `${r.service} count=${last[k] ?? '?'}`).join(', ')}`);
      if (i < rounds) await sleep(pauseMs);
    }
    const elapsed = (performance.now() - t0) / 1000;
    // The primary's count once the replicas caught up (they may lag a write or two behind).
    const primaryCount = Number((await connect(t, primary.hostPort).then(async (c) => {
      try { return (await c.query<{ n: string }>('SELECT COUNT(*) AS n FROM users')).rows[0].n; } finally { await c.end().catch(() => undefined); }
    })));
    const per: ReplicaReads[] = replicas.map((r, k) => ({
      replica: r.service,
      reads: times[k].length,
      failed: failed[k],
      p50Ms: times[k].length ? round1(percentileOf(times[k], 50)!) : undefined,
      maxMs: times[k].length ? round1(Math.max(...times[k])) : undefined,
      lastCount: last[k],
      inRecovery: inRecovery[k],
    }));
    for (const x of per) say(`${x.replica}: ${x.reads} reads, ${x.failed} failed, p50 ${x.p50Ms} ms, max ${x.maxMs} ms`);
    const totalReads = per.reduce((a, x) => a + x.reads, 0);
    const checks = [
      check('allReadsAnswered', per.every((x) => x.reads === rounds && x.failed === 0), per.map((x) => `${x.replica}: ${x.reads}/${rounds}`).join(', ')),
      check('servedByReplicas', per.every((x) => x.inRecovery), per.map((x) => `${x.replica}: pg_is_in_recovery() = ${x.inRecovery}`).join(', ')),
      check('replicasAgree', per.every((x) => x.lastCount !== undefined && Math.abs(primaryCount - x.lastCount) <= 5), `${primary.service}: ${primaryCount} rows; ${per.map((x) => `${x.replica}: ${x.lastCount}`).join(', ')}`),
    ];
    return result('demo2', started, checks, { rounds, primary: primary.service, primaryCount, replicas: per, totalReads, readsPerSec: round1(totalReads / elapsed) });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}
