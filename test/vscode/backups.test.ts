// Demo 9's backup commands inside a real extension host, against the real cluster: what the
// commands resolve to and what the cluster view's Backups item then shows.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { Services } from '../../src/services';
import { activateExtension, clusterUpWithRetry } from './host';

interface Outcome {
  ok: boolean;
  message?: string;
  cancelled?: boolean;
  value?: { name?: string; sizeBytes?: number };
}

let api: Services;

async function labelled(parent?: unknown): Promise<{ element: unknown; label: string; description: string; contextValue: string }[]> {
  const tree = api.clusterTree!;
  const children = ((await tree.getChildren(parent)) ?? []) as unknown[];
  return Promise.all(
    children.map(async (element) => {
      const item = await tree.getTreeItem(element);
      return { element, label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), description: String(item.description ?? ''), contextValue: item.contextValue ?? '' };
    }),
  );
}

suite('Backups (Demo 9): commands and the cluster view', function () {
  this.timeout(900_000);

  suiteSetup(async () => {
    api = await activateExtension();
    await clusterUpWithRetry();
    await api.monitor.refresh();
  });

  test('Take Base Backup resolves with the backup and its size; the Backups item lists it and the archive state', async () => {
    const o = (await vscode.commands.executeCommand('pgHaWorkshop.takeBaseBackup')) as Outcome;
    assert.ok(o.ok, o.message);
    assert.match(o.value?.name ?? '', /^base\/\d{8}-\d{6}$/);
    assert.ok((o.value?.sizeBytes ?? 0) > 1_000_000);
    await vscode.commands.executeCommand('pgHaWorkshop.refreshBackups');
    const backups = (await labelled()).find((r) => r.contextValue === 'backups');
    assert.ok(backups, 'a Backups item at the root of the cluster view');
    assert.match(backups.description, /base backups · archived [0-9A-F]{24}/);
    const children = await labelled(backups.element);
    const archive = children.find((c) => c.label === 'WAL archive');
    assert.ok(archive && /^on · \d+ segments/.test(archive.description), archive?.description);
    const base = children.find((c) => c.label === 'Base backups');
    assert.ok(base);
    assert.ok((await labelled(base.element)).some((b) => b.label === o.value?.name), 'the new backup listed');
  });

  test('Restore to Point in Time before the oldest backup: a clear refusal, no restored node', async () => {
    const o = (await vscode.commands.executeCommand('pgHaWorkshop.restoreToPointInTime', { target: '2001-01-01 00:00:00' })) as Outcome;
    assert.strictEqual(o.ok, false);
    assert.match(o.message ?? '', /before the oldest base backup.*rolled forward/);
    const s = await api.backups!.refresh();
    assert.strictEqual(s.restored.length, 0);
  });

  test('Restore to Point in Time with a typed target that is not a time: says how to write one', async () => {
    const o = (await vscode.commands.executeCommand('pgHaWorkshop.restoreToPointInTime', { target: 'next tuesday' })) as Outcome;
    assert.strictEqual(o.ok, false);
    assert.match(o.message ?? '', /neither a time nor a WAL position.*2026-12-01 21:05:03/);
  });
});
