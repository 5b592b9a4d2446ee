// The workshop notebook file format (*.pgha.sql): a plain SQL script that psql -f can run, with
// cells marked by comment lines, so it diffs well and reads well in any editor.
//
//   -- %% default @primary            optional, before the first cell: the notebook's default node
//   -- %% [markdown]                  a Markdown cell; its text follows in a /* ... */ block
//   /*
//   # Replication status
//   */
//   -- %% [sql] @primary              a SQL cell run on the node named after @ (none = default node)
//   SELECT * FROM pg_stat_replication;
//
// Lines before the first marker (comments only) are the file's header and are kept as they are.
// Lossless by construction: Markdown (and code cells in languages other than SQL) has its comment
// delimiters escaped, SQL lines that would read as a marker get one more dash, and exactly one blank
// line separates cells. No vscode import: the serializer adapts this module.

export const NOTEBOOK_TYPE = 'pgha-sql-notebook';
export const FILE_SUFFIX = '.pgha.sql';
export const SQL_LANGUAGE = 'sql';
/**
 * The language of a SQL cell inside VS Code: the extension's "PostgreSQL" language (VS Code's own
 * 'sql' is named "MS SQL"). The file keeps writing `[sql]`; a cell set to 'sql' runs too.
 */
export const CELL_SQL_LANGUAGE = 'pgha-sql';
export const isSqlLanguage = (id: string): boolean => id === CELL_SQL_LANGUAGE || id === SQL_LANGUAGE;
export const MARKDOWN_LANGUAGE = 'markdown';

export type CellKind = 'markdown' | 'code';

export interface NotebookCell {
  readonly kind: CellKind;
  /** Language id; 'markdown' for Markdown cells. */
  readonly language: string;
  readonly source: string;
  /** Target as written after '@' (without it); undefined = the notebook's default node. */
  readonly target?: string;
}

export interface NotebookFile {
  /** Comment lines before the first cell, kept verbatim ('' when there are none). */
  readonly header: string;
  /** The notebook's default target (without '@'), from `-- %% default @x`. */
  readonly defaultTarget?: string;
  /** Line ending the file uses; written back as found. */
  readonly eol: '\n' | '\r\n';
  readonly cells: readonly NotebookCell[];
}

/** A file that cannot be read as a notebook; `line` is 1-based. */
export class NotebookFormatError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super(`line ${line}: ${detail}`);
    this.name = 'NotebookFormatError';
  }
}

