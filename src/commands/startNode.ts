// Start Node: docker start of one stopped container (a stopped old primary comes back as it was:
// see Demo 6, split brain). A node fenced by a failover is not started as it is without a choice:
// rejoin it as a replica (recommended) or start it as it is, with the consequence said.
import * as vscode from 'vscode';
import { fenceConsequence, readFence } from '../core/fenceMarker';
import { startNode as startNodeAction, type ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, isStopped, runCommand, targetNode, type CommandOutcome } from './common';
import { FailoverCommands } from './failoverIds';

const t = vscode.l10n.t;

export async function startNode(services: Services, arg?: unknown): Promise<CommandOutcome<ActionResult>> {
  const node = await targetNode(services, arg, t('Start which node?'), isStopped);
  if (!node) return cancelled();
  const ctx = actionContext(services);
  const spec = services.topology().nodes.find((n) => n.key === node || n.service === node || n.container === node);
  const mark = spec ? await readFence(ctx, spec.key).catch(() => undefined) : undefined;
  let unfence = false;
  if (spec && mark) {
    const rejoin = t('Rejoin as Replica (Recommended)');
    const asItIs = t('Start As It Is');
    const pick = await vscode.window.showWarningMessage(
      t('{0} was fenced by a failover.', spec.container),
      { modal: true, detail: `${mark.reason}. ${fenceConsequence(spec.container)}` },
      rejoin,
      asItIs,
    );
    if (pick === rejoin) return (await vscode.commands.executeCommand(FailoverCommands.rejoinReplica, spec.key)) as CommandOutcome<ActionResult>;
    if (pick !== asItIs) return cancelled();
    unfence = true;
  }
  return runCommand(
    services,
    'Start node',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: t('Starting {0}…', node) }, async () => {
        const r = await startNodeAction(ctx, node, { unfence });
        services.log.info(r.message);
        void vscode.window.setStatusBarMessage(r.message, 6000);
        return r;
      }),
    node,
  );
}
