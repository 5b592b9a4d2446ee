// Opens a failover/switchover report as a Markdown document (and its preview) and logs it.
import * as vscode from 'vscode';
import type { Services } from '../services';

let lastReport: string | undefined;

export function lastFailoverReport(): string | undefined {
  return lastReport;
}

export async function showReport(services: Services, markdown: string, open = true): Promise<vscode.TextDocument | undefined> {
  lastReport = markdown;
  services.log.info(`\n${markdown}`);
  if (!open) return undefined;
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
  await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  void vscode.commands.executeCommand('markdown.showPreview', doc.uri).then(undefined, () => undefined);
  return doc;
}
