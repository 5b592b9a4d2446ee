// The failover report as Markdown: what happened, in order, and what it cost (RTO, RPO) as
// measured from the load's ledger. Pure: the same text goes to a document and to the log.
//
// API: renderFailoverReport(result, { rejoin?, rejoinError? }) → string
import { formatBytes, formatDuration } from './format';
import type { FailoverResult } from './failover';
import type { RejoinResult } from './rejoin';

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
const time = (ms: number) => new Date(ms).toISOString().slice(11, 23);

export function renderFailoverReport(r: FailoverResult, extra: { rejoin?: RejoinResult; rejoinError?: string } = {}): string {
  const title = r.kind === 'switchover' ? 'Switchover' : 'Failover';
  const L: string[] = [];
  L.push(`# ${title} report: ${r.oldPrimary?.container ?? '?'} → ${r.newPrimary.container}`, '');
  L.push(`${iso(r.startedAt)} · took ${formatDuration(r.finishedAt - r.startedAt)} in all`, '');
  L.push('## What it cost', '');
  L.push('| measure | value | how it is measured |', '|---|---|---|');
  if (r.rto) {
    L.push(`| **RTO** (downtime seen by the load) | **${formatDuration(r.rto.ms)}** | first failed write ${time(r.rto.firstFailureAt)} → first successful write on ${r.rto.node} ${time(r.rto.firstSuccessAt)}; ${r.rto.failedWrites} writes failed in between |`);
  } else {
    L.push(`| RTO | not measured | ${r.measureNote ?? 'run the load generator during the failover to measure it'} |`);
  }
  L.push(`| promotion time | ${formatDuration(r.promotionMs)} | ${r.fencing.at ? 'old primary fenced' : 'failover started'} → new primary accepts writes |`);
  if (r.rpo) {
    const w = r.rpo.window;
    L.push(`| **RPO** (acknowledged writes lost) | **${r.rpo.lostWrites}** of ${r.rpo.acked} (${r.rpo.lostRows} rows) | acknowledged by ${r.oldPrimary?.container ?? 'the old primary'} but missing on ${r.newPrimary.container} |`);
    L.push(`| RPO as a time window | ${w ? `**${formatDuration(w.ms)}** (${time(w.from)} → ${time(w.to)})` : '**0 s**'} | commit times of the first and last lost write${w && r.rpo.lastLostBeforeFailureMs !== undefined ? `; the last one ${formatDuration(r.rpo.lastLostBeforeFailureMs)} before the fencing` : ''} |`);
  } else {
    L.push(`| RPO | not measured | ${r.measureNote && !r.rto ? 'no load ledger' : (r.measureNote ?? 'run the load generator during the failover to measure it')} |`);
  }
  L.push('');
  if (r.rpo && r.rpo.lostWrites > 0) {
    const ids = r.rpo.lost.slice(0, 20).map((w) => w.id);
    L.push(`Lost row ids: ${ids.join(', ')}${r.rpo.lost.length > 20 ? ` … (${r.rpo.lost.length - 20} more)` : ''}. Asynchronous replication acknowledges a commit before any replica has it: these commits never reached ${r.newPrimary.container}. Synchronous replication (\`synchronous_commit = remote_apply\`) makes this 0.`, '');
  }
  L.push('## Topology', '');
  L.push(`- Old primary: ${r.oldPrimary ? `\`${r.oldPrimary.container}\` (last LSN ${r.oldPrimary.lastLsn ?? 'unknown: it was already down'})` : 'unknown'}`);
  L.push(`- Fencing: ${r.fencing.mode} — ${r.fencing.message}`);
  L.push(`- New primary: \`${r.newPrimary.container}\` on timeline ${r.newPrimary.timeline} (${r.chosenBecause})`);
  for (const x of r.replicas) L.push(`- ${x.ok ? '✓' : '✗'} ${x.message}`);
  if (r.pgbouncer) L.push(`- ${r.pgbouncer.ok ? '✓' : '✗'} ${r.pgbouncer.message}`);
  if (extra.rejoin) L.push(`- ✓ ${extra.rejoin.message} (${formatDuration(extra.rejoin.tookMs)})`);
  if (extra.rejoinError) L.push(`- ✗ Old primary not rejoined: ${extra.rejoinError}`);
  if (r.oldPrimary && !extra.rejoin && r.kind === 'failover') {
    L.push(`- Next: \`${r.oldPrimary.container}\` must not start as a primary again (split brain, Demo 6). Rejoin it as a replica (PG HA Workshop: Rejoin as Replica: pg_rewind, then standby).`);
  }
  L.push('', '## Candidates', '', '| replica | replay LSN | receive LSN | behind |', '|---|---|---|---|');
  for (const c of r.candidates) L.push(`| ${c.service}${c.key === r.newPrimary.key ? ' ✓' : ''} | ${c.replayLsn ?? '?'} | ${c.receiveLsn ?? '?'} | ${formatBytes(c.behindBytes)} |`);
  L.push('', '## Steps', '', '| step | ok | took | what happened |', '|---|---|---|---|');
  for (const s of r.steps) L.push(`| ${s.name} | ${s.ok ? '✓' : '✗'} | ${formatDuration(s.ms)} | ${s.message.replace(/\|/g, '\\|')} |`);
  if (r.warnings.length) {
    L.push('', '## Warnings', '');
    for (const w of r.warnings) L.push(`- ${w}`);
  }
  L.push('', '---', 'The workshop says "Downtime ~10-30 s" and "RPO = replication lag": the figures above are what your cluster did.', '');
  return L.join('\n');
}
