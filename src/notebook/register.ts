// The SQL notebook feature: serializer, controller, default-node status bar item, per-cell target
// status bar item, and the commands that open, create, run on all nodes and export.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { Containers, createDockerClient } from '../docker/engine';
import { NotebookConnections } from './connections';
import { CONTROLLER_ID, PghaNotebookController, cellTarget, notebookDefaultTarget } from './controller';
import { CELL_SQL_LANGUAGE, NEW_NOTEBOOK_HEADER, NOTEBOOK_TYPE } from './format';
import { resultToCsv, resultSummary } from './render';
import type { PghaCellMetadata, PghaNotebookMetadata } from './serializer';
import { targetChoices } from './targets';

export const MONITORING_NOTEBOOK = 'monitoring.pgha.sql';

export const NotebookCommands = {
  openMonitoring: 'pgHaWorkshop.openMonitoringNotebook',
  create: 'pgHaWorkshop.newNotebook',
  runOnAllNodes: 'pgHaWorkshop.notebook.runOnAllNodes',
  pickDefaultNode: 'pgHaWorkshop.notebook.pickDefaultNode',
  pickCellTarget: 'pgHaWorkshop.notebook.pickCellTarget',
  exportResult: 'pgHaWorkshop.notebook.exportResult',
} as const;

/** What the notebook feature exposes to other features and to the extension-host tests. */
export interface NotebookFeature {
  readonly controller: PghaNotebookController;
  readonly connections: NotebookConnections;
  /** The monitoring notebook the open command uses: beside the compose file, else the one shipped. */
  /** The learner's own copy of the monitoring notebook (made on first use). */
  monitoringNotebookUri(): Promise<vscode.Uri>;
}

let feature: NotebookFeature | undefined;
/** The notebook feature of the running extension (undefined before activation). */
export function notebookFeature(): NotebookFeature | undefined {
  return feature;
}

function describeContainerWith(docker: () => Containers) {
  return async (name: string): Promise<string | undefined> => {
    const s = await docker().state(name);
    if (!s) return `container ${name} does not exist (cluster not started?)`;
    if (s.Running && s.Paused) return `container ${name} is paused`;
    if (s.Running) {
      const health = (s as { Health?: { Status?: string } }).Health?.Status;
      return `container ${name} is running${health ? ` (${health})` : ''} but does not answer on its port`;
    }
    const since = s.FinishedAt && !s.FinishedAt.startsWith('0001') ? ` since ${new Date(s.FinishedAt).toLocaleTimeString()}` : '';
    return `container ${name} is ${s.Status} (exit code ${s.ExitCode})${since}`;
  };
}

function targetLabel(target: string): string {
  return '@' + target;
}

/** The cell a cell-toolbar command applies to: its argument, else the active notebook's selection. */
function cellsFromArgs(arg: unknown): vscode.NotebookCell[] {
  if (arg && typeof arg === 'object' && 'notebook' in arg && 'document' in arg && 'index' in arg) return [arg as vscode.NotebookCell];
  const editor = vscode.window.activeNotebookEditor;
  if (!editor || editor.notebook.notebookType !== NOTEBOOK_TYPE) return [];
  return editor.selections.flatMap((r) => editor.notebook.getCells(r)).filter((c) => c.kind === vscode.NotebookCellKind.Code);
}

