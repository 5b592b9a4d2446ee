// Show Node Logs: the container's log (via the Docker engine, last 1000 lines) in a read-only
// editor; running the command again refreshes it.
import * as vscode from 'vscode';
import { resolveNode } from '../core/nodeActions';
import type { Services } from '../services';
import { cancelled, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;
export const LOG_SCHEME = 'pgha-logs';
const TAIL = 1000;

export class NodeLogProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  constructor(private readonly services: Services) {}

  static uriFor(container: string): vscode.Uri {
    return vscode.Uri.from({ scheme: LOG_SCHEME, path: `/${container}.log` });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const container = uri.path.replace(/^\//, '').replace(/\.log$/, '');
    try {
      const text = await this.services.containers().logs(container, TAIL);
      return text || t('(the log of {0} is empty)', container);
    } catch (e) {
      return t('Could not read the log of {0}: {1}', container, e instanceof Error ? e.message : String(e));
    }
  }

  refresh(uri: vscode.Uri): void {
    this.changed.fire(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export async function showNodeLogs(services: Services, logs: NodeLogProvider, arg?: unknown): Promise<CommandOutcome<{ uri: string; lines: number }>> {
  const node = await targetNode(services, arg, t('Show the log of which node?'), (n, s) => (n === 'pgbouncer' ? s.pgbouncer.containerState.status : n.containerState.status) !== 'missing');
  if (!node) return cancelled();
  return runCommand(
    services,
    'Show node logs',
    async () => {
      const target = resolveNode(services.topology(), node);
      // Fails with "no such container / start the cluster" before an editor opens on nothing.
      await services.containers().inspect(target.container);
      const uri = NodeLogProvider.uriFor(target.container);
      logs.refresh(uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, 'log');
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      const last = doc.lineCount - 1;
      editor.revealRange(new vscode.Range(last, 0, last, 0));
      return { uri: uri.toString(), lines: doc.lineCount };
    },
    node,
  );
}
