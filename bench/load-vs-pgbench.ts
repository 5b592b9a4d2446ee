// Benchmarks of the write load and the failover, side by side in one run on the same cluster
// (ratios, not absolute times: the machine is shared and noisy).
//
//   1. throughput: the load generator vs pgbench, the same single-row INSERT, the same N clients
//      (goal: ≥ 0.8× pgbench), alternating rounds, medians
//   2. throughput: the load generator (1 client) vs the workshop's generate-load.sh at full speed
//   3. write latency: asynchronous vs synchronous (FIRST 1, remote_apply) replication
//   4. failover RTO (kill -9 under load, measured from the ledger), median of 3
//
// Run (with the PGHA_* variables of a cluster of your own; it is reset at the end):
//   node --import tsx bench/load-vs-pgbench.ts [--clients 4] [--seconds 8] [--rounds 4] [--failovers 3]
// Needs pgbench on PATH (Debian: postgresql-client / postgresql-contrib).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { failover } from '../src/core/failover';
import { LoadGenerator, type LoadResult } from '../src/core/load';
import { rejoinAsReplica } from '../src/core/rejoin';
import { setSynchronousReplication } from '../src/core/syncReplication';
import { clusterUp, containers, nodePort, resetCluster, runClusterScript, topology, waitFor } from '../test/support/cluster';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '4' },
    failovers: { type: 'string', default: '3' },
  },
});
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const failovers = Number(values.failovers);
const ctx = { topology, containers };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n: number, d = 1) => n.toFixed(d);

function pgbench(port: number, n: number, sec: number): number {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgha-bench-'));
  const script = path.join(dir, 'insert.sql');
  // The same statement the generator sends (single-row INSERT ... RETURNING).
  writeFileSync(script, "INSERT INTO users (name, email) VALUES ('pgbench', 'pgbench@load.example') RETURNING id, current_setting('cluster_name');\n");
  const r = spawnSync('pgbench', ['-n', '-M', 'prepared', '-f', script, '-c', String(n), '-j', String(Math.min(n, 4)), '-T', String(sec), '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'demodb'], {
    env: { ...process.env, PGPASSWORD: topology.superuser.password },
    encoding: 'utf8',
  });
  const m = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout) ?? /tps = ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`pgbench failed: ${r.stderr || r.stdout}`);
  return Number(m[1]);
}

/**
 * Acknowledged writes per second once every client is connected, as pgbench reports its tps
 * "without initial connection time": from the ack by which each client had its first write
 * through the last ack.
 */
function steadyRate(r: LoadResult, clients: number): number {
  const acks = r.ledger.writes.map((w) => w.ackAt).sort((a, b) => a - b);
  if (acks.length <= clients) return (r.acked * 1000) / r.elapsedMs;
  const from = acks[clients - 1];
  const to = acks[acks.length - 1];
  return ((acks.length - clients) * 1000) / Math.max(1, to - from);
}

async function ours(target: 'primary' | 'pgbouncer', n: number, sec: number): Promise<LoadResult> {
  return new LoadGenerator(topology, { target, mode: { kind: 'max', clients: n, durationSec: sec } }).run();
}

