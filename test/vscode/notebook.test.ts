// The SQL notebook inside a real extension host, against the real cluster: the shipped monitoring
// notebook run cell by cell, then errors, cancel, node down, run on all nodes, the row cap,
// export, a malformed file and a lossless save.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { activateExtension } from './host';
import { clusterUp, containerOf, containers, query, streamingReplicas, topology, waitFor } from '../support/cluster';
import { columnsMatch, expectedNodes, MONITORING_CELL_COLUMNS } from '../support/monitoringNotebook';

const NOTEBOOK_TYPE = 'pgha-sql-notebook';
const ERROR_MIME = 'application/vnd.code.notebook.error';

interface JsonRun {
  node: string;
  role?: string;
  pid?: number;
  results: { columns: string[]; rows: Record<string, string | null>[]; moreRows: number; moreRowsExact: boolean }[];
  error?: { kind: string; sqlstate?: string; message: string; hint?: string };
}

function items(cell: vscode.NotebookCell, mime: string): string[] {
  return cell.outputs.flatMap((o) => o.items.filter((i) => i.mime === mime).map((i) => new TextDecoder().decode(i.data)));
}

function jsonRuns(cell: vscode.NotebookCell): JsonRun[] {
  return items(cell, 'application/vnd.pgha.result+json').flatMap((t) => JSON.parse(t) as JsonRun[]);
}

function errors(cell: vscode.NotebookCell): { name: string; message: string }[] {
  return items(cell, ERROR_MIME).map((t) => JSON.parse(t) as { name: string; message: string });
}

/** Every error a cell shows (error outputs and per-node errors), for assertion messages. */
function problems(cell: vscode.NotebookCell): string {
  return JSON.stringify([...errors(cell).map((e) => `${e.name}: ${e.message}`), ...jsonRuns(cell).flatMap((r) => (r.error ? [`${r.node}: ${r.error.message}`] : []))]);
}

async function runCell(doc: vscode.NotebookDocument, index: number, timeoutMs = 60_000): Promise<vscode.NotebookCell> {
  const cell = doc.cellAt(index);
  const before = cell.executionSummary?.executionOrder;
  await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }], document: doc.uri });
  await waitFor(
    () => {
      const s = doc.cellAt(index).executionSummary;
      return s && s.executionOrder !== before && s.success !== undefined;
    },
    timeoutMs,
    `cell ${index + 1} to finish`,
  );
  return doc.cellAt(index);
}

async function addCell(doc: vscode.NotebookDocument, source: string, target?: string): Promise<number> {
  const data = new vscode.NotebookCellData(vscode.NotebookCellKind.Code, source, 'sql');
  if (target) data.metadata = { target };
  const index = doc.cellCount;
  const edit = new vscode.WorkspaceEdit();
  edit.set(doc.uri, [vscode.NotebookEdit.insertCells(index, [data])]);
  assert.ok(await vscode.workspace.applyEdit(edit));
  return index;
}

/**
 * The standard cluster, answering SQL: used as it is when primary, both streaming replicas and
 * PgBouncer answer (Docker's health status can lag on a busy machine), else brought up by the fixture.
 */
async function clusterReady(): Promise<void> {
  try {
    const streaming = await streamingReplicas();
    const inRecovery = await query('replica2', 'SELECT pg_is_in_recovery() AS r', [], 'postgres');
    const pools = await query(topology.pgbouncer.hostPort, 'SHOW POOLS', [], 'pgbouncer');
    if (streaming.length === 2 && inRecovery[0].r === true && pools.length > 0) return;
  } catch {
    // not up: start it below
  }
  await clusterUp();
}

