// The ledger of a load run: every write the database acknowledged (its key, row id, commit time and
// the node that committed it) and every write that failed. RTO and RPO are computed from it, so
// they are measured, not guessed. Pure: no I/O; the presence check on the new primary is done by
// the caller (failover) and handed in as a set of keys.
//
// API (no vscode):
//   new WriteLedger(runId?)                 ledger.recordAck(...) / ledger.recordFailure(...)
//   writeKey(runId, seq)                    the value stored in users.name for a write ('load:<run>:<seq>')
//   measureRto(ledger, { after?, onNode? }) → Rto | undefined   first failed write → first later success
//   measureRpo(ledger, present, { onNode?, ackedBefore? })  → Rpo   acknowledged writes missing
// Bounded memory whatever the run's length: counters, acknowledged seqs as ranges per node, a
// latency histogram, rings of the most recent writes and failures (see WriteLedger).
import { randomBytes } from 'node:crypto';
import type { PgFailureKind } from './connection';

export interface LedgerWrite {
  /** Sequence number of the write in its run (1, 2, ...). */
  readonly seq: number;
  /** Unique key stored with the row(s): users.name = key. */
  readonly key: string;
  /** Row id (the first row's id for a bulk insert). */
  readonly id: number;
  readonly rows: number;
  /** Epoch ms when the statement was sent. */
  readonly sentAt: number;
  /** Epoch ms when the acknowledgement (commit) arrived. */
  readonly ackAt: number;
  /** cluster_name of the node that committed it (= its service name). */
  readonly node: string;
}

export interface LedgerFailure {
  readonly seq: number;
  readonly sentAt: number;
  /** Epoch ms when the failure was seen. */
  readonly at: number;
  readonly kind: PgFailureKind | 'noWritableNode';
  readonly message: string;
}

export const KEY_PREFIX = 'load:';

export function writeKey(runId: string, seq: number): string {
  return `${KEY_PREFIX}${runId}:${seq}`;
}

export function newRunId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * Acknowledged sequence numbers as sorted, disjoint, inclusive ranges. A load's acks are nearly
 * consecutive (gaps are failed writes; concurrent clients reorder a little), so a run of any length
 * takes a few ranges, not one entry per write.
 */
export class SeqRanges {
  /** from0, to0, from1, to1, ... */
  private r: number[] = [];
  private n = 0;

  static of(seqs: Iterable<number>): SeqRanges {
    const s = new SeqRanges();
    for (const x of seqs) s.add(x);
    return s;
  }

  /** From ranges in any order, overlapping or not. */
  static fromRanges(ranges: Iterable<readonly [number, number]>): SeqRanges {
    const s = new SeqRanges();
    for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
      const last = s.r.length - 1;
      if (last >= 1 && a <= s.r[last] + 1) {
        if (b > s.r[last]) {
          s.n += b - s.r[last];
          s.r[last] = b;
        }
      } else s.pushRange(a, b);
    }
    return s;
  }

  get count(): number {
    return this.n;
  }

  get rangeCount(): number {
    return this.r.length / 2;
  }

  ranges(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.r.length; i += 2) out.push([this.r[i], this.r[i + 1]]);
    return out;
  }

  /** Index of the first range whose end >= seq - 1 (binary search). */
  private find(seq: number): number {
    let lo = 0;
    let hi = this.r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.r[mid * 2 + 1] < seq - 1) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(seq: number): boolean {
    const i = this.find(seq + 1);
    return i < this.r.length / 2 && this.r[i * 2] <= seq && seq <= this.r[i * 2 + 1];
  }

  add(seq: number): void {
    const last = this.r.length - 1;
    // The common case: the next write extends the last range.
    if (last >= 1 && this.r[last] + 1 === seq) {
      this.r[last] = seq;
      this.n++;
      return;
    }
    if (last >= 1 && this.r[last] + 1 < seq) {
      this.r.push(seq, seq);
      this.n++;
      return;
    }
    const i = this.find(seq);
    if (i < this.r.length / 2 && this.r[i * 2] <= seq && seq <= this.r[i * 2 + 1]) return;
    this.n++;
    if (i < this.r.length / 2 && this.r[i * 2 + 1] === seq - 1) {
      this.r[i * 2 + 1] = seq;
      if (i + 1 < this.r.length / 2 && this.r[(i + 1) * 2] === seq + 1) {
        this.r[i * 2 + 1] = this.r[(i + 1) * 2 + 1];
        this.r.splice((i + 1) * 2, 2);
      }
      return;
    }
    if (i < this.r.length / 2 && this.r[i * 2] === seq + 1) {
      this.r[i * 2] = seq;
      return;
    }
    this.r.splice(i * 2, 0, seq, seq);
  }

  /** The seqs here that are not in `other`, as a new SeqRanges. O(ranges of both). */
  minus(other: SeqRanges): SeqRanges {
    const out = new SeqRanges();
    const o = other.ranges();
    let j = 0;
    for (const [a0, b] of this.ranges()) {
      let a = a0;
      while (j < o.length && o[j][1] < a) j++;
      let k = j;
      while (a <= b) {
        if (k >= o.length || o[k][0] > b) {
          out.pushRange(a, b);
          break;
        }
        if (o[k][0] > a) out.pushRange(a, o[k][0] - 1);
        a = Math.max(a, o[k][1] + 1);
        k++;
      }
    }
    return out;
  }

  /** Appends a range after every range there is (callers go in order). */
  private pushRange(a: number, b: number): void {
    const last = this.r.length - 1;
    if (last >= 1 && this.r[last] + 1 === a) this.r[last] = b;
    else this.r.push(a, b);
    this.n += b - a + 1;
  }
}

