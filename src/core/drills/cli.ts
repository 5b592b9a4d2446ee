// `npm run drills`: runs the fault drills of cluster/drills/ on the cluster of the PGHA_* environment
// and prints a table of RTO p50/p95 and losses per drill; `--check FILE...` re-checks saved histories
// offline (no cluster needed).
//
//   npm run drills -- [--profile workshop|patroni] [--repeat N] [--only NAME,NAME] [--quick] [--out DIR] [--list]
//   npm run drills -- --check .cache/drills/kill-primary-sync-….jsonl
import { parseArgs } from 'node:util';
import * as os from 'node:os';
import * as path from 'node:path';
import { Containers, createDockerClient } from '../../docker/engine';
import { percentile } from '../ledger';
import { topologyFromEnv, repoRoot } from '../topology';
import { patroniTopologyFromEnv } from '../patroni/topology';
import { checkHistory, type HistoryReport } from '../history/checker';
import { loadHistory } from '../history/history';
import { DRILL_PROFILES, drillsDir, loadDrills, skipReason, type DrillProfile, type DrillSpec } from './spec';
import { runDrill, type DrillRun } from './runner';

const USAGE = `Usage:
  npm run drills -- [--profile workshop|patroni] [--repeat N] [--only NAME,NAME] [--quick] [--out DIR] [--list] [--verbose]
  npm run drills -- --check FILE [FILE...]
Runs the fault drills of cluster/drills/ on the cluster named by the PGHA_* variables (start it first),
or re-checks saved histories (JSON lines) without a cluster. --profile patroni runs them on
cluster/patroni/ (its PGHA_* variables, PGHA_REST1_PORT.. and PGHA_ETCD1_PORT.. included); a drill
not written for that profile is listed as skipped, with the reason.`;

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

