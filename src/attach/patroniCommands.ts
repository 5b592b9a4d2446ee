// Switchover and Restart on an attached Patroni-managed cluster: always confirmed (it is a real
// cluster), then asked of Patroni's REST API (src/core/patroni/attached.ts), which decides; under
// the cluster's operation lock like every changing command.
import * as vscode from 'vscode';
import { patroniUrlsOf, restartAttached, switchoverAttached } from '../core/patroni/attached';
import { holderOf, resolveNode } from '../core/nodeActions';
import { withOperationLock } from '../core/operationLock';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, skipsConfirmation, type CommandOutcome } from '../commands/common';

const t = vscode.l10n.t;

export interface AttachedPatroniResult {
  readonly node: string;
  readonly member: string;
  readonly message: string;
}

function nodeName(services: Services, node: string): string {
  const n = resolveNode(services.topology(), node);
  return n.kind === 'postgres' ? (n.spec.name ?? n.container) : n.container;
}

async function confirmed(message: string, detail: string, go: string, options: { confirm?: boolean }): Promise<boolean> {
  if (skipsConfirmation(options)) return true;
  return (await vscode.window.showWarningMessage(message, { modal: true, detail }, go)) === go;
}

/** True when the active cluster is an attached one that Patroni manages. */
export function attachedToPatroni(services: Services): boolean {
  return services.manager().kind === 'attached' && patroniUrlsOf(services.attached()?.patroniUrl).length > 0;
}

export async function switchoverAttachedPatroni(services: Services, node: string, options: { confirm?: boolean } = {}): Promise<CommandOutcome<AttachedPatroniResult>> {
  const profile = services.attached();
  const topo = services.topology();
  const key = resolveNode(topo, node).key;
  const name = nodeName(services, node);
  const go = t('Switch Over');
  if (!(await confirmed(t('Ask Patroni to switch the leader of {0} to {1}?', profile?.label ?? '', name), t("Patroni demotes the current leader and promotes {0} (POST /switchover): writes pause for a few seconds, and Patroni's own rules decide whether it goes ahead. Your applications follow only if they connect through Patroni's routing (HAProxy, a DNS or a virtual IP that follows the leader).", name), go, options))) return cancelled();
  return runCommand(services, 'Patroni switchover', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Patroni: switching over to {0}…', name) }, async () => {
      const ctx = actionContext(services);
      const r = await withOperationLock(ctx, { holder: holderOf(ctx), what: `Patroni switchover to ${name}`, nodes: [name] }, () => switchoverAttached(topo, patroniUrlsOf(profile?.patroniUrl), key));
      const message = t('Patroni switched the leader from {0} to {1}.', r.leader, r.candidate);
      services.log.info(`${message} (${r.message})`);
      void vscode.window.showInformationMessage(message);
      void services.monitor.refresh();
      return { node: key, member: r.candidate, message };
    }),
  node);
}

export async function restartAttachedPatroni(services: Services, node: string, options: { confirm?: boolean } = {}): Promise<CommandOutcome<AttachedPatroniResult>> {
  const profile = services.attached();
  const topo = services.topology();
  const key = resolveNode(topo, node).key;
  const name = nodeName(services, node);
  const go = t('Restart');
  if (!(await confirmed(t('Ask Patroni to restart PostgreSQL on {0} of {1}?', name, profile?.label ?? ''), t("Patroni stops and starts PostgreSQL on {0} (POST /restart on its own REST API). Its connections are cut; a leader stays the leader unless Patroni decides otherwise.", name), go, options))) return cancelled();
  return runCommand(services, 'Patroni restart', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Patroni: restarting {0}…', name) }, async () => {
      const ctx = actionContext(services);
      const r = await withOperationLock(ctx, { holder: holderOf(ctx), what: `Patroni restart of ${name}`, nodes: [name] }, () => restartAttached(topo, patroniUrlsOf(profile?.patroniUrl), key));
      const message = t('Patroni restarted PostgreSQL on {0}.', r.member);
      services.log.info(`${message} (${r.message})`);
      void vscode.window.showInformationMessage(message);
      void services.monitor.refresh();
      return { node: key, member: r.member, message };
    }),
  node);
}
