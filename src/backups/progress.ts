// One way to run a backup operation: a cancellable progress notification whose Cancel aborts the
// operation (the core removes what it made), sizes in MB, and every error as a message.
import * as vscode from 'vscode';
import { BackupError, type Progress } from '../core/backup';
import type { Services } from '../services';
import type { CommandOutcome } from '../commands/common';

const t = vscode.l10n.t;

export async function withBackupProgress<T>(services: Services, title: string, body: (report: (p: Progress) => void, signal: AbortSignal) => Promise<T>): Promise<CommandOutcome<T>> {
  try {
    const value = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let last = 0;
      const report = (p: Progress) => {
        const fraction = p.fraction ?? last;
        const increment = Math.max(0, fraction - last) * 100;
        last = Math.max(last, fraction);
        progress.report({ message: p.message, increment });
      };
      try {
        return await body(report, abort.signal);
      } finally {
        sub.dispose();
      }
    });
    void services.backups?.refresh().catch(() => undefined);
    return { ok: true, value };
  } catch (e) {
    void services.backups?.refresh().catch(() => undefined);
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof BackupError && e.problem === 'cancelled') {
      services.log.info(`${title}: ${message}`);
      void vscode.window.showInformationMessage(message);
      return { ok: false, message, cancelled: true };
    }
    services.log.error(`${title}: ${message}`);
    void vscode.window.showErrorMessage(message, t('Show Log')).then((p) => (p ? services.log.show(true) : undefined));
    return { ok: false, message };
  }
}

export const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : (bytes / 1048576).toFixed(1));
