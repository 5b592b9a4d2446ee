// Fail Over: the one-click version of Demo 4. Picks the replica with the highest replay LSN (or the
// one you choose), fences the old primary (stop or kill: never two writable nodes), promotes,
// repoints the other replica and PgBouncer, and opens a report with the measured RTO and RPO (from
// the running write load's ledger).
import * as vscode from 'vscode';
import { failover, FailoverError, surveyCluster, type CandidateInfo, type FailoverResult, type FencingMode } from '../core/failover';
import type { SyncGuardRefusal } from '../core/syncGuard';
import { renderFailoverReport } from '../core/failoverReport';
import { formatBytes, formatLag } from '../core/format';
import type { Services } from '../services';
import { abortOn, actionContext, cancelled, nodeFromArg, runCommand, skipsConfirmation, type CommandOutcome } from './common';
import type { LoadSession } from './loadSession';
import { showReport } from './reportDocument';

const t = vscode.l10n.t;

export interface FailOverArgs {
  readonly candidate?: string;
  readonly fencing?: FencingMode;
  /** false: no confirmation modals (scripted use, tests); a lagging candidate is then refused. */
  readonly confirm?: boolean;
  /** Accept a candidate that lags more than 1 MB without asking. */
  readonly acceptLag?: boolean;
  /**
   * Accept losing acknowledged commits when the primary and its synchronous standby are both lost
   * (no survivor is proven to have them); without it the failover is refused, or asks when interactive.
   */
  readonly acceptDataLoss?: boolean;
  /** Open the report document (default true). */
  readonly openReport?: boolean;
}

export type FailOverValue = FailoverResult & { readonly report: string };

export async function failOver(services: Services, session: LoadSession, arg?: unknown, args: FailOverArgs = {}): Promise<CommandOutcome<FailOverValue>> {
  const interactive = !skipsConfirmation(args);
  let candidate = args.candidate ?? nodeFromArg(arg);
  let fencing = args.fencing;
  if (interactive && (!candidate || !fencing)) {
    const s = services.monitor.current ?? (await services.monitor.refresh());
    if (!candidate) {
      type Item = vscode.QuickPickItem & { c: string };
      const standbys = s.nodes.filter((n) => n.role === 'replica' || n.role === 'notStreaming' || n.role === 'cascadingReplica');
      const items: Item[] = [
        { label: `$(sparkle) ${t('Automatic')}`, description: t('highest replay LSN (recommended)'), detail: t('What Patroni and repmgr do: the replica that has the most WAL loses the least.'), c: 'auto' },
        ...standbys.map((n) => ({ label: n.container, description: `${n.role} · ${t('replay')} ${n.replayLsn ?? '?'}`, detail: n.lag ? t('lag {0}', formatLag(n.lag.bytes, n.lag.replayMs)) : undefined, c: n.key })),
      ];
      const pick = await vscode.window.showQuickPick(items, { title: t('Fail Over: promote which replica?') });
      if (!pick) return cancelled();
      candidate = pick.c;
    }
    if (!fencing) {
      const primaryUp = s.nodes.some((n) => n.role === 'primary');
      if (primaryUp) {
        type F = vscode.QuickPickItem & { f: FencingMode };
        const pick = await vscode.window.showQuickPick<F>(
          [
            { label: t('Stop the old primary'), description: t('clean shutdown'), detail: t('It sends its last WAL to the replicas first: nothing acknowledged is lost (a planned failover).'), f: 'stop' },
            { label: t('Kill the old primary'), description: t('crash, like a power loss'), detail: t('SIGKILL: what the replicas had not received yet is lost (RPO > 0 with asynchronous replication).'), f: 'kill' },
          ],
          { title: t('Fail Over: how to fence the old primary?') },
        );
        if (!pick) return cancelled();
        fencing = pick.f;
      } else fencing = 'stop';
    }
  }
  const ledger = session.current?.ledger ?? undefined;
  const gen = session.current;
  let stoppedAt = '';
  const out = await runCommand(services, 'Fail over', () =>
    vscode.window.withProgress<FailOverValue | undefined>({ location: vscode.ProgressLocation.Notification, title: t('Failing over…'), cancellable: true }, async (progress, token) => {
      const ctx = { ...actionContext(services), log: (m: string) => services.log.info(m) };
      const signal = abortOn(token);
      let result: FailoverResult;
      try {
        result = await failover(ctx, {
          signal,
          candidate: candidate ?? 'auto',
          fencing: fencing ?? 'stop',
          ledger,
          loadRunning: () => gen !== undefined && gen.progress.state === 'running',
          onStep: (st) => progress.report({ message: `${st.name}: ${st.message}` }),
          confirmLag: async (c: CandidateInfo) => {
            if (args.acceptLag && !interactive) return true;
            if (!interactive) return false;
            const go = t('Promote Anyway');
            const pick = await vscode.window.showWarningMessage(
              t('{0} is {1} behind.', c.service, formatBytes(c.behindBytes)),
              { modal: true, detail: t('Promoting it loses the writes it has not replayed (more than 1 MB). Wait until it catches up, pick another replica, or promote it anyway.') },
              go,
            );
            return pick === go;
          },
          acceptDataLoss: args.acceptDataLoss === true,
          confirmDataLoss: async (r: SyncGuardRefusal) => {
            if (!interactive) return false;
            const go = t('Accept Data Loss and Promote');
            const pick = await vscode.window.showWarningMessage(
              t('The primary and its synchronous standby {0} are both lost.', r.lost.join(', ')),
              {
                modal: true,
                detail: t(
                  'Every acknowledged commit waited for {0} (synchronous_standby_names = {1}). {2} did not have to confirm them and may miss some: promoting it can lose acknowledged writes for good. Bring {0} back (Start Node) and fail over again to lose nothing, or accept the data loss.',
                  r.lost.join(', '),
                  r.requirement.value,
                  r.survivors.join(', ') || t('No other standby'),
                ),
              },
              go,
            );
            return pick === go;
          },
        });
      } catch (e) {
        if (e instanceof FailoverError && e.problem === 'cancelled') {
          stoppedAt = e.message;
          services.log.info(e.message);
          void vscode.window.showInformationMessage(e.message);
          return undefined;
        }
        if (e instanceof FailoverError) {
          const state = e.state === 'unchanged' ? t('Nothing was changed.') : e.state;
          throw new Error(e.message.includes(e.state) || e.state === 'unchanged' ? `${e.message} ${e.state === 'unchanged' ? state : ''}`.trim() : `${e.message} ${state}`);
        }
        throw e;
      }
      if (signal.aborted) services.log.info('Fail over: Cancel came after the promotion; the failover was finished (stopping half-way would leave no primary).');
      const report = renderFailoverReport(result);
      await showReport(services, report, args.openReport ?? true);
      const rto = result.rto ? t('RTO {0} s', (result.rto.ms / 1000).toFixed(1)) : t('RTO not measured (no load running)');
      const rpo = result.rpo ? t('{0} acknowledged writes lost', result.rpo.lostWrites) : '';
      void vscode.window.showInformationMessage(t('{0} is the new primary. {1}{2}', result.newPrimary.container, rto, rpo ? `, ${rpo}` : ''));
      void services.monitor.refresh();
      return { ...result, report };
    }),
  );
  return out.ok && !out.value ? cancelled(stoppedAt) : (out as CommandOutcome<FailOverValue>);
}

/** For the walkthrough/tests: is there a replica that could take over right now? */
export async function canFailOver(services: Services): Promise<boolean> {
  const s = await surveyCluster(actionContext(services));
  return s.nodes.some((n) => n.role === 'replica' || n.role === 'notStreaming');
}
