// Demo 9, "Replication != Backup". Under write load, an accidental `DELETE FROM users` on the
// primary reaches both replicas within milliseconds (measured): failover cannot help. Three ways
// back, each measured and each checked with the write ledger:
//   (a) the delayed replica of Exercise 3 (postgres-replica2, recovery_min_apply_delay): replay is
//       paused before it applies the mistake, its rows are copied back to the primary;
//   (b) point-in-time recovery: the base backup taken at the start + the WAL archive, restored into
//       a NEW node up to just before the mistake (recovery_target_time), rows copied back;
//   (c) the logical dump taken during the load, loaded into a scratch database, rows copied back.
// For each way: every write acknowledged before its target is back, and how many later writes that
// target gives up (the writes a switch to that copy would lose). Rows are copied back with
// ON CONFLICT DO NOTHING, so the primary keeps the writes made after the mistake.
// The demo leaves the cluster as it found it (delay removed, restored node and scratch database
// dropped); the base backup and the dump stay on the backup volume.
import { Client } from 'pg';
import { archiveCurrentWal, BackupError, dumpDatabase, readBackupCatalog, removeRestoredNode, restoreToPointInTime, takeBaseBackup, type RestoredNode } from '../backup';
import { DELAYED_NODE, resumeReplay, setupDelayed, undoDelayed } from '../labs/delayed';
import { LabError } from '../labs/common';
import { LoadGenerator } from '../load';
import { WriteLedger } from '../ledger';
import { DemoFailed, DemoNotReady, check, connect, readyCluster, result, sleep, specOf, type DemoContext, type DemoResult } from './common';

/** Apply delay of the delayed replica during the demo: long enough to react, short enough to wait for. */
export const DEMO9_DELAY_SEC = 25;
/**
 * How long before the mistake's apply time the delayed replica is paused: what way (a) gives up,
 * and the room a loaded machine needs (the pause takes effect before the next commit is applied).
 */
const PAUSE_MARGIN_MS = 8000;
const LOAD_RATE = 20;

export interface WayMeasures {
  /** Epoch ms up to which this copy holds the data (its recovery target). */
  readonly targetAt: number;
  /** Time to get the rows readable (pause / restore / load the dump), ms. */
  readonly readyMs: number;
  /** Time to copy the rows back into the primary, ms. */
  readonly copyMs: number;
  readonly rowsFound: number;
  readonly rowsCopied: number;
  /** Acknowledged writes before the target, and how many of them this copy holds. */
  readonly ackedBefore: number;
  readonly backBefore: number;
  /** Acknowledged writes after the target that this copy lacks (lost if you switched to it). */
  readonly givenUp: number;
  readonly detail?: string;
}

export interface ReplicationNotBackupMeasures {
  readonly rowsBefore: number;
  readonly rowsDeleted: number;
  readonly mistakeAt: number;
  /** DELETE commit → rows gone on replica1 (applied), ms. */
  readonly appliedOnReplicaMs: number | null;
  /** DELETE commit → WAL received by the delayed replica (held back by its delay), ms. */
  readonly receivedByDelayedMs: number | null;
  readonly acked: number;
  readonly baseBackup: { readonly name: string; readonly ms: number; readonly bytes: number };
  readonly dump: { readonly name: string; readonly ms: number; readonly bytes: number };
  readonly delayed?: WayMeasures;
  readonly pitr?: WayMeasures & { readonly node: string; readonly stoppedAt?: string };
  readonly logicalDump?: WayMeasures;
  /** Acknowledged writes of the run missing on the primary at the end (committed between the target and the DELETE). */
  readonly missingAtEnd: number;
}

type Row = string; // row_to_json(users)::text

async function rowsOf(c: Client): Promise<Row[]> {
  return (await c.query<{ j: string }>('SELECT row_to_json(u)::text AS j FROM users u')).rows.map((r) => r.j);
}

