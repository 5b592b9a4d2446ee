// The workshop's five exercises as commands (PG HA Workshop: Exercise N …): set up, check, undo
// for each, plus the extra step of each lab (measure latency, recover a deleted row). Thin: every
// command calls src/core/labs and turns a LabError into a message that says what to do; a lab
// refused because the topology is not the standard one offers to reset the cluster.
import * as vscode from 'vscode';
import { processHolder, withOperationLock } from '../core/operationLock';
import { AutoFailoverWatcher, DEFAULT_AUTO_FAILOVER, validateAutoFailoverSettings, type AutoFailoverSettings } from '../core/autoFailover';
import { renderFailoverReport } from '../core/failoverReport';
import { checkCascade, setupCascade, undoCascade, type LabResult } from '../core/labs/cascade';
import { requiringTrust } from '../commands/common';
import { LabError, standardTopologyProblems, surveyCluster, type LabCheck, type LabContext } from '../core/labs/common';
import { checkDelayed, copyRowsToPrimary, DEFAULT_DELAY, parseDelay, pauseReplay, readRowsFromDelayed, resumeReplay, setupDelayed, undoDelayed } from '../core/labs/delayed';
import { measureSyncLatency, WORKSHOP_SYNC_CONFIG } from '../core/labs/syncLatency';
import { setSynchronousReplication } from '../core/syncReplication';
import { formatDuration } from '../core/format';
import type { Services } from '../services';

const t = vscode.l10n.t;
const RESET = 'pgHaWorkshop.resetCluster';

function labContext(services: Services): LabContext {
  return { topology: services.topology(), containers: services.containers(), log: (m) => services.log.info(m), holder: processHolder('VS Code window') };
}

async function report(services: Services, e: unknown): Promise<void> {
  const message = e instanceof Error ? e.message : String(e);
  services.log.warn(message);
  if (e instanceof LabError && e.problem === 'notStandard') {
    const reset = t('Reset Cluster');
    if ((await vscode.window.showWarningMessage(message, reset)) === reset) await vscode.commands.executeCommand(RESET);
  } else if (e instanceof LabError && (e.problem === 'alreadyUndone' || e.problem === 'cancelled')) {
    void vscode.window.showInformationMessage(message);
  } else {
    void vscode.window.showErrorMessage(message);
  }
}

async function run<T>(services: Services, title: string, f: (ctx: LabContext) => Promise<T>): Promise<T | undefined> {
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_progress, token) => {
      // Cancel stops the lab at its next safe point (src/core/labs: stopIfCancelled), which says where the cluster is.
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      const c: LabContext = { ...labContext(services), signal: abort.signal };
      return withOperationLock(c, { holder: c.holder ?? processHolder('VS Code window'), what: title, signal: abort.signal }, () => f(c));
    });
  } catch (e) {
    await report(services, e);
    return undefined;
  }
}

function showCheck(services: Services, c: LabCheck): LabCheck {
  services.log.info(`${c.ok ? '✓' : '✗'} ${c.summary}\n${c.items.map((i) => `  ${i.ok ? '✓' : '✗'} ${i.label}: ${i.detail}`).join('\n')}`);
  if (c.ok) void vscode.window.showInformationMessage(`✓ ${c.summary}`);
  else void vscode.window.showWarningMessage(`✗ ${c.summary}`);
  return c;
}

const done = (r: LabResult | undefined) => {
  if (r) void vscode.window.showInformationMessage(r.message);
  return r;
};

function autoFailoverSettings(): { enabled: boolean; settings: AutoFailoverSettings } {
  const c = vscode.workspace.getConfiguration('pgHaWorkshop.autoFailover');
  return {
    enabled: c.get<boolean>('enabled', false),
    settings: {
      ...DEFAULT_AUTO_FAILOVER,
      probeIntervalMs: c.get<number>('probeIntervalMs', DEFAULT_AUTO_FAILOVER.probeIntervalMs),
      failuresToTrigger: c.get<number>('failedProbes', DEFAULT_AUTO_FAILOVER.failuresToTrigger),
      windowMs: c.get<number>('windowMs', DEFAULT_AUTO_FAILOVER.windowMs),
      fencing: c.get<'kill' | 'stop'>('fencing', DEFAULT_AUTO_FAILOVER.fencing),
    },
  };
}

