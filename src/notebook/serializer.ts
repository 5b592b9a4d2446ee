// Adapts the *.pgha.sql format (format.ts) to VS Code's notebook model. Outputs are not written
// to the file (transientOutputs); each cell's target node lives in its metadata.
import * as vscode from 'vscode';
import { CELL_SQL_LANGUAGE, MARKDOWN_LANGUAGE, NotebookFormatError, parseNotebook, serializeNotebook, SQL_LANGUAGE, type NotebookCell } from './format';

export interface PghaCellMetadata {
  /** Target node name without '@'; absent = the notebook's default node. */
  target?: string;
}

export interface PghaNotebookMetadata {
  header?: string;
  defaultTarget?: string;
  eol?: '\n' | '\r\n';
}

export const serializerOptions: vscode.NotebookDocumentContentOptions = { transientOutputs: true };

export function toNotebookData(text: string): vscode.NotebookData {
  const file = parseNotebook(text);
  const cells = file.cells.map((c) => {
    const data = new vscode.NotebookCellData(
      c.kind === 'markdown' ? vscode.NotebookCellKind.Markup : vscode.NotebookCellKind.Code,
      c.source,
      c.kind === 'markdown' ? MARKDOWN_LANGUAGE : c.language === SQL_LANGUAGE ? CELL_SQL_LANGUAGE : c.language,
    );
    data.metadata = c.target ? ({ target: c.target } satisfies PghaCellMetadata) : {};
    return data;
  });
  const data = new vscode.NotebookData(cells);
  data.metadata = { header: file.header, eol: file.eol, ...(file.defaultTarget ? { defaultTarget: file.defaultTarget } : {}) } satisfies PghaNotebookMetadata;
  return data;
}

export function fromNotebookData(data: vscode.NotebookData): string {
  const meta = (data.metadata ?? {}) as PghaNotebookMetadata;
  const cells: NotebookCell[] = data.cells.map((c) => {
    const target = (c.metadata as PghaCellMetadata | undefined)?.target;
    return c.kind === vscode.NotebookCellKind.Markup
      ? { kind: 'markdown', language: MARKDOWN_LANGUAGE, source: c.value }
      : { kind: 'code', language: !c.languageId || c.languageId === CELL_SQL_LANGUAGE ? SQL_LANGUAGE : c.languageId, source: c.value, ...(target ? { target } : {}) };
  });
  return serializeNotebook({
    header: meta.header ?? '',
    eol: meta.eol ?? '\n',
    cells,
    ...(meta.defaultTarget ? { defaultTarget: meta.defaultTarget } : {}),
  });
}

export class PghaNotebookSerializer implements vscode.NotebookSerializer {
  constructor(private readonly log: vscode.LogOutputChannel) {}

  deserializeNotebook(content: Uint8Array): vscode.NotebookData {
    const text = new TextDecoder().decode(content);
    try {
      return toNotebookData(text);
    } catch (e) {
      const why = e instanceof NotebookFormatError ? e.message : String(e);
      this.log.error(`notebook: cannot read file: ${why}`);
      // Thrown, not swallowed: VS Code shows the message and leaves the file untouched.
      throw new Error(
        vscode.l10n.t(
          'This PG HA Workshop notebook cannot be opened: {0}. The file was not changed. Fix it in a text editor (right-click the file > Open With... > Text Editor), then open it again.',
          why,
        ),
      );
    }
  }

  serializeNotebook(data: vscode.NotebookData): Uint8Array {
    return new TextEncoder().encode(fromNotebookData(data));
  }
}
