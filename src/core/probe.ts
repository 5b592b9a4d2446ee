// One round of SQL against one node: everything the status needs, in a single statement (one
// network round trip), valid on a primary and on a standby alike. Functions that fail during
// recovery (pg_current_wal_lsn, pg_walfile_name) sit behind CASE on pg_is_in_recovery().
//
// API:
//   probeNode(db, spec, now?)        → Promise<NodeProbe>      (never rejects: failures are values)
//   probePgBouncer(db, spec, now?)   → Promise<PgBouncerProbe> (admin console: SHOW DATABASES/POOLS)
//   PROBE_SQL                        the statement, for the notebook and for reading
// `db` is anything with pg's query(text) (a Client or a Pool); the caller owns its lifetime.
import type { PgBouncerSpec, PgNodeSpec } from './topology';
import { classifyPgError, type PgFailure } from './connection';
import { nonNegative } from './format';

export interface Queryable {
  query(text: string): Promise<{ rows: unknown[] }>;
}

/** A row of pg_stat_replication as seen on the sending node. Byte figures are behind the sender's own LSN. */
export interface ReplicationRow {
  readonly applicationName: string;
  readonly clientAddr: string | null;
  readonly state: string; // startup | catchup | streaming | backup | stopping
  readonly syncState: string; // async | potential | sync | quorum
  readonly syncPriority: number;
  readonly sentLsn: string | null;
  readonly writeLsn: string | null;
  readonly flushLsn: string | null;
  readonly replayLsn: string | null;
  /** NULL (not 0) a short while after activity stops: see postgres-ha-facts. */
  readonly writeLagMs: number | null;
  readonly flushLagMs: number | null;
  readonly replayLagMs: number | null;
  readonly sentBytes: number | null;
  readonly writeBytes: number | null;
  readonly flushBytes: number | null;
  readonly replayBytes: number | null;
  /** Age of the standby's last status reply. */
  readonly replyAgeMs: number | null;
}

/** pg_stat_wal_receiver on a standby (absent when no WAL receiver runs). */
export interface WalReceiverInfo {
  readonly status: string; // streaming | starting | waiting | restarting | stopping
  readonly senderHost: string | null;
  readonly senderPort: number | null;
  readonly receivedTimeline: number | null;
  readonly flushedLsn: string | null;
  readonly latestEndLsn: string | null;
  readonly slotName: string | null;
  readonly lastMessageAgeMs: number | null;
}

export interface SlotInfo {
  readonly name: string;
  readonly type: string; // physical | logical
  readonly active: boolean;
  readonly restartLsn: string | null;
  /** reserved | extended | unreserved | lost | null */
  readonly walStatus: string | null;
  /** WAL kept for this slot: own LSN − restart_lsn. */
  readonly retainedBytes: number | null;
}

export interface NodeProbeOk {
  readonly ok: true;
  readonly node: PgNodeSpec['key'];
  /** Epoch ms when the probe was answered (client clock). */
  readonly at: number;
  readonly tookMs: number;
  readonly inRecovery: boolean;
  readonly serverVersionNum: number;
  readonly clusterName: string;
  readonly systemIdentifier: string;
  /** Timeline the node writes (primary) or replays (standby, best knowledge). */
  readonly timeline: number;
  /** pg_current_wal_lsn() on a primary, null on a standby. */
  readonly currentLsn: string | null;
  readonly receiveLsn: string | null;
  readonly replayLsn: string | null;
  /** Standby: receive − replay bytes (the replay bottleneck). */
  readonly receiveReplayBytes: number | null;
  /** now() − pg_last_xact_replay_timestamp(): time since the last replayed commit, NOT lag when the primary is idle. */
  readonly replayAgeMs: number | null;
  readonly replayPaused: boolean | null;
  readonly synchronousStandbyNames: string;
  readonly primaryConninfo: string;
  /** primary_slot_name: the slot this standby asks its upstream for ('' when none). */
  readonly primarySlotName: string;
  /** recovery_min_apply_delay in ms (0: not a delayed replica). Exercise 3. */
  readonly minApplyDelayMs: number;
  readonly replication: readonly ReplicationRow[];
  readonly walReceiver: WalReceiverInfo | null;
  readonly slots: readonly SlotInfo[];
}

