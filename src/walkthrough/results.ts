// Every demo's latest result, in memory: the walkthrough's context keys and the Demo Results panel
// (resultsPanel.ts) read it; onDidChange fires as demos finish.
import * as vscode from 'vscode';
import { DEMO_ORDER, type DemoId, type DemoResult } from '../core/demos/common';

export class DemoResults implements vscode.Disposable {
  private readonly results = new Map<DemoId, DemoResult<unknown>>();
  /** The value each step's context key was last set to (VS Code offers no way to read it back). */
  readonly contextKeys = new Map<string, boolean>();
  private readonly changed = new vscode.EventEmitter<DemoId>();
  readonly onDidChange = this.changed.event;

  set(r: DemoResult<unknown>): void {
    this.results.set(r.demo, r);
    this.changed.fire(r.demo);
  }

  get(id: DemoId): DemoResult<unknown> | undefined {
    return this.results.get(id);
  }

  all(): DemoResult<unknown>[] {
    return DEMO_ORDER.map((id) => this.results.get(id)).filter((r): r is DemoResult<unknown> => !!r);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
