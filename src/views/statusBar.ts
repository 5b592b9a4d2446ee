// The status bar item: the current primary and the worst replica lag; a click focuses the cluster
// view; a warning background on split brain (and on other error alerts).
import * as vscode from 'vscode';
import { formatBytes, formatDuration } from '../core/format';
import type { ClusterStatus } from '../core/status';
import { alertTitle } from './clusterTree';

const t = vscode.l10n.t;

export const FOCUS_CLUSTER_VIEW = 'pgHaWorkshop.cluster.focus';

export interface StatusBarText {
  readonly text: string;
  readonly tooltip: string;
  readonly warning: boolean;
}

/** What the item says for a status (pure, so the host tests can compare it). */
export function statusBarText(s: ClusterStatus | undefined): StatusBarText {
  if (!s) return { text: `$(sync~spin) ${t('PG HA')}`, tooltip: t('Reading the cluster state…'), warning: false };
  if (!s.docker.ok) return { text: `$(warning) ${t('PG HA: Docker unavailable')}`, tooltip: s.docker.message, warning: true };
  if (s.clusterState === 'stopped') return { text: `$(circle-slash) ${t('PG HA: cluster stopped')}`, tooltip: t('The workshop cluster is not running. Click to open the cluster view.'), warning: false };
  const name = (k: string) => s.nodes.find((n) => n.key === k)?.container ?? k;
  if (s.splitBrain) {
    const who = s.writable.map(name).join(', ');
    return { text: `$(warning) ${t('PG HA: split brain ({0})', who)}`, tooltip: s.alerts.find((a) => a.kind === 'splitBrain')?.message ?? who, warning: true };
  }
  if (s.writable.length === 0 && s.nodes.some((n) => n.role === 'starting')) {
    return { text: `$(sync~spin) ${t('PG HA: connecting…')}`, tooltip: t('Waiting for the nodes to answer…'), warning: false };
  }
  const lag = s.maxLag.bytes === null && s.maxLag.replayMs === null ? t('no replica') : `${formatBytes(s.maxLag.bytes)} · ${formatDuration(s.maxLag.replayMs)}`;
  const primary = s.primary ? name(s.primary) : t('no primary');
  const errors = s.alerts.filter((a) => a.severity === 'error');
  const lines = [
    t('Primary: {0}', primary),
    t('Worst replica lag: {0}{1}', lag, s.maxLag.node && s.maxLag.node !== s.primary ? ` (${name(s.maxLag.node)})` : ''),
    ...s.alerts.map((a) => `$(${a.severity === 'error' ? 'error' : 'warning'}) ${alertTitle(a)}: ${a.message}`),
  ];
  return {
    text: `$(${s.primary ? 'database' : 'warning'}) ${primary} · ${t('lag {0}', lag)}`,
    tooltip: lines.join('\n'),
    warning: errors.length > 0 || !s.primary,
  };
}

/** Lines of plain text, each may start with a codicon ($(error)): codicons render, the rest stays text. */
function tooltipMarkdown(text: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  for (const line of text.split('\n')) {
    const m = /^(\$\([a-z-]+\) )?(.*)$/.exec(line)!;
    if (m[1]) md.appendMarkdown(m[1]);
    md.appendText(m[2]);
    md.appendMarkdown('\n\n');
  }
  return md;
}

export function createClusterStatusBar(): { item: vscode.StatusBarItem; update(s: ClusterStatus | undefined): StatusBarText } {
  const item = vscode.window.createStatusBarItem('pgHaWorkshop.cluster', vscode.StatusBarAlignment.Left, 50);
  item.name = t('PG HA Workshop cluster');
  item.command = FOCUS_CLUSTER_VIEW;
  const update = (s: ClusterStatus | undefined) => {
    const v = statusBarText(s);
    item.text = v.text;
    item.tooltip = tooltipMarkdown(v.tooltip);
    item.backgroundColor = v.warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    item.show();
    return v;
  };
  update(undefined);
  return { item, update };
}
