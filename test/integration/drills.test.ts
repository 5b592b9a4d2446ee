// Fault drills on the live cluster, the quick subset (drills marked `quick: true`): each runs from
// the standard shape, its history is judged by the independent checker, saved as JSON lines and
// judged again offline with the same verdict. Time bounds are the drills' own (printed, measured by
// `npm run drills`); this test asserts what does not depend on the machine's speed: no acknowledged
// write lost, none unexpected, and every expectation that is not a time bound.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkHistory } from '../../src/core/history/checker';
import { loadHistory } from '../../src/core/history/history';
import { runDrill } from '../../src/core/drills/runner';
import { drillsDir, loadDrills, type DrillSpec } from '../../src/core/drills/spec';
import { repoRoot } from '../../src/core/topology';
import { clusterUp, containers, resetCluster, topology } from '../support/cluster';

const ctx = { topology, containers, log: (m: string) => process.env.PGHA_TEST_VERBOSE && console.log(`# ${m}`) };
const TIME_BOUNDS = new Set(['writes-resume', 'writes-resume-after-action', 'old-primary-rejoins']);

describe('fault drills (quick subset) on the live cluster', { timeout: 1_800_000 }, () => {
  let quick: DrillSpec[] = [];
  let dir = '';
  before(async () => {
    quick = (await loadDrills(drillsDir(repoRoot()))).filter((d) => d.quick);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgha-drills-'));
    await clusterUp();
  });
  after(async () => {
    // Drills leave a promoted replica or synchronous mode behind: give the next test file the standard shape.
    await resetCluster();
  });

  test('the quick subset holds a failover, a switchover and a crash without failover', () => {
    assert.deepEqual(quick.map((d) => d.name).sort(), ['crash-restart-no-failover', 'kill-primary-sync', 'switchover-pgbouncer']);
  });

  for (const name of ['kill-primary-sync', 'switchover-pgbouncer', 'crash-restart-no-failover']) {
    test(`drill ${name}: no acknowledged write lost, none unexpected, the checker agrees offline`, async (t) => {
      const spec = quick.find((d) => d.name === name)!;
      const run = await runDrill(ctx, spec, { historyDir: dir, onProgress: (p) => t.diagnostic(`${p.phase}: ${p.message}`) });
      for (const e of run.expectations) t.diagnostic(`${e.ok ? 'ok' : 'FAIL'} ${e.text}: ${e.detail}`);
      assert.equal(run.error, undefined, run.error);
      assert.ok(run.report.totals.ok > 0, 'the writer got writes acknowledged');
      assert.equal(run.report.totals.lost, 0, run.report.verdict);
      assert.equal(run.report.totals.unexpected, 0, run.report.verdict);
      assert.equal(run.report.valid, true, run.report.verdict);
      const missed = run.expectations.filter((e) => !e.ok && !TIME_BOUNDS.has(spec.expect[run.expectations.indexOf(e)]?.kind ?? ''));
      assert.deepEqual(missed.map((e) => `${e.text}: ${e.detail}`), []);
      // Offline: the saved history gives the same verdict.
      assert.ok(run.historyFile);
      const again = checkHistory(await loadHistory(run.historyFile));
      assert.deepEqual(again.totals, run.report.totals);
      assert.equal(again.verdict, run.report.verdict);
    });
  }
});
