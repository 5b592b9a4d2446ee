// Registers the write-load, failover, switchover, fencing, rejoin and synchronous-replication
// commands (one file per action), the load's status bar item and the split-brain warning.
// Every command resolves to a CommandOutcome (walkthrough and tests read it); none rejects.
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ClusterOperation, NodeOperation } from '../core/clusterManager';
import { optionsFromArgs, requiringOperation, requiringTrust } from './common';
import { failOver } from './failOver';
import { FailoverCommands } from './failoverIds';
import { fenceNode } from './fenceNode';
import { LoadSession } from './loadSession';
import { rejoinReplica } from './rejoinReplica';
import { lastFailoverReport, showReport } from './reportDocument';
import { setSynchronousReplication } from './setSynchronousReplication';
import { watchSplitBrain } from './splitBrainWatcher';
import { startLoad } from './startLoad';
import { stopLoad } from './stopLoad';
import { switchoverPrimary } from './switchoverPrimary';

export { FailoverCommands } from './failoverIds';

const t = vscode.l10n.t;

export function registerFailoverCommands(context: vscode.ExtensionContext, services: Services): void {
  const session = new LoadSession();
  services.loadSession = session;
  const readOnly: ReadonlySet<string> = new Set([FailoverCommands.stopLoad, FailoverCommands.showFailoverReport]);
  const needs: Readonly<Record<string, NodeOperation | ClusterOperation>> = {
    [FailoverCommands.startLoad]: 'load',
    [FailoverCommands.failOver]: 'failover',
    [FailoverCommands.switchover]: 'switchover',
    [FailoverCommands.fenceNode]: 'fence',
    [FailoverCommands.rejoinReplica]: 'rejoin',
    [FailoverCommands.setSynchronousReplication]: 'syncReplication',
  };
  const reg = (id: string, f: (...args: unknown[]) => unknown) => {
    const guarded = needs[id] ? requiringOperation(services, needs[id], f) : f;
    context.subscriptions.push(vscode.commands.registerCommand(id, readOnly.has(id) ? guarded : requiringTrust(guarded)));
  };
  context.subscriptions.push(session, watchSplitBrain(services));
  reg(FailoverCommands.startLoad, (...a) => startLoad(services, session, optionsFromArgs(a)));
  reg(FailoverCommands.stopLoad, () => stopLoad(services, session));
  reg(FailoverCommands.failOver, (a, ...rest) => failOver(services, session, a && typeof a === 'object' && !('kind' in a) ? undefined : a, optionsFromArgs([a, ...rest])));
  reg(FailoverCommands.switchover, (a, ...rest) => switchoverPrimary(services, session, a && typeof a === 'object' && !('kind' in a) ? undefined : a, optionsFromArgs([a, ...rest])));
  reg(FailoverCommands.fenceNode, (a, ...rest) => fenceNode(services, a, optionsFromArgs(rest)));
  reg(FailoverCommands.rejoinReplica, (a, ...rest) => rejoinReplica(services, a, optionsFromArgs(rest)));
  reg(FailoverCommands.setSynchronousReplication, (...a) => setSynchronousReplication(services, a.length && a[0] && typeof a[0] === 'object' ? (optionsFromArgs(a) as never) : undefined));
  reg(FailoverCommands.showFailoverReport, async () => {
    const r = lastFailoverReport();
    if (!r) {
      void vscode.window.showInformationMessage(t('No failover has run in this window yet.'));
      return { ok: false, message: t('No failover has run in this window yet.') };
    }
    await showReport(services, r);
    return { ok: true, value: r };
  });
}
