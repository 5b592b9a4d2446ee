// Promote Replica: pg_promote() on a running standby. When another node still accepts writes,
// a modal says this makes two primaries (split brain, Demo 6) and promotes only if asked to.
import * as vscode from 'vscode';
import { withNodeClient } from '../core/connection';
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
 * repointing). Always confirmed: it is a real cluster, only the user knows nobody else writes to it.
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
        const started = Date.now();
        const timeline = await withNodeClient(
          topo,
          target.hostPort,
          async (c) => {
            const r = await c.query<{ promoted: boolean }>('SELECT pg_promote(true, 60) AS promoted');
            if (!r.rows[0]?.promoted) throw new Error(t('{0} did not finish promoting within 60 s: look at its server log.', node));
            const tl = await c.query<{ tl: number }>('SELECT timeline_id AS tl FROM pg_control_checkpoint()');
            return tl.rows[0]?.tl ?? 0;
          },
          { host: target.spec.host, connectTimeoutMs: 10_000, queryTimeoutMs: 90_000, applicationName: 'pg-ha-workshop promote' },
        );
        const message = t('{0} promoted (pg_promote).', target.spec.name ?? target.container);
        services.log.info(message);
        void vscode.window.showInformationMessage(message);
        void services.monitor.refresh();
        return { node: target.key, container: target.container, changed: true, tookMs: Date.now() - started, timeline, message };
      }),
    node,
  );
}
