// "Run Fault Drill": pick a drill of cluster/drills, confirm (it may recreate the cluster), watch its
// steps in a progress notification (the cluster view shows the faults live), then read its report.
// The drill runs on the active cluster profile (pgHaWorkshop.clusterProfile): on Patroni, Patroni's
// own failover, switchover and rejoin; a drill not written for the profile is shown with the reason
// and not run. Everything but the UI is src/core/drills.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { actionContext, cancelled, runCommand, type CommandOutcome } from '../commands/common';
import { showReport } from '../commands/reportDocument';
import { renderDrillReport } from '../core/drills/report';
import { runDrill, type DrillRun } from '../core/drills/runner';
import { drillsDir, loadDrills, skipReason, type DrillProfile, type DrillSpec } from '../core/drills/spec';
import { clusterProfileSetting, patroniTopologyFromSettings } from '../configuration';
import { repoRoot } from '../core/topology';
import type { Services } from '../services';

const t = vscode.l10n.t;

export const DrillCommands = { runFaultDrill: 'pgHaWorkshop.runFaultDrill' } as const;

export interface RunFaultDrillArgs {
  readonly drill?: string;
  readonly confirm?: boolean;
  readonly openReport?: boolean;
}

let running = false;

export async function runFaultDrill(services: Services, historyDir: string, args: RunFaultDrillArgs = {}): Promise<CommandOutcome<{ run: DrillRun; report: string }>> {
  if (running) {
    void vscode.window.showWarningMessage(t('A fault drill is already running: wait for its report.'));
    return { ok: false, message: t('A fault drill is already running: wait for its report.') };
  }
  let drills: DrillSpec[];
  try {
    drills = await loadDrills(drillsDir(repoRoot()));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    void vscode.window.showErrorMessage(message);
    return { ok: false, message };
  }
  // An attached cluster keeps the workshop's drills (its own guards); else the active profile.
  const profile: DrillProfile = !services.attached() && clusterProfileSetting() === 'patroni' ? 'patroni' : 'workshop';
  const profileLabel = profile === 'patroni' ? t('Patroni') : t('workshop');
  let spec = args.drill ? drills.find((d) => d.name === args.drill) : undefined;
  if (args.drill && !spec) {
    const message = t('There is no fault drill named {0}. Drills: {1}.', args.drill, drills.map((d) => d.name).join(', '));
    void vscode.window.showErrorMessage(message);
    return { ok: false, message };
  }
  if (!spec) {
    const runnable = drills.filter((d) => !skipReason(d, profile));
    const skipped = drills.filter((d) => skipReason(d, profile));
    const pick = await vscode.window.showQuickPick(
      [
        ...runnable.map((d) => ({ label: d.titleByProfile[profile], description: d.name, detail: d.learnByProfile[profile], spec: d })),
        ...(skipped.length ? [{ label: t('Not on the {0} profile', profileLabel), kind: vscode.QuickPickItemKind.Separator, spec: undefined }] : []),
        ...skipped.map((d) => ({ label: `$(circle-slash) ${d.title}`, description: d.name, detail: skipReason(d, profile), spec: d })),
      ],
      { title: t('Run Fault Drill ({0} profile)', profileLabel), placeHolder: t('Pick a drill: a fault, an action and what must hold'), matchOnDescription: true, matchOnDetail: true },
    );
    if (!pick?.spec) return cancelled();
    spec = pick.spec;
  }
  const skip = skipReason(spec, profile);
  if (skip) {
    const message = t('The fault drill {0} does not run on the {1} profile: {2}', spec.name, profileLabel, skip);
    void vscode.window.showWarningMessage(message);
    return { ok: false, message };
  }
  if (args.confirm !== false) {
    const go = t('Run Drill');
    const answer = await vscode.window.showWarningMessage(
      t('Run the fault drill "{0}"?', spec.titleByProfile[profile]),
      { modal: true, detail: t('It puts the cluster in its standard shape first (recreating it, and deleting its data, when a previous drill or demo changed it), then injects faults into real containers. It takes one to a few minutes.') },
      go,
    );
    if (answer !== go) return cancelled();
  }
  const chosen = spec;
  running = true;
  try {
    return await runCommand(services, 'Fault drill', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Fault drill: {0}', chosen.titleByProfile[profile]) }, async (progress) => {
        const ctx = { ...actionContext(services), log: (m: string) => services.log.info(m) };
        const patroni = profile === 'patroni' ? patroniTopologyFromSettings() : undefined;
        const run = await runDrill(patroni ? { ...ctx, topology: patroni.cluster } : ctx, chosen, {
          historyDir,
          patroni,
          onProgress: (p) => {
            if (p.phase !== 'note') progress.report({ message: p.message });
            void services.monitor.refresh();
          },
        });
        const report = renderDrillReport(run);
        await showReport(services, report, args.openReport ?? true);
        const rto = run.report.rto ? `${run.report.rto.ms} ms` : 'n/a';
        if (run.passed) void vscode.window.showInformationMessage(t('Fault drill passed: RTO {0}, {1} acknowledged writes lost.', rto, String(run.report.totals.lost)));
        else void vscode.window.showWarningMessage(t('Fault drill failed: {0} of {1} expectations held. See the report.', String(run.expectations.filter((e) => e.ok).length), String(run.expectations.length)));
        return { run, report };
      }),
    );
  } finally {
    running = false;
  }
}

export function registerFaultDrills(context: vscode.ExtensionContext, services: Services): void {
  const historyDir = path.join(context.globalStorageUri.fsPath, 'drills');
  context.subscriptions.push(
    vscode.commands.registerCommand(DrillCommands.runFaultDrill, (a?: unknown) => runFaultDrill(services, historyDir, a && typeof a === 'object' ? (a as RunFaultDrillArgs) : {})),
  );
}
