// Switchover: planned, no loss. Waits until the chosen replica replayed everything, stops the
// primary cleanly, promotes the replica, repoints the rest and rejoins the old primary as a replica.
import * as vscode from 'vscode';
import { attachedToPatroni, switchoverAttachedPatroni, type AttachedPatroniResult } from '../attach/patroniCommands';
import { FailoverError } from '../core/failover';
import { renderFailoverReport } from '../core/failoverReport';
import { switchover, type SwitchoverResult } from '../core/switchover';
import type { Services } from '../services';
import { abortOn, actionContext, cancelled, nodeFromArg, pickNode, runCommand, skipsConfirmation, type CommandOutcome } from './common';
import type { LoadSession } from './loadSession';
import { showReport } from './reportDocument';

const t = vscode.l10n.t;

export async function switchoverPrimary(services: Services, session: LoadSession, arg?: unknown, args: { candidate?: string; confirm?: boolean; openReport?: boolean } = {}): Promise<CommandOutcome<(SwitchoverResult & { report: string }) | AttachedPatroniResult>> {
  const candidate = args.candidate ?? nodeFromArg(arg) ?? (await pickNode(services, t('Switchover: which replica becomes the primary?'), (n) => n !== 'pgbouncer' && n.role === 'replica', false));
  if (!candidate) return cancelled();
  // Patroni manages the attached cluster: it does the switchover itself (REST API).
  if (attachedToPatroni(services)) return switchoverAttachedPatroni(services, candidate, args);
  if (!skipsConfirmation(args)) {
    const go = t('Switch Over');
    const pick = await vscode.window.showInformationMessage(
      t('Switch the primary role to {0}?', candidate),
      {
        modal: true,
        detail: t(
          'Planned and without loss: it waits until {0} has replayed everything, stops the primary cleanly, promotes {0}, repoints the other replica and PgBouncer, then rejoins the old primary as a replica. Writes pause for a few seconds. If pg_rewind cannot rejoin the old primary (its WAL since the fork is gone, or it is not a clean copy), its data directory is wiped and re-cloned from {0} with pg_basebackup.',
          candidate,
        ),
      },
      go,
    );
    if (pick !== go) return cancelled();
  }
  const gen = session.current;
  return runCommand(services, 'Switchover', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Switching over to {0}…', candidate), cancellable: true }, async (progress, token) => {
      const ctx = { ...actionContext(services), log: (m: string) => services.log.info(m) };
      let r: SwitchoverResult;
      try {
        r = await switchover(ctx, {
          signal: abortOn(token),
          candidate,
          ledger: gen?.ledger,
          loadRunning: () => gen !== undefined && gen.progress.state === 'running',
          onStep: (st) => progress.report({ message: `${st.name}: ${st.message}` }),
          onRejoinStep: (m) => progress.report({ message: t('rejoin: {0}', m) }),
        });
      } catch (e) {
        if (e instanceof FailoverError) throw new Error(`${e.message}${e.state === 'unchanged' ? ' ' + t('Nothing was changed.') : ''}`);
        throw e;
      }
      const report = renderFailoverReport(r.failover, { rejoin: r.rejoin, rejoinError: r.rejoinError });
      await showReport(services, report, args.openReport ?? true);
      if (r.rejoinError) void vscode.window.showWarningMessage(t('{0} is the new primary, but the old primary did not rejoin: {1}', r.failover.newPrimary.container, r.rejoinError));
      else void vscode.window.showInformationMessage(t('Switchover done: {0} is the primary, {1} is a replica.', r.failover.newPrimary.container, r.failover.oldPrimary?.container ?? '?'));
      void services.monitor.refresh();
      return { ...r, report };
    }),
  );
}