suite('SQL notebook', function () {
  this.timeout(300_000);
  let scratch: vscode.NotebookDocument;

  suiteSetup(async function () {
    // Starting (or recreating) the cluster can take minutes on a busy machine.
    this.timeout(900_000);
    await clusterReady();
    await activateExtension();
    const editor = (await vscode.commands.executeCommand('pgHaWorkshop.newNotebook')) as vscode.NotebookEditor;
    scratch = editor.notebook;
    assert.equal(scratch.notebookType, NOTEBOOK_TYPE);
  });

  test('the shipped monitoring notebook: every SQL cell succeeds on its node with the expected columns', async () => {
    const editor = (await vscode.commands.executeCommand('pgHaWorkshop.openMonitoringNotebook')) as vscode.NotebookEditor;
    const doc = editor.notebook;
    assert.equal(doc.notebookType, NOTEBOOK_TYPE);
    // The learner's own copy: not the tracked file of the checkout, not the install folder.
    assert.match(doc.uri.fsPath, /monitoring\.pgha\.sql$/);
    const root = path.join(__dirname, '..', '..', '..');
    assert.ok(!path.resolve(doc.uri.fsPath).startsWith(path.resolve(root) + path.sep), `${doc.uri.fsPath} is outside the checkout ${root}`);
    assert.equal(fs.readFileSync(doc.uri.fsPath, 'utf8'), fs.readFileSync(path.join(root, 'cluster', 'monitoring.pgha.sql'), 'utf8'), 'a copy of the shipped notebook');
    const code = doc.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    // SQL cells are in the extension's PostgreSQL language (VS Code's 'sql' is named MS SQL).
    assert.ok(code.every((c) => c.document.languageId === 'pgha-sql'), code.map((c) => c.document.languageId).join(','));
    assert.ok((await vscode.languages.getLanguages()).includes('pgha-sql'));
    assert.equal(code.length, MONITORING_CELL_COLUMNS.length);
    for (const [k, cell] of code.entries()) {
      const done = await runCell(doc, cell.index);
      const target = (done.metadata as { target?: string }).target ?? 'primary';
      assert.equal(done.executionSummary?.success, true, `cell ${k + 1} (@${target}): ${problems(done)}`);
      assert.equal(items(done, 'text/html').length, 1, 'an HTML table');
      assert.equal(items(done, 'text/plain').length, 1, 'a text alternative');
      const runs = jsonRuns(done);
      assert.equal(runs.length, target === 'all' ? 3 : 1);
      const onNode = expectedNodes(target);
      for (const run of runs) {
        assert.ok(onNode(run.node), `cell ${k + 1} (@${target}) ran on ${run.node}`);
        assert.equal(run.results.length, MONITORING_CELL_COLUMNS[k].length, `cell ${k + 1} statements`);
        run.results.forEach((r, j) => assert.ok(columnsMatch(r.columns, MONITORING_CELL_COLUMNS[k][j]), `cell ${k + 1} columns ${JSON.stringify(r.columns)}`));
      }
    }
    assert.equal(doc.isDirty, false, 'running cells does not change the file (outputs are not saved)');
  });

  test('invalid SQL gives an error output with SQLSTATE, message and hint', async () => {
    const i = await addCell(scratch, 'SELECT 1 AS ok;\nSELECT nme FROM users;', 'primary');
    const cell = await runCell(scratch, i);
    assert.equal(cell.executionSummary?.success, false);
    const [err] = errors(cell);
    assert.ok(err, 'an error output');
    assert.equal(errors(cell).length, 1, problems(cell));
    assert.equal(err.name, 'SQLSTATE 42703');
    assert.match(err.message, /column "nme" does not exist/);
    assert.match(err.message, /HINT: .*users\.name/);
    assert.match(err.message, /line 2 of the cell/);
    assert.deepEqual(jsonRuns(cell)[0].results[0].rows, [{ ok: '1' }], 'the statement before the error still shows');
  });

  test('an unknown target node gives a clear error output', async () => {
    const i = await addCell(scratch, 'SELECT 1;', 'replica9');
    const cell = await runCell(scratch, i);
    assert.equal(cell.executionSummary?.success, false);
    assert.match(errors(cell)[0].message, /Unknown target node "@replica9".*@postgres-replica1/s);
  });

  test('one connection per node is reused across cells', async () => {
    const a = await runCell(scratch, await addCell(scratch, 'SELECT pg_backend_pid() AS pid;', 'postgres-primary'));
    const b = await runCell(scratch, await addCell(scratch, 'SELECT pg_backend_pid() AS pid;', 'postgres-primary'));
    assert.ok(a.executionSummary?.success && b.executionSummary?.success, problems(a) + problems(b));
    assert.equal(jsonRuns(a)[0].results[0].rows[0].pid, jsonRuns(b)[0].results[0].rows[0].pid);
  });

  test('a million rows are capped by pgHaWorkshop.notebook.maxRows with "N more rows"', async () => {
    const cfg = vscode.workspace.getConfiguration('pgHaWorkshop.notebook');
    await cfg.update('maxRows', 50, vscode.ConfigurationTarget.Global);
    try {
      const cell = await runCell(scratch, await addCell(scratch, 'SELECT g FROM generate_series(1, 1000000) g;', 'replica'), 180_000);
      assert.equal(cell.executionSummary?.success, true, problems(cell));
      const r = jsonRuns(cell)[0].results[0];
      assert.equal(r.rows.length, 50);
      assert.ok(r.moreRows > 0);
      if (r.moreRowsExact) assert.equal(r.moreRows, 999_950);
      assert.match(items(cell, 'text/html')[0], /more rows not shown/);
    } finally {
      await cfg.update('maxRows', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  test('cancel interrupts the query on the server', async () => {
    const i = await addCell(scratch, 'SELECT pg_sleep(120);', 'postgres-primary');
    const started = Date.now();
    const running = vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: i, end: i + 1 }], document: scratch.uri });
    // Cancel once the server is really running it.
    await waitFor(
      async () => (await query('primary', "SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgha-notebook' AND query LIKE 'SELECT pg_sleep(120)%' AND state = 'active'", [], 'postgres')).length === 1,
      120_000,
      'pg_sleep to run on the server',
      250,
    );
    await vscode.commands.executeCommand('notebook.cell.cancelExecution', { ranges: [{ start: i, end: i + 1 }], document: scratch.uri });
    await running;
    await waitFor(() => scratch.cellAt(i).executionSummary?.success !== undefined, 30_000, 'the cancelled cell to end');
    const cell = scratch.cellAt(i);
    assert.ok(Date.now() - started < 60_000, 'did not wait for pg_sleep(120)');
    assert.equal(cell.executionSummary?.success, false);
    assert.match(errors(cell)[0].message, /pg_cancel_backend/, problems(cell));
    const still = await query('primary', "SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(120)%' AND state = 'active'", [], 'postgres');
    assert.equal(still.length, 0, 'the statement no longer runs on the server');
    // The same connection answers right after: the server stopped the statement.
    const next = await runCell(scratch, await addCell(scratch, 'SELECT 1 AS after;', 'postgres-primary'));
    assert.equal(next.executionSummary?.success, true);
  });

  test('run on all nodes shows one result per node side by side', async () => {
    const i = await addCell(scratch, 'SELECT pg_is_in_recovery() AS in_recovery;', 'primary');
    await vscode.commands.executeCommand('pgHaWorkshop.notebook.runOnAllNodes', scratch.cellAt(i));
    await waitFor(() => scratch.cellAt(i).executionSummary?.success !== undefined, 60_000, 'the run on all nodes to end');
    const cell = scratch.cellAt(i);
    assert.equal(cell.executionSummary?.success, true, problems(cell));
    const runs = jsonRuns(cell);
    assert.deepEqual(
      runs.map((r) => [r.node, r.role, r.results[0].rows[0].in_recovery]),
      [
        ['postgres-primary', 'primary', 'f'],
        ['postgres-replica1', 'replica', 't'],
        ['postgres-replica2', 'replica', 't'],
      ],
    );
    assert.equal(items(cell, 'text/html')[0].match(/class="node"/g)?.length, 3);
  });

  test('export writes the result as CSV', async () => {
    const i = await addCell(scratch, "SELECT 1 AS n, 'a,b' AS s UNION ALL SELECT 2, NULL ORDER BY 1;", 'primary');
    assert.equal((await runCell(scratch, i)).executionSummary?.success, true, problems(scratch.cellAt(i)));
    const to = vscode.Uri.file(path.join(os.tmpdir(), `pgha-export-${process.pid}.csv`));
    await vscode.commands.executeCommand('pgHaWorkshop.notebook.exportResult', scratch.cellAt(i), 'csv', to);
    assert.equal(fs.readFileSync(to.fsPath, 'utf8'), 'n,s\n1,"a,b"\n2,\n');
  });

  test('a node that is down gives an error output naming the node and its state', async () => {
    const name = containerOf('replica2');
    const i = await addCell(scratch, 'SELECT 1;', 'postgres-replica2');
    await containers.stop(name, 5);
    try {
      const cell = await runCell(scratch, i);
      assert.equal(cell.executionSummary?.success, false);
      const [err] = errors(cell);
      assert.equal(err?.name, 'Node down', problems(cell));
      assert.match(err.message, /postgres-replica2 is down/);
      assert.match(err.message, new RegExp(`container ${name} is exited`));
      assert.equal(scratch.cellAt(i).document.getText(), 'SELECT 1;', 'the cell is untouched');
    } finally {
      await containers.start(name);
      await waitFor(async () => (await streamingReplicas()).length === 2, 300_000, 'replica2 streaming again', 1000);
    }
  });

  test('a malformed file opens with a clear error and is left unchanged', async () => {
    const file = path.join(os.tmpdir(), `pgha-bad-${process.pid}.pgha.sql`);
    const text = '-- %% [sql] @primary\nSELECT 1;\n-- %% [sql @oops\nSELECT 2;\n';
    fs.writeFileSync(file, text);
    await assert.rejects(Promise.resolve(vscode.workspace.openNotebookDocument(vscode.Uri.file(file))), /cannot be opened: line 3: .*not a valid cell marker/);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
  });

  test('save is lossless: targets and the default node are kept, outputs are not written', async () => {
    const src = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'cluster', 'monitoring.pgha.sql'), 'utf8');
    const file = path.join(os.tmpdir(), `pgha-copy-${process.pid}.pgha.sql`);
    fs.writeFileSync(file, src);
    const doc = await vscode.workspace.openNotebookDocument(vscode.Uri.file(file));
    await vscode.window.showNotebookDocument(doc);
    const first = doc.getCells().find((c) => c.kind === vscode.NotebookCellKind.Code)!;
    await runCell(doc, first.index);
    assert.ok(first.outputs.length > 0);
    await vscode.commands.executeCommand('pgHaWorkshop.notebook.pickCellTarget', first, 'replica');
    await vscode.commands.executeCommand('pgHaWorkshop.notebook.pickDefaultNode', 'postgres-replica2');
    assert.ok(await doc.save());
    const saved = fs.readFileSync(file, 'utf8');
    const expected = src
      .replace('-- %% [sql] @all\nSELECT pg_is_in_recovery();  -- true', '-- %% [sql] @replica\nSELECT pg_is_in_recovery();  -- true')
      .replace('\n\n-- %% [markdown]', '\n\n-- %% default @postgres-replica2\n-- %% [markdown]');
    assert.equal(saved, expected);
    assert.ok(!saved.includes('<table') && !saved.includes('pg_is_in_recovery\n---'), 'no outputs in the file');
  });
});
