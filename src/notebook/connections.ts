// Talks to the cluster for the notebook: one connection per endpoint, reused across cells, each
// statement read through a cursor so a huge result never loads into memory, cancellation on the
// server, and node-down errors that say which node and in what state. No vscode import.
import { Client, type ClientConfig, type QueryResult } from 'pg';
import Cursor from 'pg-cursor';
import { classifyPgError, nodeClientConfig } from '../core/connection';
import type { ClusterTopology } from '../core/topology';
import type { NodeRun, SqlErrorInfo, StatementResult } from './render';
import { lineOfPosition, splitStatements, type Statement } from './statements';
import type { Endpoint, NodeRoleInfo } from './targets';
import { nodeEndpoint } from './targets';

/** Says in words what state an endpoint's container is in, e.g. "container d-postgres-primary is exited (code 0)". */
export type DescribeContainer = (container: string) => Promise<string | undefined>;

export interface RunOptions {
  /** Rows shown per statement; the rest are counted, not kept. */
  readonly maxRows: number;
  readonly signal?: AbortSignal;
  /** How long to keep counting rows past the cap before giving a lower bound. */
  readonly countBudgetMs?: number;
  /** Role of the node at resolve time, shown with its results. */
  readonly role?: string;
  /** Called with the results so far while hidden rows are still being counted. */
  readonly onProgress?: (partial: NodeRun) => void;
}

// Every value as PostgreSQL's text output (what psql prints): lossless and no JS type surprises.
const TEXT_TYPES = { getTypeParser: () => (v: string) => v };
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'ENOTCONN', 'EADDRNOTAVAIL']);

interface PgErrorFields {
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
}

