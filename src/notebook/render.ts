// Results of a cell as the notebook shows them: an HTML table styled with the editor theme's
// colours, a psql-like text table, JSON, and CSV for export. Pure: no vscode, no database.
import { stringify } from 'csv-stringify/sync';

export interface Column {
  readonly name: string;
  /** PostgreSQL type OID. */
  readonly typeId: number;
}

/** One statement's result. Values are PostgreSQL's own text form (as psql prints them); null is NULL. */
export interface StatementResult {
  readonly statement: string;
  /** Command tag: SELECT, INSERT, SHOW, ... */
  readonly command: string;
  readonly columns: readonly Column[];
  readonly rows: readonly (readonly (string | null)[])[];
  /** Rows the statement returned or affected (as the command tag says), when known. */
  readonly rowCount: number | null;
  /** Rows returned but not shown because of the row cap. */
  readonly moreRows: number;
  /** False when counting the hidden rows stopped early (then moreRows is a lower bound). */
  readonly moreRowsExact: boolean;
  readonly durationMs: number;
}

export interface SqlErrorInfo {
  /** SQLSTATE, e.g. 42P01; undefined for errors that did not come from the server. */
  readonly sqlstate?: string;
  readonly severity?: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based line in the cell, when the server gave a position. */
  readonly line?: number;
  /** 1-based index of the failing statement in the cell. */
  readonly statementIndex?: number;
  /** What kind of failure: the server rejected SQL, the node is unreachable, the run was cancelled, the target is wrong. */
  readonly kind: 'sql' | 'nodeDown' | 'cancelled' | 'target' | 'other';
}

export interface NodeRun {
  /** Endpoint id: service name, 'pgbouncer' or 'pgbouncer-admin'. */
  readonly node: string;
  readonly container: string;
  readonly port: number;
  /** Role at run time when known: primary / replica. */
  readonly role?: string;
  /** Server process id of the connection that ran it (the same across cells: one connection per node). */
  readonly pid?: number;
  readonly results: readonly StatementResult[];
  readonly error?: SqlErrorInfo;
  readonly durationMs: number;
}

export function formatDuration(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** "3 rows", "1,000+ rows" (counting stopped early). */
function rowCountText(r: StatementResult): string {
  const total = r.rows.length + r.moreRows;
  return r.moreRowsExact ? plural(total, 'row', 'rows') : `${total.toLocaleString('en-US')}+ rows`;
}

/** "3 rows", "INSERT 1", "SHOW": what a statement did, in one phrase. */
export function resultSummary(r: StatementResult): string {
  if (r.columns.length > 0) {
    return rowCountText(r);
  }
  return r.rowCount !== null ? `${r.command} ${r.rowCount}` : r.command;
}

export function errorText(e: SqlErrorInfo): string {
  const lines = [`${e.severity ?? 'ERROR'}${e.sqlstate ? ` ${e.sqlstate}` : ''}: ${e.message}`];
  if (e.detail) lines.push(`DETAIL: ${e.detail}`);
  if (e.hint) lines.push(`HINT: ${e.hint}`);
  const where = [e.statementIndex !== undefined ? `statement ${e.statementIndex}` : '', e.line !== undefined ? `line ${e.line} of the cell` : '']
    .filter(Boolean)
    .join(', ');
  if (where) lines.push(`at ${where}`);
  return lines.join('\n');
}

export function nodeHeading(run: NodeRun): string {
  const role = run.role ? ` (${run.role})` : '';
  return `${run.node}${role} · port ${run.port}`;
}

function runSummary(run: NodeRun): string {
  const parts: string[] = [];
  const rowsShown = run.results.filter((r) => r.columns.length > 0);
  if (rowsShown.length === 1 && run.results.length === 1) parts.push(resultSummary(rowsShown[0]));
  else if (run.results.length > 0) parts.push(plural(run.results.length, 'statement', 'statements'));
  parts.push(formatDuration(run.durationMs));
  return parts.join(' · ');
}

// ---- text/plain: psql-like aligned tables ----

function textTable(r: StatementResult): string {
  if (r.columns.length === 0) return resultSummary(r);
  const cell = (v: string | null) => (v === null ? 'NULL' : v.replace(/\r?\n/g, '↵'));
  const widths = r.columns.map((c, i) => Math.max(c.name.length, ...r.rows.map((row) => cell(row[i]).length)));
  const line = (vals: string[]) => vals.map((v, i) => ' ' + v.padEnd(widths[i])).join(' |').trimEnd();
  const out = [line(r.columns.map((c) => c.name)), widths.map((w) => '-'.repeat(w + 2)).join('+'), ...r.rows.map((row) => line(row.map(cell)))];
  out.push(`(${rowCountText(r)}${r.moreRows > 0 ? `, ${r.moreRows.toLocaleString('en-US')}${r.moreRowsExact ? '' : '+'} more not shown` : ''})`);
  return out.join('\n');
}

export function renderText(runs: readonly NodeRun[]): string {
  return runs
    .map((run) => {
      const parts = [`-- ${nodeHeading(run)} · ${runSummary(run)}`];
      for (const r of run.results) parts.push(textTable(r));
      if (run.error) parts.push(errorText(run.error));
      return parts.join('\n\n');
    })
    .join('\n\n');
}

// ---- application/json ----

export interface JsonResult {
  node: string;
  container: string;
  port: number;
  role?: string;
  pid?: number;
  durationMs: number;
  results: {
    statement: string;
    command: string;
    columns: string[];
    rows: Record<string, string | null>[];
    rowCount: number | null;
    moreRows: number;
    moreRowsExact: boolean;
    durationMs: number;
  }[];
  error?: SqlErrorInfo;
}

export function renderJson(runs: readonly NodeRun[]): JsonResult[] {
  return runs.map((run) => ({
    node: run.node,
    container: run.container,
    port: run.port,
    ...(run.role ? { role: run.role } : {}),
    ...(run.pid !== undefined ? { pid: run.pid } : {}),
    durationMs: Math.round(run.durationMs * 10) / 10,
    results: run.results.map((r) => ({
      statement: r.statement,
      command: r.command,
      columns: r.columns.map((c) => c.name),
      rows: r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]]))),
      rowCount: r.rowCount,
      moreRows: r.moreRows,
      moreRowsExact: r.moreRowsExact,
      durationMs: Math.round(r.durationMs * 10) / 10,
    })),
    ...(run.error ? { error: run.error } : {}),
  }));
}

