// The backups feature (Demo 9, "Replication != Backup"): Take Base Backup, Dump Database, Restore
// to Point in Time, Remove Restored Node, and the state the cluster view shows under "Backups".
// Every command resolves to a CommandOutcome (tests read it) and never rejects.
// When the cluster gets an operation lock, pass it as BackupContext.lock in BackupState.context().
import * as vscode from 'vscode';
import { optionsFromArgs } from '../commands/common';
import type { Services } from '../services';
import { dumpDatabase } from './dumpDatabase';
import { BackupCommands } from './ids';
import { removeRestoredNode } from './removeRestoredNode';
import { restoreToPointInTime } from './restoreToPointInTime';
import { BackupState } from './state';
import { takeBaseBackup } from './takeBaseBackup';

export { BackupCommands } from './ids';

export function registerBackups(context: vscode.ExtensionContext, services: Services): void {
  const state = new BackupState(services);
  services.backups = state;
  const reg = (id: string, f: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));
  context.subscriptions.push(
    state,
    services.monitor.onDidChange((s) => state.maybeRefresh(s.nodes.some((n) => n.containerState.status === 'running'))),
  );
  reg(BackupCommands.takeBaseBackup, () => takeBaseBackup(services, state));
  reg(BackupCommands.dumpDatabase, (...a) => dumpDatabase(services, state, optionsFromArgs(a) as { database?: string }));
  reg(BackupCommands.restoreToPointInTime, (...a) => restoreToPointInTime(services, state, optionsFromArgs(a)));
  reg(BackupCommands.removeRestoredNode, (a, ...rest) => removeRestoredNode(services, state, a, optionsFromArgs(rest) as { confirm?: boolean }));
  reg(BackupCommands.refreshBackups, () => state.refresh());
}
