// Promote Replica: pg_promote() on a running standby. When another node still accepts writes,
// a modal says this makes two primaries (split brain, Demo 6) and promotes only if asked to.
import * as vscode from 'vscode';
import { promoteReplica as promoteAction, type PromoteResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, skipsConfirmation, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

/** `options.confirm === false` skips the split-brain modal (our own code and tests only: see skipsConfirmation). */
export async function promoteReplica(services: Services, arg?: unknown, options: { confirm?: boolean } = {}): Promise<CommandOutcome<PromoteResult>> {
  const node = await targetNode(
    services,
    arg,
    t('Promote which replica?'),
    (n) => n !== 'pgbouncer' && n.containerState.status === 'running' && n.role !== 'primary',
    false,
  );
  if (!node) return cancelled();
  const s = services.monitor.current;
  const others = s?.nodes.filter((n) => n.role === 'primary' && n.key !== node && n.container !== node && n.service !== node) ?? [];
  if (others.length > 0 && !skipsConfirmation(options)) {
    const promote = t('Promote Anyway');
    const pick = await vscode.window.showWarningMessage(
      t('{0} still accepts writes.', others.map((o) => o.container).join(', ')),
      { modal: true, detail: t('Promoting {0} now gives two primaries: split brain. Stop or kill the current primary first (a failover), or promote anyway to watch split brain happen.', node) },
      promote,
    );
    if (pick !== promote) return cancelled();
  }
  return runCommand(
    services,
    'Promote replica',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Promoting {0}…', node) }, async () => {
        const r = await promoteAction(actionContext(services), node);
        services.log.info(r.message);
        void vscode.window.showInformationMessage(r.message);
        void services.monitor.refresh();
        return r;
      }),
    node,
  );
}
