// The cluster view inside a real extension host, against the real cluster: every command run
// through VS Code, and what the tree then shows read through its tree data provider.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Services } from '../../src/services';
import { statusBarText } from '../../src/views/statusBar';
import { waitFor } from '../support/cluster';
import { activateExtension, clusterUpWithRetry, treeNodeItems } from './host';

interface Outcome {
  ok: boolean;
  message?: string;
  value?: unknown;
}

interface Row {
  element: unknown;
  item: vscode.TreeItem;
  label: string;
  description: string;
  contextValue: string;
}

let api: Services;

async function rows(parent?: unknown): Promise<Row[]> {
  const tree = api.clusterTree!;
  const children = ((await tree.getChildren(parent)) ?? []) as unknown[];
  return Promise.all(
    children.map(async (element) => {
      const item = await tree.getTreeItem(element);
      const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
      return { element, item, label, description: String(item.description ?? ''), contextValue: item.contextValue ?? '' };
    }),
  );
}

/** A node's (or PgBouncer's) row wherever it is nested: replicas sit under their upstream. */
async function rowOf(container: string): Promise<Row | undefined> {
  const found = (await treeNodeItems(api.clusterTree!)).find((r) => r.label === container);
  return found ? { element: found.element, item: found.item, label: found.label, description: String(found.item.description ?? ''), contextValue: found.item.contextValue ?? '' } : undefined;
}

const topo = () => api.topology();
const name = (key: string) => (key === 'pgbouncer' ? topo().pgbouncer.container : topo().nodes.find((n) => n.key === key)!.container);

/** Waits until the tree row of `key` satisfies `pred` (the monitor publishes within a second or so). */
async function waitRow(key: string, pred: (r: Row) => boolean, what: string, timeoutMs = 30_000): Promise<Row> {
  return waitFor(async () => {
    const r = await rowOf(name(key));
    return r && pred(r) ? r : undefined;
  }, timeoutMs, what);
}

async function run(command: string, ...args: unknown[]): Promise<Outcome> {
  return (await vscode.commands.executeCommand(command, ...args)) as Outcome;
}

const standard = async () => {
  const p = await rowOf(name('primary'));
  const r1 = await rowOf(name('replica1'));
  const r2 = await rowOf(name('replica2'));
  return !!p && /^primary · TL \d+$/.test(p.description) && !!r1 && /^replica · /.test(r1.description) && !!r2 && /^replica · /.test(r2.description);
};

