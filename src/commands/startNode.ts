// Start Node: docker start of one stopped container (a stopped old primary comes back as it was:
// see Demo 6, split brain).
import * as vscode from 'vscode';
import { startNode as startNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, isStopped, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function startNode(services: Services, arg?: unknown): Promise<CommandOutcome<ActionResult>> {
  const node = await targetNode(services, arg, t('Start which node?'), isStopped);
  if (!node) return cancelled();
  return runCommand(
    services,
    'Start node',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Starting {0}…', node) }, async () => {
        const r = await startNodeAction(actionContext(services), node);
        services.log.info(r.message);
        void vscode.window.setStatusBarMessage(r.message, 6000);
        return r;
      }),
    node,
  );
}
