// The pure parts of the workshop exercises: delay parsing, the standard-topology check and the
// cascade check on statuses derived from probes recorded on a live cluster, the lag history, the
// workshop's alert rules, and the automatic-failover watcher's detection (with a scripted probe).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AutoFailoverWatcher, DEFAULT_AUTO_FAILOVER, validateAutoFailoverSettings, type AutoFailoverReport } from '../../src/core/autoFailover';
import type { FailoverResult } from '../../src/core/failover';
import { workshopAlertRules } from '../../src/core/labs/alerts';
import { checkCascade } from '../../src/core/labs/cascade';
import { LabError, standardTopologyProblems } from '../../src/core/labs/common';
import { checkDelayed, parseDelay, quoteTable } from '../../src/core/labs/delayed';
import { LagHistory, lagPoint, pointsFromSamples } from '../../src/core/labs/lagSeries';
import { DEFAULT_THRESHOLDS, deriveStatus, type ClusterStatus, type ContainerSnapshot, type ProbeRound } from '../../src/core/status';
import { topologyFromEnv } from '../../src/core/topology';

const topology = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'c-', COMPOSE_PROJECT_NAME: 'pghac' }, '/dev/null');

function derive(name: string, patch?: (r: ProbeRound) => void): ClusterStatus {
  const r = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'cluster-status', `${name}.json`), 'utf8')) as { probes: ProbeRound; containers: ContainerSnapshot };
  patch?.(r.probes);
  const at = Math.max(...Object.values(r.probes.nodes).map((p) => p?.at ?? 0));
  return deriveStatus(r.probes, r.containers, topology, DEFAULT_THRESHOLDS, at);
}

const badInput = (e: unknown) => e instanceof LabError && e.problem === 'badInput';

test('Exercise 3: delays parse like PostgreSQL units; negative, bare, zero, unknown units and garbage are refused with a reason', () => {
  assert.deepEqual(parseDelay('1h'), { ms: 3_600_000, setting: '1h' });
  assert.deepEqual(parseDelay(' 30 min '), { ms: 1_800_000, setting: '30min' });
  assert.deepEqual(parseDelay('3s'), { ms: 3000, setting: '3s' });
  assert.deepEqual(parseDelay('500ms'), { ms: 500, setting: '500ms' });
  assert.deepEqual(parseDelay('2 hours'), { ms: 7_200_000, setting: '2h' });
  assert.throws(() => parseDelay('-5s'), (e) => badInput(e) && /negative/.test((e as Error).message));
  assert.throws(() => parseDelay('soon'), (e) => badInput(e) && /not a duration/.test((e as Error).message));
  assert.throws(() => parseDelay('10'), (e) => badInput(e) && /no unit/.test((e as Error).message));
  assert.throws(() => parseDelay('0s'), (e) => badInput(e) && /no delay/.test((e as Error).message));
  assert.throws(() => parseDelay('5 weeks'), (e) => badInput(e) && /not a unit/.test((e as Error).message));
  assert.throws(() => parseDelay('1.5h'), badInput);
  assert.throws(() => parseDelay('30d'), (e) => badInput(e) && /longer than PostgreSQL allows/.test((e as Error).message));
  assert.throws(() => parseDelay(''), badInput);
});

test('Exercise 3: table names are quoted identifiers; anything else is refused', () => {
  assert.equal(quoteTable('users'), '"users"');
  assert.equal(quoteTable('public.users'), '"public"."users"');
  assert.throws(() => quoteTable('users; DROP TABLE users'), badInput);
  assert.throws(() => quoteTable('a.b.c'), badInput);
});

test('labs start from the standard topology: healthy is standard; promoted, cascading, stopped, delayed and sync are not, each with its reason', () => {
  assert.deepEqual(standardTopologyProblems(derive('healthy')), []);
  assert.match(standardTopologyProblems(derive('promoted')).join('; '), /was promoted/);
  assert.match(standardTopologyProblems(derive('cascading')).join('; '), /cascading, Exercise 2/);
  assert.match(standardTopologyProblems(derive('replica-stopped')).join('; '), /not running/);
  assert.match(standardTopologyProblems(derive('split-brain')).join('; '), /split brain/);
  const delayed = derive('healthy', (p) => {
    const r2 = p.nodes.replica2 as { minApplyDelayMs?: number };
    r2.minApplyDelayMs = 3_600_000;
  });
  assert.match(standardTopologyProblems(delayed).join('; '), /delayed replica/);
  assert.ok(checkDelayed(delayed).ok);
  assert.ok(!checkDelayed(derive('healthy')).ok);
  const sync = derive('healthy', (p) => {
    (p.nodes.primary as { synchronousStandbyNames: string }).synchronousStandbyNames = 'postgres-replica1';
  });
  assert.match(standardTopologyProblems(sync).join('; '), /synchronously/);
});

test('Exercise 2: the cascade check sees the chain and the lag of each hop on a recorded cascading cluster, and not on a healthy one', () => {
  const c = checkCascade(derive('cascading'));
  assert.ok(c.ok, c.summary);
  assert.equal(c.items.length, 4);
  assert.match(c.items[1].label, /c-postgres-replica1 → c-postgres-replica2/);
  assert.match(c.items[1].detail, /streaming, hop lag/);
  const h = checkCascade(derive('healthy'));
  assert.ok(!h.ok);
  assert.match(h.summary, /does not stream from c-postgres-replica1/);
});

