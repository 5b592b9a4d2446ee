// "Demo Results" as a live panel: every demo's latest result with its measured values and checks,
// re-rendered whenever a demo finishes (a Markdown preview of a virtual document stayed stale).
// A demo that finishes reveals the panel beside the walkthrough without taking the focus and
// scrolls to its own result, so each step's measured result is where the learner is looking,
// independently of notifications.
import * as vscode from 'vscode';
import type { DemoId, DemoResult } from '../core/demos/common';
import type { FailoverMeasures } from '../core/demos';
import type { DemoResults } from './results';
import { checkLabel, demoTitle, summarize } from './summaries';

const t = vscode.l10n.t;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// Inline icons (the codicons "pass" and "error" shapes): no emoji font needed, theme colours.
const ICON_OK = '<svg class="icon ok" viewBox="0 0 16 16" aria-hidden="true"><path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm-1.1 10.2L3.8 8.1l.9-.9 2.2 2.2 4.4-4.4.9.9-5.3 5.3z"/></svg>';
const ICON_FAIL = '<svg class="icon fail" viewBox="0 0 16 16" aria-hidden="true"><path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1zm2.8 8.9-.9.9L8 8.9l-1.9 1.9-.9-.9L7.1 8 5.2 6.1l.9-.9L8 7.1l1.9-1.9.9.9L8.9 8l1.9 1.9z"/></svg>';

function demoSection(r: DemoResult<unknown>, latest: boolean): string {
  const rows = r.checks
    .map((c) => `<tr><td class="mark">${c.ok ? ICON_OK : ICON_FAIL}</td><td>${esc(checkLabel(c))}</td><td class="measured">${esc(c.detail)}</td></tr>`)
    .join('');
  const when = `${new Date(r.startedAt).toLocaleTimeString()} · ${(r.tookMs / 1000).toFixed(1)} s`;
  const after = r.clusterAfter ? `<p class="after">${esc(t('Cluster now'))}: ${esc(r.clusterAfter)}</p>` : '';
  const report =
    r.demo === 'demo4' && (r.measures as FailoverMeasures | undefined)?.report
      ? `<p><a href="command:pgHaWorkshop.showFailoverReport">${esc(t('Open the failover report'))}</a></p>`
      : '';
  return `<section id="${r.demo}" class="${r.passed ? 'passed' : 'failed'}${latest ? ' latest' : ''}">
<h2>${r.passed ? ICON_OK : ICON_FAIL} ${esc(demoTitle(r.demo))} <span class="when">${esc(when)}</span></h2>
<p class="summary">${esc(r.passed ? '' : t('Not as the workshop promises') + ' — ')}${esc(summarize(r))}</p>
<table><thead><tr><th></th><th>${esc(t('check'))}</th><th>${esc(t('measured'))}</th></tr></thead><tbody>${rows}</tbody></table>
${after}${report}
</section>`;
}

/** The panel's page (pure apart from l10n): every result in the workshop's order, `latest` marked. */
export function resultsHtml(all: readonly DemoResult<unknown>[], latest: DemoId | undefined, cspSource: string): string {
  const body = all.length
    ? all.map((r) => demoSection(r, r.demo === latest)).join('\n')
    : `<p class="empty">${esc(t('No demo has run yet. Open the walkthrough (PG HA Workshop: Open Walkthrough) or run a demo from the Command Palette.'))}</p>`;
  return `<!DOCTYPE html>
<html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline' ${cspSource}; script-src 'unsafe-inline';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>
body { color: var(--vscode-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); padding: 4px 16px 24px; }
h1 { font-size: 1.3em; font-weight: 600; margin: 8px 0 12px; }
section { border-left: 3px solid var(--vscode-charts-green); padding: 6px 12px; margin: 0 0 14px; background: var(--vscode-editorWidget-background); }
section.failed { border-left-color: var(--vscode-charts-red); }
section.latest { outline: 1px solid var(--vscode-focusBorder); }
h2 { font-size: 1.05em; margin: 2px 0 4px; display: flex; align-items: center; gap: 6px; }
h2 .when { font-weight: normal; color: var(--vscode-descriptionForeground); font-size: 0.9em; margin-left: auto; }
.summary { margin: 4px 0 6px; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 600; color: var(--vscode-descriptionForeground); padding: 2px 6px; }
td { padding: 2px 6px; vertical-align: top; border-top: 1px solid var(--vscode-editorWidget-border, rgba(128,128,128,.25)); }
td.mark { width: 18px; }
td.measured { font-family: var(--vscode-editor-font-family); font-size: 0.92em; }
.icon { width: 15px; height: 15px; flex: none; vertical-align: -3px; }
.icon.ok { fill: var(--vscode-charts-green); }
.icon.fail { fill: var(--vscode-charts-red); }
.after, .empty { color: var(--vscode-descriptionForeground); }
a { color: var(--vscode-textLink-foreground); }
</style></head>
<body>
<h1>${esc(t('Workshop demo results'))}</h1>
${body}
<script>
const target = ${JSON.stringify(latest ?? '')};
if (target) document.getElementById(target)?.scrollIntoView({ block: 'start' });
</script>
</body></html>`;
}

export class DemoResultsPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private latest: DemoId | undefined;
  private readonly subscription: vscode.Disposable;
  /** How many times the open panel was rendered (the host tests read it). */
  renders = 0;

  constructor(private readonly results: DemoResults) {
    this.subscription = results.onDidChange(() => this.render());
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** The page the panel shows now (tests). */
  get html(): string | undefined {
    return this.panel?.webview.html;
  }

  /**
   * Shows the panel. `beside`: next to the active editor (the walkthrough), keeping the focus there.
   * `demo`: the result to scroll to and mark.
   */
  show(o: { demo?: DemoId; beside?: boolean } = {}): void {
    if (o.demo) this.latest = o.demo;
    if (this.panel) {
      this.render();
      this.panel.reveal(undefined, o.beside);
      return;
    }
    this.panel = vscode.window.createWebviewPanel(
      'pgHaWorkshop.demoResults',
      t('Demo Results'),
      { viewColumn: o.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: !!o.beside },
      { enableScripts: true, enableCommandUris: ['pgHaWorkshop.showFailoverReport'], localResourceRoots: [] },
    );
    this.panel.onDidDispose(() => (this.panel = undefined));
    this.render();
  }

  private render(): void {
    if (!this.panel) return;
    this.panel.webview.html = resultsHtml(this.results.all(), this.latest, this.panel.webview.cspSource);
    this.renders++;
  }

  dispose(): void {
    this.subscription.dispose();
    this.panel?.dispose();
  }
}
