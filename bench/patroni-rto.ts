// Patroni failover RTO with Patroni's defaults (ttl 30 / loop_wait 10 / retry_timeout 10) and with
// the fast profile (ttl 10 / loop_wait 2 / retry_timeout 4), side by side: each run kills the
// leader under 20 writes/s through HAProxy, lets Patroni elect a new one and the old leader rejoin,
// and reads RTO (first failed → first acknowledged write) and RPO from the load ledger. Profiles
// alternate run by run so machine load hits both alike. Beside them, first, the workshop cluster's
// one-click failover (Demo 4, clicked at once) with the same load and the same ledger.
//   node --import tsx bench/patroni-rto.ts [--runs 3]
// Uses the tests' own clusters (test/support/cluster.ts, then test/support/patroniCluster.ts), each
// removed when its part ends.
import { parseArgs } from 'node:util';
import { measureLeaderKill } from '../src/core/patroni/leaderKill';
import { applySettings } from '../src/core/patroni/operations';
import { DEFAULT_PROFILE, FAST_PROFILE, type TimingProfile } from '../src/core/patroni/settings';
import { containers, patroni, patroniDown, patroniUp } from '../test/support/patroniCluster';
import { loadavg } from 'node:os';
import { primaryFailover } from '../src/core/demos/primaryFailover';
import * as workshop from '../test/support/cluster';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '3' }, keep: { type: 'boolean', default: false } } });
const runs = Number(opt.runs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Demo 4's one-click failover on the workshop cluster, clicked the moment the primary stops. */
async function oneClickFailover(): Promise<{ rto: number[]; lost: string[] }> {
  const rto: number[] = [];
  const lost: string[] = [];
  await workshop.clusterUp();
  try {
    for (let i = 0; i < runs; i++) {
      const r = await primaryFailover({ topology: workshop.topology, containers: workshop.containers }, { outageMs: 0, ratePerSec: 20 });
      if (r.measures.rtoMs !== null) rto.push(r.measures.rtoMs / 1000);
      lost.push(`${r.measures.rpoLostWrites ?? '?'}/${r.measures.rpoAcked ?? '?'}`);
      console.log(`one-click run ${i + 1}: RTO ${r.measures.rtoMs !== null ? (r.measures.rtoMs / 1000).toFixed(1) : '?'} s (promotion ${(r.measures.promotionMs / 1000).toFixed(1)} s), lost ${lost[i]}, load ${loadavg()[0].toFixed(0)}`);
      await workshop.resetCluster();
    }
  } finally {
    await workshop.clusterDown(undefined, { volumes: true });
  }
  return { rto, lost };
}

async function main(): Promise<void> {
  const oneClick = await oneClickFailover();
  await patroniUp();
  const profiles: [string, TimingProfile][] = [['defaults', DEFAULT_PROFILE], ['fast', FAST_PROFILE]];
  const rto = new Map<string, number[]>(profiles.map(([n]) => [n, []]));
  const election = new Map<string, number[]>(profiles.map(([n]) => [n, []]));
  const lost = new Map<string, string[]>(profiles.map(([n]) => [n, []]));
  const loads: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [name, p] of profiles) {
      await applySettings(patroni, p);
      await new Promise((r) => setTimeout(r, (p.loop_wait + 2) * 1000)); // every member on the new settings
      loads.push(loadavg()[0]);
      const r = await measureLeaderKill({ topology: patroni, containers }, { ratePerSec: 20 });
      if (r.rto) rto.get(name)!.push(r.rto.ms / 1000);
      election.get(name)!.push(r.electionMs / 1000);
      lost.get(name)!.push(`${r.rpo.lostWrites}/${r.rpo.acked}`);
      console.log(`${name} run ${i + 1}: RTO ${r.rto ? (r.rto.ms / 1000).toFixed(1) : '?'} s, election ${(r.electionMs / 1000).toFixed(1)} s, lost ${r.rpo.lostWrites}/${r.rpo.acked}, ${r.oldLeader} → ${r.newLeader}, load ${loadavg()[0].toFixed(0)}`);
    }
  }
  const d = median(rto.get('defaults')!);
  const f = median(rto.get('fast')!);
  console.log(`\nRTO p50: defaults ${d.toFixed(1)} s (${rto.get('defaults')!.map((x) => x.toFixed(1)).join(', ')}), fast ${f.toFixed(1)} s (${rto.get('fast')!.map((x) => x.toFixed(1)).join(', ')}): fast/defaults ${(f / d).toFixed(2)}`);
  console.log(`election p50: defaults ${median(election.get('defaults')!).toFixed(1)} s, fast ${median(election.get('fast')!).toFixed(1)} s; lost: defaults ${lost.get('defaults')!.join(', ')}, fast ${lost.get('fast')!.join(', ')}`);
  const o = median(oneClick.rto);
  console.log(`one-click failover (Demo 4, docker stop, clicked at once): RTO p50 ${o.toFixed(1)} s (${oneClick.rto.map((x) => x.toFixed(1)).join(', ')}), lost ${oneClick.lost.join(', ')}; Patroni defaults/one-click ${(d / o).toFixed(2)}, fast/one-click ${(f / o).toFixed(2)}`);
  console.log(`load average (1 min) at the runs: ${Math.min(...loads).toFixed(0)}-${Math.max(...loads).toFixed(0)}`);
  if (!opt.keep) await patroniDown({ volumes: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
