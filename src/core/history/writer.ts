// The drill writer: a few clients that insert numbered rows into the drill's own table and record
// every attempt with its outcome and the timeline the row landed on (the server computes it inside
// the INSERT, so the acknowledgement names the timeline that committed it). Independent of the
// load generator (src/core/load.ts): the checker must not judge code with itself.
//
// Outcome rules (PostgreSQL single-statement autocommit):
//   connect failed                          → failed (nothing was sent)
//   error with an SQLSTATE (25006, 55000,   → failed (the statement was refused or rolled back)
//   23xxx, 40xxx ...) before the commit
//   57Pxx (shutdown / crash), 08xxx, socket → indeterminate (the commit may have happened: a
//   error, client-side timeout                 synchronous commit is local before it waits)
//
// API (no vscode):
//   ensureHistoryTable(topology, port)      CREATE TABLE IF NOT EXISTS on the primary
//   const w = new DrillWriter(topology, { port, via, clients, pauseMs, writeTimeoutMs, reconnectEachWrite, maxWrites })
//   w.start(); await w.stop(); w.writes (WriteRecord[]); w.runId
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { nodeClientConfig } from '../connection';
import type { ClusterTopology } from '../topology';
import { HISTORY_TABLE, type Outcome, type WriteRecord } from './history';

export interface DrillWriterOptions {
  /** Host port to write through (PgBouncer or one node). */
  readonly port: number;
  readonly clients?: number;
  /** Pause between two writes of one client. Default 20 ms. */
  readonly pauseMs?: number;
  /** Client-side deadline of one write; past it the write is indeterminate. Default 3000 ms. */
  readonly writeTimeoutMs?: number;
  /** Connect for every write (lets PgBouncer in session mode PAUSE between writes). */
  readonly reconnectEachWrite?: boolean;
  /** Hard bound on attempts per client. Default 100 000. */
  readonly maxWrites?: number;
  /** Hard bound on the run. Default 10 minutes. */
  readonly maxDurationMs?: number;
}

export async function ensureHistoryTable(t: ClusterTopology, port: number): Promise<void> {
  const c = new Client(nodeClientConfig(t, port, { connectTimeoutMs: 15_000, queryTimeoutMs: 30_000, applicationName: 'pgha-drill' }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${HISTORY_TABLE} (
         id bigserial PRIMARY KEY,
         run_id text NOT NULL,
         seq integer NOT NULL,
         client integer NOT NULL,
         timeline integer NOT NULL,
         node text NOT NULL,
         written_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await c.query(`CREATE INDEX IF NOT EXISTS ${HISTORY_TABLE}_run ON ${HISTORY_TABLE} (run_id)`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

// The timeline the WAL is written on now: the first 8 hex digits of the current WAL file name.
const INSERT = `INSERT INTO ${HISTORY_TABLE} (run_id, seq, client, timeline, node)
  VALUES ($1, $2, $3, ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int, current_setting('cluster_name'))
  RETURNING timeline, node`;

const PGBOUNCER_NOT_SENT = /pgbouncer cannot connect to server|no more connections allowed|server login has been failing|query_wait_timeout|database .* is paused/i;

function sqlstateOf(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Outcome of a write that raised `e` after it was sent. */
export function outcomeOfError(e: unknown): Outcome {
  const state = sqlstateOf(e);
  // PgBouncer refused before any server saw the statement.
  if (PGBOUNCER_NOT_SENT.test(e instanceof Error ? e.message : String(e))) return 'failed';
  if (state === undefined) return 'indeterminate';
  if (state.startsWith('57P') || state.startsWith('08') || state === '57014') return 'indeterminate';
  return 'failed';
}

export class DrillWriter {
  readonly runId = randomBytes(4).toString('hex');
  readonly writes: WriteRecord[] = [];
  private seq = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly topology: ClusterTopology,
    private readonly o: DrillWriterOptions,
  ) {}

  get acknowledged(): number {
    return this.writes.filter((w) => w.outcome === 'ok').length;
  }

  start(): void {
    const n = this.o.clients ?? 2;
    const until = Date.now() + (this.o.maxDurationMs ?? 600_000);
    for (let i = 1; i <= n; i++) this.loops.push(this.loop(i, until));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
    this.loops = [];
  }

  private newClient(): Client {
    const c = new Client(nodeClientConfig(this.topology, this.o.port, { connectTimeoutMs: Math.min(this.o.writeTimeoutMs ?? 3000, 5000), queryTimeoutMs: this.o.writeTimeoutMs ?? 3000, applicationName: 'pgha-drill-writer' }));
    c.on('error', () => undefined);
    return c;
  }

  private async loop(client: number, until: number): Promise<void> {
    const max = this.o.maxWrites ?? 100_000;
    const pause = this.o.pauseMs ?? 20;
    let conn: Client | undefined;
    const drop = async () => {
      const c = conn;
      conn = undefined;
      if (c) await c.end().catch(() => undefined);
    };
    for (let i = 0; i < max && !this.stopping && Date.now() < until; i++) {
      const seq = ++this.seq;
      const sentAt = Date.now();
      if (!conn) {
        const c = this.newClient();
        try {
          await c.connect();
          conn = c;
        } catch (e) {
          await c.end().catch(() => undefined);
          this.writes.push({ type: 'write', seq, client, sentAt, doneAt: Date.now(), outcome: 'failed', sqlstate: sqlstateOf(e), error: `connect: ${e instanceof Error ? e.message : String(e)}` });
          await sleep(Math.max(pause, 50));
          continue;
        }
      }
      try {
        const r = await conn.query<{ timeline: number; node: string }>(INSERT, [this.runId, seq, client]);
        this.writes.push({ type: 'write', seq, client, sentAt, doneAt: Date.now(), outcome: 'ok', node: r.rows[0].node, timeline: Number(r.rows[0].timeline) });
        if (this.o.reconnectEachWrite) await drop();
      } catch (e) {
        this.writes.push({ type: 'write', seq, client, sentAt, doneAt: Date.now(), outcome: outcomeOfError(e), sqlstate: sqlstateOf(e), error: e instanceof Error ? e.message : String(e) });
        await drop();
      }
      if (pause > 0) await sleep(pause);
    }
    await drop();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
