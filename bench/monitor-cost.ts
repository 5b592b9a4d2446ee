// What the monitor costs at idle (1 s poll): SQL statements and Docker calls per second, CPU of
// the monitor's own process, and CPU of the Docker engine on its behalf — side by side with the
// workshop's way of watching (`watch -n1 docker exec <node> psql -c ...` on each of the 3 nodes).
//   npx tsx bench/monitor-cost.ts [seconds]
// Uses the cluster of the PGHA_* environment (brings it up in its standard shape if needed).
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ClusterMonitor } from '../src/core/monitor';
import { clusterUp, docker, topology } from '../test/support/cluster';

const seconds = Number(process.argv[2] ?? 20);
const TICK = 100; // USER_HZ on Linux

function pidsOf(name: string): number[] {
  try {
    return execFileSync('pidof', [name]).toString().trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** utime+stime (+ children's when `children`) of a process, in ms. */
function cpuMs(pid: number | 'self', children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from #3 on
    const v = (i: number) => Number(f[i - 3]);
    return ((v(14) + v(15) + (children ? v(16) + v(17) : 0)) * 1000) / TICK;
  } catch {
    return 0;
  }
}

const engine = () => [...pidsOf('dockerd'), ...pidsOf('containerd')].reduce((a, p) => a + cpuMs(p), 0);

async function monitorRun(): Promise<{ qps: number; dps: number; selfPct: number; enginePct: number }> {
  const m = new ClusterMonitor({ docker, topology, pollIntervalMs: 1000 });
  const sub = m.onDidChange(() => undefined);
  m.start();
  await m.waitFor((s) => s.primary !== undefined && s.nodes.every((n) => n.role === 'primary' || n.role === 'replica'), 30_000);
  await new Promise((r) => setTimeout(r, 2000)); // warm: pools open, event stream live
  const q0 = m.stats.queries;
  const d0 = m.stats.dockerCalls;
  const c0 = process.cpuUsage();
  const e0 = engine();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const wall = (Date.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const e = engine() - e0;
  const out = { qps: (m.stats.queries - q0) / wall, dps: (m.stats.dockerCalls - d0) / wall, selfPct: ((c.user + c.system) / 1000 / (wall * 1000)) * 100, enginePct: (e / (wall * 1000)) * 100 };
  sub.dispose();
  await m.stop();
  return out;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('close', () => resolve());
    p.on('error', () => resolve());
  });
}

async function watchRun(): Promise<{ qps: number; dps: number; selfPct: number; enginePct: number }> {
  const sql = 'SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication';
  const lagSql = 'SELECT now() - pg_last_xact_replay_timestamp() AS replication_lag';
  const e0 = engine();
  const k0 = cpuMs('self', true) - cpuMs('self');
  const t0 = Date.now();
  let n = 0;
  while (Date.now() - t0 < seconds * 1000) {
    const tick = Date.now();
    await Promise.all(topology.nodes.map((node) => run('docker', ['exec', node.container, 'psql', '-U', 'postgres', '-Atc', node.initialRole === 'primary' ? sql : lagSql])));
    n += topology.nodes.length;
    await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - tick))));
  }
  const wall = (Date.now() - t0) / 1000;
  const kids = cpuMs('self', true) - cpuMs('self') - k0;
  const e = engine() - e0;
  return { qps: n / wall, dps: n / wall, selfPct: (kids / (wall * 1000)) * 100, enginePct: (e / (wall * 1000)) * 100 };
}

/** Engine CPU while nothing of ours runs (other containers' healthchecks, other clients). */
async function baseline(): Promise<number> {
  const e0 = engine();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((engine() - e0) / (Date.now() - t0)) * 100;
}

async function main(): Promise<void> {
  await clusterUp();
  const b1 = await baseline();
  const mon = await monitorRun();
  const w = await watchRun();
  const b2 = await baseline();
  const base = (b1 + b2) / 2;
  mon.enginePct = Math.max(0, mon.enginePct - base);
  w.enginePct = Math.max(0, w.enginePct - base);
  const f = (x: number) => x.toFixed(2);
  console.log(`Idle cost over ${seconds} s, 1 s poll, 3 nodes + PgBouncer (CPU as % of one core):`);
  console.log(`(engine CPU is above the idle baseline of ${base.toFixed(2)} % measured before and after)`);
  console.log(`                        SQL/s  Docker calls/s  client CPU %  Docker engine CPU %`);
  console.log(`  monitor (pg + events)  ${f(mon.qps).padStart(5)}  ${f(mon.dps).padStart(14)}  ${f(mon.selfPct).padStart(12)}  ${f(mon.enginePct).padStart(19)}`);
  console.log(`  watch + docker exec    ${f(w.qps).padStart(5)}  ${f(w.dps).padStart(14)}  ${f(w.selfPct).padStart(12)}  ${f(w.enginePct).padStart(19)}`);
  const total = (x: { selfPct: number; enginePct: number }) => x.selfPct + x.enginePct;
  console.log(`  ratio (docker exec / monitor), client+engine CPU: ${(total(w) / Math.max(0.01, total(mon))).toFixed(1)}x`);
  console.log(`  note: the monitor covers more (PgBouncer, slots, WAL receiver, timelines) in its one statement per node.`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
