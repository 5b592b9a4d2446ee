// Remove Restored Node: deletes a node made by Restore to Point in Time, with its data.
import * as vscode from 'vscode';
import { removeRestoredNode as remove } from '../core/backup';
import { cancelled, type CommandOutcome } from '../commands/common';
import type { Services } from '../services';
import type { BackupState } from './state';

const t = vscode.l10n.t;

export async function removeRestoredNode(services: Services, state: BackupState, arg: unknown, options: { confirm?: boolean } = {}): Promise<CommandOutcome<string>> {
  let name = typeof arg === 'string' ? arg : arg && typeof arg === 'object' && 'restored' in arg ? String((arg as { restored: unknown }).restored) : undefined;
  if (!name) {
    const nodes = (await state.refresh()).restored;
    if (nodes.length === 0) {
      void vscode.window.showInformationMessage(t('There is no restored node.'));
      return { ok: false, message: t('There is no restored node.') };
    }
    name = (await vscode.window.showQuickPick(nodes.map((n) => ({ label: n.container, description: `${n.backup ?? ''} → ${n.target ?? ''}` })), { title: t('Remove Restored Node') }))?.label;
    if (!name) return cancelled();
  }
  if (options.confirm !== false) {
    const yes = t('Remove');
    if ((await vscode.window.showWarningMessage(t('Remove {0} and its data?', name), { modal: true, detail: t('Only this restored node is removed; the cluster and the backups stay.') }, yes)) !== yes) return cancelled();
  }
  try {
    await remove(state.context(), name);
    void state.refresh().catch(() => undefined);
    return { ok: true, value: name };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(message);
    return { ok: false, message };
  }
}
