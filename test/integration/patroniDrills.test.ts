// The fault drills on the Patroni profile, the fast subset, against the tests' real Patroni 3.0 +
// etcd + HAProxy cluster: the same spec file as on the workshop's cluster (kill-primary-sync), the
// fault on the leader's container, Patroni's own election, the writes through the router, and the
// same history checker. Time bounds are printed, not asserted (a loaded machine); what is asserted
// does not depend on its speed: no acknowledged write lost in synchronous_mode, a new leader took
// writes on a newer timeline, exactly one writable node at the end, the old leader back as a replica.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { checkHistory } from '../../src/core/history/checker';
import { loadHistory } from '../../src/core/history/history';
import { runDrill } from '../../src/core/drills/runner';
import { drillsDir, loadDrills, type DrillSpec } from '../../src/core/drills/spec';
import { repoRoot } from '../../src/core/topology';
import { applySettings } from '../../src/core/patroni/operations';
import { containers, patroni, patroniDown, patroniUp, writableNodes } from '../support/patroniCluster';

const ctx = { topology: patroni.cluster, containers, log: (m: string) => process.env.PGHA_TEST_VERBOSE && console.log(`# ${m}`) };
let drills: DrillSpec[] = [];
let dir = '';

before(async () => {
  drills = await loadDrills(drillsDir(repoRoot()));
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgha-patroni-drills-'));
  await patroniUp();
});
after(async () => {
  if (!process.env.PGHA_KEEP_CLUSTER) await patroniDown({ volumes: true });
});

test('a drill not written for the Patroni profile is refused with its reason, before any fault', async () => {
  const spec = drills.find((d) => d.name === 'split-brain-rewind')!;
  await assert.rejects(runDrill(ctx, spec, { patroni }), /split-brain-rewind does not run on the patroni profile: .*Patroni never promotes without the leader lock/);
  assert.equal((await writableNodes()).length, 1, 'nothing was done to the cluster');
});

test('drill kill-primary-sync on Patroni: the leader is killed, Patroni elects the Sync Standby, 0 acknowledged writes lost, the old leader rejoins', { timeout: 1_200_000 }, async (t) => {
  const spec = drills.find((d) => d.name === 'kill-primary-sync')!;
  const run = await runDrill(ctx, spec, { patroni, historyDir: dir, onProgress: (p) => t.diagnostic(`${p.phase}: ${p.message}`) });
  for (const e of run.expectations) t.diagnostic(`${e.ok ? 'ok' : 'FAIL'} ${e.text}: ${e.detail}`);
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.profile, 'patroni');
  // The steps as Patroni runs them: our failover is a wait for Patroni's election.
  const failover = run.facts.actions.find((a) => a.kind === 'failover');
  assert.ok(failover?.ok, failover?.message);
  assert.match(failover!.message, /Patroni elected/);
  const killed = run.records.find((r) => r.type === 'event' && r.kind === 'fault' && /docker kill/.test(r.message));
  assert.ok(killed && killed.type === 'event');
  const killedNode = patroni.members.find((m) => killed.message.includes(m.container))!;
  // The checker's verdict: valid, nothing lost in synchronous_mode, none unexpected, timelines in order.
  assert.equal(run.report.valid, true, run.report.verdict);
  assert.ok(run.report.totals.ok > 0);
  assert.equal(run.report.totals.lost, 0, run.report.verdict);
  assert.equal(run.report.totals.unexpected, 0, run.report.verdict);
  assert.equal(run.report.staleAcks.length, 0);
  // A new leader took writes: a newer timeline acknowledged writes, judged on another node than the killed one.
  assert.ok(run.facts.initialTimeline !== undefined);
  const newer = Object.entries(run.report.byTimeline).filter(([tl, c]) => Number(tl) > run.facts.initialTimeline! && c.ok > 0);
  assert.ok(newer.length > 0, `writes acknowledged on a timeline after ${run.facts.initialTimeline}: ${JSON.stringify(run.report.byTimeline)}`);
  assert.notEqual(run.report.judgedOn, killedNode.name);
  // Exactly one writable node, and the old leader is back (Patroni rejoined it once it was started).
  assert.equal(run.facts.primariesAtEnd, 1);
  assert.deepEqual(await writableNodes(), [run.report.judgedOn]);
  assert.equal(run.facts.rejoinOk, true);
  // Every expectation that is not a time bound held.
  const timeBounds = new Set(['writes-resume', 'old-primary-rejoins']);
  const missed = run.expectations.filter((e, i) => !e.ok && !timeBounds.has(run.spec.expect[i]?.kind ?? ''));
  assert.deepEqual(missed.map((e) => `${e.text}: ${e.detail}`), []);
  // Offline: the saved history gives the same verdict.
  const again = checkHistory(await loadHistory(run.historyFile!));
  assert.deepEqual(again.totals, run.report.totals);
  await applySettings(patroni, { synchronous_mode: false });
});

test('drill pause-primary-sync on Patroni: the woken old leader does not take the lock back; 0 acknowledged writes lost, none acknowledged on an older timeline', { timeout: 1_200_000 }, async (t) => {
  // Patroni 3.0.2 renewed its leader key with an unconditional put: the paused leader, woken, took
  // the cluster back and the new leader's acknowledged writes were rewound (cluster/patroni/patch-leader-renewal.py).
  const spec = drills.find((d) => d.name === 'pause-primary-sync')!;
  const run = await runDrill(ctx, spec, { patroni, historyDir: dir, onProgress: (p) => t.diagnostic(`${p.phase}: ${p.message}`) });
  for (const e of run.expectations) t.diagnostic(`${e.ok ? 'ok' : 'FAIL'} ${e.text}: ${e.detail}`);
  assert.equal(run.error, undefined, run.error);
  assert.equal(run.report.valid, true, run.report.verdict);
  assert.equal(run.report.totals.lost, 0, run.report.verdict);
  assert.equal(run.report.staleAcks.length, 0, 'no write acknowledged on the old timeline after the new one took writes');
  assert.equal(run.facts.primariesAtEnd, 1);
  assert.equal((await writableNodes()).length, 1);
  await applySettings(patroni, { synchronous_mode: false });
});
