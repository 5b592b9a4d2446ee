// A drill's history: every write the drill writer attempted with its outcome, what the cluster
// did (faults, actions, their steps), and the rows the checker found on each node afterwards.
// Saved as JSON lines (one record per line) so a run can be checked again offline, by a program
// that shares no code with the load generator.
//
// Outcomes (as Jepsen names them):
//   ok             the database acknowledged the commit
//   failed         the write certainly did not commit (refused before or without a commit)
//   indeterminate  the acknowledgement was lost (connection died or timed out after sending):
//                  the row may or may not be there
//
// API (no vscode, no I/O but the two file helpers):
//   HistoryRecord (header | write | event | rows)
//   toJsonLines(records) / parseJsonLines(text) → records (throws HistoryFormatError with the line)
//   saveHistory(file, records) / loadHistory(file)
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const HISTORY_VERSION = 1;
/** The drill writer's own table (never the workshop's `users`). */
export const HISTORY_TABLE = 'pgha_drill_writes';

export type Outcome = 'ok' | 'failed' | 'indeterminate';

export interface HeaderRecord {
  readonly type: 'header';
  readonly version: number;
  readonly drill: string;
  readonly title: string;
  readonly runId: string;
  readonly startedAt: number;
  /** What the writer wrote through ("pgbouncer", a node service). */
  readonly via: string;
  readonly sync: string;
}

export interface WriteRecord {
  readonly type: 'write';
  readonly seq: number;
  readonly client: number;
  readonly sentAt: number;
  readonly doneAt: number;
  readonly outcome: Outcome;
  /** cluster_name of the node that acknowledged (ok only). */
  readonly node?: string;
  /** Timeline the row landed on, as the server reported it (ok only). */
  readonly timeline?: number;
  readonly sqlstate?: string;
  readonly error?: string;
}

export interface EventRecord {
  readonly type: 'event';
  readonly at: number;
  /** fault | action-start | action (done) | step | setup | check | lag */
  readonly kind: string;
  readonly message: string;
  /** Replication lag in bytes per replica at the moment of a fault (kind 'lag'). */
  readonly lagBytes?: Readonly<Record<string, number | null>>;
}

export interface RowsRecord {
  readonly type: 'rows';
  readonly node: string;
  readonly at: number;
  /** What the node was when read: its own answer to pg_is_in_recovery(). */
  readonly role: 'primary' | 'replica' | 'unreachable';
  readonly timeline: number | null;
  /** [seq, timeline] of every row of this run found on the node (duplicates kept). */
  readonly rows: readonly (readonly [number, number])[];
  readonly error?: string;
}

export type HistoryRecord = HeaderRecord | WriteRecord | EventRecord | RowsRecord;

export class HistoryFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HistoryFormatError';
  }
}

export function toJsonLines(records: readonly HistoryRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

const TYPES = new Set(['header', 'write', 'event', 'rows']);

export function parseJsonLines(text: string, source = 'history'): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new HistoryFormatError(`${source}:${i + 1} is not JSON (${e instanceof Error ? e.message : String(e)}). A history file has one JSON record per line, as \`npm run drills\` writes it.`);
    }
    if (typeof v !== 'object' || v === null || !TYPES.has(String((v as { type?: unknown }).type))) {
      throw new HistoryFormatError(`${source}:${i + 1} has no known "type" (header, write, event or rows).`);
    }
    const r = v as HistoryRecord;
    if (r.type === 'write' && (!Number.isInteger(r.seq) || !['ok', 'failed', 'indeterminate'].includes(r.outcome))) {
      throw new HistoryFormatError(`${source}:${i + 1}: a write needs an integer "seq" and an outcome ok, failed or indeterminate.`);
    }
    if (r.type === 'rows' && !Array.isArray(r.rows)) throw new HistoryFormatError(`${source}:${i + 1}: a rows record needs a "rows" array of [seq, timeline].`);
    out.push(r);
  }
  if (!out.some((r) => r.type === 'header')) throw new HistoryFormatError(`${source} has no header record: is it a drill history?`);
  return out;
}

export async function saveHistory(file: string, records: readonly HistoryRecord[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, toJsonLines(records), 'utf8');
}

export async function loadHistory(file: string): Promise<HistoryRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new HistoryFormatError(`Cannot read ${file}: ${e instanceof Error ? e.message : String(e)}.`);
  }
  return parseJsonLines(text, file);
}
