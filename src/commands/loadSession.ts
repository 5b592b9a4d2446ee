// The load run of this window (at most one at a time): its generator, a status bar item with live
// writes/s, errors and the last error, and the result of the last run. Commands read it; the
// failover commands take its ledger to measure RTO and RPO.
import * as vscode from 'vscode';
import { formatDuration } from '../core/format';
import type { LoadGenerator, LoadProgress, LoadResult } from '../core/load';

const t = vscode.l10n.t;

export class LoadSession implements vscode.Disposable {
  private gen: LoadGenerator | undefined;
  private running: Promise<LoadResult> | undefined;
  private readonly item: vscode.StatusBarItem;
  last: LoadResult | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('pgHaWorkshop.load', vscode.StatusBarAlignment.Left, 40);
    this.item.name = t('PG HA Workshop: Write Load');
    this.item.command = 'pgHaWorkshop.stopLoad';
  }

  get current(): LoadGenerator | undefined {
    return this.gen;
  }

  get isRunning(): boolean {
    return this.gen !== undefined;
  }

  /** Starts `gen`; resolves when it ends. */
  start(gen: LoadGenerator): Promise<LoadResult> {
    this.gen = gen;
    const sub = gen.onProgress((p) => this.render(p));
    this.render(gen.progress);
    this.item.show();
    this.running = gen.run().finally(() => {
      sub.dispose();
      if (this.gen === gen) this.gen = undefined;
    });
    void this.running.then(
      (r) => {
        this.last = r;
        this.render(r);
        setTimeout(() => {
          if (!this.gen) this.item.hide();
        }, 15_000);
      },
      () => this.item.hide(),
    );
    return this.running;
  }

  async stop(): Promise<LoadResult | undefined> {
    const g = this.gen;
    if (!g) return undefined;
    g.cancel();
    return this.running;
  }

  private render(p: LoadProgress): void {
    const live = p.state === 'running';
    this.item.text = live
      ? `$(${p.failing ? 'warning' : 'pulse'}) ${t('{0} writes/s', p.writesPerSec)} · ${t('{0} ok', p.acked)}${p.failed ? ` · ${t('{0} failed', p.failed)}` : ''}`
      : `$(check) ${t('Load done: {0} ok, {1} failed', p.acked, p.failed)}`;
    this.item.backgroundColor = live && p.failing ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${t('Write load')}** (${p.mode}, ${t('target')}: ${p.target})\n\n`);
    md.appendMarkdown(`${t('Elapsed')}: ${formatDuration(p.elapsedMs)} · ${t('acknowledged')}: ${p.acked} (${p.ackedRows} ${t('rows')}) · ${t('failed')}: ${p.failed} · ${t('average')}: ${p.avgWritesPerSec.toFixed(1)}/s\n\n`);
    if (p.node) md.appendMarkdown(`${t('Last write committed on')}: \`${p.node}\`\n\n`);
    if (p.lastError) md.appendMarkdown(`${t('Last error')} (${new Date(p.lastError.at).toLocaleTimeString()}): ${p.lastError.message}\n\n`);
    if (live) md.appendMarkdown(t('Click to stop the load.'));
    this.item.tooltip = md;
  }

  dispose(): void {
    this.gen?.cancel();
    this.item.dispose();
  }
}
