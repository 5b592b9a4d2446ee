// Copy Connection String: postgresql://user:password@127.0.0.1:port/demodb of a node (or of
// PgBouncer) to the clipboard.
import * as vscode from 'vscode';
import { resolveNode } from '../core/nodeActions';
import { connectionString } from '../core/topology';
import type { Services } from '../services';
import { cancelled, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function copyConnectionString(services: Services, arg?: unknown): Promise<CommandOutcome<string>> {
  const node = await targetNode(services, arg, t('Copy the connection string of which node?'), () => true);
  if (!node) return cancelled();
  return runCommand(services, 'Copy connection string', async () => {
    const topo = services.topology();
    const target = resolveNode(topo, node);
    const url = connectionString(topo, target.hostPort, undefined, target.kind === 'postgres' ? (target.spec.host ?? topo.host) : topo.host);
    await vscode.env.clipboard.writeText(url);
    void vscode.window.setStatusBarMessage(t('Copied: {0}', url), 6000);
    return url;
  });
}
