// Fence Node: make sure a node cannot accept writes (stop, or kill). In a split brain (Demo 6) the
// node to fence is the old primary; fencing the only primary leaves no writable node: asked first.
import * as vscode from 'vscode';
import { fenceNode as fenceAction, type FenceMode } from '../core/fencing';
import type { ActionResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, isRunning, runCommand, skipsConfirmation, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function fenceNode(services: Services, arg?: unknown, args: { mode?: FenceMode; confirm?: boolean } = {}): Promise<CommandOutcome<ActionResult & { stillWritable: boolean }>> {
  const node = await targetNode(services, arg, t('Fence which node?'), (n, s) => n !== 'pgbouncer' && isRunning(n, s), false);
  if (!node) return cancelled();
  const s = services.monitor.current;
  const target = s?.nodes.find((n) => n.key === node || n.container === node || n.service === node);
  if (!skipsConfirmation(args) && s && target && s.writable.length === 1 && s.writable[0] === target.key) {
    const go = t('Fence Anyway');
    const pick = await vscode.window.showWarningMessage(t('{0} is the only primary.', target.container), { modal: true, detail: t('Fencing it leaves no node that accepts writes. Use Fail Over to promote a replica in the same step.') }, go);
    if (pick !== go) return cancelled();
  }
  return runCommand(
    services,
    'Fence node',
    async () => {
      const r = await fenceAction(actionContext(services), node, args.mode ?? 'stop');
      services.log.info(`Fenced: ${r.message}`);
      void vscode.window.setStatusBarMessage(r.message, 8000);
      void services.monitor.refresh();
      return r;
    },
    node,
  );
}
