// The history checker: reads the drill's table on every node with its own queries, then classifies
// every write of the history against what the surviving primary holds. Never uses the load
// generator's code. Pure classification (checkHistory) + one I/O function (observeTables).
//
//   ok          acknowledged and present
//   lost        acknowledged and missing                       (a valid run has none)
//   unexpected  present but never attempted, or reported failed (a valid run has none)
//   recovered   indeterminate and present (the commit happened, the acknowledgement was lost)
//   vanished    indeterminate and missing (it did not commit: allowed)
//   duplicated  one attempt present more than once
//   staleAcks   writes acknowledged on an older timeline after a newer one acknowledged a write:
//               two nodes took writes at once (split brain)
// Per timeline: the same counts by the timeline the row (or its acknowledgement) names.
// RTO (CloudNativePG's way): last acknowledgement before the outage → first after it; here the
// longest gap between two acknowledgements from the first fault on.
//
// API (no vscode):
//   observeTables(topology, runId, nodes?) → RowsRecord[]
//   checkHistory(records)                  → HistoryReport
import { Client } from 'pg';
import { classifyPgError, nodeClientConfig } from '../connection';
import type { ClusterTopology, PgNodeSpec } from '../topology';
import { HISTORY_TABLE, type EventRecord, type HeaderRecord, type HistoryRecord, type RowsRecord, type WriteRecord } from './history';

export async function observeTables(t: ClusterTopology, runId: string, nodes: readonly PgNodeSpec[] = t.nodes): Promise<RowsRecord[]> {
  return Promise.all(
    nodes.map(async (n): Promise<RowsRecord> => {
      const c = new Client(nodeClientConfig(t, n.hostPort, { connectTimeoutMs: 5000, queryTimeoutMs: 30_000, applicationName: 'pgha-drill-checker' }));
      c.on('error', () => undefined);
      try {
        await c.connect();
        const s = await c.query<{ rec: boolean; tl: number }>(
          `SELECT pg_is_in_recovery() AS rec,
                  CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
                       ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END AS tl`,
        );
        const exists = await c.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [HISTORY_TABLE]);
        const rows = exists.rows[0].t ? (await c.query<{ seq: number; timeline: number }>(`SELECT seq, timeline FROM ${HISTORY_TABLE} WHERE run_id = $1`, [runId])).rows : [];
        return { type: 'rows', node: n.service, at: Date.now(), role: s.rows[0].rec ? 'replica' : 'primary', timeline: Number(s.rows[0].tl), rows: rows.map((r) => [Number(r.seq), Number(r.timeline)] as const) };
      } catch (e) {
        return { type: 'rows', node: n.service, at: Date.now(), role: 'unreachable', timeline: null, rows: [], error: classifyPgError(e).message };
      } finally {
        await c.end().catch(() => undefined);
      }
    }),
  );
}

export interface Counts {
  attempted: number;
  ok: number;
  failed: number;
  indeterminate: number;
  lost: number;
  unexpected: number;
  recovered: number;
  vanished: number;
  duplicated: number;
}

const zero = (): Counts => ({ attempted: 0, ok: 0, failed: 0, indeterminate: 0, lost: 0, unexpected: 0, recovered: 0, vanished: 0, duplicated: 0 });

export interface HistoryReport {
  readonly drill: string;
  readonly runId: string;
  /** The node whose table is the truth (the primary at the end), or undefined when none answered as primary. */
  readonly judgedOn?: string;
  /** More than one node answered as primary at the end. */
  readonly splitBrainAtEnd: boolean;
  readonly totals: Counts;
  readonly byTimeline: Readonly<Record<string, Counts>>;
  /** Acknowledged writes that are missing (seq, ack time, node, timeline). */
  readonly lost: readonly WriteRecord[];
  readonly unexpectedSeqs: readonly number[];
  readonly staleAcks: readonly WriteRecord[];
  /** Timelines that acknowledged writes, in order of their first acknowledgement. */
  readonly timelines: readonly number[];
  readonly firstFaultAt?: number;
  /** Longest gap between two acknowledgements from the first fault on (ms), and where it was. */
  readonly rto?: { readonly ms: number; readonly lastAckBefore: number; readonly firstAckAfter: number; readonly fromTimeline?: number; readonly toTimeline?: number };
  /** Window of commit times of the lost writes. */
  readonly rpo: { readonly lostWrites: number; readonly windowMs?: number; readonly lagBytesAtFault?: Readonly<Record<string, number | null>> };
  /** SQLSTATE 25006 (read-only transaction) seen after RTO + 1 s: a write routed to a standby. */
  readonly readOnlyErrorsAfterRecovery: number;
  /** Longest stretch with no acknowledgement from the first fault on (same as rto.ms), for drills without a failover. */
  readonly valid: boolean;
  readonly verdict: string;
}