async function main(): Promise<void> {
  console.log(`# pg-ha-workshop benchmarks (${new Date().toISOString()}, ${clients} clients, ${seconds} s per run, ${rounds} rounds)`);
  await clusterUp();
  const port = nodePort('primary');

  // 1. generator vs pgbench
  const pb: number[] = [];
  const gen: number[] = [];
  for (let i = 0; i < rounds; i++) {
    pb.push(pgbench(port, clients, seconds));
    const r = await ours('primary', clients, seconds);
    gen.push(steadyRate(r, clients));
  }
  const ratio1 = median(gen) / median(pb);
  console.log(`\n## 1. single-row INSERT, ${clients} clients`);
  console.log(`pgbench          ${fmt(median(pb))} writes/s  (rounds: ${pb.map((x) => fmt(x)).join(', ')})`);
  console.log(`load generator   ${fmt(median(gen))} writes/s  (rounds: ${gen.map((x) => fmt(x)).join(', ')})`);
  console.log(`ratio generator/pgbench = ${fmt(ratio1, 2)}×  (goal ≥ 0.80×) ${ratio1 >= 0.8 ? 'OK' : 'BELOW GOAL'}`);

  // 2. generator (1 client) vs generate-load.sh at full speed (one psql per write)
  const scriptSec = Math.max(4, Math.round(seconds / 2));
  const sh = await runClusterScript('generate-load.sh', [String(scriptSec), '1000', '--quiet'], {}, (scriptSec + 60) * 1000);
  const okMatch = /writes ok:\s+(\d+)/.exec(sh.stdout);
  const shRate = okMatch ? Number(okMatch[1]) / (sh.ms / 1000) : Number.NaN;
  const one = await ours('primary', 1, scriptSec);
  const oneRate = (one.acked * 1000) / one.elapsedMs;
  console.log(`\n## 2. one client at full speed, ${scriptSec} s`);
  console.log(`generate-load.sh ${fmt(shRate)} writes/s (${okMatch?.[1] ?? '?'} writes in ${fmt(sh.ms / 1000)} s)`);
  console.log(`load generator   ${fmt(oneRate)} writes/s`);
  console.log(`ratio generator/generate-load.sh = ${fmt(oneRate / shRate, 1)}×`);

  // 3. write latency async vs sync (remote_apply)
  const lat = async () => (await new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec: 50, durationSec: Math.max(4, Math.round(seconds / 2)) } }).run()).latencyMs;
  await setSynchronousReplication(ctx, { method: 'async', commit: 'on' });
  const a = await lat();
  await setSynchronousReplication(ctx, { method: 'FIRST', num: 1, commit: 'remote_apply' });
  const s = await lat();
  await setSynchronousReplication(ctx, { method: 'async', commit: 'on' });
  console.log('\n## 3. write latency, 50 writes/s, one client');
  console.log(`async                     p50 ${fmt(a.p50 ?? NaN)} ms  p95 ${fmt(a.p95 ?? NaN)} ms`);
  console.log(`sync FIRST 1 remote_apply p50 ${fmt(s.p50 ?? NaN)} ms  p95 ${fmt(s.p95 ?? NaN)} ms`);
  console.log(`ratio sync/async p50 = ${fmt((s.p50 ?? NaN) / (a.p50 ?? NaN), 2)}×`);

  // 4. failover RTO, median of N (kill -9 under load; the old primary rejoins before the next one)
  const rtos: number[] = [];
  const lost: number[] = [];
  const promo: number[] = [];
  for (let i = 0; i < failovers; i++) {
    const load = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec: 20, durationSec: 300 } });
    const run = load.run();
    try {
      await waitFor(() => load.progress.acked >= 20, 120_000, 'writes before the failover');
      const r = await failover(ctx, { fencing: 'kill', ledger: load.ledger, loadRunning: () => load.progress.state === 'running', waitForLoadMs: 120_000 });
      if (r.rto) rtos.push(r.rto.ms);
      promo.push(r.promotionMs);
      lost.push(r.rpo?.lostWrites ?? NaN);
      load.cancel();
      await run;
      if (r.oldPrimary) await rejoinAsReplica(ctx, r.oldPrimary.key, { method: 'auto' });
    } finally {
      load.cancel();
      await run;
    }
  }
  console.log(`\n## 4. failover (kill -9 under 20 writes/s, asynchronous), ${failovers} runs`);
  console.log(`RTO (first failed write → first write on the new primary): median ${fmt(median(rtos) / 1000, 2)} s  (runs: ${rtos.map((x) => fmt(x / 1000, 2)).join(', ')} s)`);
  console.log(`promotion (fence → new primary writable): median ${fmt(median(promo) / 1000, 2)} s`);
  console.log(`RPO (acknowledged writes lost): ${lost.join(', ')}`);
  console.log('\n(the workshop says: downtime ~10-30 s, RPO = replication lag)');
  await resetCluster();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
