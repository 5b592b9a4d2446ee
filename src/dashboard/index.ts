// Exercise 5, monitoring dashboard: a webview with a live chart of replication lag per replica
// (bytes and seconds, last 10 minutes) drawn from the monitor's ClusterStatus stream, the
// workshop's lag threshold on it, and the workshop's three alert rules with their state. The
// notifications for those alerts come from the cluster view (one place), whose rules live in
// deriveStatus.
//
// Sampling: one point a second from the monitor's latest status, from activation on (not only
// while the panel is open), so the chart shows the window it names; the demos that load the
// cluster (Demo 3, Demo 5) add their own samples, ten a second, so a burst of lag shorter than the
// monitor's interval is seen too. The history outlives the panel.
import * as vscode from 'vscode';
import { workshopAlertRules } from '../core/labs/alerts';
import { LagHistory, lagPoint, type LagPoint } from '../core/labs/lagSeries';
import type { ClusterStatus } from '../core/status';
import type { Services } from '../services';
import type { DashboardStrings, FromWebview, ToWebview } from './protocol';

const t = vscode.l10n.t;
export const SHOW_LAG_DASHBOARD = 'pgHaWorkshop.showLagDashboard';

/** What the extension-host tests read. */
export interface DashboardProbe {
  readonly open: boolean;
  /** Points posted to the webview. */
  readonly pointsSent: number;
  /** Points the webview reports it received and drew. */
  readonly pointsReceived: number;
  /** The node names the webview's charts draw a line for now (one per replica, any number). */
  readonly seriesDrawn: readonly string[];
  readonly history: LagHistory;
  /** Adds samples taken elsewhere (a demo's own sampler) to the chart. */
  record(points: readonly LagPoint[]): void;
}

function nonce(): string {
  let s = '';
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 32; i++) s += chars.charAt(Math.floor(Math.random() * chars.length));
  return s;
}

export function dashboardHtml(webview: Pick<vscode.Webview, 'cspSource' | 'asWebviewUri'>, extensionUri: vscode.Uri, title: string): string {
  const n = nonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'dashboard', 'main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'dashboard', 'main.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${webview.cspSource} data:; style-src ${webview.cspSource} 'nonce-${n}'; script-src 'nonce-${n}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<style nonce="${n}">
  body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 8px 16px; }
  h1 { font-size: 1.3em; font-weight: 600; margin: 4px 0 2px; }
  .sub { color: var(--vscode-descriptionForeground); margin-bottom: 8px; }
  #now { font-family: var(--vscode-editor-font-family); margin: 6px 0 10px; }
  .chart { margin-bottom: 14px; }
  .u-title { font-size: 12px !important; font-weight: 600 !important; color: var(--vscode-foreground); }
  .u-legend { color: var(--vscode-foreground); font-size: 11px; }
  #empty { color: var(--vscode-descriptionForeground); padding: 12px 0; }
  h2 { font-size: 1.1em; margin: 14px 0 6px; }
  #alerts { list-style: none; padding: 0; margin: 0; }
  #alerts li { border-left: 3px solid var(--vscode-charts-green); padding: 4px 8px; margin-bottom: 6px; background: var(--vscode-editorWidget-background); }
  #alerts li.firing { border-left-color: var(--vscode-charts-red); }
  #alerts .rule { font-weight: 600; }
  #alerts li.firing .rule { color: var(--vscode-errorForeground); }
  #alerts code { display: block; font-family: var(--vscode-editor-font-family); font-size: 0.9em; color: var(--vscode-textPreformat-foreground); margin-top: 2px; }
  #alerts .msg { margin-top: 2px; }
  #summary { color: var(--vscode-descriptionForeground); margin-top: 4px; }
