// Exercise 1, synchronous replication: the write-latency cost measured side by side on the
// learner's cluster. Alternating rounds (async, sync, async, sync ...) of single-row inserts by one
// client (the load generator's 'max' mode, its latency percentiles), so a noisy machine affects both
// modes alike; the synchronous setting is the workshop's (synchronous_commit = remote_apply,
// synchronous_standby_names = 'postgres-replica1') applied with the sync-replication command's
// core, and the cluster's own setting is put back afterwards whatever happens.
//
// API (no vscode):
//   measureSyncLatency(ctx, { rounds?, secondsPerRound?, onRound? }) → SyncLatencyResult
//   WORKSHOP_SYNC_CONFIG
import { LoadGenerator } from '../load';
import { parseSyncNames } from '../failover';
import { getSynchronousReplication, setSynchronousReplication, type SyncCommit, type SyncConfig } from '../syncReplication';
import { LabError, type LabContext, stopIfCancelled } from './common';

export const WORKSHOP_SYNC_CONFIG: SyncConfig = { method: 'FIRST', num: 1, standbys: ['postgres-replica1'], commit: 'remote_apply' };

export interface LatencyFigures {
  /** Median over the rounds of each round's p50 / p95 (ms). */
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly writes: number;
  readonly writesPerSec: number;
}

export interface SyncLatencyResult {
  readonly async: LatencyFigures;
  readonly sync: LatencyFigures;
  /** sync p50 / async p50. */
  readonly ratio: number;
  readonly rounds: number;
  readonly syncSetting: string;
  readonly message: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

function figures(rs: { p50: number; p95: number; writes: number; secs: number }[]): LatencyFigures {
  const writes = rs.reduce((n, r) => n + r.writes, 0);
  const secs = rs.reduce((n, r) => n + r.secs, 0);
  return { p50Ms: median(rs.map((r) => r.p50)), p95Ms: median(rs.map((r) => r.p95)), writes, writesPerSec: secs ? writes / secs : 0 };
}

export async function measureSyncLatency(
  ctx: LabContext,
  o: { rounds?: number; secondsPerRound?: number; sync?: SyncConfig; onRound?: (mode: 'async' | 'sync', round: number, p50: number) => void } = {},
): Promise<SyncLatencyResult> {
  const rounds = o.rounds ?? 3;
  const secs = o.secondsPerRound ?? 3;
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 20) throw new LabError(`Rounds must be a whole number from 1 to 20 (got ${rounds}).`, 'badInput');
  if (!Number.isInteger(secs) || secs < 1 || secs > 60) throw new LabError(`Seconds per round must be a whole number from 1 to 60 (got ${secs}).`, 'badInput');
  const syncCfg = o.sync ?? WORKSHOP_SYNC_CONFIG;
  const original = await getSynchronousReplication(ctx);
  const parsed = parseSyncNames(original.synchronousStandbyNames);
  const restore: SyncConfig = parsed
    ? { method: parsed.method, num: parsed.num, standbys: parsed.names, commit: original.synchronousCommit as SyncCommit, force: true }
    : { method: 'async', commit: (original.synchronousCommit as SyncCommit) || 'on' };
  const results: Record<'async' | 'sync', { p50: number; p95: number; writes: number; secs: number }[]> = { async: [], sync: [] };
  let syncSetting = '';
  try {
    for (let i = 0; i < rounds; i++) {
      for (const mode of ['async', 'sync'] as const) {
        // Between rounds: the finally below restores the replication setting either way.
        stopIfCancelled(ctx, `The replication setting is restored as it was (${original.synchronousStandbyNames ? `synchronous_standby_names = '${original.synchronousStandbyNames}'` : 'asynchronous'}).`);
        const st = await setSynchronousReplication(ctx, mode === 'async' ? { method: 'async', commit: 'on' } : syncCfg);
        if (mode === 'sync') syncSetting = `synchronous_standby_names = '${st.synchronousStandbyNames}', synchronous_commit = ${st.synchronousCommit}`;
        const g = new LoadGenerator(ctx.topology, { target: 'primary', mode: { kind: 'max', clients: 1, durationSec: secs }, writeTimeoutMs: 5000 });
        const r = await g.run();
        if (r.acked === 0) throw new LabError(`No write succeeded in the ${mode} round${r.lastError ? ` (${r.lastError.message})` : ''}: is the primary up?`, 'failed');
        results[mode].push({ p50: r.latencyMs.p50 ?? NaN, p95: r.latencyMs.p95 ?? NaN, writes: r.acked, secs: r.elapsedMs / 1000 });
        o.onRound?.(mode, i + 1, r.latencyMs.p50 ?? NaN);
      }
    }
  } finally {
    await setSynchronousReplication(ctx, restore).catch((e: unknown) => ctx.log?.(`Could not restore the synchronous replication setting: ${String(e)}`));
  }
  const a = figures(results.async);
  const s = figures(results.sync);
  const ratio = s.p50Ms / a.p50Ms;
  return {
    async: a,
    sync: s,
    ratio,
    rounds,
    syncSetting,
    message: `Write latency, median of ${rounds} alternating rounds of ${secs} s: asynchronous p50 ${a.p50Ms.toFixed(2)} ms (p95 ${a.p95Ms.toFixed(2)}), synchronous p50 ${s.p50Ms.toFixed(2)} ms (p95 ${s.p95Ms.toFixed(2)}): ${ratio.toFixed(1)}× slower per commit; ${a.writesPerSec.toFixed(0)} vs ${s.writesPerSec.toFixed(0)} writes/s with one client.`,
  };
}
