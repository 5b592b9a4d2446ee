// Reset Cluster: after a modal confirm, Compose down -v (containers AND data), then a fresh
// cluster comes up exactly like Start Cluster. Undoes any promotion, split brain or repoint.
import * as vscode from 'vscode';
import { composeDown } from '../docker/compose';
import type { Services } from '../services';
import { cancelled, runCommand, skipsConfirmation, type CommandOutcome } from './common';
import { bringUp } from './startCluster';

const t = vscode.l10n.t;

/** `options.confirm === false` skips the modal (for scripted use and tests). */
export async function resetCluster(services: Services, options: { confirm?: boolean } = {}): Promise<CommandOutcome<{ seconds: number }>> {
  if (!skipsConfirmation(options)) {
    const reset = t('Reset Cluster');
    const pick = await vscode.window.showWarningMessage(
      t('Reset the workshop cluster?'),
      { modal: true, detail: t('This removes the containers AND their data (compose down -v): every row written, every promotion. A fresh cluster is then started.') },
      reset,
    );
    if (pick !== reset) return cancelled();
  }
  return runCommand(services, 'Reset cluster', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Resetting the workshop cluster') }, async (progress) => {
      const t0 = Date.now();
      progress.report({ message: t('removing containers and data…') });
      await composeDown(services.topology(), { docker: services.docker(), volumes: true });
      await services.monitor.refresh();
      const seconds = await bringUp(services, progress, t0);
      const msg = t('Workshop cluster reset: a fresh cluster is healthy in {0} s.', seconds.toFixed(1));
      services.log.info(msg);
      void vscode.window.showInformationMessage(msg);
      return { seconds };
    }),
  );
}
