// Splits a cell into the statements it holds, so each runs on its own (a cursor takes one
// statement) and reports its own result. PostgreSQL dialect: quotes, dollar quotes, comments.
import { postgreSplitterOptions, splitQuery } from 'dbgate-query-splitter';

export interface Statement {
  readonly text: string;
  /** 0-based offset of the statement's first character in the cell. */
  readonly offset: number;
  /** 0-based line of the statement's first character in the cell. */
  readonly line: number;
}

interface RichItem {
  text: string;
  start: { position: number; line: number };
  trimStart?: { position: number; line: number };
}

function isOnlyComments(s: string): boolean {
  return s.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim() === '';
}

export function splitStatements(sql: string): Statement[] {
  const items = splitQuery(sql, { ...postgreSplitterOptions, returnRichInfo: true }) as unknown as RichItem[];
  return items
    .filter((it) => !isOnlyComments(it.text))
    .map((it) => {
      const at = it.trimStart ?? it.start;
      return { text: it.text, offset: at.position, line: at.line };
    });
}

/** 1-based line in the cell of a 1-based character `position` (PostgreSQL's error position) in `stmt`. */
export function lineOfPosition(sql: string, stmt: Statement, position: number): number {
  const abs = Math.min(sql.length, stmt.offset + Math.max(0, position - 1));
  let line = 1;
  for (let i = 0; i < abs; i++) if (sql.charCodeAt(i) === 10) line++;
  return line;
}
