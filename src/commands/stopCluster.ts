// Stop Cluster: Compose down. Containers and network go; the data volumes stay, so the next
// start continues where this one ended (Reset Cluster removes the data).
import * as vscode from 'vscode';
import { composeDown } from '../docker/compose';
import type { Services } from '../services';
import { runCommand, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function stopCluster(services: Services): Promise<CommandOutcome<{ seconds: number }>> {
  return runCommand(services, 'Stop cluster', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Stopping the workshop cluster (data is kept)') }, async (progress) => {
      const t0 = Date.now();
      await composeDown(services.topology(), { docker: services.docker(), onOutput: (line) => progress.report({ message: line.slice(0, 120) }) });
      await services.monitor.refresh();
      const seconds = (Date.now() - t0) / 1000;
      void vscode.window.setStatusBarMessage(t('Workshop cluster stopped in {0} s (data kept).', seconds.toFixed(1)), 8000);
      return { seconds };
    }),
  );
}