function keysOf(rows: readonly Row[]): Set<string> {
  const s = new Set<string>();
  for (const r of rows) s.add((JSON.parse(r) as { name: string }).name);
  return s;
}

async function copyBack(primary: Client, rows: readonly Row[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await primary.query<{ n: number }>(
    'WITH ins AS (INSERT INTO users SELECT * FROM json_populate_recordset(NULL::users, $1::json) ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*)::int AS n FROM ins',
    [`[${rows.join(',')}]`],
  );
  return r.rows[0]?.n ?? 0;
}

/** Ledger view of one way: acked before its target present? how many later writes lacks it? */
function judge(ledger: WriteLedger, keys: ReadonlySet<string>, targetAt: number): { ackedBefore: number; backBefore: number; givenUp: number } {
  let ackedBefore = 0;
  let backBefore = 0;
  let givenUp = 0;
  for (const w of ledger.writes) {
    if (w.ackAt < targetAt) {
      ackedBefore++;
      if (keys.has(w.key)) backBefore++;
    } else if (!keys.has(w.key)) givenUp++;
  }
  return { ackedBefore, backBefore, givenUp };
}

export async function replicationNotBackup(ctx: DemoContext): Promise<DemoResult<ReplicationNotBackupMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 9: ${m}`);
  const ready = await readyCluster(ctx, { replicas: 2 });
  if (ready.primary.key !== 'primary') {
    throw new DemoNotReady('replicas', `Demo 9 uses ${specOf(t, DELAYED_NODE).container} as the delayed replica of Exercise 3 and needs the standard topology (postgres-primary with two replicas); now ${ready.primary.container} is the primary.`);
  }
  const bctx = { topology: t, containers: ctx.containers, log: ctx.log };
  try {
    await readBackupCatalog(bctx);
  } catch (e) {
    if (e instanceof BackupError) throw new DemoNotReady(e.problem === 'noVolume' ? 'replicas' : 'cluster', e.message);
    throw e;
  }
  // (a) needs the delayed replica: set it up now (Exercise 3), before any of the writes.
  try {
    await setupDelayed(ctx, `${DEMO9_DELAY_SEC}s`);
  } catch (e) {
    if (e instanceof LabError) throw new DemoNotReady('replicas', e.message);
    throw e;
  }
  const primary = ready.primary;
  const replica1 = specOf(t, 'replica1');
  const delayedSpec = specOf(t, DELAYED_NODE);
  let phase = 'backup';
  let restored: RestoredNode | undefined;
  const scratchDb = `demodb_dump_${Date.now().toString(36)}`;
  let scratchMade = false;
  const load = new LoadGenerator(t, { target: 'primary', mode: { kind: 'rate', ratePerSec: LOAD_RATE, durationSec: 600 } });
  let loadRun: Promise<unknown> | undefined;
  const pc = await connect(t, primary.hostPort, t.superuser.database, 'pgha-demo9');
  try {
    say(`${delayedSpec.container} applies commits ${DEMO9_DELAY_SEC} s late (Exercise 3)`);
    // A base backup taken earlier: here, now.
    let t0 = Date.now();
    say('taking a base backup (pg_basebackup) into /backup/base');
    const bb = await takeBaseBackup(bctx);
    const baseBackup = { name: bb.name, ms: Date.now() - t0, bytes: bb.sizeBytes };
    say(`base backup ${bb.name}: ${(bb.sizeBytes / 1048576).toFixed(1)} MB in ${baseBackup.ms} ms`);

    phase = 'load';
    say(`write load: ${LOAD_RATE} inserts/s on the primary, each acknowledged write in the ledger`);
    loadRun = load.run();
    // Wait for acknowledged writes rather than for time: on a loaded machine the load starts late.
    const acked = async (n: number) => {
      const until = Date.now() + 60_000;
      while (load.ledger.acked < n && Date.now() < until) await sleep(100);
    };
    await acked(LOAD_RATE * 2);
    t0 = Date.now();
    say('pg_dump demodb into /backup/dump (during the load)');
    const dumpStartedAt = Date.now();
    const dumpFile = await dumpDatabase(bctx);
    const dump = { name: dumpFile.name, ms: Date.now() - t0, bytes: dumpFile.sizeBytes };
    // Way (a) gives back what the delayed replica replayed up to PAUSE_MARGIN_MS before the mistake:
    // the load must have run longer than that, or there is nothing before its target to check.
    await acked(Math.max(load.ledger.acked + LOAD_RATE * 2, Math.ceil((LOAD_RATE * (PAUSE_MARGIN_MS + 4000)) / 1000)));

    // The mistake.
    phase = 'mistake';
    const rowsBefore = Number((await pc.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0].n);
    const r1 = await connect(t, replica1.hostPort, t.superuser.database, 'pgha-demo9');
    const r2 = await connect(t, delayedSpec.hostPort, 'postgres', 'pgha-demo9');
    let appliedOnReplicaMs: number | null = null;
    let receivedByDelayedMs: number | null = null;
    let mistakeAt: number;
    let rowsDeleted: number;
    let deleteAckAt = 0;
    try {
      mistakeAt = Date.now();
      const target = (await pc.query<{ ts: Date }>('SELECT clock_timestamp() AS ts')).rows[0].ts.getTime();
      mistakeAt = Math.min(mistakeAt, target);
      say('DELETE FROM users  -- the accidental statement, no WHERE');
      const del = await pc.query<{ maxid: number; n: string; lsn: string }>('WITH d AS (DELETE FROM users RETURNING id) SELECT max(id)::int AS maxid, count(*) AS n, pg_current_wal_lsn()::text AS lsn FROM d');
      const committedAt = Date.now();
      deleteAckAt = committedAt;
      rowsDeleted = Number(del.rows[0].n);
      const maxId = del.rows[0].maxid;
      const lsn = (await pc.query<{ l: string }>('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
      const deadline = committedAt + 10_000;
      const watch1 = (async () => {
        while (Date.now() < deadline) {
          const n = Number((await r1.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE id <= $1', [maxId])).rows[0].n);
          if (n === 0) return (appliedOnReplicaMs = Date.now() - committedAt);
          await sleep(2);
        }
        return null;
      })();
      const watch2 = (async () => {
        while (Date.now() < deadline) {
          const ok = (await r2.query<{ ok: boolean }>('SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS ok', [lsn])).rows[0].ok;
          if (ok) return (receivedByDelayedMs = Date.now() - committedAt);
          await sleep(2);
        }
        return null;
      })();
      await Promise.all([watch1, watch2]);
      say(`${rowsDeleted} rows deleted; gone on ${replica1.service} after ${appliedOnReplicaMs ?? '>10000'} ms; WAL on ${delayedSpec.service} after ${receivedByDelayedMs ?? '>10000'} ms (held back by its delay)`);
    } finally {
      await r1.end().catch(() => undefined);
      await r2.end().catch(() => undefined);
    }
    await acked(load.ledger.acked + LOAD_RATE);
    load.cancel();
    await loadRun;
    loadRun = undefined;
    const ledger = load.ledger;
    say(`load stopped: ${ledger.acked} writes acknowledged, ${ledger.failed} failed`);

    // (a) The delayed replica: pause replay just before it would apply the mistake. The connection
    // is opened first, so the pause itself is one round trip.
    phase = 'delayed';
    const pauseAt = mistakeAt + DEMO9_DELAY_SEC * 1000 - PAUSE_MARGIN_MS;
    let delayed: WayMeasures | undefined;
    let mistakeAppliedOnDelayed = true;
    {
      const dc = await connect(t, delayedSpec.hostPort, t.superuser.database, 'pgha-demo9');
      try {
        say(`(a) waiting ${Math.max(0, Math.round((pauseAt - Date.now()) / 1000))} s, then pausing replay on ${delayedSpec.container} before it applies the DELETE`);
        while (Date.now() < pauseAt) await sleep(Math.min(250, pauseAt - Date.now()));
        t0 = Date.now();
        await dc.query('SELECT pg_wal_replay_pause()');
        for (let i = 0; i < 400; i++) {
          const st = (await dc.query<{ s: string }>('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s;
          if (st === 'paused') break;
          await sleep(25);
        }
        const replayTs = (await dc.query<{ ts: Date | null }>('SELECT pg_last_xact_replay_timestamp() AS ts')).rows[0].ts?.getTime() ?? 0;
        mistakeAppliedOnDelayed = replayTs >= mistakeAt;
        const rows = await rowsOf(dc);
        const readyMs = Date.now() - t0;
        const c0 = Date.now();
        const copied = await copyBack(pc, rows);
        const j = judge(ledger, keysOf(rows), replayTs);
        delayed = {
          targetAt: replayTs,
          readyMs,
          copyMs: Date.now() - c0,
          rowsFound: rows.length,
          rowsCopied: copied,
          ...j,
          detail: mistakeAppliedOnDelayed ? `paused too late: replayed up to ${new Date(replayTs).toISOString()}, after the DELETE` : `paused ${Math.round((mistakeAt - replayTs) / 100) / 10} s before the DELETE`,
        };
        say(`(a) ${delayedSpec.service} (paused, replayed up to ${new Date(replayTs).toISOString()}): ${rows.length} rows, ${copied} copied back in ${delayed.copyMs} ms; ${j.backBefore}/${j.ackedBefore} earlier writes back, ${j.givenUp} later ones not in it`);
      } finally {
        await dc.end().catch(() => undefined);
      }
    }
    await resumeReplay(ctx).catch(() => undefined);

    // (b) PITR into a new node, to just before the mistake.
    phase = 'pitr';
    say('(b) point-in-time recovery: the base backup + WAL archive into a NEW node, up to just before the DELETE');
    await archiveCurrentWal(bctx);
    t0 = Date.now();
    restored = await restoreToPointInTime(bctx, { target: { kind: 'time', at: mistakeAt, text: new Date(mistakeAt).toISOString() }, backup: bb.name });
    let pitr: ReplicationNotBackupMeasures['pitr'];
    {
      const rc = await connect(t, restored.hostPort, t.superuser.database, 'pgha-demo9');
      try {
        const rows = await rowsOf(rc);
        const readyMs = Date.now() - t0;
        const c0 = Date.now();
        const copied = await copyBack(pc, rows);
        const j = judge(ledger, keysOf(rows), mistakeAt);
        pitr = { targetAt: mistakeAt, readyMs, copyMs: Date.now() - c0, rowsFound: rows.length, rowsCopied: copied, ...j, node: restored.container, stoppedAt: restored.stoppedAt };
        say(`(b) ${restored.container} restored in ${readyMs} ms (${restored.stoppedAt ?? ''}): ${rows.length} rows, ${copied} copied back; ${j.backBefore}/${j.ackedBefore} earlier writes back, ${j.givenUp} later ones not in it`);
      } finally {
        await rc.end().catch(() => undefined);
      }
    }

    // (c) The logical dump, loaded beside demodb.
    phase = 'dump';
    say(`(c) the dump ${dump.name} loaded into a scratch database ${scratchDb}`);
    t0 = Date.now();
    await pc.query(`CREATE DATABASE ${scratchDb}`);
    scratchMade = true;
    const load9 = await ctx.containers.exec(primary.container, ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-U', 'postgres', '-d', scratchDb, '-f', `/backup/${dump.name}`], { user: 'postgres' });
    if (load9.exitCode !== 0) throw new Error(`loading the dump failed: ${load9.stderr.trim().split('\n').slice(-1)[0]}`);
    let logicalDump: WayMeasures | undefined;
    {
      const sc = await connect(t, primary.hostPort, scratchDb, 'pgha-demo9');
      try {
        const rows = await rowsOf(sc);
        const readyMs = Date.now() - t0;
        const c0 = Date.now();
        const copied = await copyBack(pc, rows);
        const j = judge(ledger, keysOf(rows), dumpStartedAt);
        logicalDump = { targetAt: dumpStartedAt, readyMs, copyMs: Date.now() - c0, rowsFound: rows.length, rowsCopied: copied, ...j };
        say(`(c) dump: ${rows.length} rows in ${readyMs} ms, ${copied} copied back; ${j.backBefore}/${j.ackedBefore} writes before the dump back, ${j.givenUp} later ones not in it`);
      } finally {
        await sc.end().catch(() => undefined);
      }
    }

    phase = 'check';
    const present = new Set((await pc.query<{ name: string }>('SELECT name FROM users WHERE name LIKE $1', [ledger.keyPattern])).rows.map((r) => r.name));
    // Writes acknowledged between the target and the DELETE's commit were deleted and lie after
    // every target: they are what the chosen target gives up. Every other write must be there.
    const missing = ledger.writes.filter((w) => !present.has(w.key));
    const missingAtEnd = missing.length;
    const missingOutsideWindow = missing.filter((w) => w.ackAt < mistakeAt || w.sentAt > deleteAckAt).length;
    const m: ReplicationNotBackupMeasures = {
      rowsBefore,
      rowsDeleted,
      mistakeAt,
      appliedOnReplicaMs,
      receivedByDelayedMs,
      acked: ledger.writes.length,
      baseBackup,
      dump,
      delayed,
      pitr,
      logicalDump,
      missingAtEnd,
    };
    const way = (w: WayMeasures | undefined) => (w ? `${w.backBefore}/${w.ackedBefore} back, ${w.givenUp} later given up; ready in ${w.readyMs} ms` : 'not run');
    const checks = [
      check('mistakeReplicated', appliedOnReplicaMs !== null && receivedByDelayedMs !== null, `${replica1.service}: rows gone after ${appliedOnReplicaMs ?? '?'} ms; ${delayedSpec.service}: WAL received after ${receivedByDelayedMs ?? '?'} ms`),
      check('delayedReplicaBack', !!delayed && !mistakeAppliedOnDelayed && delayed.ackedBefore > 0 && delayed.backBefore === delayed.ackedBefore, `${way(delayed)}${delayed?.detail ? `; ${delayed.detail}` : ''}`),
      check('pitrBack', !!pitr && pitr.ackedBefore > 0 && pitr.backBefore === pitr.ackedBefore, way(pitr)),
      check('dumpBack', !!logicalDump && logicalDump.backBefore === logicalDump.ackedBefore, way(logicalDump)),
      check(
        'nothingLost',
        missingOutsideWindow === 0 && ledger.writes.length > 0,
        `${ledger.writes.length - missingAtEnd}/${ledger.writes.length} acknowledged writes on ${primary.service}; ${missingAtEnd} given up (committed between the target and the DELETE)`,
      ),
    ];
    return result('demo9', started, checks, m, `${primary.container} has its rows back; ${delayedSpec.container} applies at once again; the restored node and the scratch database are removed.`);
  } catch (e) {
    if (e instanceof DemoNotReady) throw e;
    throw new DemoFailed(`Demo 9 failed (${phase}): ${e instanceof Error ? e.message : String(e)}`, `the demo cleaned up after itself (delay removed, restored node removed); rows deleted by the mistake may still be missing on ${primary.container}: run Demo 9 again or reset the cluster.`, e);
  } finally {
    load.cancel();
    if (loadRun) await loadRun.catch(() => undefined);
    if (scratchMade) await pc.query(`DROP DATABASE IF EXISTS ${scratchDb}`).catch(() => undefined);
    await pc.end().catch(() => undefined);
    if (restored) await removeRestoredNode(bctx, restored.container).catch(() => undefined);
    await undoDelayed(ctx).catch(() => undefined);
  }
}