export interface NodeProbeFailed {
  readonly ok: false;
  readonly node: PgNodeSpec['key'];
  readonly at: number;
  readonly tookMs: number;
  readonly failure: PgFailure;
}

export type NodeProbe = NodeProbeOk | NodeProbeFailed;

export const PROBE_SQL = `
WITH s AS (SELECT pg_is_in_recovery() AS rec),
l AS (
  SELECT CASE WHEN s.rec THEN greatest(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())
              ELSE pg_current_wal_lsn() END AS lsn
  FROM s
)
SELECT json_build_object(
  'inRecovery', s.rec,
  'serverVersionNum', current_setting('server_version_num')::int,
  'clusterName', current_setting('cluster_name'),
  'systemIdentifier', (SELECT system_identifier::text FROM pg_control_system()),
  'checkpointTimeline', (SELECT timeline_id FROM pg_control_checkpoint()),
  'minRecoveryEndTimeline', (SELECT min_recovery_end_timeline FROM pg_control_recovery()),
  'walTimeline', CASE WHEN s.rec THEN NULL
                      ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
  'currentLsn', CASE WHEN s.rec THEN NULL ELSE pg_current_wal_lsn()::text END,
  'receiveLsn', pg_last_wal_receive_lsn()::text,
  'replayLsn', pg_last_wal_replay_lsn()::text,
  'receiveReplayBytes', pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()),
  'replayAgeMs', CASE WHEN s.rec THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000 END,
  'replayPaused', CASE WHEN s.rec THEN pg_is_wal_replay_paused() END,
  'synchronousStandbyNames', current_setting('synchronous_standby_names'),
  'primaryConninfo', current_setting('primary_conninfo'),
  'primarySlotName', current_setting('primary_slot_name'),
  'minApplyDelayMs', (SELECT setting::bigint FROM pg_settings WHERE name = 'recovery_min_apply_delay'),
  'replication', (
    SELECT coalesce(json_agg(json_build_object(
      'applicationName', r.application_name,
      'clientAddr', host(r.client_addr),
      'state', r.state,
      'syncState', r.sync_state,
      'syncPriority', r.sync_priority,
      'sentLsn', r.sent_lsn::text,
      'writeLsn', r.write_lsn::text,
      'flushLsn', r.flush_lsn::text,
      'replayLsn', r.replay_lsn::text,
      'writeLagMs', extract(epoch FROM r.write_lag) * 1000,
      'flushLagMs', extract(epoch FROM r.flush_lag) * 1000,
      'replayLagMs', extract(epoch FROM r.replay_lag) * 1000,
      'sentBytes', pg_wal_lsn_diff(l.lsn, r.sent_lsn),
      'writeBytes', pg_wal_lsn_diff(l.lsn, r.write_lsn),
      'flushBytes', pg_wal_lsn_diff(l.lsn, r.flush_lsn),
      'replayBytes', pg_wal_lsn_diff(l.lsn, r.replay_lsn),
      'replyAgeMs', extract(epoch FROM now() - r.reply_time) * 1000
    ) ORDER BY r.application_name), '[]'::json)
    FROM pg_stat_replication r
  ),
  'walReceiver', (
    SELECT json_build_object(
      'status', w.status,
      'senderHost', w.sender_host,
      'senderPort', w.sender_port,
      'receivedTimeline', w.received_tli,
      'flushedLsn', w.flushed_lsn::text,
      'latestEndLsn', w.latest_end_lsn::text,
      'slotName', w.slot_name,
      'lastMessageAgeMs', extract(epoch FROM now() - w.last_msg_receipt_time) * 1000
    )
    FROM pg_stat_wal_receiver w LIMIT 1
  ),
  'slots', (
    SELECT coalesce(json_agg(json_build_object(
      'name', sl.slot_name,
      'type', sl.slot_type,
      'active', sl.active,
      'restartLsn', sl.restart_lsn::text,
      'walStatus', sl.wal_status,
      'retainedBytes', pg_wal_lsn_diff(l.lsn, sl.restart_lsn)
    ) ORDER BY sl.slot_name), '[]'::json)
    FROM pg_replication_slots sl
  )
) AS probe
FROM s, l`;

