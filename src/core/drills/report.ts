// A drill's report for a learner, as Markdown: what the drill does, the verdict, each expectation,
// RTO and RPO, a timeline chart of the writes (one column per time slice: acknowledged writes as a
// bar, failures below), the steps with their times, and the checker's counts per timeline.
//
// API (no vscode): renderDrillReport(run) → string; writesTimeline(records, width) → string[] (pure)
import type { HistoryRecord, WriteRecord, EventRecord } from '../history/history';
import type { DrillRun } from './runner';

const BARS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/** A text chart: line 1 acknowledged writes per slice, line 2 failed (x) / indeterminate (?), line 3 event markers. */
export function writesTimeline(records: readonly HistoryRecord[], width = 72): { lines: string[]; sliceMs: number; legend: string[] } {
  const writes = records.filter((r): r is WriteRecord => r.type === 'write');
  const events = records.filter((r): r is EventRecord => r.type === 'event' && (r.kind === 'fault' || r.kind === 'action'));
  if (writes.length === 0) return { lines: [], sliceMs: 0, legend: [] };
  const t0 = Math.min(...writes.map((w) => w.sentAt));
  const t1 = Math.max(...writes.map((w) => w.doneAt));
  const sliceMs = Math.max(50, Math.ceil((t1 - t0 + 1) / width));
  const n = Math.ceil((t1 - t0 + 1) / sliceMs);
  const ok = new Array<number>(n).fill(0);
  const bad = new Array<string>(n).fill(' ');
  for (const w of writes) {
    const i = Math.min(n - 1, Math.floor((w.doneAt - t0) / sliceMs));
    if (w.outcome === 'ok') ok[i]++;
    else bad[i] = w.outcome === 'failed' ? (bad[i] === '?' ? '?' : 'x') : '?';
  }
  const max = Math.max(1, ...ok);
  const marks = new Array<string>(n).fill(' ');
  const legend: string[] = [];
  events.forEach((e, k) => {
    const i = Math.floor((e.at - t0) / sliceMs);
    if (i < 0 || i >= n) return;
    const label = String.fromCharCode(65 + (k % 26));
    marks[i] = label;
    legend.push(`${label} +${((e.at - t0) / 1000).toFixed(1)} s ${e.message}`);
  });
  return { lines: [ok.map((c) => BARS[c === 0 ? 0 : Math.max(1, Math.round((c / max) * 8))]).join(''), bad.join(''), marks.join('')], sliceMs, legend };
}

const ms = (v: number | undefined) => (v === undefined ? 'n/a' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);

export function renderDrillReport(run: DrillRun): string {
  const r = run.report;
  const s = run.spec;
  const out: string[] = [];
  out.push(`# Fault drill: ${s.title}`, '', s.learn, '');
  // Plain marks, no emoji: a machine without an emoji font shows empty boxes for those.
  const verdict = run.passed ? '✓ PASSED' : run.expectations.every((e) => e.ok || e.known) ? '! FAILED (only expectations known to need a pending change)' : '✗ FAILED';
  out.push(`**Verdict: ${verdict}** · history checker: ${r.verdict}`, '');
  out.push(`- **RTO** (longest gap between two acknowledged writes from the fault on): ${ms(r.rto?.ms)}${r.rto ? ` (timeline ${r.rto.fromTimeline ?? '?'} → ${r.rto.toTimeline ?? '?'})` : ''}`);
  out.push(`- **RPO**: ${r.rpo.lostWrites} acknowledged write(s) lost${r.rpo.windowMs !== undefined ? `, committed within ${ms(r.rpo.windowMs)}` : ''}${r.rpo.lagBytesAtFault ? `; replay lag at the fault: ${Object.entries(r.rpo.lagBytesAtFault).map(([k, v]) => `${k} ${v ?? '?'} B`).join(', ')}` : ''}`);
  if (run.profile === 'patroni') out.push(`- Setup (Patroni profile: Patroni elects, switches over and rejoins; writes through its router, HAProxy): ${s.setup.sync ? 'synchronous_mode on' : 'asynchronous'}, ${s.setup.writes.clients} writer(s) through ${s.setup.writes.via === 'pgbouncer' ? 'the router' : 'the leader'}`);
  else out.push(`- Setup: ${s.setup.sync ? `synchronous (\`${s.setup.sync}\`)` : 'asynchronous'}, ${s.setup.writes.clients} writer(s) through ${s.setup.writes.via}`);
  if (run.error) out.push(`- The drill stopped early: ${run.error}`);
  out.push('', '## Expectations', '');
  for (const e of run.expectations) out.push(`- ${e.ok ? '✓' : e.known ? '!' : '✗'} ${e.text} — ${e.detail}${e.known ? ` _(known: ${e.known})_` : ''}`);
  const chart = writesTimeline(run.records);
  if (chart.lines.length) {
    out.push('', `## Writes over time (one column = ${chart.sliceMs} ms)`, '', '```text');
    out.push(`ok    ${chart.lines[0]}`, `error ${chart.lines[1]}`, `step  ${chart.lines[2]}`, '```', '');
    out.push('x = a write failed (certainly not committed), ? = indeterminate (the acknowledgement was lost).', '');
    for (const l of chart.legend) out.push(`- ${l}`);
  }
  out.push('', '## Writes per timeline', '', '| timeline | ok | lost | failed | indeterminate | recovered | unexpected | duplicated |', '|---|---|---|---|---|---|---|---|');
  for (const [tl, c] of Object.entries(r.byTimeline)) out.push(`| ${tl} | ${c.ok} | ${c.lost} | ${c.failed} | ${c.indeterminate} | ${c.recovered} | ${c.unexpected} | ${c.duplicated} |`);
  out.push('', `Judged on ${r.judgedOn ?? 'no node (none answered as primary)'}; ${r.staleAcks.length} write(s) acknowledged on an older timeline after a newer one took writes.`);
  if (run.historyFile) out.push('', `History (JSON lines, check it again with \`npm run drills -- --check ${run.historyFile}\`): \`${run.historyFile}\``);
  return out.join('\n') + '\n';
}
