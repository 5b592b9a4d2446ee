// Split brain (Demo 6): as soon as the monitor sees two writable nodes (one monitor round), a modal
// names both, says which one is the old primary and offers to fence it or rejoin it as a replica.
// Once per split brain: the warning comes back only after the condition cleared and came again.
// It is the only prompt a split brain raises (the cluster view's alert notifications leave it out),
// and none while a cluster operation runs (Demo 6 makes one on purpose and resolves it itself).
import * as vscode from 'vscode';
import { splitBrainAdvice } from '../core/fencing';
import { readOperationLock } from '../core/operationLock';
import type { ClusterStatus } from '../core/status';
import type { Services } from '../services';
import { confirmedByUser } from './common';
import { FailoverCommands } from './failoverIds';

const t = vscode.l10n.t;

export function watchSplitBrain(services: Services): vscode.Disposable {
  let shown: string | undefined;
  const onStatus = (s: ClusterStatus) => {
    const alert = s.alerts.find((a) => a.kind === 'splitBrain');
    if (!alert) {
      shown = undefined;
      return;
    }
    if (shown === alert.id) return;
    if (!services.manager().usesDocker) {
      // An attached cluster: fencing and rejoining go through the workshop's containers, so only say it.
      shown = alert.id;
      services.log.error(alert.message);
      void vscode.window.showErrorMessage(`${t('Split brain')}: ${alert.message}`);
      return;
    }
    shown = alert.id;
    const advice = splitBrainAdvice(s);
    const names = s.writable.map((k) => s.nodes.find((n) => n.key === k)!.container);
    services.log.error(alert.message);
    if (!advice) return;
    void prompt(s, advice, names);
  };
  const prompt = async (s: ClusterStatus, advice: NonNullable<ReturnType<typeof splitBrainAdvice>>, names: string[]) => {
    // An operation that runs now (Demo 6 shows a split brain on purpose and resolves it) owns the
    // situation: a prompt would only offer a second fence or rejoin that the lock refuses.
    const running = await readOperationLock({ topology: services.topology(), containers: services.containers() }).catch(() => undefined);
    if (running) {
      services.log.info(`Split brain while "${running.what}" runs (${running.holder}): no prompt, the operation handles it.`);
      shown = undefined; // looked at again on the next status: prompt then if it outlives the operation
      return;
    }
    const fenceName = s.nodes.find((n) => n.key === advice.fence)!.container;
    const fence = t('Fence {0}', fenceName);
    const rejoin = t('Rejoin {0} as Replica', fenceName);
    void vscode.window
      .showErrorMessage(
        t('Split brain: {0} and {1} both accept writes.', names[0], names.slice(1).join(', ')),
        { modal: true, detail: t('Writes to the two nodes diverge and cannot be merged. {0} is the old primary: {1}. Fence it now (stop it), then rejoin it as a replica (pg_rewind).', fenceName, advice.reason) },
        fence,
        rejoin,
      )
      .then((pick) => {
        if (pick === fence) void vscode.commands.executeCommand(FailoverCommands.fenceNode, advice.fence, confirmedByUser({}));
        else if (pick === rejoin) void vscode.commands.executeCommand(FailoverCommands.rejoinReplica, advice.fence);
      });
  };
  if (services.monitor.current) onStatus(services.monitor.current);
  return services.monitor.onDidChange(onStatus);
}
