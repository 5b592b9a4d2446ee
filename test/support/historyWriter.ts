// The fault tests' own writer and primary sampler, independent of the product's load generator
// (a checker must not reuse the code it judges). Small on purpose.
//
// HistoryWriter: `clients` loops, each finds a writable node by itself (asks every node
//   pg_is_in_recovery()), inserts one row with a unique key and records the write's outcome:
//     ok             the INSERT was acknowledged (COMMIT returned)
//     failed         it certainly did not commit: no connection, or the server refused it (read-only ...)
//     indeterminate  it was sent and the answer never came (connection lost, timeout): may be there or not
// PrimarySampler: every `periodMs`, asks every node at once whether it accepts writes
//   (NOT pg_is_in_recovery() on a connection kept open, so a paused node that wakes answers at once)
//   and records each sample where two or more answered yes.
// checkHistory(records, presentKeys): lost = ok writes missing; unexpected = present keys never attempted.
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';
import { nodeClientConfig } from '../../src/core/connection';
import type { ClusterTopology, NodeKey } from '../../src/core/topology';

export type Outcome = 'ok' | 'failed' | 'indeterminate';

export interface WriteRecord {
  readonly key: string;
  readonly outcome: Outcome;
  readonly node?: string;
  readonly sentAt: number;
  readonly at: number;
  readonly error?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function connect(t: ClusterTopology, port: number, timeoutMs: number, app: string): Client {
  const c = new Client(nodeClientConfig(t, port, { connectTimeoutMs: timeoutMs, queryTimeoutMs: timeoutMs, applicationName: app }));
  c.on('error', () => undefined);
  return c;
}

export class HistoryWriter {
  readonly runId = randomBytes(4).toString('hex');
  readonly records: WriteRecord[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private seq = 0;

  constructor(
    private readonly t: ClusterTopology,
    private readonly o: { clients?: number; pauseMs?: number; timeoutMs?: number } = {},
  ) {}

  get keyPattern(): string {
    return `hist:${this.runId}:%`;
  }

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.o.clients ?? 2 }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  count(o: Outcome): number {
    return this.records.filter((r) => r.outcome === o).length;
  }

  private async findWritable(): Promise<Client | undefined> {
    for (const n of this.t.nodes) {
      const c = connect(this.t, n.hostPort, 15_000, 'pgha-test-history');
      try {
        await c.connect();
        const r = await c.query<{ w: boolean }>('SELECT NOT pg_is_in_recovery() AS w');
        if (r.rows[0]?.w) return c;
      } catch {
        // not this one
      }
      await c.end().catch(() => undefined);
    }
    return undefined;
  }

  private async loop(): Promise<void> {
    let c: Client | undefined;
    while (this.running) {
      const key = `hist:${this.runId}:${++this.seq}`;
      const sentAt = Date.now();
      if (!c) c = await this.findWritable();
      if (!c) {
        this.records.push({ key, outcome: 'failed', sentAt, at: Date.now(), error: 'no writable node' });
        await sleep(100);
        continue;
      }
      try {
        const r = await c.query<{ node: string }>("INSERT INTO users (name, email) VALUES ($1, 'history@test') RETURNING current_setting('cluster_name') AS node", [key]);
        this.records.push({ key, outcome: 'ok', node: r.rows[0]?.node, sentAt, at: Date.now() });
      } catch (e) {
        const code = (e as { code?: string }).code;
        // A server refusal before commit (read-only standby, ...) certainly did not write; anything
        // else after the statement left (a lost connection, a timeout, a shutdown) may have.
        const refused = code !== undefined && /^(25|42|23|53|3D|28)/.test(code);
        this.records.push({ key, outcome: refused ? 'failed' : 'indeterminate', sentAt, at: Date.now(), error: `${code ?? ''} ${(e as Error).message}`.trim() });
        await c.end().catch(() => undefined);
        c = undefined;
      }
      await sleep(this.o.pauseMs ?? 10);
    }
    await c?.end().catch(() => undefined);
  }
}

export interface HistoryCheck {
  readonly ok: number;
  readonly failed: number;
  readonly indeterminate: number;
  readonly lost: readonly string[];
  readonly unexpected: readonly string[];
  /** Acknowledgements from a node after another node had already acknowledged later writes. */
  readonly interleaved: readonly string[];
}

export function checkHistory(records: readonly WriteRecord[], present: ReadonlySet<string>): HistoryCheck {
  const attempted = new Set(records.map((r) => r.key));
  const ok = records.filter((r) => r.outcome === 'ok');
  // Once a node acknowledged its first write, an acknowledgement from an earlier node means two primaries took writes.
  const byAck = [...ok].sort((a, b) => a.at - b.at);
  const order: string[] = [];
  const interleaved: string[] = [];
  for (const r of byAck) {
    const n = r.node ?? '?';
    if (order[order.length - 1] !== n) {
      if (order.includes(n)) interleaved.push(`${r.key} acknowledged by ${n} after ${order[order.length - 1]}`);
      order.push(n);
    }
  }
  return {
    ok: ok.length,
    failed: records.filter((r) => r.outcome === 'failed').length,
    indeterminate: records.filter((r) => r.outcome === 'indeterminate').length,
    lost: ok.filter((r) => !present.has(r.key)).map((r) => r.key),
    unexpected: [...present].filter((k) => !attempted.has(k)),
    interleaved,
  };
}

export class PrimarySampler {
  /** Samples in which two or more nodes said they accept writes. */
  readonly doubles: { at: number; nodes: NodeKey[] }[] = [];
  samples = 0;
  private running = false;
  private loopDone: Promise<void> | undefined;
  private readonly clients = new Map<NodeKey, Client | undefined>();

  constructor(
    private readonly t: ClusterTopology,
    private readonly periodMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loopDone;
    for (const c of this.clients.values()) await c?.end().catch(() => undefined);
  }

  private async writable(key: NodeKey, port: number): Promise<boolean> {
    let c = this.clients.get(key);
    try {
      if (!c) {
        c = connect(this.t, port, 5000, 'pgha-test-sampler');
        this.clients.set(key, c);
        await c.connect();
      }
      const r = await c.query<{ w: boolean }>('SELECT NOT pg_is_in_recovery() AS w');
      return r.rows[0]?.w === true;
    } catch {
      this.clients.set(key, undefined);
      void c?.end().catch(() => undefined);
      return false;
    }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const t0 = Date.now();
      const answers = await Promise.all(this.t.nodes.map(async (n) => ((await this.writable(n.key, n.hostPort)) ? n.key : undefined)));
      const yes = answers.filter((k): k is NodeKey => k !== undefined);
      this.samples++;
      if (yes.length >= 2) this.doubles.push({ at: t0, nodes: yes });
      await sleep(Math.max(0, this.periodMs - (Date.now() - t0)));
    }
  }
}

/** Keys of the writer's run present on the node at `port`. */
export async function presentHistoryKeys(t: ClusterTopology, port: number, pattern: string): Promise<Set<string>> {
  const c = connect(t, port, 30_000, 'pgha-test-check');
  await c.connect();
  try {
    return new Set((await c.query<{ name: string }>('SELECT name FROM users WHERE name LIKE $1', [pattern])).rows.map((r) => r.name));
  } finally {
    await c.end().catch(() => undefined);
  }
}
