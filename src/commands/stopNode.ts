// Stop Node: a clean shutdown of one container (docker stop, SIGINT: PostgreSQL's fast shutdown).
import * as vscode from 'vscode';
import { stopNode as stopNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, isRunning, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function stopNode(services: Services, arg?: unknown): Promise<CommandOutcome<ActionResult>> {
  const node = await targetNode(services, arg, t('Stop which node?'), isRunning);
  if (!node) return cancelled();
  return runCommand(
    services,
    'Stop node',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Stopping {0}…', node) }, async () => {
        const r = await stopNodeAction(actionContext(services), node);
        services.log.info(r.message);
        void vscode.window.setStatusBarMessage(r.message, 6000);
        return r;
      }),
    node,
  );
}
