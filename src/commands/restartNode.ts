// Restart Node: docker restart of one container (clean stop, then start).
import * as vscode from 'vscode';
import { restartNode as restartNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function restartNode(services: Services, arg?: unknown): Promise<CommandOutcome<ActionResult>> {
  const node = await targetNode(services, arg, t('Restart which node?'), (n, s) => (n === 'pgbouncer' ? s.pgbouncer.containerState.status : n.containerState.status) !== 'missing');
  if (!node) return cancelled();
  return runCommand(
    services,
    'Restart node',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Restarting {0}…', node) }, async () => {
        const r = await restartNodeAction(actionContext(services), node);
        services.log.info(r.message);
        void vscode.window.setStatusBarMessage(r.message, 6000);
        return r;
      }),
    node,
  );
}