function fields(e: unknown): PgErrorFields {
  return typeof e === 'object' && e !== null ? (e as PgErrorFields) : {};
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** True when the error means the connection is gone (node down, restarted, shutting down). */
export function isConnectionError(e: unknown): boolean {
  const { code } = fields(e);
  if (code && CONNECTION_CODES.has(code)) return true;
  if (code && (code.startsWith('08') || code.startsWith('57P'))) return true;
  return /Connection terminated|connection timeout|timeout expired|Client has encountered a connection error|not queryable|server closed the connection/i.test(message(e));
}

type ResultCallback = (err: Error | undefined, rows: unknown[][], result: QueryResult) => void;
interface CursorLike {
  read(n: number, cb: ResultCallback): void;
  close(): Promise<void>;
}

function readRows(cursor: CursorLike, n: number): Promise<{ rows: (string | null)[][]; result: QueryResult }> {
  return new Promise((resolve, reject) =>
    cursor.read(n, (err, rows, result) => (err ? reject(err) : resolve({ rows: rows as (string | null)[][], result }))),
  );
}

/** One connection to one endpoint; statements on it run one at a time. */
export class NodeSession {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** Backend process id of the current connection (for pg_cancel_backend). */
  pid: number | undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly topology: ClusterTopology,
    private readonly describe: DescribeContainer,
    // Generous: a refused connection (node stopped) fails at once anyway; this only bounds a hung node.
    private readonly connectTimeoutMs = 10_000,
  ) {}

  private config(database = this.endpoint.database): ClientConfig {
    // No client-side query timeout: a notebook query runs until it ends or the user cancels it.
    return nodeClientConfig(this.topology, this.endpoint.port, { database, connectTimeoutMs: this.connectTimeoutMs, queryTimeoutMs: 0, applicationName: 'pgha-notebook', host: this.endpoint.host });
  }

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const c = new Client(this.config());
      // A dropped connection is forgotten; the next cell reconnects.
      c.on('error', () => this.forget(c));
      c.on('end', () => this.forget(c));
      try {
        await c.connect();
      } catch (e) {
        c.end().catch(() => undefined);
        throw e;
      }
      this.client = c;
      this.pid = (c as unknown as { processID?: number }).processID ?? undefined;
      if (!this.endpoint.simpleProtocol && this.endpoint.node) {
        // PgBouncer hands out a pooler-side id; ask the server for its real one.
        this.pid = Number((await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      }
      return c;
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private forget(c: Client): void {
    if (this.client === c) {
      this.client = undefined;
      this.pid = undefined;
    }
  }

  /** Runs `fn` after every earlier call on this session finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** pg_is_in_recovery() on this node: its role now, or down with why. */
  probeRole(): Promise<NodeRoleInfo> {
    return this.exclusive(async () => {
      try {
        const c = await this.connect();
        const r = await c.query<{ r: boolean }>({ text: 'SELECT pg_is_in_recovery() AS r', types: { getTypeParser: () => (v: string) => v === 't' } });
        return { role: r.rows[0].r ? 'replica' : 'primary' };
      } catch (e) {
        if (this.client && isConnectionError(e)) this.dropClient();
        return { role: 'down', detail: await this.downDetail(e) };
      }
    });
  }

  private dropClient(): void {
    const c = this.client;
    this.client = undefined;
    this.pid = undefined;
    c?.end().catch(() => undefined);
  }

  private async downDetail(e: unknown): Promise<string> {
    let state: string | undefined;
    try {
      state = await this.describe(this.endpoint.container);
    } catch {
      state = undefined;
    }
    const why = classifyPgError(e).message || 'connection failed';
    return state ? `${state}; ${why}` : why;
  }

  /** Asks the server to stop whatever this session is running now. */
  async cancel(): Promise<void> {
    const running = this.client;
    if (!running) return;
    if (this.endpoint.node && this.pid !== undefined) {
      // A second connection to the same node: pg_cancel_backend(pid) stops the running statement.
      const side = new Client(nodeClientConfig(this.topology, this.endpoint.port, { connectTimeoutMs: 3000, applicationName: 'pgha-notebook-cancel', host: this.endpoint.host }));
      side.on('error', () => undefined);
      try {
        await side.connect();
        await side.query('SELECT pg_cancel_backend($1)', [this.pid]);
      } finally {
        await side.end().catch(() => undefined);
      }
      return;
    }
    // Through PgBouncer: the protocol's cancel request, which PgBouncer forwards to the server.
    const helper = new Client(this.config()) as unknown as { cancel(client: Client, query: unknown): void };
    helper.cancel(running, (running as unknown as { activeQuery?: unknown }).activeQuery);
  }

  /** Runs every statement of `sql` in order, stopping at the first error. */
  run(sql: string, opts: RunOptions): Promise<NodeRun> {
    return this.exclusive(() => this.runNow(sql, opts));
  }

  private async runNow(sql: string, opts: RunOptions): Promise<NodeRun> {
    const started = performance.now();
    const results: StatementResult[] = [];
    let role = opts.role;
    const base = () => ({ node: this.endpoint.id, container: this.endpoint.container, port: this.endpoint.port, ...(role ? { role } : {}) });
    const done = (error?: SqlErrorInfo): NodeRun => ({
      ...base(),
      ...(this.pid !== undefined ? { pid: this.pid } : {}),
      results,
      ...(error ? { error } : {}),
      durationMs: performance.now() - started,
    });
    const statements = splitStatements(sql);
    if (statements.length === 0) return done();
    if (opts.signal?.aborted) return done({ kind: 'cancelled', message: 'Cancelled before it started.' });

    let client: Client;
    try {
      client = await this.connect();
    } catch (e) {
      return done(await this.nodeDownError(e));
    }

    if (this.endpoint.node && !role) {
      // The role the node has right now, shown with its result (one round trip on the same connection).
      try {
        const r = await client.query<{ r: string }>({ text: 'SELECT pg_is_in_recovery() AS r', types: TEXT_TYPES });
        role = r.rows[0].r === 't' ? 'replica' : 'primary';
      } catch (e) {
        if (isConnectionError(e)) {
          this.dropClient();
          return done(await this.nodeDownError(e));
        }
      }
    }

    const onAbort = () => void this.cancel().catch(() => undefined);
    opts.signal?.addEventListener('abort', onAbort);
    try {
      for (let i = 0; i < statements.length; i++) {
        const st = statements[i];
        try {
          const progress = opts.onProgress ? (r: StatementResult) => opts.onProgress?.({ ...done(), results: [...results, r] }) : undefined;
          results.push(this.endpoint.simpleProtocol ? await this.runSimple(client, st, opts) : await this.runCursor(client, st, opts, progress));
        } catch (e) {
          if (opts.signal?.aborted || fields(e).code === '57014') {
            return done({
              kind: 'cancelled',
              sqlstate: fields(e).code,
              message: this.endpoint.node
                ? `Cancelled: the statement was stopped on ${this.endpoint.id} (pg_cancel_backend(${this.pid ?? '?'})).`
                : `Cancelled: the statement was stopped through ${this.endpoint.id}.`,
              statementIndex: i + 1,
            });
          }
          if (isConnectionError(e)) {
            this.dropClient();
            return done({ ...(await this.nodeDownError(e)), statementIndex: i + 1 });
          }
          return done(this.sqlError(e, sql, st, i));
        }
      }
      return done();
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private sqlError(e: unknown, sql: string, st: Statement, index: number): SqlErrorInfo {
    const f = fields(e);
    const pos = f.position ? Number(f.position) : undefined;
    return {
      kind: f.code ? 'sql' : 'other',
      ...(f.code ? { sqlstate: f.code } : {}),
      ...(f.severity ? { severity: f.severity } : {}),
      message: message(e),
      ...(f.detail ? { detail: f.detail } : {}),
      ...(f.hint ? { hint: f.hint } : {}),
      ...(pos ? { line: lineOfPosition(sql, st, pos) } : { line: st.line + 1 }),
      statementIndex: index + 1,
    };
  }

  private async nodeDownError(e: unknown): Promise<SqlErrorInfo> {
    const what = this.endpoint.node ? 'PostgreSQL node' : 'PgBouncer';
    const detail = await this.downDetail(e);
    return {
      kind: 'nodeDown',
      ...(fields(e).code ? { sqlstate: fields(e).code } : {}),
      message: `${this.endpoint.id} is down or not accepting connections (${what} on ${this.endpoint.host ?? this.topology.host}:${this.endpoint.port}): ${detail}`,
      hint: this.endpoint.node
        ? `Start it (docker start ${this.endpoint.container}, or the cluster view's Start), or run the cell on another node.`
        : `Start it (docker start ${this.endpoint.container}), or run the cell on a PostgreSQL node.`,
    };
  }

  private async runSimple(client: Client, st: Statement, opts: RunOptions): Promise<StatementResult> {
    const t0 = performance.now();
    const r = await client.query({ text: st.text, rowMode: 'array', types: TEXT_TYPES });
    const all = r.rows as (string | null)[][];
    return {
      statement: st.text,
      command: r.command ?? '',
      columns: (r.fields ?? []).map((f) => ({ name: f.name, typeId: f.dataTypeID })),
      rows: all.slice(0, opts.maxRows),
      rowCount: r.rowCount ?? null,
      moreRows: Math.max(0, all.length - opts.maxRows),
      moreRowsExact: true,
      durationMs: performance.now() - t0,
    };
  }

  private async runCursor(client: Client, st: Statement, opts: RunOptions, progress?: (r: StatementResult) => void): Promise<StatementResult> {
    const t0 = performance.now();
    const cursor = client.query(new Cursor(st.text, undefined, { rowMode: 'array', types: TEXT_TYPES })) as unknown as CursorLike;
    let closed = false;
    try {
      const first = await readRows(cursor, opts.maxRows + 1);
      const rows = first.rows.slice(0, opts.maxRows);
      let more = Math.max(0, first.rows.length - opts.maxRows);
      let exact = true;
      let result = first.result;
      if (more > 0) {
        const shown = (n: number, exact: boolean): StatementResult => ({
          statement: st.text,
          command: 'SELECT',
          columns: (first.result?.fields ?? []).map((f) => ({ name: f.name, typeId: f.dataTypeID })),
          rows,
          rowCount: null,
          moreRows: n,
          moreRowsExact: exact,
          durationMs: performance.now() - t0,
        });
        progress?.(shown(more, false));
        // Count the rest without keeping it, in batches, within a time budget.
        const budget = opts.countBudgetMs ?? 10_000;
        for (;;) {
          if (opts.signal?.aborted) throw Object.assign(new Error('cancelled'), { code: '57014' });
          if (performance.now() - t0 > budget) {
            exact = false;
            break;
          }
          const next = await readRows(cursor, 50_000);
          if (next.rows.length === 0) {
            result = next.result ?? result;
            break;
          }
          more += next.rows.length;
        }
      }
      await cursor.close();
      closed = true;
      const tagCount = result?.rowCount;
      return {
        statement: st.text,
        command: result?.command ?? '',
        columns: (result?.fields ?? []).map((f) => ({ name: f.name, typeId: f.dataTypeID })),
        rows,
        rowCount: exact && typeof tagCount === 'number' ? tagCount : null,
        moreRows: more,
        moreRowsExact: exact,
        durationMs: performance.now() - t0,
      };
    } finally {
      if (!closed) await cursor.close().catch(() => undefined);
    }
  }

  dispose(): void {
    this.dropClient();
  }
}

/** The notebook's sessions, one per endpoint, plus the role probe used to resolve @primary / @replica. */
export class NotebookConnections {
  private readonly sessions = new Map<string, NodeSession>();

  constructor(
    private readonly topology: () => ClusterTopology,
    private readonly describe: DescribeContainer,
  ) {}

  session(endpoint: Endpoint): NodeSession {
    const key = `${endpoint.id}@${endpoint.port}/${endpoint.database}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = new NodeSession(endpoint, this.topology(), this.describe);
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * Each PostgreSQL node's role now, asked of the node itself (pg_is_in_recovery()) on a connection
   * of its own, so a long query running in a cell never delays resolving another cell's target.
   */
  async probeRoles(): Promise<Map<string, NodeRoleInfo>> {
    const t = this.topology();
    const entries = await Promise.all(
      t.nodes.map(async (n) => {
        const ep = nodeEndpoint(t, n);
        const key = `probe:${ep.id}@${ep.port}`;
        let s = this.sessions.get(key);
        if (!s) {
          s = new NodeSession(ep, t, this.describe);
          this.sessions.set(key, s);
        }
        return [n.service, await s.probeRole()] as const;
      }),
    );
    return new Map(entries);
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
