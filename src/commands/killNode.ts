// Kill Node: SIGKILL, a crash (no shutdown checkpoint; PostgreSQL runs crash recovery on start).
import * as vscode from 'vscode';
import { killNode as killNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, isRunning, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function killNode(services: Services, arg?: unknown): Promise<CommandOutcome<ActionResult>> {
  const node = await targetNode(services, arg, t('Kill (crash) which node?'), isRunning);
  if (!node) return cancelled();
  return runCommand(
    services,
    'Kill node',
    async () => {
      const r = await killNodeAction(actionContext(services), node);
      services.log.info(r.message);
      void vscode.window.setStatusBarMessage(r.message, 6000);
      return r;
    },
    node,
  );
}
