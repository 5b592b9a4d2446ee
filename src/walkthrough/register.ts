// The walkthrough glue: one palette command per demo (also the walkthrough's buttons). Each
// command runs the demo from src/core/demos under a progress notification, writes its steps and
// results to the log, records the result ("Demo results" document), and sets the step's context
// key from the RESULT, so the walkthrough step completes only when the demo's check holds.
// Run out of order, a demo explains what is missing and offers to do it first.
//
// Commands resolve to a DemoOutcome (never reject). Options (tests, scripts):
//   { fix: 'ask' | 'yes' | 'no' }  what to do when something is missing (default 'ask')
//   { volumes: boolean }           Cleanup: remove the data too (default: ask)
import * as vscode from 'vscode';
import {
  basicReplication,
  cleanupCluster,
  DemoFailed,
  DemoNotReady,
  lagMonitoring,
  lagUnderLoad,
  pgbouncerPooling,
  primaryFailover,
  readScaling,
  replicationNotBackup,
  result,
  splitBrain,
  verifyReplication,
  check,
  type DemoContext,
  type DemoId,
  type DemoResult,
  type Missing,
} from '../core/demos';
import { pointsFromSamples } from '../core/labs/lagSeries';
import { checkPrerequisites } from '../core/prerequisites';
import { startNode } from '../core/nodeActions';
import type { Services } from '../services';
import { DemoCommands, OPEN_WALKTHROUGH_COMMAND, passedKey, SHOW_RESULTS_COMMAND, WALKTHROUGH_ID } from './demoIds';
import { DemoResults } from './results';
import { DemoResultsPanel } from './resultsPanel';
import { showFirstScreen } from './firstRun';
import { checkLabel, demoTitle, prerequisiteFix, summarize } from './summaries';

const t = vscode.l10n.t;

export type FixPolicy = 'ask' | 'yes' | 'no';

export interface DemoOptions {
  readonly fix?: FixPolicy;
  readonly volumes?: boolean;
}

export type DemoOutcome =
  | { readonly ok: boolean; readonly demo: DemoId; readonly result: DemoResult<unknown>; readonly summary: string }
  | { readonly ok: false; readonly demo: DemoId; readonly missing?: Missing; readonly message: string; readonly clusterAfter?: string; readonly cancelled?: boolean };

/** What a missing piece is called and which demo/command provides it. */
function fixFor(missing: Missing, demo: DemoId): { label: string; run: () => Thenable<unknown> } | undefined {
  const cmd = (id: string, ...args: unknown[]) => () => vscode.commands.executeCommand(id, ...args);
  switch (missing) {
    case 'docker':
      return { label: t('Check Prerequisites'), run: cmd(DemoCommands.prerequisites) };
    case 'cluster':
      return { label: t('Start the Cluster First'), run: cmd(DemoCommands.start) };
    case 'replicas':
    case 'primary':
      return { label: t('Reset the Cluster First'), run: cmd('pgHaWorkshop.resetCluster', { confirm: false }) };
    case 'splitBrain':
      return demo === 'demo6' ? undefined : { label: t('Resolve It with Demo 6 First'), run: cmd(DemoCommands.demo6, { fix: 'no' }) };
    case 'failover':
      return { label: t('Run Demo 4 First'), run: cmd(DemoCommands.demo4, { fix: 'yes' }) };
    case 'pgbouncer':
      return undefined;
  }
}

function missingText(m: Missing): string {
  switch (m) {
    case 'docker': return t('Docker does not answer.');
    case 'cluster': return t('The workshop cluster is not running.');
    case 'replicas': return t('Not enough replicas are streaming.');
    case 'primary': return t('No node accepts writes.');
    case 'splitBrain': return t('Two nodes accept writes (split brain).');
    case 'failover': return t('This demo starts where Demo 4 ends: after a failover, with the old primary stopped.');
    case 'pgbouncer': return t('PgBouncer is not running.');
  }
}

