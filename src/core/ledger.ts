// The ledger of a load run: every write the database acknowledged (its key, row id, commit time and
// the node that committed it) and every write that failed. RTO and RPO are computed from it, so
// they are measured, not guessed. Pure: no I/O; the presence check on the new primary is done by
// the caller (failover) and handed in as a set of keys.
//
// API (no vscode):
//   new WriteLedger(runId?)                 ledger.recordAck(...) / ledger.recordFailure(...)
//   writeKey(runId, seq)                    the value stored in users.name for a write ('load:<run>:<seq>')
//   measureRto(ledger, { after?, onNode? }) → Rto | undefined   first failed write → first later success
//   measureRpo(ledger, presentKeys, { onNode?, ackedBefore? })  → Rpo   acknowledged writes missing
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

export class WriteLedger {
  readonly writes: LedgerWrite[] = [];
  readonly failures: LedgerFailure[] = [];

  constructor(readonly runId: string = newRunId()) {}

  /** LIKE pattern matching every key of this run. */
  get keyPattern(): string {
    return `${KEY_PREFIX}${this.runId}:%`;
  }

  recordAck(w: LedgerWrite): void {
    this.writes.push(w);
  }

  recordFailure(f: LedgerFailure): void {
    this.failures.push(f);
  }

  get ackedRows(): number {
    let n = 0;
    for (const w of this.writes) n += w.rows;
    return n;
  }
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
export function measureRto(ledger: Pick<WriteLedger, 'writes' | 'failures'>, o: { after?: number; onNode?: string } = {}): Rto | undefined {
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
 * RPO = acknowledged writes missing on the new primary. `presentKeys` holds the keys found there.
 * `onNode` restricts to writes the old primary committed; `ackedBefore` to writes acknowledged
 * before that epoch ms (writes after the failover were made on the new primary itself).
 */
export function measureRpo(
  ledger: Pick<WriteLedger, 'writes'>,
  presentKeys: ReadonlySet<string>,
  o: { onNode?: string; ackedBefore?: number; failureAt?: number } = {},
): Rpo {
  const considered = ledger.writes.filter((w) => (o.onNode === undefined || w.node === o.onNode) && (o.ackedBefore === undefined || w.ackAt <= o.ackedBefore));
  const lost = considered.filter((w) => !presentKeys.has(w.key)).sort((a, b) => a.ackAt - b.ackAt);
  const lostRows = lost.reduce((n, w) => n + w.rows, 0);
  const window = lost.length ? { from: lost[0].ackAt, to: lost[lost.length - 1].ackAt, ms: lost[lost.length - 1].ackAt - lost[0].ackAt } : undefined;
  return {
    acked: considered.length,
    lostWrites: lost.length,
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
