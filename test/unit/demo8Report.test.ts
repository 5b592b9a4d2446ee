// Demo 8's report: Patroni's measured failover beside Demo 4's manual failover and the Exercise 4
// watcher, each with the figures the learner produced in this window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LeaderKillResult } from '../../src/core/patroni/leaderKill';
import { settingsOf } from '../../src/core/patroni/settings';
import { comparedRuns, renderDemo8Report } from '../../src/patroni/demo8';

const labels = { demo4: 'Manual failover (Demo 4)', demo4Note: 'by hand', watcher: 'Custom watcher (Exercise 4)', watcherNote: 'script' };
const patroni: LeaderKillResult = {
  oldLeader: 'patroni1',
  newLeader: 'patroni2',
  fault: 'kill',
  settings: settingsOf({}),
  electionMs: 31_000,
  rto: { firstFailureAt: 1000, firstSuccessAt: 34_000, ms: 33_000, failedWrites: 12, node: 'postgres-replica1' },
  rpo: { acked: 400, lostWrites: 0, lostRows: 0, lost: [] },
  acked: 400,
  failed: 12,
  faultAt: 900,
  oldLeaderRejoined: true,
} as LeaderKillResult;

test("Demo 4's measures (rtoMs, rpoLostWrites of rpoAcked) and the watcher's outage appear beside Patroni's", () => {
  const rows = comparedRuns(labels, { rtoMs: 4200, rpoLostWrites: 3, rpoAcked: 120 }, { outageMs: 6100 });
  assert.deepEqual(rows.map((r) => [r.rtoMs, r.lostWrites, r.acked]), [[4200, 3, 120], [6100, undefined, undefined]]);
  const md = renderDemo8Report(patroni, rows);
  const line = (label: string) => md.split('\n').find((l) => l.startsWith(`| ${label}`)) ?? '';
  assert.match(line('Manual failover (Demo 4)'), /4\.2 s.*3 of 120/);
  assert.match(line('Custom watcher (Exercise 4)'), /6\.1 s/);
  assert.match(md, /\*\*Patroni \(Demo 8\)\*\* \| \*\*33(\.0)? s\*\* \| \*\*0 of 400\*\*/);
});

test('a comparison not run yet in this window says so instead of a figure', () => {
  const md = renderDemo8Report(patroni, comparedRuns(labels, undefined, undefined));
  assert.match(md, /\| Manual failover \(Demo 4\) \| not run yet \| — \|/);
  assert.match(md, /\| Custom watcher \(Exercise 4\) \| not run yet \| — \|/);
  // A Demo 4 that could not measure RTO (null) is not shown as a time either.
  assert.match(renderDemo8Report(patroni, comparedRuns(labels, { rtoMs: null, rpoLostWrites: null, rpoAcked: null })), /Demo 4\) \| not run yet/);
});