// ---- narrowing of the JSON the server returns (no `any` crosses this line) ----
type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function replicationRow(v: unknown): ReplicationRow {
  const r = obj(v);
  return {
    applicationName: str(r.applicationName) ?? '',
    clientAddr: str(r.clientAddr),
    state: str(r.state) ?? 'unknown',
    syncState: str(r.syncState) ?? 'unknown',
    syncPriority: num(r.syncPriority) ?? 0,
    sentLsn: str(r.sentLsn),
    writeLsn: str(r.writeLsn),
    flushLsn: str(r.flushLsn),
    replayLsn: str(r.replayLsn),
    writeLagMs: nonNegative(num(r.writeLagMs)),
    flushLagMs: nonNegative(num(r.flushLagMs)),
    replayLagMs: nonNegative(num(r.replayLagMs)),
    sentBytes: nonNegative(num(r.sentBytes)),
    writeBytes: nonNegative(num(r.writeBytes)),
    flushBytes: nonNegative(num(r.flushBytes)),
    replayBytes: nonNegative(num(r.replayBytes)),
    replyAgeMs: nonNegative(num(r.replyAgeMs)),
  };
}

function walReceiver(v: unknown): WalReceiverInfo | null {
  if (v === null || v === undefined) return null;
  const w = obj(v);
  return {
    status: str(w.status) ?? 'unknown',
    senderHost: str(w.senderHost),
    senderPort: num(w.senderPort),
    receivedTimeline: num(w.receivedTimeline),
    flushedLsn: str(w.flushedLsn),
    latestEndLsn: str(w.latestEndLsn),
    slotName: str(w.slotName),
    lastMessageAgeMs: num(w.lastMessageAgeMs),
  };
}

function slot(v: unknown): SlotInfo {
  const s = obj(v);
  return {
    name: str(s.name) ?? '',
    type: str(s.type) ?? 'physical',
    active: bool(s.active) ?? false,
    restartLsn: str(s.restartLsn),
    walStatus: str(s.walStatus),
    retainedBytes: num(s.retainedBytes),
  };
}

/** Turns the probe's JSON into a typed NodeProbeOk (exported for recorded-probe tests). */
export function parseProbe(node: PgNodeSpec['key'], raw: unknown, at: number, tookMs: number): NodeProbeOk {
  const p = obj(typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw);
  const inRecovery = bool(p.inRecovery) ?? false;
  const wr = walReceiver(p.walReceiver);
  // A primary's timeline is the one its current WAL file is on. A standby has no such function:
  // take the highest of what it has received and what its control file knows.
  const timeline = inRecovery
    ? Math.max(wr?.receivedTimeline ?? 0, num(p.checkpointTimeline) ?? 0, num(p.minRecoveryEndTimeline) ?? 0)
    : num(p.walTimeline) ?? num(p.checkpointTimeline) ?? 0;
  return {
    ok: true,
    node,
    at,
    tookMs,
    inRecovery,
    serverVersionNum: num(p.serverVersionNum) ?? 0,
    clusterName: str(p.clusterName) ?? '',
    systemIdentifier: str(p.systemIdentifier) ?? '',
    timeline,
    currentLsn: str(p.currentLsn),
    receiveLsn: str(p.receiveLsn),
    replayLsn: str(p.replayLsn),
    receiveReplayBytes: inRecovery ? nonNegative(num(p.receiveReplayBytes)) : null,
    replayAgeMs: nonNegative(num(p.replayAgeMs)),
    replayPaused: bool(p.replayPaused),
    synchronousStandbyNames: str(p.synchronousStandbyNames) ?? '',
    // The conninfo holds the replication password: never carry it into views or logs.
    primaryConninfo: (str(p.primaryConninfo) ?? '').replace(/password=('(?:[^'\\]|\\.)*'|\S+)/g, 'password=***'),
    primarySlotName: str(p.primarySlotName) ?? '',
    minApplyDelayMs: num(p.minApplyDelayMs) ?? 0,
    replication: arr(p.replication).map(replicationRow),
    walReceiver: wr,
    slots: arr(p.slots).map(slot),
  };
}