// ---- CSV (export) ----

/** One result as CSV (RFC 4180, header row, NULL as an empty field). */
export function resultToCsv(r: StatementResult): string {
  return stringify([r.columns.map((c) => c.name), ...r.rows.map((row) => row.map((v) => v ?? ''))]);
}

// ---- text/html ----

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const STYLE = `
.pgha { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size, 13px); color: var(--vscode-foreground); }
.pgha .nodes { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.pgha .node { flex: 1 1 300px; min-width: 0; }
.pgha .head { display: flex; gap: 8px; align-items: baseline; margin: 2px 0 6px; }
.pgha .name { font-weight: 600; }
.pgha .role { padding: 0 6px; border-radius: 8px; font-size: 11px; background: var(--vscode-badge-background); color: var(--vscode-badge-foreground); }
.pgha .role.primary { background: var(--vscode-charts-green, var(--vscode-badge-background)); color: var(--vscode-editor-background); }
.pgha .meta, .pgha .more, .pgha .cmd { color: var(--vscode-descriptionForeground); font-size: 12px; }
.pgha .scroll { overflow: auto; max-height: 420px; border: 1px solid var(--vscode-panel-border, var(--vscode-editorWidget-border, #8884)); border-radius: 3px; }
.pgha table { border-collapse: collapse; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size, 12px); width: max-content; min-width: 100%; }
.pgha th { position: sticky; top: 0; text-align: left; font-weight: 600; background: var(--vscode-editorWidget-background, var(--vscode-editor-background)); border-bottom: 1px solid var(--vscode-panel-border, #8884); }
.pgha th, .pgha td { padding: 3px 10px; white-space: pre; vertical-align: top; }
.pgha tbody tr:nth-child(even) { background: var(--vscode-list-hoverBackground, transparent); }
.pgha td.num { text-align: right; }
.pgha td.null { color: var(--vscode-descriptionForeground); font-style: italic; }
.pgha .result + .result { margin-top: 10px; }
.pgha .error { color: var(--vscode-errorForeground); white-space: pre-wrap; font-family: var(--vscode-editor-font-family); border-left: 3px solid var(--vscode-errorForeground); padding: 4px 8px; background: var(--vscode-inputValidation-errorBackground, transparent); }
`;

const NUMERIC_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700, 790]);

function htmlResult(r: StatementResult, showStatement: boolean): string {
  const stmt = showStatement ? `<div class="cmd">${escapeHtml(r.statement.replace(/^(\s*--[^\n]*\n)+/, '').trim().split('\n')[0].slice(0, 120))}</div>` : '';
  if (r.columns.length === 0) return `<div class="result">${stmt}<div class="meta">${escapeHtml(resultSummary(r))} · ${formatDuration(r.durationMs)}</div></div>`;
  const num = r.columns.map((c) => NUMERIC_TYPES.has(c.typeId));
  const head = r.columns.map((c) => `<th>${escapeHtml(c.name)}</th>`).join('');
  const body = r.rows
    .map(
      (row) =>
        `<tr>${row.map((v, i) => (v === null ? '<td class="null">NULL</td>' : `<td${num[i] ? ' class="num"' : ''}>${escapeHtml(v)}</td>`)).join('')}</tr>`,
    )
    .join('');
  const more =
    r.moreRows > 0
      ? `<div class="more">${r.moreRows.toLocaleString('en-US')}${r.moreRowsExact ? '' : '+'} more ${r.moreRows === 1 ? 'row' : 'rows'} not shown (limit ${r.rows.length.toLocaleString('en-US')}: setting pgHaWorkshop.notebook.maxRows)</div>`
      : '';
  const meta = `<div class="meta">${escapeHtml(resultSummary(r))} · ${formatDuration(r.durationMs)}</div>`;
  return `<div class="result">${stmt}<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>${more}${meta}</div>`;
}

function htmlRun(run: NodeRun): string {
  const role = run.role ? `<span class="role ${escapeHtml(run.role)}">${escapeHtml(run.role)}</span>` : '';
  const head = `<div class="head"><span class="name">${escapeHtml(run.node)}</span>${role}<span class="meta">port ${run.port} · ${escapeHtml(runSummary(run))}</span></div>`;
  const many = run.results.length > 1;
  const results = run.results.map((r) => htmlResult(r, many)).join('');
  const err = run.error ? `<div class="error">${escapeHtml(errorText(run.error))}</div>` : '';
  return `<div class="node" data-node="${escapeHtml(run.node)}">${head}${results}${err}</div>`;
}

export function renderHtml(runs: readonly NodeRun[]): string {
  return `<style>${STYLE}</style><div class="pgha"><div class="nodes">${runs.map(htmlRun).join('')}</div></div>`;
}
