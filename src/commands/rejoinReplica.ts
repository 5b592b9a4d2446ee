// Rejoin as Replica: an old primary (or a diverged node) follows the current primary again.
// pg_rewind first; when it cannot run, the reason is shown with a "Fresh Clone" button.
import * as vscode from 'vscode';
import { rejoinAsReplica, RejoinError, type RejoinMethod, type RejoinResult } from '../core/rejoin';
import type { Services } from '../services';
import { abortOn, actionContext, cancelled, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function rejoinReplica(services: Services, arg?: unknown, args: { method?: RejoinMethod; confirm?: boolean } = {}): Promise<CommandOutcome<RejoinResult>> {
  const node = await targetNode(services, arg, t('Rejoin which node as a replica?'), (n, s) => n !== 'pgbouncer' && n.key !== s.primary && n.containerState.status !== 'missing', false);
  if (!node) return cancelled();
  const run = (method: RejoinMethod) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: method === 'clone' ? t('Fresh clone of {0}…', node) : t('Rejoining {0} (pg_rewind)…', node), cancellable: true }, async (progress, token) =>
      rejoinAsReplica({ ...actionContext(services), log: (m) => services.log.info(m) }, node, { method, signal: abortOn(token), onStep: (m) => progress.report({ message: m }) }),
    );
  const method = args.method ?? 'rewind';
  try {
    const r = await run(method);
    services.log.info(r.output);
    void vscode.window.showInformationMessage(r.message);
    void services.monitor.refresh();
    return { ok: true, value: r };
  } catch (e) {
    if (e instanceof RejoinError && e.problem === 'cancelled') {
      services.log.info(e.message);
      void vscode.window.showInformationMessage(e.message);
      return cancelled(e.message);
    }
    if (e instanceof RejoinError && e.problem === 'rewindImpossible') {
      services.log.warn(`pg_rewind output:\n${e.output ?? ''}`);
      if (args.confirm === false) return { ok: false, message: e.message }; // refusing the clone is the safe side: no check needed
      const clone = t('Fresh Clone');
      const pick = await vscode.window.showErrorMessage(e.message, { modal: true, detail: t('A fresh clone empties the data directory of {0} and copies the current primary with pg_basebackup.', node) }, clone);
      if (pick !== clone) return cancelled();
      return runCommand(services, 'Fresh clone', async () => {
        const r = await run('clone');
        void vscode.window.showInformationMessage(r.message);
        void services.monitor.refresh();
        return r;
      }, node);
    }
    return runCommand(services, 'Rejoin as replica', () => Promise.reject(e), node);
  }
}