suite('Cluster view and node commands', function () {
  this.timeout(400_000);

  suiteSetup(async () => {
    await clusterUpWithRetry();
    api = await activateExtension();
    assert.ok(api.clusterTree, 'activate() exposes the cluster tree');
    await waitFor(standard, 90_000, 'the tree to show the standard topology').catch(async (e: Error) => {
      const seen = (await rows()).map((r) => `${r.label}: ${r.description}`).join('; ');
      throw new Error(`${e.message}; tree: [${seen}]; monitor: ${JSON.stringify(api.monitor.current?.nodes.map((n) => [n.container, n.role, n.problem]))} docker: ${JSON.stringify(api.monitor.current?.docker)}`);
    });
  });

  test('one item per node plus PgBouncer, replicas nested under their upstream: names, role descriptions, context values for the menus', async () => {
    // The Backups item (Demo 9) follows the nodes once its first look at the backup volume is done.
    const top = (await rows()).filter((r) => r.contextValue !== 'backups');
    assert.deepStrictEqual(
      top.map((r) => r.label),
      [name('primary'), name('pgbouncer')],
    );
    const nested = await treeNodeItems(api.clusterTree!);
    assert.deepStrictEqual(
      nested.map((r) => [r.label, r.depth]),
      [
        [name('primary'), 0],
        [name('replica1'), 1],
        [name('replica2'), 1],
        [name('pgbouncer'), 0],
      ],
    );
    const p = (await rowOf(name('primary')))!;
    assert.match(p.description, /^primary · TL \d+$/);
    assert.match(p.contextValue, /^node\.primary\.running .*\bcan-fence\b/);
    assert.doesNotMatch(p.contextValue, /\bcan-promote\b/);
    assert.strictEqual(p.item.collapsibleState, vscode.TreeItemCollapsibleState.Expanded, 'a node with replicas under it is expanded');
    for (const r of [(await rowOf(name('replica1')))!, (await rowOf(name('replica2')))!]) {
      // Role and bytes behind, never negative; the time lag is in the tooltip.
      assert.match(r.description, /^replica · \d+(\.\d)? (B|kB|MB)$/);
      assert.match(r.contextValue, /^node\.replica\.running .*\bcan-promote\b/);
    }
    const b = top[1];
    assert.match(b.contextValue, /^pgbouncer\.running .*\bcan-stop\b/);
    assert.match(b.description, new RegExp(`→ ${name('primary')}`));
    const tip = p.item.tooltip as vscode.MarkdownString;
    assert.match(tip.value, /Timeline/);
    assert.match(tip.value, /Slot postgres_replica1/);
    assert.ok(p.item.iconPath instanceof vscode.ThemeIcon);
  });

  test('a node expands into its figures; PgBouncer into its target and pools', async () => {
    const p = (await rowOf(name('primary')))!;
    const details = (await rows(p.element)).map((r) => r.label);
    for (const l of ['Timeline', 'Current LSN', 'Standbys', 'Replication slots', 'Container']) assert.ok(details.includes(l), `${l} in ${details.join(', ')}`);
    const r1 = (await rowOf(name('replica1')))!;
    const rd = await rows(r1.element);
    assert.strictEqual(rd.find((r) => r.label === 'Streams from')?.description, name('primary'));
    assert.ok(rd.some((r) => r.label === 'Lag'));
    assert.ok(rd.some((r) => r.label === 'Last replayed commit'));
    const b = (await rowOf(name('pgbouncer')))!;
    const bd = await rows(b.element);
    assert.match(bd.find((r) => r.label === 'Sends demodb to')?.description ?? '', new RegExp(name('primary')));
  });

  test('Stop Node shows the replica stopped; Start Node brings it back streaming', async () => {
    const stop = await run('pgHaWorkshop.stopNode', 'replica2');
    assert.strictEqual(stop.ok, true, stop.message);
    // "killed" when a starved machine made docker stop escalate to SIGKILL after its 10 s grace.
    const r = await waitRow('replica2', (x) => x.description === 'stopped' || x.description === 'killed', 'replica2 stopped', 15_000);
    assert.match(r.contextValue, /^node\.replica\.stopped .*\bcan-start\b/, 'a stopped replica keeps its replica menus');
    assert.doesNotMatch(r.contextValue, /\bcan-(stop|promote)\b/);
    const start = await run('pgHaWorkshop.startNode', 'replica2');
    assert.strictEqual(start.ok, true, start.message);
    await waitRow('replica2', (x) => /^replica · /.test(x.description), 'replica2 streaming again', 120_000);
  });

  test('Kill Node is a crash the tree calls "killed"; Restart Node brings it back', async () => {
    assert.strictEqual((await run('pgHaWorkshop.killNode', { kind: 'node', key: 'replica1' })).ok, true);
    await waitRow('replica1', (x) => x.description === 'killed', 'replica1 killed', 15_000);
    const again = await run('pgHaWorkshop.killNode', 'replica1');
    assert.strictEqual(again.ok, false);
    assert.match(again.message ?? '', /not running .*nothing to kill/);
    assert.strictEqual((await run('pgHaWorkshop.restartNode', 'replica1')).ok, true);
    await waitRow('replica1', (x) => /^replica · /.test(x.description), 'replica1 streaming after restart', 120_000);
  });

  test('Promote on the primary is refused with what to do, and nothing changes', async () => {
    const o = await run('pgHaWorkshop.promoteReplica', 'primary', { confirm: false });
    assert.strictEqual(o.ok, false);
    assert.match(o.message ?? '', /already a primary.*Promote a replica instead/);
    assert.ok(await standard());
  });

  test('Copy Connection String, Show Node Logs, Open psql, Refresh', async () => {
    const c = await run('pgHaWorkshop.copyConnectionString', 'replica1');
    assert.strictEqual(c.ok, true);
    const port = topo().nodes.find((n) => n.key === 'replica1')!.hostPort;
    assert.strictEqual(await vscode.env.clipboard.readText(), `postgresql://postgres:postgres@127.0.0.1:${port}/demodb`);

    const logs = await run('pgHaWorkshop.showNodeLogs', 'primary');
    assert.strictEqual(logs.ok, true, logs.message);
    const doc = vscode.window.activeTextEditor?.document;
    assert.strictEqual(doc?.uri.scheme, 'pgha-logs');
    assert.match(doc.getText(), /database system is ready to accept connections/);

    const psql = await run('pgHaWorkshop.openPsql', 'replica2');
    assert.strictEqual(psql.ok, true, psql.message);
    const termName = (psql.value as { terminalName: string }).terminalName;
    const term = vscode.window.terminals.find((t) => t.name === termName);
    assert.ok(term, `terminal ${termName}`);
    term.dispose();

    const r = await run('pgHaWorkshop.refreshCluster');
    assert.strictEqual(r.ok, true);
    assert.strictEqual((r.value as { clusterState: string }).clusterState, 'running');
  });

  test('Demo 4 + 6 from the view: stop the primary, promote replica1, start the old primary: split brain in the tree and the status bar; Reset Cluster restores', async () => {
    await waitFor(standard, 120_000, 'the standard topology before the demo');
    assert.strictEqual((await run('pgHaWorkshop.stopNode', 'primary')).ok, true);
    const refused = await run('pgHaWorkshop.promoteReplica', 'primary', { confirm: false });
    assert.strictEqual(refused.ok, false);
    assert.match(refused.message ?? '', /not running.*cannot be promoted/);

    const promoted = await run('pgHaWorkshop.promoteReplica', 'replica1', { confirm: false });
    assert.strictEqual(promoted.ok, true, promoted.message);
    const r1 = await waitRow('replica1', (x) => /^primary · TL [2-9]/.test(x.description), 'replica1 primary on a new timeline', 15_000);
    assert.match(r1.contextValue, /^node\.primary\.running /);
    assert.match(statusBarText(api.monitor.current).text, new RegExp(name('replica1')));

    assert.strictEqual((await run('pgHaWorkshop.startNode', 'primary')).ok, true);
    await waitFor(async () => (await rows()).some((r) => r.contextValue === 'alert.splitBrain'), 30_000, 'a split brain alert in the tree');
    const bar = statusBarText(api.monitor.current);
    assert.strictEqual(bar.warning, true);
    assert.match(bar.text, /split brain/);

    const reset = await run('pgHaWorkshop.resetCluster', { confirm: false });
    assert.strictEqual(reset.ok, true, reset.message);
    assert.ok((reset.value as { seconds: number }).seconds > 0);
    await waitFor(standard, 60_000, 'the standard topology after reset');
    assert.ok(!(await rows()).some((r) => r.contextValue.startsWith('alert.splitBrain')));
  });

  test('commands while the cluster is down say to start it; Start Cluster reports the time to healthy', async () => {
    const stop = await run('pgHaWorkshop.stopCluster');
    assert.strictEqual(stop.ok, true, stop.message);
    await waitFor(async () => (await rows()).length === 0, 15_000, 'an empty tree (welcome content) once the cluster is gone');
    assert.strictEqual(api.monitor.current?.clusterState, 'stopped');

    for (const [cmd, arg] of [
      ['pgHaWorkshop.stopNode', 'replica1'],
      ['pgHaWorkshop.startNode', 'replica1'],
      ['pgHaWorkshop.promoteReplica', 'replica1'],
      ['pgHaWorkshop.openPsql', 'primary'],
      ['pgHaWorkshop.showNodeLogs', 'primary'],
    ] as const) {
      const o = await run(cmd, arg, { confirm: false });
      assert.strictEqual(o.ok, false, cmd);
      assert.match(o.message ?? '', /(does not exist|no such container).*(Start Cluster|start the cluster)/i, `${cmd}: ${o.message}`);
    }

    const start = await run('pgHaWorkshop.startCluster');
    assert.strictEqual(start.ok, true, start.message);
    assert.ok((start.value as { seconds: number }).seconds > 0);
    await waitFor(standard, 60_000, 'the standard topology after Start Cluster');
  });
});
