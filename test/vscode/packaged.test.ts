// The packaged extension: dist/pg-ha-workshop.vsix installed into the host as a learner installs it
// (code-server --install-extension), not loaded from the source folder. Opens every surface once:
// tree, notebook, walkthrough, lag dashboard, reports. Run by `node scripts/run-vscode-tests.mjs
// --vsix` (scripts/test.sh does); never part of the source-folder run.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/api';
import type { Services } from '../../src/services';
import { waitFor } from '../support/cluster';
import { clusterUpWithRetry, treeNodeItems, servicesOf } from './host';

const EXTENSION_ID = 'pg-ha-workshop.pg-ha-workshop';

/** Every relative file path a manifest value names (icons, walkthrough media and pages, ...). */
function manifestFiles(v: unknown, out = new Set<string>()): Set<string> {
  if (typeof v === 'string') {
    if (/^\.?\/?(media|walkthroughs|dist|l10n|cluster)\/[^*\s]+\.[a-z0-9]+$/i.test(v)) out.add(v.replace(/^\.\//, ''));
  } else if (v && typeof v === 'object') {
    for (const x of Object.values(v)) manifestFiles(x, out);
  }
  return out;
}

suite('Packaged extension (.vsix)', function () {
  this.timeout(600_000);
  let ext: vscode.Extension<ExtensionApi>;
  let api: Services;

  suiteSetup(async () => {
    const found = vscode.extensions.getExtension<ExtensionApi>(EXTENSION_ID);
    assert.ok(found, `${EXTENSION_ID} is installed`);
    ext = found;
    await clusterUpWithRetry();
    api = await servicesOf(ext);
  });

  test('runs from the installed .vsix, not from the source folder', () => {
    const dir = process.env.PGHA_VSIX_EXTENSIONS_DIR;
    assert.ok(dir, 'the runner names the extensions folder');
    assert.ok(ext.extensionPath.startsWith(dir), `${ext.extensionPath} is under ${dir}`);
    assert.ok(!fs.existsSync(path.join(ext.extensionPath, 'src')), 'no sources in the package');
  });

  test('every file the manifest names and the code reads at run time is inside', () => {
    const files = [...manifestFiles(ext.packageJSON), 'dist/extension.js', 'dist/main.js', 'dist/vendor.js', 'dist/dashboard/main.js', 'dist/dashboard/main.css', 'cluster/docker-compose.yml', 'cluster/monitoring.pgha.sql', 'cluster/patroni/docker-compose.yml', 'cluster/patroni/patroni.yml', 'cluster/patroni/Dockerfile', 'cluster/patroni/haproxy.cfg', 'cluster/patroni/post-bootstrap.sh', 'cluster/patroni/patch-leader-renewal.py'];
    const missing = files.filter((f) => !fs.existsSync(path.join(ext.extensionPath, f)));
    assert.deepStrictEqual(missing, []);
  });

  test('tree: the three nodes and PgBouncer with their roles', async () => {
    await vscode.commands.executeCommand('pgHaWorkshop.cluster.focus');
    const tree = api.clusterTree!;
    const t = api.topology();
    const labels = await waitFor(async () => {
      const rows = (await treeNodeItems(tree)).map((i) => `${i.label} ${String(i.item.description ?? '')}`);
      return rows.some((r) => r.startsWith(`${t.nodes[0].container} primary`)) && rows.filter((r) => / replica · /.test(r)).length === 2 ? rows : undefined;
    }, 120_000, 'the tree to show a primary and two replicas');
    assert.ok(labels.some((l) => l.startsWith(t.pgbouncer.container)), labels.join('; '));
  });

  test('notebook: the shipped monitoring notebook runs a cell on its node', async () => {
    const editor = (await vscode.commands.executeCommand('pgHaWorkshop.openMonitoringNotebook')) as vscode.NotebookEditor;
    const doc = editor.notebook;
    const index = doc.getCells().findIndex((c) => c.kind === vscode.NotebookCellKind.Code);
    assert.ok(index >= 0, 'the notebook has a SQL cell');
    // Up to three runs: on a loaded machine one connection attempt can time out (the cell then says so).
    let summary: vscode.NotebookCellExecutionSummary | undefined;
    for (let attempt = 1; attempt <= 3 && !summary?.success; attempt++) {
      const before = doc.cellAt(index).executionSummary?.executionOrder;
      await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }], document: doc.uri });
      summary = await waitFor(() => {
        const x = doc.cellAt(index).executionSummary;
        return x?.success !== undefined && x.executionOrder !== before ? x : undefined;
      }, 120_000, 'the cell to finish');
    }
    assert.ok(summary);
    assert.strictEqual(summary.success, true, JSON.stringify(doc.cellAt(index).outputs.map((o) => o.items.map((i) => Buffer.from(i.data).toString('utf8').slice(0, 300)))));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('walkthrough: opens in the editor area', async () => {
    // The installed extension opens the walkthrough by itself on its first run (src/walkthrough/firstRun.ts):
    // start from no editor so the command's own tab is what appears.
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const before = vscode.window.tabGroups.all.flatMap((g) => g.tabs).length;
    await vscode.commands.executeCommand('pgHaWorkshop.openWalkthrough');
    const tab = await waitFor(() => {
      const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
      return tabs.length > before ? vscode.window.tabGroups.activeTabGroup.activeTab : undefined;
    }, 30_000, 'the walkthrough tab');
    assert.match(tab.label, /welcome|walkthrough|workshop|getting started/i);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('lag dashboard: the webview loads its script from the package and draws the samples', async () => {
    await vscode.commands.executeCommand('pgHaWorkshop.showLagDashboard');
    const d = await waitFor(() => api.lagDashboard, 10_000, 'the dashboard to register');
    await waitFor(() => d.pointsReceived >= 2, 120_000, 'two points drawn by the webview (its script runs)');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('reports: a demo result (Verify Replication) in the demo results', async () => {
    const outcome = (await vscode.commands.executeCommand('pgHaWorkshop.demo.verifyReplication', { fix: 'no' })) as { passed?: boolean; ok?: boolean } | undefined;
    assert.ok(outcome, 'the demo returns its outcome');
    const list = (await vscode.commands.executeCommand('pgHaWorkshop.demo.showResults')) as { demo: string; passed: boolean }[];
    assert.ok(Array.isArray(list) && list.length >= 1, JSON.stringify(list));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
