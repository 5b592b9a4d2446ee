// Registers the cluster commands (one file per action, named verb + noun). Each returns a
// CommandOutcome so the walkthrough and the tests can tell success from refusal; none rejects.
import * as vscode from 'vscode';
import type { Services } from '../services';
import type { ClusterOperation, NodeOperation } from '../core/clusterManager';
import { allowScriptedConfirmations, ClusterCommands, optionsFromArgs, requiringOperation, requiringTrust } from './common';
import { copyConnectionString } from './copyConnectionString';
import { killNode } from './killNode';
import { openPsql } from './openPsql';
import { promoteReplica } from './promoteReplica';
import { refreshCluster } from './refreshCluster';
import { resetCluster } from './resetCluster';
import { restartNode } from './restartNode';
import { LOG_SCHEME, NodeLogProvider, showNodeLogs } from './showNodeLogs';
import { startCluster } from './startCluster';
import { startNode } from './startNode';
import { stopCluster } from './stopCluster';
import { stopNode } from './stopNode';

export { ClusterCommands } from './common';

export function registerClusterCommands(context: vscode.ExtensionContext, services: Services): void {
  allowScriptedConfirmations(context.extensionMode);
  const logs = new NodeLogProvider(services);
  // Read-only commands (refresh, logs, connection string) work untrusted; the rest need trust.
  const readOnly: ReadonlySet<string> = new Set([ClusterCommands.refresh, ClusterCommands.showNodeLogs, ClusterCommands.copyConnectionString]);
  // What each command needs from the active cluster's manager (an attached cluster may allow none of it).
  const needs: Readonly<Record<string, NodeOperation | ClusterOperation>> = {
    [ClusterCommands.startCluster]: 'create',
    [ClusterCommands.stopCluster]: 'destroy',
    [ClusterCommands.resetCluster]: 'reset',
    [ClusterCommands.stopNode]: 'stop',
    [ClusterCommands.startNode]: 'start',
    [ClusterCommands.restartNode]: 'restart',
    [ClusterCommands.killNode]: 'kill',
    [ClusterCommands.promoteReplica]: 'promote',
    [ClusterCommands.openPsql]: 'psql',
    [ClusterCommands.showNodeLogs]: 'logs',
    [ClusterCommands.copyConnectionString]: 'copyConnection',
  };
  const reg = (id: string, f: (...args: unknown[]) => unknown) => {
    const guarded = needs[id] ? requiringOperation(services, needs[id], f) : f;
    context.subscriptions.push(vscode.commands.registerCommand(id, readOnly.has(id) ? guarded : requiringTrust(guarded)));
  };
  context.subscriptions.push(logs, vscode.workspace.registerTextDocumentContentProvider(LOG_SCHEME, logs));
  reg(ClusterCommands.startCluster, () => startCluster(services));
  reg(ClusterCommands.stopCluster, () => stopCluster(services));
  reg(ClusterCommands.resetCluster, (...a) => resetCluster(services, optionsFromArgs(a)));
  reg(ClusterCommands.refresh, () => refreshCluster(services));
  reg(ClusterCommands.stopNode, (a) => stopNode(services, a));
  reg(ClusterCommands.startNode, (a) => startNode(services, a));
  reg(ClusterCommands.restartNode, (a, ...rest) => restartNode(services, a, optionsFromArgs(rest)));
  reg(ClusterCommands.killNode, (a) => killNode(services, a));
  reg(ClusterCommands.promoteReplica, (a, ...rest) => promoteReplica(services, a, optionsFromArgs(rest)));
  reg(ClusterCommands.openPsql, (a) => openPsql(services, a));
  reg(ClusterCommands.showNodeLogs, (a) => showNodeLogs(services, logs, a));
  reg(ClusterCommands.copyConnectionString, (a) => copyConnectionString(services, a));
}
