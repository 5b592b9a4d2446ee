// Shared set-up of the extension-host suites: the extension activated, and the tests' cluster up.
import * as assert from 'assert';
import * as vscode from 'vscode';
import type { ExtensionApi } from '../../src/api';
import type { Services } from '../../src/services';
import { clusterUp } from '../support/cluster';

/** Activates the extension under test and returns the services its activate() exposes. */
export async function activateExtension(): Promise<Services> {
  const ext = vscode.extensions.all.find((e) => (e.packageJSON as { name?: string }).name === 'pg-ha-workshop') as vscode.Extension<ExtensionApi> | undefined;
  assert.ok(ext, 'the extension pg-ha-workshop is loaded in the host');
  return servicesOf(ext);
}

/** The services of the activated extension: activate() returns at once, its services() once dist/main.js is loaded. */
export async function servicesOf(ext: vscode.Extension<ExtensionApi>): Promise<Services> {
  return (await ext.activate()).services();
}

/** The fixture's clusterUp, tried up to three times: on a loaded machine one connection attempt can time out. */
export async function clusterUpWithRetry(): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await clusterUp();
      return;
    } catch (e) {
      if (attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

/**
 * Every item of the cluster view that is a node or PgBouncer, depth first: replicas are nested
 * under the node they stream from, so a flat list needs a walk. `depth` 0 is the top level.
 */
export async function treeNodeItems(tree: vscode.TreeDataProvider<unknown>, parent?: unknown, depth = 0): Promise<{ element: unknown; item: vscode.TreeItem; label: string; depth: number }[]> {
  const out: { element: unknown; item: vscode.TreeItem; label: string; depth: number }[] = [];
  for (const element of ((await tree.getChildren(parent)) ?? []) as unknown[]) {
    const kind = (element as { kind?: string }).kind;
    if (kind !== 'node' && kind !== 'pgbouncer') continue;
    const item = await tree.getTreeItem(element);
    out.push({ element, item, label: typeof item.label === 'string' ? item.label : (item.label?.label ?? ''), depth });
    if (kind === 'node') out.push(...(await treeNodeItems(tree, element, depth + 1)));
  }
  return out;
}