export function registerNotebook(context: vscode.ExtensionContext, services: Services): void {
  let containers: Containers | undefined;
  const docker = () => (containers ??= new Containers(createDockerClient(vscode.workspace.getConfiguration('pgHaWorkshop').get<string>('dockerHost'))));
  const connections = new NotebookConnections(() => services.topology(), describeContainerWith(docker));
  const controller = new PghaNotebookController(connections, () => services.topology(), services.log);
  // The serializer is registered at activation (src/entry.ts), before this bundle loads.
  context.subscriptions.push(
    controller,
    { dispose: () => connections.dispose() },
  );

  const monitoringNotebookUri = (): Promise<vscode.Uri> => {
    const beside = path.join(path.dirname(services.topology().composeFile), MONITORING_NOTEBOOK);
    const shipped = fs.existsSync(beside) ? beside : vscode.Uri.joinPath(context.extensionUri, 'cluster', MONITORING_NOTEBOOK).fsPath;
    return learnerCopy(context, shipped, services.log);
  };
  feature = { controller, connections, monitoringNotebookUri };

  // Prefer our controller for every workshop notebook, so cells run without picking a kernel.
  const prefer = (nb: vscode.NotebookDocument) => {
    if (nb.notebookType === NOTEBOOK_TYPE) controller.controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
  };
  vscode.workspace.notebookDocuments.forEach(prefer);
  context.subscriptions.push(vscode.workspace.onDidOpenNotebookDocument(prefer));

  const selected = new Set<vscode.NotebookDocument>();
  context.subscriptions.push(
    controller.controller.onDidChangeSelectedNotebooks(({ notebook, selected: on }) => (on ? selected.add(notebook) : selected.delete(notebook))),
    vscode.workspace.onDidCloseNotebookDocument((nb) => selected.delete(nb)),
  );
  const selectController = async (nb: vscode.NotebookDocument) => {
    prefer(nb);
    if (selected.has(nb)) return;
    await vscode.commands.executeCommand('notebook.selectKernel', { notebookEditor: vscode.window.activeNotebookEditor, id: CONTROLLER_ID, extension: context.extension.id });
  };

  const show = async (doc: vscode.NotebookDocument) => {
    const editor = await vscode.window.showNotebookDocument(doc);
    await selectController(doc).catch((e) => services.log.warn(`notebook: could not select the controller: ${String(e)}`));
    return editor;
  };

  // ---- default node: status bar item ----
  const status = vscode.window.createStatusBarItem('pgHaWorkshop.notebook.defaultNode', vscode.StatusBarAlignment.Right, 100);
  status.name = vscode.l10n.t('PG HA notebook default node');
  status.command = NotebookCommands.pickDefaultNode;
  const refreshStatus = () => {
    const nb = vscode.window.activeNotebookEditor?.notebook;
    if (!nb || nb.notebookType !== NOTEBOOK_TYPE) {
      status.hide();
      return;
    }
    status.text = `$(server-environment) ${targetLabel(notebookDefaultTarget(nb))}`;
    status.tooltip = vscode.l10n.t('Default node for SQL cells without their own target. Click to change.');
    status.show();
  };
  context.subscriptions.push(
    status,
    vscode.window.onDidChangeActiveNotebookEditor(refreshStatus),
    vscode.workspace.onDidChangeNotebookDocument((e) => {
      if (e.metadata && e.notebook === vscode.window.activeNotebookEditor?.notebook) refreshStatus();
    }),
  );
  refreshStatus();

  const pickTarget = async (current: string, placeHolder: string, withDefault: boolean): Promise<string | null | undefined> => {
    const t = services.topology();
    const roles = controller.lastRoles;
    type Item = vscode.QuickPickItem & { target: string | null };
    const items: Item[] = [
      ...(withDefault ? [{ label: vscode.l10n.t('$(arrow-up) Notebook default'), description: vscode.l10n.t('use the node chosen in the status bar'), target: null }] : []),
      ...targetChoices(t).map((c) => {
        const role = roles.get(c.name)?.role;
        // Where a node streams from, as the cluster view nests it (a cascade reads as a chain).
        const status = services.monitor.current?.nodes.find((n) => n.service === c.name);
        const upstream = status?.upstream ? services.monitor.current?.nodes.find((n) => n.key === status.upstream)?.service : undefined;
        const from = upstream ? ` ← @${upstream}` : '';
        return {
          label: `${c.name === current ? '$(check)' : '$(server)'} @${c.name}`,
          description: role ? `${role}${from} · ${c.description}` : c.description,
          target: c.name,
        };
      }),
    ];
    const picked = await vscode.window.showQuickPick(items, { placeHolder });
    return picked ? picked.target : undefined;
  };

  // ---- per-cell target: cell status bar item ----
  const cellStatus = new (class implements vscode.NotebookCellStatusBarItemProvider {
    readonly emitter = new vscode.EventEmitter<void>();
    readonly onDidChangeCellStatusBarItems = this.emitter.event;
    provideCellStatusBarItems(cell: vscode.NotebookCell): vscode.NotebookCellStatusBarItem[] {
      if (cell.kind !== vscode.NotebookCellKind.Code) return [];
      const { target, inherited } = cellTarget(cell);
      const last = controller.lastRun(cell);
      const ran = last && last.target === target && last.runs.length === 1 && last.runs[0].node !== target ? ` → ${last.runs[0].node}` : '';
      const item = new vscode.NotebookCellStatusBarItem(`$(server-environment) ${targetLabel(target)}${inherited ? ' ' + vscode.l10n.t('(default)') : ''}${ran}`, vscode.NotebookCellStatusBarAlignment.Left);
      item.command = { title: vscode.l10n.t('Pick the node this cell runs on'), command: NotebookCommands.pickCellTarget, arguments: [cell] };
      item.tooltip = vscode.l10n.t('Node this cell runs on. Click to change.');
      return [item];
    }
  })();
  context.subscriptions.push(
    vscode.notebooks.registerNotebookCellStatusBarItemProvider(NOTEBOOK_TYPE, cellStatus),
    cellStatus.emitter,
    controller.onDidRun(() => cellStatus.emitter.fire()),
  );

  const setNotebookDefault = async (nb: vscode.NotebookDocument, target: string) => {
    const edit = new vscode.WorkspaceEdit();
    const meta: PghaNotebookMetadata = { ...(nb.metadata as PghaNotebookMetadata), defaultTarget: target };
    edit.set(nb.uri, [vscode.NotebookEdit.updateNotebookMetadata(meta)]);
    await vscode.workspace.applyEdit(edit);
    refreshStatus();
    cellStatus.emitter.fire();
  };

  const setCellTarget = async (cell: vscode.NotebookCell, target: string | null) => {
    const meta: PghaCellMetadata = { ...(cell.metadata as PghaCellMetadata) };
    if (target) meta.target = target;
    else delete meta.target;
    const edit = new vscode.WorkspaceEdit();
    edit.set(cell.notebook.uri, [vscode.NotebookEdit.updateCellMetadata(cell.index, meta)]);
    await vscode.workspace.applyEdit(edit);
    cellStatus.emitter.fire();
  };

  context.subscriptions.push(
    // Optional argument { reveal: 'Demo 3' }: scrolls to and selects the first cell containing that text.
    vscode.commands.registerCommand(NotebookCommands.openMonitoring, async (arg?: { reveal?: string }) => {
      const doc = await vscode.workspace.openNotebookDocument(await monitoringNotebookUri());
      const editor = await show(doc);
      const text = typeof arg?.reveal === 'string' ? arg.reveal : undefined;
      const cell = text ? doc.getCells().find((c) => c.document.getText().includes(text)) : undefined;
      if (cell) {
        const range = new vscode.NotebookRange(cell.index, cell.index + 1);
        editor.selections = [range];
        editor.revealRange(range, vscode.NotebookEditorRevealType.AtTop);
      }
      return editor;
    }),
    vscode.commands.registerCommand(NotebookCommands.create, async () => {
      const md = new vscode.NotebookCellData(
        vscode.NotebookCellKind.Markup,
        vscode.l10n.t('# Workshop notebook\n\nEach SQL cell runs on the node shown in its status bar (click it to change). Save the file with a name ending in .pgha.sql.'),
        'markdown',
      );
      const sql = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, 'SELECT pg_is_in_recovery();', CELL_SQL_LANGUAGE);
      sql.metadata = { target: 'all' } satisfies PghaCellMetadata;
      const data = new vscode.NotebookData([md, sql]);
      data.metadata = { header: NEW_NOTEBOOK_HEADER, eol: '\n' } satisfies PghaNotebookMetadata;
      const doc = await vscode.workspace.openNotebookDocument(NOTEBOOK_TYPE, data);
      return show(doc);
    }),
    vscode.commands.registerCommand(NotebookCommands.runOnAllNodes, async (arg?: unknown) => {
      const cells = cellsFromArgs(arg);
      if (cells.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Select a SQL cell of a PG HA Workshop notebook first.'));
        return;
      }
      await selectController(cells[0].notebook).catch((e) => services.log.warn(`notebook: could not select the controller: ${String(e)}`));
      await controller.executeCells(cells, 'all');
    }),
    vscode.commands.registerCommand(NotebookCommands.pickDefaultNode, async (target?: string) => {
      const nb = vscode.window.activeNotebookEditor?.notebook;
      if (!nb || nb.notebookType !== NOTEBOOK_TYPE) return;
      const picked = typeof target === 'string' ? target : await pickTarget(notebookDefaultTarget(nb), vscode.l10n.t('Default node for SQL cells without their own target'), false);
      if (picked) await setNotebookDefault(nb, picked);
    }),
    vscode.commands.registerCommand(NotebookCommands.pickCellTarget, async (arg?: unknown, target?: string | null) => {
      const [cell] = cellsFromArgs(arg);
      if (!cell) return;
      const picked = target !== undefined ? target : await pickTarget(cellTarget(cell).target, vscode.l10n.t('Node this cell runs on'), true);
      if (picked !== undefined) await setCellTarget(cell, picked);
    }),
    vscode.commands.registerCommand(NotebookCommands.exportResult, async (arg?: unknown, format?: 'csv' | 'json', to?: vscode.Uri) => {
      const [cell] = cellsFromArgs(arg);
      const record = cell && controller.lastRun(cell);
      const results = record ? record.runs.flatMap((run) => run.results.filter((r) => r.columns.length > 0).map((r, i) => ({ run, r, i }))) : [];
      if (results.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Run the cell first: there is no result table to export.'));
        return;
      }
      let chosen = results[0];
      if (results.length > 1 && !to) {
        const pick = await vscode.window.showQuickPick(
          results.map((x) => ({ label: `${x.run.node} · ${x.r.statement.split('\n').filter((l) => !l.trim().startsWith('--'))[0]?.slice(0, 60) ?? ''}`, description: resultSummary(x.r), x })),
          { placeHolder: vscode.l10n.t('Which result?') },
        );
        if (!pick) return;
        chosen = pick.x;
      }
      const fmt =
        format ??
        (
          await vscode.window.showQuickPick(
            [
              { label: 'CSV', fmt: 'csv' as const },
              { label: 'JSON', fmt: 'json' as const },
            ],
            { placeHolder: vscode.l10n.t('Export as') },
          )
        )?.fmt;
      if (!fmt) return;
      const target =
        to ??
        (await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.joinPath(cell.notebook.uri.scheme === 'file' ? vscode.Uri.file(path.dirname(cell.notebook.uri.fsPath)) : vscode.Uri.file(process.cwd()), `${chosen.run.node}-result.${fmt}`),
          filters: fmt === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
        }));
      if (!target) return;
      const r = chosen.r;
      const body = fmt === 'csv' ? resultToCsv(r) : JSON.stringify(r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]]))), null, 2) + '\n';
      await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(body));
      if (r.moreRows > 0) {
        void vscode.window.showWarningMessage(
          vscode.l10n.t('Exported the {0} rows shown; {1} more were not fetched (setting pgHaWorkshop.notebook.maxRows).', r.rows.length, r.moreRows),
        );
      }
      return target;
    }),
  );
}

