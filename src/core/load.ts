// Write load for the workshop's demos 3, 4 and 5, with a ledger of every acknowledged write.
//
// Modes
//   rate  R single-row inserts per second for T seconds, one connection (generate-load.sh 120 2)
//   bulk  Demo 5: S inserts of N rows each (generate_series), C at a time
//   max   as many single-row inserts as N clients can do in T seconds
// Targets
//   'primary'   follows the writable node: after a failure it looks for the node that accepts
//               writes (like libpq's target_session_attrs=read-write), so RTO can be measured
//   'pgbouncer' through PgBouncer (whatever it points at)
//   NodeKey     one fixed node (keeps failing while that node is down or read-only)
// A failed write never stops the run: it is counted, the connection is dropped and the next write
// reconnects. Every loop is bounded by count and time, and stops on cancel().
//
// API (no vscode):
//   validateLoadOptions(o)        → string[] of problems (empty when fine)
//   const g = new LoadGenerator(topology, options); g.onProgress(fn); const r = await g.run();
//   g.cancel(); g.ledger; g.progress
//   preflightTarget(topology, target) → undefined | message (target does not accept writes)
import { Client } from 'pg';
import { classifyPgError, nodeClientConfig, type PgFailureKind } from './connection';
import { Emitter, type Disposable } from './emitter';
import { percentile, WriteLedger, writeKey } from './ledger';
import type { ClusterTopology, NodeKey } from './topology';

export type LoadTarget = 'primary' | 'pgbouncer' | NodeKey;

export type LoadMode =
  | { readonly kind: 'rate'; readonly ratePerSec: number; readonly durationSec: number }
  | { readonly kind: 'bulk'; readonly statements: number; readonly rowsPerStatement: number; readonly concurrency: number; readonly maxDurationSec?: number }
  | { readonly kind: 'max'; readonly clients: number; readonly durationSec: number };

export interface LoadOptions {
  readonly target: LoadTarget;
  readonly mode: LoadMode;
  /** Ledger to record into (a new one by default). */
  readonly ledger?: WriteLedger;
  /** Per-write deadline (a hung primary, e.g. synchronous commit without standby). Default 5000. */
  readonly writeTimeoutMs?: number;
  /** Progress period. Default 500 ms. */
  readonly progressIntervalMs?: number;
  /** Use prepared statements (default true). */
  readonly prepared?: boolean;
}

/** The workshop's defaults: ./generate-load.sh 120 2 and Demo 5. */
export const DEFAULT_RATE_MODE: LoadMode = { kind: 'rate', ratePerSec: 2, durationSec: 120 };
export const DEFAULT_BULK_MODE: LoadMode = { kind: 'bulk', statements: 1000, rowsPerStatement: 100, concurrency: 10 };

export const LIMITS = {
  ratePerSec: 5000,
  durationSec: 3600,
  clients: 64,
  statements: 100_000,
  rowsPerStatement: 10_000,
} as const;

export interface LoadProgress {
  readonly state: 'running' | 'done' | 'cancelled';
  readonly target: LoadTarget;
  readonly mode: LoadMode['kind'];
  readonly elapsedMs: number;
  readonly acked: number;
  readonly ackedRows: number;
  readonly failed: number;
  /** Acknowledged writes per second over the last second. */
  readonly writesPerSec: number;
  readonly avgWritesPerSec: number;
  readonly lastError?: { readonly at: number; readonly message: string; readonly kind: string };
  /** Node that acknowledged the latest write. */
  readonly node?: string;
  /** True while the latest attempt failed (the target is down from the client's view). */
  readonly failing: boolean;
}

export interface LoadResult extends LoadProgress {
  readonly ledger: WriteLedger;
  readonly latencyMs: { readonly p50?: number; readonly p95?: number; readonly p99?: number; readonly mean?: number };
}

