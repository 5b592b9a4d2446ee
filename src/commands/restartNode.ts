// Restart Node: docker restart of one container (clean stop, then start); on an attached
// Patroni-managed cluster, Patroni restarts it (REST API) after a confirmation.
import * as vscode from 'vscode';
import { attachedToPatroni, restartAttachedPatroni, type AttachedPatroniResult } from '../attach/patroniCommands';
import { restartNode as restartNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

/** `options.confirm === false` skips the attached Patroni cluster's confirmation (our own code and tests only). */
export async function restartNode(services: Services, arg?: unknown, options: { confirm?: boolean } = {}): Promise<CommandOutcome<ActionResult | AttachedPatroniResult>> {
  const patroni = attachedToPatroni(services);
  const node = await targetNode(services, arg, t('Restart which node?'), (n, s) => (n === 'pgbouncer' ? s.pgbouncer.containerState.status : n.containerState.status) !== 'missing', !patroni);
  if (!node) return cancelled();
  if (patroni) return restartAttachedPatroni(services, node, options);
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