export function checkHistory(records: readonly HistoryRecord[]): HistoryReport {
  const header = records.find((r): r is HeaderRecord => r.type === 'header');
  const writes = records.filter((r): r is WriteRecord => r.type === 'write').sort((a, b) => a.seq - b.seq);
  const events = records.filter((r): r is EventRecord => r.type === 'event').sort((a, b) => a.at - b.at);
  const obs = records.filter((r): r is RowsRecord => r.type === 'rows');
  const primaries = obs.filter((o) => o.role === 'primary').sort((a, b) => (b.timeline ?? 0) - (a.timeline ?? 0));
  const truth = primaries[0];
  const present = new Map<number, number[]>(); // seq → timelines of its rows
  for (const [seq, tl] of truth?.rows ?? []) {
    const l = present.get(seq) ?? [];
    l.push(tl);
    present.set(seq, l);
  }
  const totals = zero();
  const byTimeline: Record<string, Counts> = {};
  const bucket = (tl: number | undefined) => (byTimeline[tl === undefined ? 'unknown' : String(tl)] ??= zero());
  const lost: WriteRecord[] = [];
  const unexpectedSeqs: number[] = [];
  const attempted = new Set<number>();
  for (const w of writes) {
    attempted.add(w.seq);
    const rows = present.get(w.seq);
    const tl = rows?.[0] ?? w.timeline;
    const counts = [totals, bucket(tl)];
    const add = (k: keyof Counts) => counts.forEach((c) => c[k]++);
    add('attempted');
    add(w.outcome);
    if (rows && rows.length > 1) add('duplicated');
    if (w.outcome === 'ok') {
      if (!rows) {
        add('lost');
        lost.push(w);
      }
    } else if (w.outcome === 'failed') {
      if (rows) {
        add('unexpected');
        unexpectedSeqs.push(w.seq);
      }
    } else if (rows) add('recovered');
    else add('vanished');
  }
  for (const [seq, tls] of present) {
    if (attempted.has(seq)) continue;
    const c = bucket(tls[0]);
    c.unexpected++;
    totals.unexpected++;
    unexpectedSeqs.push(seq);
  }
  // Acknowledgements in time order: one on an older timeline after a newer one acknowledged = split brain.
  const acks = writes.filter((w) => w.outcome === 'ok').sort((a, b) => a.doneAt - b.doneAt);
  const staleAcks: WriteRecord[] = [];
  const timelines: number[] = [];
  let newest = -1;
  for (const w of acks) {
    if (w.timeline === undefined) continue;
    if (!timelines.includes(w.timeline)) timelines.push(w.timeline);
    if (w.timeline < newest) staleAcks.push(w);
    newest = Math.max(newest, w.timeline);
  }
  // The outage starts at the first fault, or at the first action of a drill without one (switchover).
  const firstFault = events.find((e) => e.kind === 'fault') ?? events.find((e) => e.kind === 'action-start');
  const lagEvent = events.find((e) => e.kind === 'lag');
  let rto: HistoryReport['rto'];
  if (firstFault) {
    const before = [...acks].reverse().find((w) => w.doneAt <= firstFault.at);
    const from = before ? acks.indexOf(before) : 0;
    for (let i = Math.max(from, 0); i + 1 < acks.length; i++) {
      const a = acks[i];
      const b = acks[i + 1];
      const gap = b.doneAt - a.doneAt;
      if (!rto || gap > rto.ms) rto = { ms: gap, lastAckBefore: a.doneAt, firstAckAfter: b.doneAt, fromTimeline: a.timeline, toTimeline: b.timeline };
    }
  }
  const readOnlyErrorsAfterRecovery = rto ? writes.filter((w) => w.sqlstate === '25006' && w.doneAt > rto!.firstAckAfter + 1000).length : 0;
  const lostSorted = [...lost].sort((a, b) => a.doneAt - b.doneAt);
  const rpo = {
    lostWrites: lost.length,
    windowMs: lostSorted.length ? lostSorted[lostSorted.length - 1].doneAt - lostSorted[0].doneAt : undefined,
    lagBytesAtFault: lagEvent?.lagBytes,
  };
  const valid = !!truth && totals.lost === 0 && totals.unexpected === 0 && totals.duplicated === 0;
  const verdict = !truth
    ? 'cannot judge: no node answered as primary at the end'
    : valid
      ? `valid: ${totals.ok} acknowledged writes all present on ${truth.node}, none unexpected`
      : `INVALID: ${totals.lost} acknowledged writes lost, ${totals.unexpected} unexpected, ${totals.duplicated} duplicated (judged on ${truth.node})`;
  return {
    drill: header?.drill ?? '?',
    runId: header?.runId ?? '?',
    judgedOn: truth?.node,
    splitBrainAtEnd: primaries.length > 1,
    totals,
    byTimeline,
    lost: lostSorted,
    unexpectedSeqs,
    staleAcks,
    timelines,
    firstFaultAt: firstFault?.at,
    rto,
    rpo,
    readOnlyErrorsAfterRecovery,
    valid,
    verdict,
  };
}