export function registerWalkthrough(context: vscode.ExtensionContext, services: Services): void {
  const results = new DemoResults();
  const panel = new DemoResultsPanel(results);
  context.subscriptions.push(results, panel);
  const ctx = (): DemoContext => {
    const topology = services.topology();
    const keyOf = (service: string) => topology.nodes.find((n) => n.service === service)?.key;
    return {
      topology,
      containers: services.containers(),
      log: (m) => services.log.info(m),
      // The lag chart draws the demos' own samples (ten a second) beside the monitor's.
      onReplicationSamples: (round) => services.lagDashboard?.record(pointsFromSamples(round, keyOf)),
    };
  };
  const running = new Set<DemoId>();
  const setPassed = async (id: DemoId, passed: boolean) => {
    results.contextKeys.set(passedKey(id), passed);
    await vscode.commands.executeCommand('setContext', passedKey(id), passed);
    // The step's onContext completion is only seen by a Welcome page that exists already (a key that
    // is true when it starts never ticks its step): mark the step in the workbench too.
    const step = `${context.extension.id}#${WALKTHROUGH_ID}#${id}`;
    await Promise.resolve(vscode.commands.executeCommand(passed ? 'welcome.markStepComplete' : 'welcome.markStepIncomplete', step)).catch((e: unknown) =>
      services.log.debug(`walkthrough step ${step}: ${e instanceof Error ? e.message : String(e)}`),
    );
  };

  const record = async (r: DemoResult<unknown>, quiet = false): Promise<DemoOutcome> => {
    results.set(r);
    const summary = summarize(r);
    const title = demoTitle(r.demo);
    services.log.info(`${title}: ${r.passed ? 'PASSED' : 'FAILED'} (${(r.tookMs / 1000).toFixed(1)} s): ${summary}`);
    for (const c of r.checks) services.log.info(`  ${c.ok ? '✓' : '✗'} ${checkLabel(c)}: ${c.detail}`);
    if (r.clusterAfter) services.log.info(`  ${t('Cluster now')}: ${r.clusterAfter}`);
    await setPassed(r.demo, r.passed);
    // The measured result where the learner looks: beside the walkthrough, scrolled to this demo.
    panel.show({ demo: r.demo, beside: true });
    if (!quiet) {
      const show = t('Show Results');
      const msg = `${title}: ${summary}`;
      const pick = r.passed ? vscode.window.showInformationMessage(msg, show) : vscode.window.showWarningMessage(`${t('Not as the workshop promises')} — ${msg}`, show);
      void pick.then((p) => (p === show ? vscode.commands.executeCommand(SHOW_RESULTS_COMMAND) : undefined));
    }
    return { ok: r.passed, demo: r.demo, result: r, summary };
  };

  /** Runs one demo with progress, logging, out-of-order handling. */
  const runDemo = async (id: DemoId, options: DemoOptions, body: (c: DemoContext, progress: vscode.Progress<{ message?: string }>) => Promise<DemoResult<unknown>>): Promise<DemoOutcome> => {
    if (running.has(id)) return { ok: false, demo: id, message: t('{0} is already running.', demoTitle(id)), cancelled: true };
    running.add(id);
    const title = demoTitle(id);
    services.log.info(`── ${title} ──`);
    try {
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, (progress) => {
        const c = ctx();
        return body({ ...c, log: (m) => { c.log?.(m); progress.report({ message: m.replace(/^[^:]+: /, '').slice(0, 140) }); } }, progress);
      });
      return await record(r);
    } catch (e) {
      if (e instanceof DemoNotReady) {
        const why = `${t('{0} cannot run yet.', title)} ${missingText(e.missing)} ${e.message}`;
        services.log.warn(why);
        const fix = fixFor(e.missing, id);
        const policy = options.fix ?? 'ask';
        let doIt = policy === 'yes' && !!fix;
        if (policy === 'ask') {
          const pick = await vscode.window.showWarningMessage(why, ...(fix ? [fix.label] : []));
          doIt = !!fix && pick === fix.label;
        }
        if (doIt && fix) {
          services.log.info(`${title}: ${fix.label}`);
          running.delete(id);
          const first = (await fix.run()) as { ok?: boolean } | undefined;
          if (first && first.ok === false) return { ok: false, demo: id, missing: e.missing, message: why };
          return await vscode.commands.executeCommand<DemoOutcome>(DemoCommands[id], { ...options, fix: 'no' });
        }
        return { ok: false, demo: id, missing: e.missing, message: why };
      }
      const msg = e instanceof Error ? e.message : String(e);
      const clusterAfter = e instanceof DemoFailed ? e.clusterAfter : undefined;
      const text = clusterAfter ? `${msg} ${t('Cluster now')}: ${clusterAfter}` : msg;
      services.log.error(`${title}: ${text}`);
      await setPassed(id, false);
      void vscode.window.showErrorMessage(text, t('Show Log')).then((p) => (p ? services.log.show(true) : undefined));
      return { ok: false, demo: id, message: msg, clusterAfter };
    } finally {
      running.delete(id);
    }
  };

  const reg = (id: DemoId, f: (o: DemoOptions) => Promise<DemoOutcome>) =>
    context.subscriptions.push(vscode.commands.registerCommand(DemoCommands[id], (arg?: unknown) => f(arg && typeof arg === 'object' ? (arg as DemoOptions) : {})));

  reg('prerequisites', (o) =>
    runDemo('prerequisites', o, async (c) => {
      const started = Date.now();
      const rep = await checkPrerequisites(c.topology, services.docker());
      for (const x of rep.checks) c.log?.(`prerequisites: ${x.ok ? '✓' : '✗'} ${x.id}: ${x.detail}${x.fix ? ` — ${x.fix}` : ''}`);
      const checks = rep.checks.map((x) => check(x.id, x.ok, x.ok ? x.detail : `${x.detail} — ${prerequisiteFix(x) ?? x.fix}`));
      return result('prerequisites', started, checks, { checks: rep.checks });
    }),
  );

  reg('start', async (o) => {
    const started = Date.now();
    services.log.info(`── ${demoTitle('start')} ──`);
    const out = (await vscode.commands.executeCommand('pgHaWorkshop.startCluster')) as { ok: boolean; value?: { seconds: number }; message?: string } | undefined;
    if (!out?.ok || !out.value) {
      await setPassed('start', false);
      if (o.fix !== 'no') void vscode.commands.executeCommand(DemoCommands.prerequisites, { fix: 'no' });
      return { ok: false, demo: 'start', message: out?.message ?? t('The cluster did not start.') };
    }
    const s = services.monitor.current;
    const checks = [check('healthy', true, t('healthy in {0} s', out.value.seconds.toFixed(1)) + (s ? ` (${s.nodes.map((n) => `${n.service}: ${n.role}`).join(', ')})` : ''))];
    return record(result('start', started, checks, { seconds: out.value.seconds }), true);
  });

  reg('verify', (o) => runDemo('verify', o, (c) => verifyReplication(c)));
  reg('demo1', (o) => runDemo('demo1', o, (c) => basicReplication(c)));
  reg('demo2', (o) => runDemo('demo2', o, (c) => readScaling(c)));
  reg('demo3', (o) =>
    runDemo('demo3', o, async (c) => {
      await openLagViews(services);
      return lagMonitoring(c);
    }),
  );
  reg('demo4', (o) => runDemo('demo4', o, (c) => primaryFailover(c)));
  reg('demo5', (o) => runDemo('demo5', o, (c) => lagUnderLoad(c)));
  reg('demo6', (o) => runDemo('demo6', o, (c) => splitBrain(c)));
  reg('demo7', (o) =>
    runDemo('demo7', o, async (c) => {
      try {
        return await pgbouncerPooling(c);
      } catch (e) {
        if (e instanceof DemoNotReady && e.missing === 'pgbouncer' && o.fix !== 'no') {
          // The fix is small and safe: start the PgBouncer container, then run the demo.
          const go = o.fix === 'yes' || (await vscode.window.showWarningMessage(e.message, t('Start PgBouncer and Run'))) !== undefined;
          if (go) {
            await startNode(c, 'pgbouncer');
            return pgbouncerPooling(c);
          }
        }
        throw e;
      }
    }),
  );
  reg('demo9', (o) => runDemo('demo9', o, (c) => replicationNotBackup(c)));
  reg('cleanup', async (o) => {
    let volumes = o.volumes;
    if (volumes === undefined) {
      const keep = t('Keep Data (docker compose down)');
      const remove = t('Remove Data Too (docker compose down -v)');
      const pick = await vscode.window.showQuickPick([keep, remove], { title: demoTitle('cleanup'), placeHolder: t('Remove the workshop cluster') });
      if (!pick) return { ok: false, demo: 'cleanup', message: t('Cancelled.'), cancelled: true };
      volumes = pick === remove;
    }
    const out = await runDemo('cleanup', o, (c) => cleanupCluster({ ...c, docker: services.docker() }, { volumes: !!volumes }));
    await services.monitor.refresh().catch(() => undefined);
    return out;
  });

  context.subscriptions.push(
    vscode.commands.registerCommand(SHOW_RESULTS_COMMAND, async () => {
      panel.show();
      return results.all().map((r) => ({ demo: r.demo, passed: r.passed, summary: summarize(r) }));
    }),
    vscode.commands.registerCommand(OPEN_WALKTHROUGH_COMMAND, () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, false),
    ),
  );
  services.demoResults = results;
  services.demoResultsPanel = panel;
  showFirstScreen(context, (m) => services.log.debug(m));
}

/** Demo 3 shows the lag live: the monitoring notebook at its Demo 3 cells, and the lag view. */
async function openLagViews(services: Services): Promise<void> {
  try {
    await vscode.commands.executeCommand('pgHaWorkshop.openMonitoringNotebook', { reveal: 'Demo 3' });
  } catch (e) {
    services.log.warn(`Demo 3: could not open the monitoring notebook: ${e instanceof Error ? e.message : String(e)}`);
  }
  const all = new Set(await vscode.commands.getCommands(true));
  const lagView = ['pgHaWorkshop.showLagDashboard', 'pgHaWorkshop.showLagChart', 'pgHaWorkshop.openLagChart', 'pgHaWorkshop.showDashboard', 'pgHaWorkshop.openDashboard'].find((c) => all.has(c));
  try {
    await vscode.commands.executeCommand(lagView ?? 'pgHaWorkshop.cluster.focus');
  } catch {
    // The view container may be hidden by the user: the notebook alone still shows the lag.
  }
}