/** Fixed-size ring of the most recent items, oldest first when read. */
class Ring<T> {
  private readonly buf: (T | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }

  push(x: T): void {
    this.buf[this.next] = x;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  get length(): number {
    return this.size;
  }

  /** Newest first, stopping when `f` returns true. */
  findLast(f: (x: T) => boolean): T | undefined {
    for (let i = 1; i <= this.size; i++) {
      const x = this.buf[(this.next - i + this.capacity) % this.capacity]!;
      if (f(x)) return x;
    }
    return undefined;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = this.size; i >= 1; i--) out.push(this.buf[(this.next - i + this.capacity) % this.capacity]!);
    return out;
  }
}

/** Latency histogram with 5 % wide buckets from 0.01 ms to hours: percentiles in constant memory. */
export class LatencyHistogram {
  private readonly buckets = new Map<number, number>();
  private total = 0;
  private sum = 0;

  private static bucket(ms: number): number {
    return ms <= 0.01 ? 0 : Math.ceil(Math.log(ms / 0.01) / Math.log(1.05));
  }

  record(ms: number): void {
    const b = LatencyHistogram.bucket(ms);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
    this.total++;
    this.sum += ms;
  }

  get count(): number {
    return this.total;
  }

  get mean(): number | undefined {
    return this.total ? this.sum / this.total : undefined;
  }

  /** Upper edge of the bucket holding the p-th percentile (within 5 %). */
  percentile(p: number): number | undefined {
    if (!this.total) return undefined;
    const want = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      seen += this.buckets.get(b)!;
      if (seen >= want) return b === 0 ? 0.01 : 0.01 * 1.05 ** b;
    }
    return undefined;
  }
}

/**
 * The ledger in bounded memory: counters, the acknowledged sequence numbers of each node as ranges
 * (SeqRanges), a latency histogram, and rings of the most recent acks and failures with all their
 * details (what RTO and the RPO window look at: the minutes around a failover). An hour at 5,000
 * writes/s keeps the same few megabytes as a minute.
 */
export class WriteLedger {
  private readonly recentWrites: Ring<LedgerWrite>;
  private readonly recentFailures: Ring<LedgerFailure>;
  private readonly byNode = new Map<string, SeqRanges>();
  private ackCount = 0;
  private rowCount = 0;
  private failureCount = 0;
  private lastFailureSeen: LedgerFailure | undefined;
  readonly latency = new LatencyHistogram();

  constructor(
    readonly runId: string = newRunId(),
    o: { recentWrites?: number; recentFailures?: number } = {},
  ) {
    this.recentWrites = new Ring(o.recentWrites ?? 100_000);
    this.recentFailures = new Ring(o.recentFailures ?? 20_000);
  }

  /** LIKE pattern matching every key of this run. */
  get keyPattern(): string {
    return `${KEY_PREFIX}${this.runId}:%`;
  }

  recordAck(w: LedgerWrite): void {
    this.recentWrites.push(w);
    let r = this.byNode.get(w.node);
    if (!r) this.byNode.set(w.node, (r = new SeqRanges()));
    r.add(w.seq);
    this.ackCount++;
    this.rowCount += w.rows;
    this.latency.record(w.ackAt - w.sentAt);
  }

  recordFailure(f: LedgerFailure): void {
    this.recentFailures.push(f);
    this.failureCount++;
    this.lastFailureSeen = f;
  }

  /** Acknowledged writes, all of the run. */
  get acked(): number {
    return this.ackCount;
  }

  get ackedRows(): number {
    return this.rowCount;
  }

  /** Failed writes, all of the run. */
  get failed(): number {
    return this.failureCount;
  }

  get lastFailure(): LedgerFailure | undefined {
    return this.lastFailureSeen;
  }

  /** The most recent acknowledged writes in ack order (all of them in a run shorter than the ring). */
  get writes(): readonly LedgerWrite[] {
    return this.recentWrites.toArray();
  }

  /** The most recent failed writes in order (all of them in a run shorter than the ring). */
  get failures(): readonly LedgerFailure[] {
    return this.recentFailures.toArray();
  }

  /** Newest acknowledged write that `f` accepts, among the recent ones. */
  lastAck(f: (w: LedgerWrite) => boolean): LedgerWrite | undefined {
    return this.recentWrites.findLast(f);
  }

  /** Sequence numbers acknowledged by `node` (all nodes when omitted). */
  ackedSeqs(node?: string): SeqRanges {
    if (node !== undefined) return this.byNode.get(node) ?? new SeqRanges();
    return SeqRanges.fromRanges([...this.byNode.values()].flatMap((r) => r.ranges()));
  }

