// "Demo results": every demo's latest result as one Markdown document (a virtual document shown
// in the Markdown preview), refreshed as demos finish. Demo 4 adds its failover report.
import * as vscode from 'vscode';
import { DEMO_ORDER, type DemoId, type DemoResult } from '../core/demos/common';
import type { FailoverMeasures } from '../core/demos';
import { checkLabel, demoTitle, summarize } from './summaries';

const t = vscode.l10n.t;
export const RESULTS_SCHEME = 'pgha-demo-results';
export const RESULTS_URI = vscode.Uri.from({ scheme: RESULTS_SCHEME, path: '/Demo Results.md' });

export class DemoResults implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly results = new Map<DemoId, DemoResult<unknown>>();
  /** The value each step's context key was last set to (VS Code offers no way to read it back). */
  readonly contextKeys = new Map<string, boolean>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(r: DemoResult<unknown>): void {
    this.results.set(r.demo, r);
    this.changed.fire(RESULTS_URI);
  }

  get(id: DemoId): DemoResult<unknown> | undefined {
    return this.results.get(id);
  }

  all(): DemoResult<unknown>[] {
    return DEMO_ORDER.map((id) => this.results.get(id)).filter((r): r is DemoResult<unknown> => !!r);
  }

  provideTextDocumentContent(): string {
    const L: string[] = [`# ${t('Workshop demo results')}`, ''];
    const all = this.all();
    if (all.length === 0) L.push(t('No demo has run yet. Open the walkthrough (PG HA Workshop: Open Walkthrough) or run a demo from the Command Palette.'));
    for (const r of all) {
      L.push(`## ${r.passed ? '✅' : '❌'} ${demoTitle(r.demo)}`, '');
      L.push(`${summarize(r)}`, '');
      L.push(`| ${t('check')} | ${t('result')} | ${t('measured')} |`, '|---|---|---|');
      for (const c of r.checks) L.push(`| ${checkLabel(c)} | ${c.ok ? '✓' : '✗'} | ${c.detail.replace(/\|/g, '\\|')} |`);
      L.push('', `_${new Date(r.startedAt).toLocaleTimeString()} · ${(r.tookMs / 1000).toFixed(1)} s_`, '');
      if (r.clusterAfter) L.push(`> ${t('Cluster now')}: ${r.clusterAfter}`, '');
      if (r.demo === 'demo4') {
        const report = (r.measures as FailoverMeasures).report;
        L.push('<details><summary>' + t('Failover report') + '</summary>', '', report.replace(/^# /m, '### '), '', '</details>', '');
      }
    }
    return L.join('\n');
  }

  dispose(): void {
    this.changed.dispose();
  }
}
