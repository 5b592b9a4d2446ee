// Demo 8 as Markdown: the leader-kill measurement beside Demo 4's manual failover and the
// workshop's custom watcher (Exercise 4) when they were run in this window. Pure.
import type { AutoFailoverReport } from '../core/autoFailover';
import type { FailoverMeasures } from '../core/demos/primaryFailover';
import { formatDuration } from '../core/format';
import type { LeaderKillResult } from '../core/patroni/leaderKill';

export interface ComparedRun {
  readonly label: string;
  readonly rtoMs?: number;
  readonly lostWrites?: number;
  readonly acked?: number;
  readonly note?: string;
}

export function renderDemo8Report(r: LeaderKillResult, others: readonly ComparedRun[]): string {
  const L: string[] = [];
  L.push(`# Demo 8: Patroni failover, ${r.oldLeader} → ${r.newLeader}`, '');
  L.push(`Settings: ttl ${r.settings.ttl} s, loop_wait ${r.settings.loop_wait} s, retry_timeout ${r.settings.retry_timeout} s, synchronous_mode ${r.settings.synchronous_mode ? 'on' : 'off'}. Fault: docker ${r.fault} of the leader under write load through HAProxy.`, '');
  L.push('| | RTO (load ledger) | RPO: acknowledged writes lost | how the new primary was chosen |', '|---|---|---|---|');
  L.push(`| **Patroni (Demo 8)** | **${r.rto ? formatDuration(r.rto.ms) : 'not measured'}** | **${r.rpo.lostWrites} of ${r.rpo.acked}** | Patroni: leader lock expired in etcd, the healthiest replica took it (elected after ${formatDuration(r.electionMs)}) |`);
  for (const o of others) L.push(`| ${o.label} | ${o.rtoMs !== undefined ? formatDuration(o.rtoMs) : 'not run yet'} | ${o.lostWrites !== undefined ? `${o.lostWrites} of ${o.acked ?? '?'}` : '—'} | ${o.note ?? ''} |`);
  L.push('');
  L.push(`- ${r.acked} writes acknowledged, ${r.failed} refused or failed during the run.`);
  if (r.rto) L.push(`- The clients saw the outage from the first failed write to the first write on ${r.newLeader}: ${r.rto.failedWrites} writes failed in between.`);
  L.push(`- Detection is bounded by ttl + loop_wait = ${r.settings.ttl + r.settings.loop_wait} s: a crashed leader's lock lives until it expires. Lower ttl (the fast profile) to fail over sooner.`);
  if (r.rpo.lostWrites > 0) L.push(`- ${r.rpo.lostWrites} acknowledged writes never reached ${r.newLeader} (asynchronous replication). With synchronous_mode on, Patroni only promotes the Sync Standby: 0 lost.`);
  L.push(`- Old leader ${r.oldLeader}: ${r.oldLeaderRejoined === undefined ? 'left stopped' : r.oldLeaderRejoined ? 'started again, Patroni made it a replica (pg_rewind), no manual rejoin' : 'started again but not yet a replica'}.`);
  L.push('');
  return L.join('\n');
}

/** The labels and notes of the two rows Demo 8 is compared with (translated by the caller). */
export interface ComparedLabels {
  readonly demo4: string;
  readonly demo4Note: string;
  readonly watcher: string;
  readonly watcherNote: string;
}

/**
 * Demo 4's latest measures (RTO and RPO from its load ledger) and the Exercise 4 watcher's latest
 * automatic failover (first failed probe → writable; it runs no load, so no RPO) as report rows.
 */
export function comparedRuns(labels: ComparedLabels, demo4?: Partial<FailoverMeasures>, watcher?: Pick<AutoFailoverReport, 'outageMs'>): ComparedRun[] {
  return [
    {
      label: labels.demo4,
      rtoMs: demo4?.rtoMs ?? undefined,
      lostWrites: demo4?.rpoLostWrites ?? undefined,
      acked: demo4?.rpoAcked ?? undefined,
      note: labels.demo4Note,
    },
    { label: labels.watcher, rtoMs: watcher?.outageMs, note: labels.watcherNote },
  ];
}
