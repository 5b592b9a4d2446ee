// Attach to Cluster inside a real extension host: the five-node cascade (test/fixtures/cascade)
// attached read-only through its ports, the tree nesting each replica under its upstream, the
// menus offering no change, a change command refused with what to do, a notebook cell running on
// every attached node, and switching back to the workshop's cluster.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Services } from '../../src/services';
import { CASCADE_PORTS, cascadeConnectionString, cascadeDown, cascadeUp } from '../support/cascade';
import { waitFor } from '../support/cluster';
import { activateExtension, treeNodeItems } from './host';

interface Outcome {
  ok: boolean;
  message?: string;
  value?: unknown;
}

let api: Services;
/** Docker calls the monitor had made when the cluster was attached (the workshop's cluster was watched before). */
let dockerCallsAtAttach = 0;

const run = async (command: string, ...args: unknown[]) => (await vscode.commands.executeCommand(command, ...args)) as Outcome;

suite('Attach to Cluster: a five-node cascade, read-only, no Docker involved', function () {
  this.timeout(900_000);

  suiteSetup(async () => {
    await cascadeUp();
    api = await activateExtension();
  });

  suiteTeardown(async () => {
    await run('pgHaWorkshop.switchClusterProfile', 'workshop');
    await run('pgHaWorkshop.removeClusterProfile', 'cascade');
    await cascadeDown();
  });

  test('attach with a connection string: five nodes, replicas nested under their upstream, the cascade under replica-a', async () => {
    const o = await run('pgHaWorkshop.attachCluster', { input: cascadeConnectionString(), label: 'cascade', lab: false, confirm: false });
    assert.strictEqual(o.ok, true, o.message);
    dockerCallsAtAttach = api.monitor.stats.dockerCalls;
    assert.strictEqual(api.manager().kind, 'attached');
    assert.strictEqual(api.manager().readOnly, true);
    const expected = [
      ['cascade-primary', 0],
      ['cascade-replica-a', 1],
      ['cascade-cascade', 2],
      ['cascade-replica-b', 1],
      ['cascade-delayed', 1],
    ];
    const rows = await waitFor(
      async () => {
        const r = await treeNodeItems(api.clusterTree!);
        return JSON.stringify(r.map((x) => [x.label, x.depth])) === JSON.stringify(expected) && r.every((x) => !/starting|connecting/.test(String(x.item.description))) ? r : undefined;
      },
      120_000,
      'the cascade in the tree',
    ).catch(async (e: Error) => {
      const seen = (await treeNodeItems(api.clusterTree!)).map((x) => `${'  '.repeat(x.depth)}${x.label}: ${String(x.item.description)}`);
      seen.push(`problems: ${JSON.stringify(api.monitor.current?.nodes.map((n) => [n.name, n.problem]))}`);
      throw new Error(`${e.message}; tree: ${seen.join(' | ')}`);
    });
    const byLabel = (l: string) => rows.find((r) => r.label === l)!;
    assert.match(String(byLabel('cascade-primary').item.description), /^primary · TL 1$/);
    assert.match(String(byLabel('cascade-cascade').item.description), /^cascading · /);
    assert.match(String(byLabel('cascade-delayed').item.description), /delayed 5 min|delayed 5m|delayed 300/);
    for (const r of rows) {
      assert.match(r.item.contextValue ?? '', /^node\.(primary|replica)\.running can-copyConnection$/, `${r.label}: read-only menus only`);
    }
    // No PgBouncer and no Backups row: they are the workshop's containers, not this cluster's.
    const top = ((await api.clusterTree!.getChildren()) ?? []) as { kind: string }[];
    assert.deepStrictEqual(
      top.map((e) => e.kind).filter((k) => k !== 'alert'),
      ['profile', 'node'],
    );
    // The first row names the cluster, short enough for the sidebar; its tooltip has the whole profile.
    const profileRow = await api.clusterTree!.getTreeItem(top[0]);
    assert.ok(String(profileRow.label).length <= 22, `short: ${String(profileRow.label)}`);
    assert.strictEqual(profileRow.description, '5 nodes');
    const tip = (profileRow.tooltip as vscode.MarkdownString).value;
    for (const port of Object.values(CASCADE_PORTS)) assert.ok(tip.includes(`127.0.0.1:${port}`), `the tooltip lists 127.0.0.1:${port}: ${tip}`);
    assert.match(tip, /watcher/);
    assert.match(tip, /read\\?-only/); // the tooltip is Markdown: '-' may come escaped
    assert.match(tip, /sslmode=disable/);
  });

  test('a change command is refused with what to do; nothing reaches Docker', async () => {
    const o = await run('pgHaWorkshop.stopNode', 'cascade-replica-b');
    assert.strictEqual(o.ok, false);
    assert.match(o.message ?? '', /attached read-only.*Switch to the workshop cluster/);
    const f = await run('pgHaWorkshop.failOver', { confirm: false });
    assert.strictEqual(f.ok, false);
    assert.match(f.message ?? '', /attached read-only/);
    assert.strictEqual(api.monitor.stats.dockerCalls, dockerCallsAtAttach, 'the monitor asked Docker nothing since the attach');
  });

  test('a notebook cell on @all runs on the five attached nodes', async () => {
    const doc = await vscode.workspace.openNotebookDocument('pgha-sql-notebook', new vscode.NotebookData([Object.assign(new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT pg_is_in_recovery() AS standby', 'sql'), { metadata: { target: 'all' } })]));
    await vscode.window.showNotebookDocument(doc);
    await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: 0, end: 1 }], document: doc.uri });
    const runs = await waitFor(
      () => {
        const out = doc.cellAt(0).outputs.flatMap((o) => o.items.filter((i) => i.mime === 'application/vnd.pgha.result+json').map((i) => JSON.parse(new TextDecoder().decode(i.data)) as { node: string; error?: { message: string } }[]));
        return out.flat().length >= 5 ? out.flat() : undefined;
      },
      120_000,
      'the cell to run on every node',
    );
    assert.deepStrictEqual(runs.map((r) => r.node).sort(), ['cascade-cascade', 'cascade-delayed', 'cascade-primary', 'cascade-replica-a', 'cascade-replica-b']);
    assert.deepStrictEqual(runs.filter((r) => r.error).map((r) => `${r.node}: ${r.error!.message}`), []);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the lag dashboard draws every replica of the five nodes, also when it was open before the switch', async () => {
    // Open on the workshop's cluster first: switching to the attached profile must redraw it with the five nodes.
    assert.strictEqual((await run('pgHaWorkshop.switchClusterProfile', 'workshop')).ok, true);
    await vscode.commands.executeCommand('pgHaWorkshop.showLagDashboard');
    const d = await waitFor(() => api.lagDashboard, 10_000, 'the dashboard to register');
    assert.ok(d.open, 'panel open');
    assert.strictEqual((await run('pgHaWorkshop.switchClusterProfile', 'cascade')).ok, true);
    const replicas = ['cascade-cascade', 'cascade-delayed', 'cascade-replica-a', 'cascade-replica-b'];
    await waitFor(
      () => (JSON.stringify([...d.seriesDrawn].sort()) === JSON.stringify(replicas) ? true : undefined),
      120_000,
      'a line per replica in the charts',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; drawn: ${JSON.stringify(d.seriesDrawn)}`);
    });
    const before = d.pointsReceived;
    await waitFor(() => (d.pointsReceived > before + 2 ? true : undefined), 30_000, 'the chart moving on');
    // Every replica has a figure in the newest sample (the primary is what they are measured against).
    const last = d.history.points[d.history.points.length - 1];
    const keyOf = (name: string) => api.topology().nodes.find((n) => n.name === name)!.key;
    for (const r of replicas) assert.ok(last.v[keyOf(r)], `${r} in the newest sample`);
    assert.ok(!last.v[keyOf('cascade-primary')], 'the primary has no lag line');
    if (!process.env.PGHA_KEEP_DASHBOARD) await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('Switch Cluster back to the workshop: the compose manager and its menus return', async () => {
    const o = await run('pgHaWorkshop.switchClusterProfile', 'workshop');
    assert.strictEqual(o.ok, true, o.message);
    assert.strictEqual(api.manager().kind, 'compose');
    assert.strictEqual(api.topology().kind ?? 'compose', 'compose');
  });
});