</style>
<title>${title}</title>
</head>
<body>
<h1>${title}</h1>
<div class="sub">${t('Per replica, up to the last 10 minutes: the cluster monitor samples once a second, Demo 3 and Demo 5 ten times a second. The dashed line is the alert threshold.')}</div>
<div id="now"></div>
<div id="empty">${t('Waiting for the first sample… (is the cluster running?)')}</div>
<div id="charts"><div id="bytes" class="chart"></div><div id="seconds" class="chart"></div></div>
<h2>${t('Alerts (workshop: Monitoring & Alerting)')}</h2>
<ul id="alerts"></ul>
<div id="summary"></div>
<script nonce="${n}" src="${script}"></script>
</body>
</html>`;
}

export function registerLagDashboard(context: vscode.ExtensionContext, services: Services): void {
  const history = new LagHistory();
  let panel: vscode.WebviewPanel | undefined;
  let pointsSent = 0;
  let pointsReceived = 0;
  let seriesDrawn: readonly string[] = [];
  /** Posts a point to the open, ready panel. */
  let postPoint: ((p: LagPoint) => void) | undefined;
  const record = (points: readonly LagPoint[]) => {
    for (const p of points) {
      if (!history.push(p)) continue;
      postPoint?.(p);
    }
  };
  // A sample a second from the monitor's latest status, whether or not the panel is open.
  const timer = setInterval(() => {
    const s = services.monitor.current;
    if (s && s.clusterState !== 'stopped') record([lagPoint(s, Date.now())]);
  }, 1000);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  // Samples of one cluster never mix with another's (node keys differ, and so do the nodes).
  context.subscriptions.push(services.onDidChangeCluster(() => history.clear()));
  const probe: DashboardProbe = {
    get open() {
      return panel !== undefined;
    },
    get pointsSent() {
      return pointsSent;
    },
    get pointsReceived() {
      return pointsReceived;
    },
    get seriesDrawn() {
      return seriesDrawn;
    },
    history,
    record,
  };
  services.lagDashboard = probe;

  const strings = (): DashboardStrings => ({
    bytesTitle: t('Bytes behind the primary (replay LSN)'),
    secondsTitle: t('Replay lag (seconds, pg_stat_replication.replay_lag)'),
    alertAbove: t('alert > {0} s', '{0}'),
    firing: t('FIRING'),
    ok: t('ok'),
  });
  const labels = (): Record<string, string> => Object.fromEntries(services.topology().nodes.map((n) => [n.key, n.container]));

  const show = () => {
    if (panel) {
      panel.reveal();
      return;
    }
    const title = t('Replication Lag');
    panel = vscode.window.createWebviewPanel('pgHaWorkshop.lagDashboard', title, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'dashboard')],
    });
    const p = panel;
    const post = (m: ToWebview) => void p.webview.postMessage(m);
    let ready = false;
    const subs: vscode.Disposable[] = [];
    const sendAlerts = (s: ClusterStatus) => {
      const rules = workshopAlertRules(s);
      const firing = rules.filter((r) => r.firing).length;
      post({ type: 'alerts', rules, summary: firing ? t('{0} of 3 workshop alerts firing.', firing) : t('No workshop alert fires.') });
    };
    /** The series (every node of the cluster shown now, any number) and the samples so far. */
    const sendInit = () => {
      const s = services.monitor.current;
      const series = services
        .topology()
        .nodes.map((n) => ({ key: n.key, label: n.container }));
      post({ type: 'init', series, lagSecondsThreshold: s?.thresholds.lagSeconds ?? 10, windowMs: history.windowMs, points: history.points, labels: labels(), strings: strings() });
      pointsSent += history.points.length;
      if (s) sendAlerts(s);
    };
    subs.push(
      services.monitor.onDidChange((s) => {
        if (ready) sendAlerts(s);
      }),
      // Another cluster (an attached profile, or back to the workshop's): its nodes, from an empty chart.
      services.onDidChangeCluster(() => {
        if (ready) sendInit();
      }),
    );
    subs.push(
      p.webview.onDidReceiveMessage((m: FromWebview) => {
        if (m.type === 'ready') {
          ready = true;
          sendInit();
          postPoint = (point) => {
            pointsSent++;
            post({ type: 'point', point });
          };
        } else if (m.type === 'received') {
          pointsReceived = m.points;
          seriesDrawn = m.drawn;
        }
      }),
    );
    p.webview.html = dashboardHtml(p.webview, context.extensionUri, title);
    p.onDidDispose(() => {
      postPoint = undefined;
      for (const d of subs) d.dispose();
      panel = undefined;
    });
    services.monitor.start();
  };

  context.subscriptions.push(vscode.commands.registerCommand(SHOW_LAG_DASHBOARD, show), { dispose: () => panel?.dispose() });
}