export function registerLabs(context: vscode.ExtensionContext, services: Services): void {
  const reg = (id: string, f: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, requiringTrust(f)));

  // Exercise 1: synchronous replication (the sync-replication core), and its latency cost.
  reg('pgHaWorkshop.lab.sync.setup', () =>
    run(services, t('Exercise 1: synchronous replication to postgres-replica1 (remote_apply)…'), async (ctx) => {
      const s = await surveyCluster(ctx);
      const problems = standardTopologyProblems(s);
      if (problems.length) throw new LabError(t('Exercise 1 starts from the standard topology, but {0}. Undo the other lab first, or reset the cluster.', problems.join('; ')), 'notStandard');
      const st = await setSynchronousReplication(ctx, WORKSHOP_SYNC_CONFIG);
      void vscode.window.showInformationMessage(t("Synchronous: synchronous_standby_names = '{0}', synchronous_commit = {1}. Measure the latency difference next.", st.synchronousStandbyNames, st.synchronousCommit));
      return st;
    }),
  );
  reg('pgHaWorkshop.lab.sync.measure', () =>
    run(services, t('Exercise 1: measuring write latency, asynchronous vs synchronous (about 20 s)…'), async (ctx) => {
      const r = await measureSyncLatency(ctx, { rounds: 3, secondsPerRound: 3, onRound: (m, i, p50) => services.log.info(`round ${i} ${m}: p50 ${p50.toFixed(2)} ms`) });
      services.log.info(r.message);
      void vscode.window.showInformationMessage(r.message);
      return r;
    }),
  );
  reg('pgHaWorkshop.lab.sync.check', () =>
    run(services, t('Exercise 1: checking…'), async (ctx) => {
      const s = await surveyCluster(ctx);
      const p = s.nodes.find((n) => n.key === s.primary);
      const row = p?.downstream.find((r) => r.applicationName === 'postgres-replica1');
      return showCheck(services, {
        ok: !!p?.synchronousStandbyNames && row?.syncState === 'sync',
        summary: p?.synchronousStandbyNames ? t("synchronous_standby_names = '{0}'; postgres-replica1 is {1}.", p.synchronousStandbyNames, row?.syncState ?? t('not streaming')) : t('The primary replicates asynchronously: set up Exercise 1 first.'),
        items: [],
      });
    }),
  );
  reg('pgHaWorkshop.lab.sync.undo', () =>
    run(services, t('Exercise 1: back to asynchronous replication…'), async (ctx) => {
      const s = await surveyCluster(ctx);
      const p = s.nodes.find((n) => n.key === s.primary);
      if (p && !p.synchronousStandbyNames) throw new LabError(t('Exercise 1 is already undone: the primary replicates asynchronously. Nothing was changed.'), 'alreadyUndone');
      await setSynchronousReplication(ctx, { method: 'async', commit: 'on' });
      void vscode.window.showInformationMessage(t('Asynchronous replication again (synchronous_standby_names is empty).'));
    }),
  );

  // Exercise 2: cascading replication.
  reg('pgHaWorkshop.lab.cascade.setup', () => run(services, t('Exercise 2: replica2 streams from replica1…'), setupCascade).then(done));
  reg('pgHaWorkshop.lab.cascade.check', () => run(services, t('Exercise 2: checking…'), async (ctx) => showCheck(services, checkCascade(await surveyCluster(ctx)))));
  reg('pgHaWorkshop.lab.cascade.undo', () => run(services, t('Exercise 2: replica2 back to the primary…'), undoCascade).then(done));

  // Exercise 3: delayed replica and the guided recovery.
  reg('pgHaWorkshop.lab.delayed.setup', async (arg?: unknown) => {
    const delay =
      typeof arg === 'string'
        ? arg
        : await vscode.window.showInputBox({
            title: t('Exercise 3: delayed replica'),
            prompt: t('How long postgres-replica2 waits before applying each commit (recovery_min_apply_delay)'),
            value: DEFAULT_DELAY,
            validateInput: (v) => {
              try {
                parseDelay(v);
                return undefined;
              } catch (e) {
                return e instanceof Error ? e.message : String(e);
              }
            },
          });
    if (delay === undefined) return undefined;
    return run(services, t('Exercise 3: setting the apply delay…'), (ctx) => setupDelayed(ctx, delay)).then(done);
  });
  reg('pgHaWorkshop.lab.delayed.check', () => run(services, t('Exercise 3: checking…'), async (ctx) => showCheck(services, checkDelayed(await surveyCluster(ctx)))));
  reg('pgHaWorkshop.lab.delayed.undo', () => run(services, t('Exercise 3: removing the apply delay…'), undoDelayed).then(done));
  reg('pgHaWorkshop.lab.delayed.recover', async () => {
    const ctx = labContext(services);
    const table = await vscode.window.showInputBox({ title: t('Recover from the delayed replica (1/2)'), prompt: t('Table the rows were deleted from'), value: 'users' });
    if (table === undefined) return;
    const where = await vscode.window.showInputBox({ title: t('Recover from the delayed replica (2/2)'), prompt: t('Which rows (a SQL condition), e.g. id = 42'), placeHolder: 'id = 42' });
    if (where === undefined) return;
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Pausing replay on postgres-replica2…') }, () => pauseReplay(ctx));
      const rows = await readRowsFromDelayed(ctx, table, where);
      if (rows.length === 0) {
        await resumeReplay(ctx);
        void vscode.window.showWarningMessage(t('postgres-replica2 has no {0} rows where {1}: the delay may have run out before replay was paused. Replay resumed.', table, where));
        return;
      }
      const copy = t('Copy {0} row(s) to the primary', rows.length);
      const preview = rows.slice(0, 3).join('\n') + (rows.length > 3 ? `\n… (${rows.length - 3} more)` : '');
      const pick = await vscode.window.showInformationMessage(t('Replay is paused. The delayed replica still has these rows:'), { modal: true, detail: preview }, copy);
      if (pick === copy) {
        const n = await copyRowsToPrimary(ctx, table, rows);
        void vscode.window.showInformationMessage(t('{0} row(s) copied back to the primary ({1} already there). Replay resumed.', n, rows.length - n));
      }
    } catch (e) {
      await report(services, e);
    } finally {
      await resumeReplay(ctx).catch(() => undefined);
    }
  });

  // Exercise 4: automatic failover (opt-in setting).
  let watcher: AutoFailoverWatcher | undefined;
  const applyWatcher = () => {
    const { enabled, settings } = autoFailoverSettings();
    const problems = validateAutoFailoverSettings(settings);
    if (enabled && problems.length) {
      void vscode.window.showErrorMessage(t('Automatic failover settings: {0}', problems.join(' ')));
      return;
    }
    // The watcher kills containers: never in an untrusted workspace (its settings are machine-scoped
    // and restricted too, so a workspace cannot switch it on).
    if (!enabled || !vscode.workspace.isTrusted) {
      watcher?.dispose();
      watcher = undefined;
      services.autoFailover = undefined;
      return;
    }
    if (watcher) {
      watcher.configure(settings);
      return;
    }
    watcher = new AutoFailoverWatcher({ ...labContext(services), holder: processHolder('automatic failover in a VS Code window') }, settings);
    services.autoFailover = watcher;
    watcher.onDidFailover((r) => {
      services.lastAutoFailover = r;
      const text = t('Automatic failover: {0} failed (detected in {1}); {2} accepts writes {3} after the first failed probe.', r.failedPrimary.container, formatDuration(r.detectionMs), r.result.newPrimary.container, formatDuration(r.outageMs));
      services.log.info(`${text}\n${renderFailoverReport(r.result)}`);
      void vscode.window.showWarningMessage(text);
    });
    watcher.onDidFail((f) => void vscode.window.showErrorMessage(f.message));
    watcher.start();
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('pgHaWorkshop.autoFailover')) applyWatcher();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => applyWatcher()),
    { dispose: () => watcher?.dispose() },
  );
  applyWatcher();
  const setEnabled = (on: boolean) => vscode.workspace.getConfiguration('pgHaWorkshop.autoFailover').update('enabled', on, vscode.ConfigurationTarget.Global);
  reg('pgHaWorkshop.lab.autoFailover.setup', async () => {
    await setEnabled(true);
    const { settings } = autoFailoverSettings();
    void vscode.window.showInformationMessage(t('Automatic failover on: the primary is probed every {0} ms; {1} failed probes within {2} ms promote the best replica. Kill the primary to try it.', settings.probeIntervalMs, settings.failuresToTrigger, settings.windowMs));
  });
  reg('pgHaWorkshop.lab.autoFailover.check', () => {
    const s = watcher?.state;
    const ok = s?.kind === 'watching';
    const summary = !s ? t('Automatic failover is off.') : s.kind === 'watching' ? t('Watching {0} ({1} recent failed probes).', s.container, s.failures) : s.kind === 'searching' ? t('Looking for the primary: {0}', s.message) : s.kind;
    return showCheck(services, { ok, summary, items: [] });
  });
  reg('pgHaWorkshop.lab.autoFailover.undo', async () => {
    if (!autoFailoverSettings().enabled) {
      void vscode.window.showInformationMessage(t('Exercise 4 is already undone: automatic failover is off.'));
      return;
    }
    await setEnabled(false);
    const s = await surveyCluster(labContext(services)).catch(() => undefined);
    const problems = s ? standardTopologyProblems(s) : [];
    if (problems.length) {
      const reset = t('Reset Cluster');
      const pick = await vscode.window.showInformationMessage(t('Automatic failover off. The cluster is not in its standard topology ({0}): reset it?', problems.join('; ')), reset);
      if (pick === reset) await vscode.commands.executeCommand(RESET);
    } else void vscode.window.showInformationMessage(t('Automatic failover off.'));
  });
}
