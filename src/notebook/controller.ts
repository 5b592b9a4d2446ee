// Runs SQL cells on the node each one names (or the notebook's default node), one connection per
// node, and shows the result as a themed HTML table with text and JSON alternatives.
import * as vscode from 'vscode';
import { CELL_SQL_LANGUAGE, isSqlLanguage, NOTEBOOK_TYPE, SQL_LANGUAGE } from './format';
import type { NotebookConnections } from './connections';
import { errorText, renderHtml, renderJson, renderText, type NodeRun, type SqlErrorInfo } from './render';
import type { PghaCellMetadata, PghaNotebookMetadata } from './serializer';
import { DEFAULT_TARGET, needsRoles, parseTarget, resolveTarget, TargetError, type NodeRoleInfo } from './targets';
import type { ClusterTopology } from '../core/topology';

export const CONTROLLER_ID = 'pgha-sql-notebook-kernel';
// VS Code's default notebook.displayOrder ranks application/json above text/html, which would show
// raw JSON instead of the table: the JSON alternative therefore carries a +json vendor type.
export const RESULT_MIME = 'application/vnd.pgha.result+json';

/** What the last run of a cell produced, for export and for the tests. */
export interface CellRunRecord {
  readonly target: string;
  readonly runs: readonly NodeRun[];
}

export function cellTarget(cell: vscode.NotebookCell): { target: string; inherited: boolean } {
  const own = (cell.metadata as PghaCellMetadata | undefined)?.target;
  if (own) return { target: own, inherited: false };
  return { target: notebookDefaultTarget(cell.notebook), inherited: true };
}

export function notebookDefaultTarget(nb: vscode.NotebookDocument): string {
  return (nb.metadata as PghaNotebookMetadata | undefined)?.defaultTarget ?? DEFAULT_TARGET;
}

export function maxRowsSetting(): number {
  const n = vscode.workspace.getConfiguration('pgHaWorkshop.notebook').get<number>('maxRows', 200);
  return Number.isInteger(n) && n > 0 ? n : 200;
}

function errorItem(run: NodeRun | undefined, e: SqlErrorInfo): vscode.NotebookCellOutputItem {
  const name =
    e.kind === 'nodeDown'
      ? vscode.l10n.t('Node down')
      : e.kind === 'cancelled'
        ? vscode.l10n.t('Cancelled')
        : e.kind === 'target'
          ? vscode.l10n.t('Target node')
          : e.sqlstate
            ? `SQLSTATE ${e.sqlstate}`
            : vscode.l10n.t('Error');
  const on = run ? ` [${run.node}${run.role ? ` (${run.role})` : ''}]` : '';
  const err = new Error(errorText(e) + on);
  err.name = name;
  err.stack = undefined;
  return vscode.NotebookCellOutputItem.error(err);
}

function resultOutput(runs: readonly NodeRun[], target: string): vscode.NotebookCellOutput {
  return new vscode.NotebookCellOutput(
    [
      vscode.NotebookCellOutputItem.text(renderHtml(runs), 'text/html'),
      vscode.NotebookCellOutputItem.json(renderJson(runs), RESULT_MIME),
      vscode.NotebookCellOutputItem.text(renderText(runs), 'text/plain'),
    ],
    { pgha: { target, nodes: runs.map((r) => r.node) } },
  );
}

export class PghaNotebookController implements vscode.Disposable {
  readonly controller: vscode.NotebookController;
  private order = 0;
  private readonly lastRuns = new Map<string, CellRunRecord>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after a cell ran (the cell status bar shows where it ran). */
  readonly onDidRun = this.changed.event;
  /** Roles seen by the last probe, for pickers. */
  lastRoles: ReadonlyMap<string, NodeRoleInfo> = new Map();

  constructor(
    private readonly connections: NotebookConnections,
    private readonly topology: () => ClusterTopology,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.controller = vscode.notebooks.createNotebookController(CONTROLLER_ID, NOTEBOOK_TYPE, vscode.l10n.t('PG HA Workshop cluster'));
    this.controller.supportedLanguages = [CELL_SQL_LANGUAGE, SQL_LANGUAGE];
    this.controller.supportsExecutionOrder = true;
    this.controller.description = vscode.l10n.t('Runs each cell on its target node');
    this.controller.executeHandler = (cells) => this.executeCells(cells);
  }

