// Promote Replica: pg_promote() on a running standby. When another node still accepts writes,
// a modal says this makes two primaries (split brain, Demo 6) and promotes only if asked to.
import * as vscode from 'vscode';
import { promoteReplica as promoteAction, resolveNode, type PromoteResult } from '../core/nodeActions';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, skipsConfirmation, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

/** `options.confirm === false` skips the split-brain modal (our own code and tests only: see skipsConfirmation). */
export async function promoteReplica(services: Services, arg?: unknown, options: { confirm?: boolean } = {}): Promise<CommandOutcome<PromoteResult>> {
  const node = await targetNode(
    services,
    arg,
    t('Promote which replica?'),
    (n) => n !== 'pgbouncer' && (n.containerState.status === 'running' || n.containerState.status === 'external') && n.role !== 'primary',
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
  if (services.manager().kind === 'attached') return promoteAttached(services, node, options);
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

/**
 * An attached lab cluster: pg_promote() over SQL, nothing else (no containers, no fencing, no
 * repointing), under the operation lock like every changing command. Always confirmed: it is a
 * real cluster, only the user knows nobody else writes to it.
 */
async function promoteAttached(services: Services, node: string, options: { confirm?: boolean }): Promise<CommandOutcome<PromoteResult>> {
  const topo = services.topology();
  const target = resolveNode(topo, node);
  if (target.kind !== 'postgres') return { ok: false, message: t('Only a PostgreSQL node can be promoted.') };
  if (!skipsConfirmation(options)) {
    const promote = t('Promote');
    const pick = await vscode.window.showWarningMessage(
      t('Promote {0} of the attached cluster {1}?', target.spec.name ?? target.container, services.attached()?.label ?? ''),
      { modal: true, detail: t('pg_promote() makes it accept writes on a new timeline. Its standbys, PgBouncer and your applications are not repointed, and the old primary is not stopped: do that yourself, or two primaries will take writes.') },
      promote,
    );
    if (pick !== promote) return cancelled();
  }
  return runCommand(
    services,
    'Promote replica',
    () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Promoting {0}…', node) }, async (): Promise<PromoteResult> => {
        // The same promote as the workshop's cluster, under the cluster's operation lock (kept in the
        // attached cluster itself): a second operation from any window is refused while it runs.
        const r = await promoteAction(actionContext(services), target.key);
        const message = t('{0} promoted (pg_promote).', target.spec.name ?? target.container);
        services.log.info(`${message} ${r.message}`);
        void vscode.window.showInformationMessage(message);
        void services.monitor.refresh();
        return r;
      }),
    node,
  );
}