export async function probeNode(db: Queryable, spec: Pick<PgNodeSpec, 'key'>, now: () => number = Date.now): Promise<NodeProbe> {
  const t0 = now();
  try {
    const res = await db.query(PROBE_SQL);
    const row = obj(res.rows[0]);
    const at = now();
    return parseProbe(spec.key, row.probe, at, at - t0);
  } catch (e) {
    const at = now();
    return { ok: false, node: spec.key, at, tookMs: at - t0, failure: classifyPgError(e) };
  }
}

// ---- PgBouncer ----

export interface PgBouncerDatabase {
  readonly name: string;
  readonly host: string | null;
  readonly port: number | null;
  readonly database: string | null;
  readonly poolMode: string | null;
  readonly currentConnections: number | null;
  readonly paused: boolean;
}

export interface PgBouncerPool {
  readonly database: string;
  readonly user: string;
  readonly clientsActive: number;
  readonly clientsWaiting: number;
  readonly serversActive: number;
  readonly serversIdle: number;
  readonly serversUsed: number;
  readonly maxWaitSeconds: number;
  readonly poolMode: string | null;
}

export type PgBouncerProbe =
  | { readonly ok: true; readonly at: number; readonly databases: readonly PgBouncerDatabase[]; readonly pools: readonly PgBouncerPool[] }
  | { readonly ok: false; readonly at: number; readonly failure: PgFailure };

function rowsOf(res: { rows: unknown[] }): Json[] {
  return res.rows.map(obj);
}

/** `db` must be connected to PgBouncer's admin database `pgbouncer` (simple query protocol only). */
export async function probePgBouncer(db: Queryable, _spec?: PgBouncerSpec, now: () => number = Date.now): Promise<PgBouncerProbe> {
  try {
    const dbs = rowsOf(await db.query('SHOW DATABASES'));
    const pools = rowsOf(await db.query('SHOW POOLS'));
    return {
      ok: true,
      at: now(),
      databases: dbs
        .filter((d) => str(d.name) !== 'pgbouncer')
        .map((d) => ({
          name: str(d.name) ?? '',
          host: str(d.host),
          port: num(d.port),
          database: str(d.database),
          poolMode: str(d.pool_mode),
          currentConnections: num(d.current_connections),
          paused: num(d.paused) === 1 || d.paused === true,
        })),
      pools: pools
        .filter((p) => str(p.database) !== 'pgbouncer')
        .map((p) => ({
          database: str(p.database) ?? '',
          user: str(p.user) ?? '',
          clientsActive: num(p.cl_active) ?? 0,
          clientsWaiting: num(p.cl_waiting) ?? 0,
          serversActive: num(p.sv_active) ?? 0,
          serversIdle: num(p.sv_idle) ?? 0,
          serversUsed: num(p.sv_used) ?? 0,
          maxWaitSeconds: num(p.maxwait) ?? 0,
          poolMode: str(p.pool_mode),
        })),
    };
  } catch (e) {
    return { ok: false, at: now(), failure: classifyPgError(e) };
  }
}