const SHIPPED_HASH_KEY = 'pgHaWorkshop.monitoringNotebook.shippedHash';
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The notebook a learner edits is their own copy in the extension's global storage, never the
 * tracked file of the checkout or the install folder (an extension update replaces that). A copy
 * the learner has not changed follows a newer shipped version; a changed one is kept.
 */
async function learnerCopy(context: vscode.ExtensionContext, shipped: string, log: vscode.LogOutputChannel): Promise<vscode.Uri> {
  const dir = context.globalStorageUri.fsPath;
  const copy = path.join(dir, MONITORING_NOTEBOOK);
  const source = await fs.promises.readFile(shipped, 'utf8');
  const shippedHash = sha(source);
  const known = context.globalState.get<string>(SHIPPED_HASH_KEY);
  let current: string | undefined;
  try {
    current = await fs.promises.readFile(copy, 'utf8');
  } catch {
    current = undefined;
  }
  const unchanged = current !== undefined && known !== undefined && sha(current) === known;
  if (current === undefined || (known !== shippedHash && unchanged)) {
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.writeFile(copy, source);
    await context.globalState.update(SHIPPED_HASH_KEY, shippedHash);
    log.info(`notebook: ${current === undefined ? 'made' : 'updated'} your copy of the monitoring notebook: ${copy} (from ${shipped})`);
  } else if (known !== shippedHash) {
    log.info(`notebook: a newer monitoring notebook ships (${shipped}); your edited copy ${copy} is kept`);
  }
  return vscode.Uri.file(copy);
}