test('Exercise 5: the workshop alert rules follow the status alerts (lag, disconnected replica, WAL retention)', () => {
  const quiet = workshopAlertRules(derive('healthy'));
  assert.deepEqual(quiet.map((r) => [r.id, r.firing]), [['lag', false], ['disconnected', false], ['walRetention', false]]);
  assert.match(quiet[0].sql, /replay_lag\) > 10/);
  const stopped = workshopAlertRules(derive('replica-stopped'));
  assert.equal(stopped.find((r) => r.id === 'disconnected')!.firing, true);
  assert.match(stopped.find((r) => r.id === 'disconnected')!.messages[0], /c-postgres-replica2 is disconnected/);
  // A cascaded replica still streams: not "disconnected".
  assert.equal(workshopAlertRules(derive('cascading')).find((r) => r.id === 'disconnected')!.firing, false);
});

test('Exercise 5: the lag history keeps 10 minutes in time order and drops older samples', () => {
  const s = derive('healthy');
  const p = lagPoint(s, 1000);
  assert.deepEqual(Object.keys(p.v).sort(), ['replica1', 'replica2']);
  assert.equal(typeof p.v.replica1.bytes, 'number');
  const h = new LagHistory({ windowMs: 10_000 });
  for (let t = 0; t <= 30_000; t += 1000) h.add(s, t);
  assert.equal(h.points.length, 11);
  assert.equal(h.points[0].t, 20_000);
  assert.equal(h.push(lagPoint(s, 5000)), false); // older than the window: dropped
  assert.equal(h.points[h.points.length - 1].t, 30_000);
  // A demo's samples interleave with the monitor's: kept in time order.
  assert.equal(h.push({ t: 29_500, v: { replica1: { bytes: 5 * 1024 * 1024, seconds: 0.4 } } }), true);
  assert.deepEqual(h.points.slice(-3).map((x) => x.t), [29_000, 29_500, 30_000]);
  const big = new LagHistory();
  assert.equal(big.windowMs, 600_000);
});

test('Demo samples become chart points: one per moment, keyed by node, never negative', () => {
  const key = (svc: string) => ({ 'postgres-replica1': 'replica1', 'postgres-replica2': 'replica2' })[svc];
  const pts = pointsFromSamples(
    [
      { at: 200, replica: 'postgres-replica2', behindBytes: 4096, replayLagMs: 12 },
      { at: 100, replica: 'postgres-replica1', behindBytes: -512, replayLagMs: 3 },
      { at: 200, replica: 'postgres-replica1', behindBytes: 8192, replayLagMs: 20 },
      { at: 200, replica: 'someone-else', behindBytes: 1, replayLagMs: 1 },
    ],
    key,
  );
  assert.deepEqual(pts, [
    { t: 100, v: { replica1: { bytes: 0, seconds: 0.003 } } },
    { t: 200, v: { replica2: { bytes: 4096, seconds: 0.012 }, replica1: { bytes: 8192, seconds: 0.02 } } },
  ]);
});

test('Exercise 4: watcher settings are checked (N probes must fit in the window)', () => {
  assert.deepEqual(validateAutoFailoverSettings(DEFAULT_AUTO_FAILOVER), []);
  assert.match(validateAutoFailoverSettings({ ...DEFAULT_AUTO_FAILOVER, failuresToTrigger: 10, windowMs: 1000 }).join(' '), /cannot all fall within/);
  assert.match(validateAutoFailoverSettings({ ...DEFAULT_AUTO_FAILOVER, probeIntervalMs: -1 }).join(' '), /probe interval/);
});

test('Exercise 4: the watcher fails over after N failed probes within the window, once, and reports the detection time', async () => {
  let up = true;
  let failovers = 0;
  const settings = { ...DEFAULT_AUTO_FAILOVER, probeIntervalMs: 100, failuresToTrigger: 3, windowMs: 1000, cooldownMs: 60_000 };
  const fakeResult = { newPrimary: { key: 'replica1', container: 'c-postgres-replica1', service: 'postgres-replica1', timeline: 2, promotedAt: 0 } } as unknown as FailoverResult;
  const w = new AutoFailoverWatcher({ topology, containers: undefined as never }, settings, {
    probe: async () => up,
    failover: async () => {
      failovers++;
      return { ...fakeResult, newPrimary: { ...fakeResult.newPrimary, promotedAt: Date.now() } };
    },
  });
  // No cluster to survey here: start watching the primary directly.
  (w as unknown as { findPrimary: () => Promise<unknown> }).findPrimary = async () => topology.nodes[0];
  const report = new Promise<AutoFailoverReport>((r) => w.onDidFailover(r));
  w.start();
  await new Promise((r) => setTimeout(r, 350));
  assert.equal(w.state.kind, 'watching');
  // One failed probe alone does not trigger.
  up = false;
  await new Promise((r) => setTimeout(r, 120));
  up = true;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(failovers, 0);
  up = false;
  const rep = await report;
  assert.equal(failovers, 1);
  assert.equal(rep.failedPrimary.key, 'primary');
  assert.ok(rep.detectionMs >= 150 && rep.detectionMs < 1000, `detection ${rep.detectionMs} ms`);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((w.state as { kind: string }).kind, 'cooldown', 'after a failover the watcher pauses before watching the new primary');
  w.dispose();
  assert.equal((w.state as { kind: string }).kind, 'stopped');
});