  /** Bytes-ish size of what is kept (for the bench): ranges + rings. */
  get keptEntries(): number {
    let n = this.recentWrites.length + this.recentFailures.length;
    for (const r of this.byNode.values()) n += r.rangeCount;
    return n;
  }
}

/** The seq of a key of this run ('load:<run>:<seq>'), or undefined. */
export function seqOfKey(runId: string, key: string): number | undefined {
  const p = `${KEY_PREFIX}${runId}:`;
  if (!key.startsWith(p)) return undefined;
  const n = Number(key.slice(p.length));
  return Number.isInteger(n) ? n : undefined;
}

export interface Rto {
  /** Epoch ms of the first failed write (the outage as the client saw it begins). */
  readonly firstFailureAt: number;
  /** Epoch ms of the first acknowledged write after it (on `onNode` when given). */
  readonly firstSuccessAt: number;
  readonly ms: number;
  /** Writes that failed in between. */
  readonly failedWrites: number;
  /** Node that acknowledged the first successful write. */
  readonly node: string;
}

/**
 * RTO = first failed write → first successful write after it (on `onNode`, the new primary, when
 * given). `after` ignores failures before that epoch ms (an earlier, unrelated outage).
 * undefined when no write failed, or none succeeded after the first failure.
 */
export function measureRto(ledger: { readonly writes: readonly LedgerWrite[]; readonly failures: readonly LedgerFailure[] }, o: { after?: number; onNode?: string } = {}): Rto | undefined {
  const after = o.after ?? -Infinity;
  const first = ledger.failures.find((f) => f.at >= after);
  if (!first) return undefined;
  const ok = ledger.writes.filter((w) => w.ackAt > first.at && (o.onNode === undefined || w.node === o.onNode)).sort((a, b) => a.ackAt - b.ackAt)[0];
  if (!ok) return undefined;
  const failedWrites = ledger.failures.filter((f) => f.at >= first.at && f.at <= ok.ackAt).length;
  return { firstFailureAt: first.at, firstSuccessAt: ok.ackAt, ms: ok.ackAt - first.at, failedWrites, node: ok.node };
}

export interface Rpo {
  /** Acknowledged writes considered (those committed on `onNode` when given). */
  readonly acked: number;
  /** Acknowledged writes whose rows are not on the new primary. */
  readonly lostWrites: number;
  readonly lostRows: number;
  readonly lost: readonly LedgerWrite[];
  /** Commit times of the first and last lost write, and the window between them. */
  readonly window?: { readonly from: number; readonly to: number; readonly ms: number };
  /** Time from the last lost commit to `failureAt` (how stale the new primary's data is). */
  readonly lastLostBeforeFailureMs?: number;
}

/**
 * RPO = acknowledged writes missing on the new primary. `present` holds what was found there: the
 * seqs of this run as ranges (presentSeqs, one indexed query) or a set of keys. `onNode` restricts
 * to writes the old primary committed; `ackedBefore` to writes acknowledged before that epoch ms
 * (writes after the failover were made on the new primary itself). O(ranges), not O(writes): the
 * details (`lost`, the window) come from the recent writes the ledger keeps.
 */
export function measureRpo(
  ledger: WriteLedger,
  present: ReadonlySet<string> | SeqRanges,
  o: { onNode?: string; ackedBefore?: number; failureAt?: number } = {},
): Rpo {
  const presentSeqs = present instanceof SeqRanges ? present : SeqRanges.of([...present].map((k) => seqOfKey(ledger.runId, k)).filter((x): x is number => x !== undefined));
  let considered = ledger.ackedSeqs(o.onNode);
  if (o.ackedBefore !== undefined) {
    // Acks after that moment are recent: the ring has them.
    const late = SeqRanges.of(ledger.writes.filter((w) => (o.onNode === undefined || w.node === o.onNode) && w.ackAt > o.ackedBefore!).map((w) => w.seq));
    if (late.count) considered = considered.minus(late);
  }
  const lostSeqs = considered.minus(presentSeqs);
  const lost = lostSeqs.count ? ledger.writes.filter((w) => lostSeqs.has(w.seq) && (o.onNode === undefined || w.node === o.onNode)).sort((a, b) => a.ackAt - b.ackAt) : [];
  const avgRows = ledger.acked ? ledger.ackedRows / ledger.acked : 1;
  const lostRows = lost.reduce((n, w) => n + w.rows, 0) + Math.round((lostSeqs.count - lost.length) * avgRows);
  const window = lost.length ? { from: lost[0].ackAt, to: lost[lost.length - 1].ackAt, ms: lost[lost.length - 1].ackAt - lost[0].ackAt } : undefined;
  return {
    acked: considered.count,
    lostWrites: lostSeqs.count,
    lostRows,
    lost,
    window,
    lastLostBeforeFailureMs: window && o.failureAt !== undefined ? o.failureAt - window.to : undefined,
  };
}

/** Percentile (0..100) of a list of numbers; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}