function isNum(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Problems with the options, each a sentence a user can act on; empty when fine. */
export function validateLoadOptions(o: LoadOptions): string[] {
  const p: string[] = [];
  const m = o.mode;
  const inRange = (name: string, v: unknown, min: number, max: number, integer: boolean, example: string) => {
    if (!isNum(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      p.push(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${String(v)}), e.g. ${example}.`);
    }
  };
  if (m.kind === 'rate') {
    if (isNum(m.ratePerSec) && m.ratePerSec <= 0) p.push(`The rate must be more than 0 writes per second (got ${m.ratePerSec}); the workshop uses 2.`);
    else inRange('The rate (writes per second)', m.ratePerSec, 0.01, LIMITS.ratePerSec, false, '2');
    inRange('The duration (seconds)', m.durationSec, 1, LIMITS.durationSec, true, '120');
  } else if (m.kind === 'bulk') {
    inRange('The number of statements', m.statements, 1, LIMITS.statements, true, '1000');
    inRange('The rows per statement', m.rowsPerStatement, 1, LIMITS.rowsPerStatement, true, '100');
    inRange('The concurrency', m.concurrency, 1, LIMITS.clients, true, '10');
    if (m.maxDurationSec !== undefined) inRange('The time limit (seconds)', m.maxDurationSec, 1, LIMITS.durationSec, true, '300');
  } else if (m.kind === 'max') {
    inRange('The number of clients', m.clients, 1, LIMITS.clients, true, '4');
    inRange('The duration (seconds)', m.durationSec, 1, LIMITS.durationSec, true, '30');
  } else {
    p.push(`Unknown load mode ${(m as { kind: string }).kind}: use rate, bulk or max.`);
  }
  if (o.writeTimeoutMs !== undefined) inRange('The write timeout (ms)', o.writeTimeoutMs, 100, 600_000, true, '5000');
  return p;
}

export class LoadInputError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join(' '));
    this.name = 'LoadInputError';
  }
}


function targetPort(t: ClusterTopology, target: Exclude<LoadTarget, 'primary'>): number {
  if (target === 'pgbouncer') return t.pgbouncer.hostPort;
  const n = t.nodes.find((x) => x.key === target);
  if (!n) throw new LoadInputError([`Unknown load target "${target}": use primary, pgbouncer, ${t.nodes.map((x) => x.key).join(', ')}.`]);
  return n.hostPort;
}

function targetName(t: ClusterTopology, target: LoadTarget): string {
  if (target === 'primary') return 'the primary';
  if (target === 'pgbouncer') return `${t.pgbouncer.container} (port ${t.pgbouncer.hostPort})`;
  const n = t.nodes.find((x) => x.key === target);
  return n ? `${n.container} (port ${n.hostPort})` : target;
}

/** Port of the node that accepts writes now (first found), or undefined. */
export async function findWritableNode(t: ClusterTopology, prefer?: number): Promise<{ port: number; service: string } | undefined> {
  const ports = t.nodes.map((n) => n.hostPort);
  if (prefer !== undefined) ports.sort((a, b) => (a === prefer ? -1 : b === prefer ? 1 : 0));
  const answers = await Promise.all(
    ports.map(async (port) => {
      const c = new Client(nodeClientConfig(t, port, { connectTimeoutMs: 10_000, queryTimeoutMs: 15_000, applicationName: 'pgha-load' }));
      c.on('error', () => undefined);
      try {
        await c.connect();
        const r = await c.query<{ rec: boolean; name: string }>("SELECT pg_is_in_recovery() AS rec, current_setting('cluster_name') AS name");
        return r.rows[0] && !r.rows[0].rec ? { port, service: r.rows[0].name } : undefined;
      } catch {
        return undefined;
      } finally {
        await c.end().catch(() => undefined);
      }
    }),
  );
  return answers.find((a) => a !== undefined);
}

/** undefined when the target accepts a write now; else why not (a sentence). */
export async function preflightTarget(t: ClusterTopology, target: LoadTarget): Promise<string | undefined> {
  if (target === 'primary') {
    const w = await findWritableNode(t);
    return w ? undefined : `No node accepts writes (${t.nodes.map((n) => n.container).join(', ')} are down or read-only). Start the cluster, or promote a replica, then start the load.`;
  }
  const port = targetPort(t, target);
  const c = new Client(nodeClientConfig(t, port, { connectTimeoutMs: 10_000, queryTimeoutMs: 15_000, applicationName: 'pgha-load' }));
  c.on('error', () => undefined);
  try {
    await c.connect();
    const r = await c.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro");
    if (r.rows[0]?.ro === 'on') return `${targetName(t, target)} is read-only (a replica): writes would all fail. Target the primary instead.`;
    return undefined;
  } catch (e) {
    return `${targetName(t, target)} does not accept connections (${classifyPgError(e).message}). Start it (or fail over), then start the load.`;
  } finally {
    await c.end().catch(() => undefined);
  }
}

const INSERT_ONE = "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, current_setting('cluster_name') AS node";
const INSERT_BULK =
  "INSERT INTO users (name, email) SELECT $1::text, $1::text || '.' || g || '@load.example' FROM generate_series(1, $2::int) g RETURNING id, current_setting('cluster_name') AS node";

/** One connection of the generator: connects lazily, drops itself on any error. */
class Worker {
  private client: Client | undefined;
  private port: number | undefined;

  constructor(
    private readonly gen: LoadGenerator,
    private readonly t: ClusterTopology,
    private readonly target: LoadTarget,
    private readonly timeoutMs: number,
  ) {}

  private async connect(): Promise<Client> {
    if (this.client) return this.client;
    let port: number;
    if (this.target === 'primary') {
      const w = await this.gen.writableNode();
      if (!w) throw Object.assign(new Error('no node accepts writes (all down or read-only)'), { pghaKind: 'noWritableNode' as const });
      port = w.port;
      this.gen.lastWritablePort = port;
    } else {
      port = targetPort(this.t, this.target);
    }
    const c = new Client(nodeClientConfig(this.t, port, { connectTimeoutMs: 10_000, queryTimeoutMs: this.timeoutMs, applicationName: 'pgha-load' }));
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    this.client = c;
    this.port = port;
    return c;
  }

  drop(): void {
    const c = this.client;
    this.client = undefined;
    if (c) void c.end().catch(() => undefined);
    if (this.target === 'primary' && this.port === this.gen.lastWritablePort) this.gen.lastWritablePort = undefined;
  }

  /** One write; records it in the ledger. Returns true when acknowledged. */
  async write(seq: number, rows: number, prepared: boolean): Promise<boolean> {
    const key = writeKey(this.gen.ledger.runId, seq);
    const sentAt = Date.now();
    try {
      const c = await this.connect();
      const res =
        rows === 1
          ? await c.query<{ id: number; node: string }>(prepared ? { name: 'pgha_load_one', text: INSERT_ONE, values: [key, `${seq}@load.example`] } : { text: INSERT_ONE, values: [key, `${seq}@load.example`] })
          : await c.query<{ id: number; node: string }>(prepared ? { name: 'pgha_load_bulk', text: INSERT_BULK, values: [key, rows] } : { text: INSERT_BULK, values: [key, rows] });
      const ackAt = Date.now();
      const first = res.rows[0];
      this.gen.recordAck({ seq, key, id: Number(first?.id ?? 0), rows: res.rowCount ?? rows, sentAt, ackAt, node: first?.node ?? '?' });
      return true;
    } catch (e) {
      const kind: PgFailureKind | 'noWritableNode' = (e as { pghaKind?: 'noWritableNode' }).pghaKind ?? classifyPgError(e).kind;
      const message = kind === 'noWritableNode' ? (e as Error).message : classifyPgError(e).message;
      this.gen.recordFailure({ seq, sentAt, at: Date.now(), kind, message });
      this.drop();
      return false;
    }
  }
}

export class LoadGenerator implements Disposable {
  readonly ledger: WriteLedger;
  private readonly emitter = new Emitter<LoadProgress>();
  readonly onProgress = this.emitter.event;
  private cancelled = false;
  private readonly wakers = new Set<() => void>();
  private startedAt = 0;
  private state: LoadProgress['state'] = 'running';
  private lastNode: string | undefined;
  private failing = false;
  private recent: number[] = []; // ack times in the last second
  private seq = 0;
  /** Shared by workers of target 'primary': the writable node found last. */
  lastWritablePort: number | undefined;
  private lookup: Promise<{ port: number; service: string } | undefined> | undefined;

  constructor(
    readonly topology: ClusterTopology,
    readonly options: LoadOptions,
  ) {
    const problems = validateLoadOptions(options);
    if (problems.length) throw new LoadInputError(problems);
    if (options.target !== 'primary') targetPort(topology, options.target); // throws on unknown target
    this.ledger = options.ledger ?? new WriteLedger();
  }

  /**
   * The node that accepts writes now, for target 'primary'. Workers that look at the same time
   * share one lookup: N clients starting (or losing the primary) together probe each node once, not N times.
   */
  writableNode(): Promise<{ port: number; service: string } | undefined> {
    this.lookup ??= findWritableNode(this.topology, this.lastWritablePort).finally(() => {
      this.lookup = undefined;
    });
    return this.lookup;
  }

  recordAck(w: Parameters<WriteLedger['recordAck']>[0]): void {
    this.ledger.recordAck(w);
    this.lastNode = w.node;
    this.failing = false;
    this.recent.push(w.ackAt);
  }

  recordFailure(f: Parameters<WriteLedger['recordFailure']>[0]): void {
    this.ledger.recordFailure(f);
    this.failing = true;
  }

  get progress(): LoadProgress {
    const now = Date.now();
    while (this.recent.length && this.recent[0] < now - 1000) this.recent.shift();
    const elapsedMs = this.startedAt ? now - this.startedAt : 0;
    const last = this.ledger.failures[this.ledger.failures.length - 1];
    const acked = this.ledger.writes.length;
    return {
      state: this.state,
      target: this.options.target,
      mode: this.options.mode.kind,
      elapsedMs,
      acked,
      ackedRows: this.ledger.ackedRows,
      failed: this.ledger.failures.length,
      writesPerSec: this.recent.length,
      avgWritesPerSec: elapsedMs > 0 ? (acked * 1000) / elapsedMs : 0,
      lastError: last ? { at: last.at, message: last.message, kind: last.kind } : undefined,
      node: this.lastNode,
      failing: this.failing,
    };
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Stops the run after the writes in flight (each bounded by the write timeout). */
  cancel(): void {
    this.cancelled = true;
    for (const w of [...this.wakers]) w();
  }

  dispose(): void {
    this.cancel();
    this.emitter.dispose();
  }

  /** Sleeps up to ms, waking early on cancel. */
  private nap(ms: number): Promise<void> {
    if (ms <= 0 || this.cancelled) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(done);
    });
  }

  async run(): Promise<LoadResult> {
    if (this.startedAt) throw new Error('This load generator already ran; create a new one.');
    this.startedAt = Date.now();
    const ticker = setInterval(() => this.emitter.fire(this.progress), this.options.progressIntervalMs ?? 500);
    const timeout = this.options.writeTimeoutMs ?? 10_000;
    const prepared = this.options.prepared ?? true;
    const workers: Worker[] = [];
    const worker = () => {
      const w = new Worker(this, this.topology, this.options.target, timeout);
      workers.push(w);
      return w;
    };
    const m = this.options.mode;
    try {
      if (m.kind === 'rate') {
        const w = worker();
        const interval = 1000 / m.ratePerSec;
        const end = this.startedAt + m.durationSec * 1000;
        for (let n = 1; !this.cancelled && Date.now() < end; n++) {
          this.seq = n;
          await w.write(n, 1, prepared);
          await this.nap(this.startedAt + n * interval - Date.now());
        }
      } else if (m.kind === 'max') {
        const end = this.startedAt + m.durationSec * 1000;
        await Promise.all(
          Array.from({ length: m.clients }, async () => {
            const w = worker();
            while (!this.cancelled && Date.now() < end) {
              if (!(await w.write(++this.seq, 1, prepared))) await this.nap(100);
            }
          }),
        );
      } else {
        const end = this.startedAt + (m.maxDurationSec ?? 600) * 1000;
        await Promise.all(
          Array.from({ length: m.concurrency }, async () => {
            const w = worker();
            while (!this.cancelled && Date.now() < end && this.seq < m.statements) {
              if (!(await w.write(++this.seq, m.rowsPerStatement, prepared))) await this.nap(200);
            }
          }),
        );
      }
    } finally {
      clearInterval(ticker);
      for (const w of workers) w.drop();
      this.state = this.cancelled ? 'cancelled' : 'done';
    }
    const lat = this.ledger.writes.map((w) => w.ackAt - w.sentAt);
    const result: LoadResult = {
      ...this.progress,
      ledger: this.ledger,
      latencyMs: {
        p50: percentile(lat, 50),
        p95: percentile(lat, 95),
        p99: percentile(lat, 99),
        mean: lat.length ? lat.reduce((a, b) => a + b, 0) / lat.length : undefined,
      },
    };
    this.emitter.fire(result);
    return result;
  }
}

/** Keys of `ledger` present on the node at `port` (one scan of users, matched by run). */
export async function presentKeys(t: ClusterTopology, port: number, ledger: WriteLedger): Promise<Set<string>> {
  const c = new Client(nodeClientConfig(t, port, { connectTimeoutMs: 10_000, queryTimeoutMs: 60_000, applicationName: 'pgha-ledger' }));
  c.on('error', () => undefined);
  await c.connect();
  try {
    const r = await c.query<{ name: string }>('SELECT DISTINCT name FROM users WHERE name LIKE $1', [ledger.keyPattern]);
    return new Set(r.rows.map((x) => x.name));
  } finally {
    await c.end().catch(() => undefined);
  }
}
