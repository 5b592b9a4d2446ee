// The cluster view feature: the tree, the status bar item, the context keys the welcome content
// and menus use, and the one-time notifications for split brain and alerts over threshold. All
// render the monitor's ClusterStatus; none keeps its own copy of the cluster state.
import * as vscode from 'vscode';
import type { Alert, ClusterStatus } from '../core/status';
import type { Services } from '../services';
import { alertTitle, attachedModeText, ClusterTreeProvider } from './clusterTree';
import { createClusterStatusBar, FOCUS_CLUSTER_VIEW } from './statusBar';

const t = vscode.l10n.t;
export const CLUSTER_VIEW_ID = 'pgHaWorkshop.cluster';

/** Alerts that also pop up (once per occurrence); the others are shown in the view only. */
// Split brain is not here: it raises exactly one prompt, the split-brain watcher's (commands/splitBrainWatcher.ts).
const NOTIFY: ReadonlySet<Alert['kind']> = new Set(['lagOverThreshold', 'slotRetainedWal', 'timelineDivergence', 'tooFewStreamingReplicas']);

export function registerClusterView(context: vscode.ExtensionContext, services: Services): void {
  const tree = new ClusterTreeProvider(() => services.manager(), () => services.attached());
  const view = vscode.window.createTreeView(CLUSTER_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const bar = createClusterStatusBar();
  services.clusterTree = tree as vscode.TreeDataProvider<unknown>;
  context.subscriptions.push(tree, view, bar.item);

  const notified = new Set<string>();
  let lastContext = '';
  const render = (s: ClusterStatus) => {
    tree.update(s);
    bar.update(s);
    const errors = s.alerts.filter((a) => a.severity === 'error').length;
    view.badge = s.alerts.length ? { value: s.alerts.length, tooltip: t('{0} alerts ({1} errors)', s.alerts.length, errors) } : undefined;
    const sb = s.alerts.find((a) => a.kind === 'splitBrain');
    view.message = sb ? `${alertTitle(sb)}: ${sb.message}` : undefined;

    const manager = services.manager();
    const ctx = `${s.clusterState}|${s.docker.ok ? 'running' : s.docker.problem}|${s.splitBrain}|${s.primary ?? ''}|${manager.kind}|${manager.readOnly}`;
    if (ctx !== lastContext) {
      lastContext = ctx;
      // Title-bar menus and the welcome content follow the kind of cluster and whether it may change.
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.clusterKind', manager.kind);
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.readOnly', manager.readOnly);
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.clusterState', s.clusterState);
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.dockerState', s.docker.ok ? 'running' : s.docker.problem);
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.splitBrain', s.splitBrain);
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.primary', s.primary ?? '');
    }

    // Notify once per alert occurrence: an alert that clears and comes back notifies again.
    const present = new Set(s.alerts.map((a) => a.id));
    for (const id of [...notified]) if (!present.has(id)) notified.delete(id);
    for (const a of s.alerts) {
      if (!NOTIFY.has(a.kind) || notified.has(a.id)) continue;
      notified.add(a.id);
      services.log.warn(`${alertTitle(a)}: ${a.message}`);
      const show = t('Show Cluster');
      const notify = a.severity === 'error' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      void notify(`${alertTitle(a)}: ${a.message}`, show).then((pick) => (pick === show ? vscode.commands.executeCommand(FOCUS_CLUSTER_VIEW) : undefined));
    }
  };
  context.subscriptions.push(services.monitor.onDidChange(render));
  // Which cluster the view shows: its title says so, and the menus follow its manager at once.
  const showProfile = () => {
    const p = services.attached();
    // One word: beside the view's title actions the sidebar has room for about 15 characters at
    // 1400x900. The first row of the tree names the cluster, with the whole profile in its tooltip.
    view.description = p ? attachedModeText(p) : undefined;
    void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.clusterKind', services.manager().kind);
    void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.readOnly', services.manager().readOnly);
    tree.refreshMenus();
  };
  showProfile();
  context.subscriptions.push(services.onDidChangeCluster(showProfile));
  // Trusting the folder removes the Restricted Mode row at once.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => tree.current && tree.update(tree.current)));
  if (services.backups) context.subscriptions.push(services.backups.onDidChange((b) => tree.updateBackups(b)));
  // The first poll right after activation, not during it (it loads the Docker and PostgreSQL
  // client libraries, dist/vendor.js): activation only registers.
  setTimeout(() => {
    services.monitor.start();
    void services.monitor.refresh().catch((e: unknown) => services.log.warn(`First cluster poll failed: ${String(e)}`));
  }, 0);
}