export function formatReport(r: HistoryReport): string {
  const lines = [`${r.drill} (run ${r.runId}): ${r.verdict}`];
  const t = r.totals;
  lines.push(`  writes: ${t.attempted} attempted, ${t.ok} ok, ${t.failed} failed, ${t.indeterminate} indeterminate (${t.recovered} recovered, ${t.vanished} not committed)`);
  lines.push(`  lost ${t.lost}, unexpected ${t.unexpected}, duplicated ${t.duplicated}, acknowledged on a stale timeline ${r.staleAcks.length}`);
  for (const [tl, c] of Object.entries(r.byTimeline)) lines.push(`  timeline ${tl}: ${c.ok} ok, ${c.lost} lost, ${c.recovered} recovered, ${c.unexpected} unexpected, ${c.failed} failed, ${c.indeterminate} indeterminate`);
  if (r.rto) lines.push(`  RTO ${r.rto.ms} ms (last acknowledgement on timeline ${r.rto.fromTimeline ?? '?'} → first on ${r.rto.toTimeline ?? '?'})`);
  if (r.rpo.lagBytesAtFault) lines.push(`  replay lag at the fault: ${Object.entries(r.rpo.lagBytesAtFault).map(([k, v]) => `${k} ${v ?? '?'} B`).join(', ')}`);
  if (r.lost.length) lines.push(`  lost seqs: ${r.lost.slice(0, 20).map((w) => w.seq).join(', ')}${r.lost.length > 20 ? ' …' : ''}${r.rpo.windowMs !== undefined ? ` (window ${r.rpo.windowMs} ms)` : ''}`);
  return lines.join('\n');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function summaryTable(runs: readonly DrillRun[], skipped: readonly { name: string; reason: string }[] = []): string {
  const byDrill = new Map<string, DrillRun[]>();
  for (const r of runs) byDrill.set(r.spec.name, [...(byDrill.get(r.spec.name) ?? []), r]);
  const head = ['drill', 'runs', 'passed', 'RTO p50', 'RTO p95', 'lost (sum/max)', 'failed+indet.', 'lag at fault (max B)', 'known / skipped'];
  const rows = [...byDrill.entries()].map(([name, rs]) => {
    const rto = rs.map((r) => r.report.rto?.ms).filter((x): x is number => x !== undefined);
    const lost = rs.map((r) => r.report.totals.lost);
    const lag = rs.flatMap((r) => Object.values(r.report.rpo.lagBytesAtFault ?? {})).filter((x): x is number => typeof x === 'number');
    const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${(v / 1000).toFixed(2)} s`);
    const known = rs.some((r) => r.expectations.some((e) => !e.ok && e.known)) ? 'yes' : '';
    return [
      name,
      String(rs.length),
      String(rs.filter((r) => r.passed).length),
      ms(percentile(rto, 50)),
      ms(percentile(rto, 95)),
      `${lost.reduce((a, b) => a + b, 0)}/${Math.max(...lost)}`,
      String(rs.reduce((a, r) => a + r.report.totals.failed + r.report.totals.indeterminate, 0)),
      lag.length ? String(Math.max(...lag)) : '-',
      known,
    ];
  });
  for (const s of skipped) rows.push([s.name, '0', '-', '-', '-', '-', '-', '-', `skipped: ${s.reason}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => pad(c, widths[i])).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        repeat: { type: 'string', default: '1' },
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        list: { type: 'boolean', default: false },
        check: { type: 'boolean', default: false },
        verbose: { type: 'boolean', short: 'v', default: false },
        profile: { type: 'string', default: 'workshop' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
    });
  } catch (e) {
    fail(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const v = args.values;
  if (v.help) return void console.log(USAGE);
  if (v.check) {
    if (args.positionals.length === 0) fail(`--check needs at least one history file.\n${USAGE}`);
    let bad = 0;
    for (const file of args.positionals) {
      const r = checkHistory(await loadHistory(file));
      console.log(formatReport(r));
      if (!r.valid) bad++;
    }
    process.exit(bad ? 1 : 0);
  }
  const repeat = Number(v.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) fail(`--repeat must be a whole number from 1 to 1000 (got ${v.repeat}).`);
  if (!(DRILL_PROFILES as readonly string[]).includes(v.profile)) fail(`--profile must be one of ${DRILL_PROFILES.join(', ')} (got ${v.profile}).`);
  const profile = v.profile as DrillProfile;
  let drills: DrillSpec[] = await loadDrills(drillsDir(repoRoot()));
  if (v.only) {
    const want = v.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = want.filter((w) => !drills.some((d) => d.name === w));
    if (unknown.length) fail(`Unknown drill(s): ${unknown.join(', ')}. Known: ${drills.map((d) => d.name).join(', ')}.`);
    drills = drills.filter((d) => want.includes(d.name));
  }
  if (v.quick) drills = drills.filter((d) => d.quick);
  const skipped = drills.map((d) => ({ name: d.name, reason: skipReason(d, profile) })).filter((s): s is { name: string; reason: string } => s.reason !== undefined);
  drills = drills.filter((d) => !skipReason(d, profile));
  if (v.list) {
    for (const d of drills) console.log(`${pad(d.name, 34)} ${d.quick ? '[quick] ' : ''}${d.titleByProfile[profile]}`);
    for (const s of skipped) console.log(`${pad(s.name, 34)} [skipped on ${profile}] ${s.reason}`);
    return;
  }
  const patroni = profile === 'patroni' ? patroniTopologyFromEnv() : undefined;
  const topology = patroni ? patroni.cluster : topologyFromEnv();
  const ctx = { topology, containers: new Containers(createDockerClient()), log: v.verbose ? (m: string) => console.log(`  ${m}`) : undefined };
  const out = path.resolve(v.out ?? path.join(repoRoot(), '.cache', 'drills'));
  console.log(`${drills.length} drill(s) × ${repeat} on the ${profile} profile, project ${topology.projectName} (${patroni ? 'router (HAProxy)' : 'PgBouncer'} port ${topology.pgbouncer.hostPort}); histories in ${out}`);
  for (const s of skipped) console.log(`  skipped on ${profile}: ${s.name}: ${s.reason}`);
  const runs: DrillRun[] = [];
  const t0 = Date.now();
  for (let i = 1; i <= repeat; i++) {
    for (const d of drills) {
      const started = Date.now();
      const run = await runDrill(ctx, d, { historyDir: out, patroni, onProgress: v.verbose ? undefined : (p) => p.phase !== 'note' && p.phase !== 'step' && process.stdout.write(`  ${p.message}\n`) });
      runs.push(run);
      // The machine's load beside each result: time bounds mean little on a host that is busy elsewhere.
      const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
      console.log(`[${i}/${repeat}] ${d.name}: ${run.passed ? 'PASS' : 'FAIL'} in ${Math.round((Date.now() - started) / 1000)} s — ${run.report.verdict}; RTO ${run.report.rto ? `${run.report.rto.ms} ms` : 'n/a'}; load average ${load}`);
      for (const e of run.expectations) console.log(`    ${e.ok ? 'ok  ' : e.known ? 'KNOWN' : 'FAIL'} ${e.text}: ${e.detail}${e.known ? ` [${e.known}]` : ''}`);
      if (run.historyFile) console.log(`    history: ${path.relative(process.cwd(), run.historyFile)}`);
    }
  }
  console.log(`\n${summaryTable(runs, skipped)}\n(${runs.length} runs in ${Math.round((Date.now() - t0) / 1000)} s)`);
  const unexpectedFailures = runs.filter((r) => r.expectations.some((e) => !e.ok && !e.known)).length;
  process.exit(unexpectedFailures ? 1 : 0);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  });
}