const MARKER_PREFIX = /^-- %%/;
const CELL_MARKER = /^-- %% \[([A-Za-z0-9_.+#-]+)\](?: @([A-Za-z0-9_.-]+))?\s*$/;
const DEFAULT_MARKER = /^-- %% default @([A-Za-z0-9_.-]+)\s*$/;
const TARGET = /^[A-Za-z0-9_.-]+$/;
const MARKER_HELP = 'a cell marker is `-- %% [sql] @node`, `-- %% [sql]` or `-- %% [markdown]`';

/** True for a valid target name (what may follow '@'). */
export function isValidTargetName(name: string): boolean {
  return TARGET.test(name);
}

// A comment body must contain neither `*/` (it would end the comment) nor `/*` (PostgreSQL nests
// block comments). Each gap of backslashes between a `*` and a `/` (either order) gets one more
// backslash, so `*/` becomes `*\/`, `*\/` becomes `*\\/`, and unescaping removes exactly one.
export function escapeCommentBody(text: string): string {
  return text.replace(/([*/])(\\*)(?=([*/]))/g, (m, c: string, run: string, next: string) => (c !== next ? `${c}${run}\\` : m));
}

export function unescapeCommentBody(text: string): string {
  return text.replace(/([*/])(\\+)(?=([*/]))/g, (m, c: string, run: string, next: string) => (c !== next ? c + run.slice(1) : m));
}

// SQL lines that start like a marker (`-- %%`, `--- %%`, ...) get one more dash when written.
const MARKER_LIKE = /^(--+) %%/;
function escapeSqlLine(line: string): string {
  return line.replace(MARKER_LIKE, (_m, dashes: string) => `-${dashes} %%`);
}
function unescapeSqlLine(line: string): string {
  return line.replace(/^-(--+) %%/, (_m, dashes: string) => `${dashes} %%`);
}

function isCommentOrBlank(line: string): boolean {
  const t = line.trim();
  return t === '' || t.startsWith('--');
}

export function parseNotebook(text: string): NotebookFile {
  const eol: '\n' | '\r\n' = text.includes('\r\n') ? '\r\n' : '\n';
  let body = eol === '\r\n' ? text.replace(/\r\n/g, '\n') : text;
  if (body.startsWith('\uFEFF')) body = body.slice(1);
  if (body.endsWith('\n')) body = body.slice(0, -1);
  const lines = body === '' ? [] : body.split('\n');

  const headerLines: string[] = [];
  let defaultTarget: string | undefined;
  const cells: NotebookCell[] = [];
  let i = 0;

  // Header: comment and blank lines before the first cell marker.
  while (i < lines.length && !CELL_MARKER.test(lines[i])) {
    const line = lines[i];
    if (MARKER_PREFIX.test(line)) {
      const d = DEFAULT_MARKER.exec(line);
      if (!d) throw new NotebookFormatError(i + 1, `\`${line}\` is not a cell marker (${MARKER_HELP}) nor \`-- %% default @node\`.`);
      if (defaultTarget !== undefined) throw new NotebookFormatError(i + 1, 'the default node is set twice (`-- %% default @node`); keep one.');
      defaultTarget = d[1];
      i++;
      continue;
    }
    if (!isCommentOrBlank(line)) break;
    headerLines.push(line);
    i++;
  }

  // SQL before any marker (a plain .sql file, or a hand-edited one): one SQL cell on the default node.
  if (i < lines.length && !CELL_MARKER.test(lines[i])) {
    const start = i;
    while (i < lines.length && !MARKER_PREFIX.test(lines[i])) i++;
    const chunk = lines.slice(start, i);
    if (i < lines.length && chunk.length > 0 && chunk[chunk.length - 1] === '') chunk.pop();
    cells.push({ kind: 'code', language: SQL_LANGUAGE, source: chunk.map(unescapeSqlLine).join('\n') });
  }

  while (i < lines.length) {
    const markerLine = lines[i];
    const m = CELL_MARKER.exec(markerLine);
    if (!m) {
      if (DEFAULT_MARKER.test(markerLine)) {
        throw new NotebookFormatError(i + 1, 'the default node (`-- %% default @node`) must come before the first cell.');
      }
      throw new NotebookFormatError(i + 1, `\`${markerLine}\` is not a valid cell marker: ${MARKER_HELP}.`);
    }
    const [, language, target] = m;
    const markerNo = i + 1;
    i++;
    if (language === SQL_LANGUAGE) {
      const start = i;
      while (i < lines.length && !MARKER_PREFIX.test(lines[i])) i++;
      const chunk = lines.slice(start, i);
      // The blank line the writer puts between cells is not part of the cell.
      if (i < lines.length && chunk.length > 0 && chunk[chunk.length - 1] === '') chunk.pop();
      cells.push({ kind: 'code', language, source: chunk.map(unescapeSqlLine).join('\n'), ...(target ? { target } : {}) });
      continue;
    }
    // Markdown and other languages: the text sits in a /* ... */ block.
    if (i >= lines.length || lines[i] !== '/*') {
      throw new NotebookFormatError(i + 1, `the ${language} cell that starts on line ${markerNo} must continue with a line holding only \`/*\` (its text goes in a /* ... */ comment).`);
    }
    const open = i + 1;
    i++;
    const start = i;
    while (i < lines.length && lines[i] !== '*/') i++;
    if (i >= lines.length) {
      throw new NotebookFormatError(open, `the comment opened here for the ${language} cell of line ${markerNo} is never closed: add a line holding only \`*/\`.`);
    }
    const inner = lines.slice(start, i).join('\n');
    i++;
    while (i < lines.length && !MARKER_PREFIX.test(lines[i])) {
      if (lines[i].trim() !== '') {
        throw new NotebookFormatError(i + 1, `text after the end of the ${language} cell of line ${markerNo}: move it inside the /* ... */ block, or start a SQL cell before it with \`-- %% [sql]\`.`);
      }
      i++;
    }
    const source = unescapeCommentBody(inner);
    if (language === MARKDOWN_LANGUAGE) {
      if (target) throw new NotebookFormatError(markerNo, 'a Markdown cell has no target node: remove the `@...` from its marker.');
      cells.push({ kind: 'markdown', language, source });
    } else {
      cells.push({ kind: 'code', language, source, ...(target ? { target } : {}) });
    }
  }

  return { header: headerLines.join('\n'), ...(defaultTarget ? { defaultTarget } : {}), eol, cells };
}

function serializeCell(cell: NotebookCell): string {
  if (cell.target !== undefined && !isValidTargetName(cell.target)) {
    throw new Error(`"${cell.target}" is not a valid target node name (letters, digits, '.', '_' and '-').`);
  }
  const at = cell.kind === 'code' && cell.target ? ` @${cell.target}` : '';
  const language = cell.kind === 'markdown' ? MARKDOWN_LANGUAGE : cell.language || SQL_LANGUAGE;
  if (cell.kind === 'code' && language === SQL_LANGUAGE) {
    const src = cell.source.replace(/\r\n/g, '\n');
    return `-- %% [${language}]${at}\n${src.split('\n').map(escapeSqlLine).join('\n')}\n`;
  }
  return `-- %% [${language}]${at}\n/*\n${escapeCommentBody(cell.source.replace(/\r\n/g, '\n'))}\n*/\n`;
}

export function serializeNotebook(file: NotebookFile): string {
  if (file.defaultTarget !== undefined && !isValidTargetName(file.defaultTarget)) {
    throw new Error(`"${file.defaultTarget}" is not a valid target node name (letters, digits, '.', '_' and '-').`);
  }
  let out = '';
  const header = file.header.replace(/\r\n/g, '\n');
  if (header !== '') out += `${header}\n`;
  if (file.defaultTarget) out += `-- %% default @${file.defaultTarget}\n`;
  out += file.cells.map(serializeCell).join('\n');
  return file.eol === '\r\n' ? out.replace(/\n/g, '\r\n') : out;
}

/** The header a new notebook gets: says what the file is and how targets work. */
export const NEW_NOTEBOOK_HEADER = [
  '-- PG HA Workshop SQL notebook. Open it in VS Code with the PG HA Workshop extension, or run it',
  '-- with `psql -f`. A cell starts at a `-- %% [sql] @node` or `-- %% [markdown]` line; Markdown',
  '-- sits in /* ... */. Targets: @primary = the node that is primary now (after a failover: the',
  '-- promoted one), @replica = any replica now, @all = every PostgreSQL node side by side,',
  '-- @postgres-primary / @postgres-replica1 / @postgres-replica2 = that container whatever its role,',
  '-- @pgbouncer = demodb through PgBouncer, @pgbouncer-admin = the PgBouncer admin console.',
  '-- A cell without @node runs on the notebook default (`-- %% default @node`, else @primary).',
].join('\n');
