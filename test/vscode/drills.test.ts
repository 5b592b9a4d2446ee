// Run Fault Drill inside a real extension host: the command is registered, an unknown drill name is
// refused with the list of drills, a drill the active profile does not run is refused with the
// reason, and a short drill runs end to end against the real cluster and
// gives a report a learner can read (verdict, RTO/RPO, writes over time) with nothing lost.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { activateExtension, clusterUpWithRetry } from './host';

interface Outcome<T = unknown> {
  ok: boolean;
  message?: string;
  value?: T;
}

suite('Fault drills', function () {
  this.timeout(900_000);

  suiteSetup(async () => {
    await clusterUpWithRetry();
    await activateExtension();
  });

  test('Run Fault Drill is registered', async () => {
    assert.ok((await vscode.commands.getCommands(true)).includes('pgHaWorkshop.runFaultDrill'));
  });

  test('an unknown drill is refused with the names of the drills, and nothing runs', async () => {
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.runFaultDrill', { drill: 'no-such-drill', confirm: false, openReport: false })) as Outcome;
    assert.strictEqual(r.ok, false);
    assert.match(r.message ?? '', /no-such-drill/);
    assert.match(r.message ?? '', /kill-primary-sync/);
  });

  test('on the Patroni profile a drill written for the workshop only is refused with its reason, and nothing runs', async () => {
    const config = vscode.workspace.getConfiguration('pgHaWorkshop');
    await config.update('clusterProfile', 'patroni', vscode.ConfigurationTarget.Global);
    try {
      const r = (await vscode.commands.executeCommand('pgHaWorkshop.runFaultDrill', { drill: 'pgbouncer-restart', confirm: false, openReport: false })) as Outcome;
      assert.strictEqual(r.ok, false);
      assert.match(r.message ?? '', /pgbouncer-restart does not run on the Patroni profile: PgBouncer-specific/);
    } finally {
      await config.update('clusterProfile', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('a crash of the primary without failover: the report shows the verdict, RTO, RPO and the writes over time', async () => {
    const r = (await vscode.commands.executeCommand('pgHaWorkshop.runFaultDrill', { drill: 'crash-restart-no-failover', confirm: false, openReport: false })) as Outcome<{
      report: string;
      run: { report: { totals: { ok: number; lost: number; unexpected: number } } };
    }>;
    assert.strictEqual(r.ok, true, r.message);
    const { report, run } = r.value!;
    assert.ok(run.report.totals.ok > 0);
    assert.strictEqual(run.report.totals.lost, 0);
    assert.strictEqual(run.report.totals.unexpected, 0);
    for (const part of ['# Fault drill: the primary crashes and is restarted', '**Verdict:', '**RTO**', '**RPO**', '## Writes over time', '## Writes per timeline', 'the timeline does not change']) {
      assert.ok(report.includes(part), `report has "${part}"`);
    }
  });
});