  lastRun(cell: vscode.NotebookCell): CellRunRecord | undefined {
    return this.lastRuns.get(cell.document.uri.toString());
  }

  /** Runs cells one after the other; `targetOverride` (e.g. 'all') replaces each cell's own target. */
  async executeCells(cells: readonly vscode.NotebookCell[], targetOverride?: string): Promise<void> {
    for (const cell of cells) {
      if (cell.kind !== vscode.NotebookCellKind.Code) continue;
      await this.executeCell(cell, targetOverride);
    }
  }

  private async executeCell(cell: vscode.NotebookCell, targetOverride?: string): Promise<void> {
    const exec = this.controller.createNotebookCellExecution(cell);
    exec.executionOrder = ++this.order;
    exec.start(Date.now());
    await exec.clearOutput();
    const abort = new AbortController();
    const sub = exec.token.onCancellationRequested(() => abort.abort());
    const target = targetOverride ?? cellTarget(cell).target;
    try {
      if (!isSqlLanguage(cell.document.languageId)) {
        await exec.replaceOutput(new vscode.NotebookCellOutput([errorItem(undefined, { kind: 'other', message: vscode.l10n.t('Only SQL cells run on the cluster; this cell is {0}.', cell.document.languageId) })]));
        exec.end(false, Date.now());
        return;
      }
      const t = this.topology();
      let spec;
      try {
        spec = parseTarget(target, t);
      } catch (e) {
        await exec.replaceOutput(new vscode.NotebookCellOutput([errorItem(undefined, { kind: 'target', message: (e as Error).message })]));
        exec.end(false, Date.now());
        return;
      }
      // Roles are asked of the nodes only when the target depends on them (@primary, @replica);
      // otherwise each run reports its node's role itself.
      const roles = needsRoles(spec) ? await this.connections.probeRoles() : new Map<string, NodeRoleInfo>();
      if (roles.size > 0) this.lastRoles = roles;
      let endpoints;
      try {
        endpoints = resolveTarget(spec, t, roles);
      } catch (e) {
        if (!(e instanceof TargetError)) throw e;
        await exec.replaceOutput(new vscode.NotebookCellOutput([errorItem(undefined, { kind: 'target', message: e.message })]));
        exec.end(false, Date.now());
        return;
      }
      const sql = cell.document.getText();
      const maxRows = maxRowsSetting();
      const partial = new Map<string, NodeRun>();
      let lastPaint = 0;
      const paint = () => {
        const now = Date.now();
        if (now - lastPaint < 250 || abort.signal.aborted) return;
        lastPaint = now;
        void exec.replaceOutput(resultOutput([...partial.values()], target));
      };
      const runs = await Promise.all(
        endpoints.map((ep) => {
          const role = roles.get(ep.id)?.role;
          return this.connections.session(ep).run(sql, {
            maxRows,
            signal: abort.signal,
            ...(role && role !== 'down' ? { role } : {}),
            onProgress: (p) => {
              partial.set(p.node, p);
              paint();
            },
          });
        }),
      );
      this.lastRuns.set(cell.document.uri.toString(), { target, runs });
      const outputs: vscode.NotebookCellOutput[] = [];
      if (runs.length === 1) {
        const run = runs[0];
        if (run.results.length > 0 || !run.error) outputs.push(resultOutput(runs, target));
        if (run.error) outputs.push(new vscode.NotebookCellOutput([errorItem(run, run.error)], { pgha: { target, nodes: [run.node], error: run.error } }));
      } else {
        outputs.push(resultOutput(runs, target));
      }
      await exec.replaceOutput(outputs);
      const ok = runs.every((r) => !r.error);
      for (const r of runs) if (r.error) this.log.warn(`notebook: ${r.node}: ${r.error.message}`);
      exec.end(ok, Date.now());
    } catch (e) {
      this.log.error(`notebook: cell failed: ${String(e)}`);
      await exec.replaceOutput(new vscode.NotebookCellOutput([errorItem(undefined, { kind: 'other', message: String(e instanceof Error ? e.message : e) })]));
      exec.end(false, Date.now());
    } finally {
      sub.dispose();
      this.changed.fire();
    }
  }

  dispose(): void {
    this.controller.dispose();
    this.changed.dispose();
  }
}
