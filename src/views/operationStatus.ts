// The running cluster operation, visible to every window: a status bar item while the cluster's
// operation lock (src/core/operationLock.ts) is held, by this window, another one, a test or a
// terminal script. The lock lives in the Docker engine, so it is read from there (one inspect every
// 2 s, only while the cluster runs).
import * as vscode from 'vscode';
import { readOperationLock, type OperationLockInfo } from '../core/operationLock';
import type { ClusterStatus } from '../core/status';
import type { Services } from '../services';

const t = vscode.l10n.t;
const POLL_MS = 2000;

/** The item's text and tooltip for a held lock (pure, so tests can compare it). */
export function operationStatusText(i: OperationLockInfo, now = Date.now()): { text: string; tooltip: string } {
  const age = Math.max(0, Math.round((now - i.since) / 1000));
  return {
    text: `$(lock) ${i.what}`,
    tooltip: t('Cluster operation running: {0}. Held by {1} for {2} s; other operations wait until it finishes.', i.what, i.holder, String(age)),
  };
}

export function registerOperationStatus(context: vscode.ExtensionContext, services: Services): void {
  const item = vscode.window.createStatusBarItem('pgHaWorkshop.operation', vscode.StatusBarAlignment.Left, 49);
  item.name = t('PG HA Workshop operation');
  context.subscriptions.push(item);
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    timer = undefined;
    if (!running) {
      item.hide();
      return;
    }
    try {
      const lock = await readOperationLock({ topology: services.topology(), containers: services.containers() });
      if (lock) {
        const v = operationStatusText(lock);
        item.text = v.text;
        item.tooltip = v.tooltip;
        item.show();
      } else item.hide();
    } catch {
      item.hide();
    }
    if (running && !timer) timer = setTimeout(() => void poll(), POLL_MS);
  };
  context.subscriptions.push(
    services.monitor.onDidChange((s: ClusterStatus) => {
      const was = running;
      running = s.docker.ok && s.clusterState !== 'stopped';
      if (running && !was && !timer) void poll();
    }),
    { dispose: () => timer && clearTimeout(timer) },
  );
}
