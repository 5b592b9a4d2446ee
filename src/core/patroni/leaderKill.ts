// Demo 8's measurement: kill the Patroni leader under write load and let Patroni elect a new one
// by itself; RTO and RPO come from the same ledger as Demo 4 (the load writes through the router,
// as an application would). Nothing here promotes or repoints: that is Patroni's job.
//
// API (no vscode):
//   measureLeaderKill(ctx, { fault, ratePerSec, ... }) → LeaderKillResult
import type { Containers } from '../../docker/engine';
import { measureRpo, measureRto, type Rpo, type Rto } from '../ledger';
import { LoadGenerator, presentSeqs } from '../load';
import { waitForLeader } from './operations';
import { settingsOf, type PatroniSettings } from './settings';
import { sleep } from './sleep';
import { askAny } from './status';
import { memberByName, type PatroniTopology } from './topology';

export interface LeaderKillContext {
  readonly topology: PatroniTopology;
  readonly containers: Containers;
}

export interface LeaderKillOptions {
  /** kill = crash (SIGKILL), stop = clean shutdown (Patroni releases the lock at once). Default kill. */
  readonly fault?: 'kill' | 'stop';
  /** Writes per second through the router. Default 20. */
  readonly ratePerSec?: number;
  /** Acknowledged writes before the fault. Default 20. */
  readonly warmupWrites?: number;
  /** Time allowed for Patroni to elect a new leader. Default 3·ttl + 60 s. */
  readonly electionTimeoutMs?: number;
  /** Start the old leader again afterwards (it rejoins as a replica). Default true. */
  readonly restartOldLeader?: boolean;
  /** Time allowed for the old leader to come back as a replica. Default 300 s (pg_rewind on a busy machine). */
  readonly rejoinTimeoutMs?: number;
  readonly onStep?: (message: string) => void;
}

export interface LeaderKillResult {
  readonly oldLeader: string;
  readonly newLeader: string;
  readonly fault: 'kill' | 'stop';
  readonly settings: PatroniSettings;
  /** Fault → Patroni reports a new running leader (its own view of the failover). */
  readonly electionMs: number;
  /** From the ledger: first failed write → first write acknowledged after it (through the router). */
  readonly rto?: Rto;
  readonly rpo: Rpo;
  readonly acked: number;
  readonly failed: number;
  readonly faultAt: number;
  /** The old leader is back as a replica (when restarted). */
  readonly oldLeaderRejoined?: boolean;
}

export async function measureLeaderKill(ctx: LeaderKillContext, o: LeaderKillOptions = {}): Promise<LeaderKillResult> {
  const t = ctx.topology;
  const step = o.onStep ?? (() => undefined);
  const fault = o.fault ?? 'kill';
  const cfg = await askAny(t, (c) => c.config());
  if (!cfg.value) throw new Error(`No Patroni member answers (${cfg.problems[0] ?? 'unknown'}): start the Patroni cluster first.`);
  const settings = settingsOf(cfg.value);
  const oldLeader = await waitForLeader(t, { timeoutMs: 60_000 });
  const old = memberByName(t, oldLeader)!;
  const electionTimeoutMs = o.electionTimeoutMs ?? (3 * settings.ttl + 60) * 1000;
  const durationSec = Math.ceil((electionTimeoutMs + 120_000) / 1000);
  const gen = new LoadGenerator(t.cluster, { target: 'pgbouncer', mode: { kind: 'rate', ratePerSec: o.ratePerSec ?? 20, durationSec }, writeTimeoutMs: 5000 });
  const run = gen.run();
  try {
    step(`Load: ${o.ratePerSec ?? 20} writes/s through the router (port ${t.cluster.pgbouncer.hostPort}); leader ${oldLeader}.`);
    const warm = Date.now() + 60_000;
    while (gen.ledger.acked < (o.warmupWrites ?? 20)) {
      if (Date.now() > warm) throw new Error(`The load made only ${gen.ledger.acked} writes through the router in 60 s: is HAProxy (${t.cluster.pgbouncer.container}) up?`);
      await sleep(100);
    }
    const faultAt = Date.now();
    step(`${fault === 'kill' ? 'Killing' : 'Stopping'} the leader ${old.container} (ttl ${settings.ttl} s, loop_wait ${settings.loop_wait} s).`);
    if (fault === 'kill') await ctx.containers.kill(old.container);
    else await ctx.containers.stop(old.container, 30);
    const newLeader = await waitForLeader(t, { other: oldLeader, timeoutMs: electionTimeoutMs, pollMs: 100 });
    const electionMs = Date.now() - faultAt;
    step(`Patroni elected ${newLeader} after ${(electionMs / 1000).toFixed(1)} s.`);
    // Let the load reach the new leader through the router (HAProxy checks GET /primary every second).
    const until = Date.now() + 60_000;
    while (Date.now() < until && !measureRto(gen.ledger, { after: faultAt })) await sleep(100);
    await sleep(1000);
    gen.cancel();
    const result = await run;
    const rto = measureRto(result.ledger, { after: faultAt });
    const newSpec = memberByName(t, newLeader)!;
    const present = await presentSeqs(t.cluster, newSpec.pgHostPort, result.ledger);
    const rpo = measureRpo(result.ledger, present, { failureAt: faultAt });
    let oldLeaderRejoined: boolean | undefined;
    if (o.restartOldLeader !== false) {
      step(`Starting ${old.container} again: Patroni makes it a replica of ${newLeader}.`);
      await ctx.containers.start(old.container);
      oldLeaderRejoined = await waitForReplica(t, oldLeader, o.rejoinTimeoutMs ?? 300_000);
    }
    return { oldLeader, newLeader, fault, settings, electionMs, rto, rpo, acked: result.acked, failed: result.failed, faultAt, oldLeaderRejoined };
  } finally {
    gen.cancel();
    await run.catch(() => undefined);
  }
}

/** True once `name` runs as a replica (streaming or running) of the current leader. */
export async function waitForReplica(t: PatroniTopology, name: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await askAny(t, (c) => c.cluster(), 2000);
    const m = r.value?.members.find((x) => x.name === name);
    // 'unknown' lag: registered, but not yet receiving from the leader.
    if (m && (m.role === 'replica' || m.role === 'sync_standby') && (m.state === 'running' || m.state === 'streaming') && m.lag !== 'unknown') return true;
    await sleep(500);
  }
  return false;
}

