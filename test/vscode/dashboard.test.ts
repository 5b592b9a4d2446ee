// Exercise 5 inside a real extension host: the lag dashboard opens as a webview, its script runs
// under the Content Security Policy, and it receives and draws the monitor's samples (the webview
// itself reports how many points it got). The lab commands are all registered.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/api';
import type { Services } from '../../src/services';
import { servicesOf } from './host';

const EXTENSION_ID = 'pg-ha-workshop.pg-ha-workshop';

async function until<T>(f: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

suite('Exercise 5: lag dashboard', function () {
  this.timeout(120_000);
  let api: Services;

  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await servicesOf(ext);
  });

  test('the dashboard webview receives data points from the monitor, one a second', async () => {
    await vscode.commands.executeCommand('pgHaWorkshop.showLagDashboard');
    const d = await until(() => api.lagDashboard, 10_000, 'the dashboard to register');
    assert.ok(d.open, 'panel open');
    await until(() => d.pointsReceived >= 3, 60_000, 'three points drawn by the webview');
    assert.ok(d.pointsSent >= d.pointsReceived, `sent ${d.pointsSent}, received ${d.pointsReceived}`);
    const before = d.pointsReceived;
    await until(() => d.pointsReceived > before, 10_000, 'one more point');
    assert.ok(d.history.points.length >= 3);
    const last = d.history.points[d.history.points.length - 1];
    assert.ok(Date.now() - last.t < 5000, 'the newest sample is recent');
    // Opening it again reveals the same panel (no second stream).
    await vscode.commands.executeCommand('pgHaWorkshop.showLagDashboard');
    assert.ok(d.open);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await until(() => !d.open, 10_000, 'the panel to close');
  });

  test('every exercise has its set-up, check and undo commands', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const lab of ['sync', 'cascade', 'delayed', 'autoFailover']) {
      for (const verb of ['setup', 'check', 'undo']) assert.ok(all.has(`pgHaWorkshop.lab.${lab}.${verb}`), `pgHaWorkshop.lab.${lab}.${verb}`);
    }
    assert.ok(all.has('pgHaWorkshop.lab.sync.measure'));
    assert.ok(all.has('pgHaWorkshop.lab.delayed.recover'));
  });

  test('a bad delay is refused by the input check before anything changes', async () => {
    // The command takes the delay as an argument (as the walkthrough links do); bad input is a message, not a change.
    const r = await vscode.commands.executeCommand('pgHaWorkshop.lab.delayed.setup', '-5s');
    assert.equal(r, undefined);
  });
});
