// Demo 9's backups on the real cluster: the workshop's two backup commands from a terminal, the WAL
// archive, base backup + point-in-time recovery into a NEW node (by time, by LSN, and with
// cluster/restore-backup.sh), and the bad inputs: a target before the oldest backup, a missing WAL
// segment, a full volume, a cancelled backup. Each bad input must give a clear message and leave
// the running cluster exactly as it was (same rows, same containers).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  archiveCurrentWal,
  BackupError,
  dumpDatabase,
  listRestoredNodes,
  parseRecoveryTarget,
  readBackupCatalog,
  removeRestoredNode,
  restoreToPointInTime,
  segNoOfLsn,
  takeBaseBackup,
  type BackupContext,
  type BaseBackup,
} from '../../src/core/backup';
import { withNodeClient } from '../../src/core/connection';
import { clusterUp, containerOf, containers, nodePort, query, runClusterScript, topology } from '../support/cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ctx = (t?: { diagnostic(m: string): void }): BackupContext => ({ topology, containers, log: (m) => t?.diagnostic(m) });
const primary = () => containerOf('primary');

async function count(port: number, where = 'true', params: unknown[] = []): Promise<number> {
  return withNodeClient(topology, port, async (c) => Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM users WHERE ${where}`, params)).rows[0].n), { connectTimeoutMs: 20_000, queryTimeoutMs: 60_000 });
}

/** The running cluster's rows and containers: must be identical before and after a refused restore. */
async function clusterFingerprint(): Promise<string> {
  const rows = await query<{ n: string; m: number | null }>('primary', 'SELECT count(*) AS n, max(id) AS m FROM users');
  const restored = (await listRestoredNodes(ctx())).map((r) => r.container);
  const states = await containers.snapshot(topology.nodes.map((n) => n.container));
  return JSON.stringify({ rows: rows[0], restored, states: Object.values(states).map((s) => `${s.name}:${s.status}`) });
}

function rejects(problem: BackupError['problem'], text?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof BackupError, `expected a BackupError, got ${String(e)}`);
    assert.equal(e.problem, problem, e.message);
    if (text) assert.match(e.message, text);
    return true;
  };
}

describe('Demo 9: backups, WAL archive and point-in-time recovery', { timeout: 1_800_000 }, () => {
  let backup: BaseBackup;
  const tag = `pitr-${Date.now().toString(36)}`;

  before(async () => {
    await clusterUp();
  });

  after(async () => {
    for (const r of await listRestoredNodes(ctx()).catch(() => [])) await removeRestoredNode(ctx(), r.container).catch(() => undefined);
  });

  test("From a terminal: the workshop's pg_basebackup (inside the node: /backup is the backup volume) and pg_dump work verbatim", async () => {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    await containers.exec(primary(), ['sh', '-c', `rm -rf /backup/${day}`], { user: 'postgres' });
    const bb = await containers.exec(primary(), ['sh', '-c', 'pg_basebackup -h localhost -p 5432 -U postgres -D /backup/$(date +%Y%m%d)'], { user: 'postgres', env: ['PGPASSWORD=postgres'] });
    assert.equal(bb.exitCode, 0, bb.stderr);
    const cat = await readBackupCatalog(ctx());
    assert.ok(cat.backups.some((b) => b.name === day), `the workshop's /backup/${day} is listed among ${cat.backups.map((b) => b.name).join(', ')}`);
    // pg_dump on this machine through the published port (the workshop's 5432 is PGHA_PRIMARY_PORT here).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-dump-'));
    try {
      const r = spawnSync('sh', ['-c', `PGPASSWORD=postgres pg_dump -h localhost -p ${nodePort('primary')} -U postgres demodb > backup.sql`], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(fs.readFileSync(path.join(dir, 'backup.sql'), 'utf8'), /CREATE TABLE public\.users/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('WAL archive: a switched segment lands in /backup/wal/<system id> and pg_stat_archiver reports it, without failures', async () => {
    const before = (await readBackupCatalog(ctx())).archive;
    const seg = await archiveCurrentWal(ctx());
    const after = (await readBackupCatalog(ctx())).archive;
    assert.equal(after.mode, 'on');
    assert.ok(after.segments.some((s) => s.name === seg), `${seg} in ${after.folder}`);
    assert.ok((after.lastArchivedWal ?? '') >= seg);
    assert.equal(after.failedCount, before.failedCount, `no archive failure (last failed: ${after.lastFailedWal})`);
  });

  test('Take Base Backup and Dump Database: with progress and size, listed in the catalog', async (t) => {
    const seen: number[] = [];
    backup = await takeBaseBackup(ctx(t), { onProgress: (p) => p.fraction !== undefined && seen.push(p.fraction) });
    assert.match(backup.name, /^base\/\d{8}-\d{6}$/);
    assert.ok(backup.sizeBytes > 1_000_000, `size ${backup.sizeBytes}`);
    assert.ok(seen.length > 0, 'progress reported');
    const d = await dumpDatabase(ctx(t));
    assert.ok(d.sizeBytes > 100);
    const cat = await readBackupCatalog(ctx());
    assert.ok(cat.backups.some((b) => b.name === backup.name) && cat.dumps.some((x) => x.name === d.name));
  });

  test('PITR to a time: rows deleted after the target come back in a NEW node; the cluster keeps the DELETE and its own rows', async (t) => {
    await query('primary', "INSERT INTO users (name, email) SELECT $1, 'kept' || g FROM generate_series(1, 25) g", [tag]);
    await sleep(300);
    const target = Date.now();
    await sleep(300);
    await query('primary', "INSERT INTO users (name, email) SELECT $1, 'late' || g FROM generate_series(1, 5) g", [tag]);
    await query('primary', 'DELETE FROM users WHERE name = $1', [tag]);
    const fp = await query<{ n: string }>('primary', 'SELECT count(*) AS n FROM users');
    const r = await restoreToPointInTime(ctx(t), { target: { kind: 'time', at: target, text: '' }, backup: backup.name });
    t.diagnostic(`${r.container} on ${r.hostPort} in ${r.tookMs} ms: ${r.stoppedAt}`);
    assert.notEqual(r.hostPort, nodePort('primary'));
    assert.equal(await count(r.hostPort, "name = $1 AND email LIKE 'kept%'", [tag]), 25, 'every row committed before the target');
    assert.equal(await count(r.hostPort, "name = $1 AND email LIKE 'late%'", [tag]), 0, 'no row committed after it');
    const w = await withNodeClient(topology, r.hostPort, async (c) => (await c.query<{ rec: boolean; archive: string }>("SELECT pg_is_in_recovery() AS rec, current_setting('archive_mode') AS archive")).rows[0], { database: 'postgres', connectTimeoutMs: 20_000 });
    assert.deepEqual(w, { rec: false, archive: 'off' }, 'a separate primary that never archives into the cluster\'s archive');
    const now = await query<{ n: string }>('primary', 'SELECT count(*) AS n FROM users');
    assert.equal(now[0].n, fp[0].n, 'the running cluster unchanged by the restore');
    assert.equal(await count(nodePort('primary'), 'name = $1', [tag]), 0);
    await removeRestoredNode(ctx(), r.container);
    assert.equal((await listRestoredNodes(ctx())).some((x) => x.container === r.container), false);
  });

  test('PITR to an LSN with cluster/restore-backup.sh (the terminal way); bad arguments get a clear message', async (t) => {
    await query('primary', "INSERT INTO users (name, email) SELECT $1, 'lsn' || g FROM generate_series(1, 7) g", [`${tag}-lsn`]);
    const lsn = (await query<{ l: string }>('primary', 'SELECT pg_current_wal_lsn()::text AS l'))[0].l;
    await query('primary', 'DELETE FROM users WHERE name = $1', [`${tag}-lsn`]);
    await archiveCurrentWal(ctx());
    const bad = await runClusterScript('restore-backup.sh', ['--lsn', 'yesterday']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a WAL position.*0\/5000028/);
    const name = `${topology.containerPrefix}postgres-restore-script`;
    const r = await runClusterScript('restore-backup.sh', ['--lsn', lsn, '--name', name, '--port', String(nodePort('primary') + 9)], {}, 600_000);
    t.diagnostic(r.stdout + r.stderr);
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Restored\./);
      assert.equal(await count(nodePort('primary') + 9, 'name = $1', [`${tag}-lsn`]), 7);
      assert.ok((await listRestoredNodes(ctx())).some((x) => x.container === name), 'the script labels its node like the extension does');
    } finally {
      await removeRestoredNode(ctx(), name).catch(() => undefined);
    }
  });

  test('Bad input: a target time before the oldest backup is refused before anything starts; the cluster unchanged', async () => {
    const fp = await clusterFingerprint();
    const cat = await readBackupCatalog(ctx());
    const oldest = cat.backups[cat.backups.length - 1];
    const target = parseRecoveryTarget(new Date(oldest.endedAt - 3_600_000).toISOString());
    await assert.rejects(restoreToPointInTime(ctx(), { target }), rejects('beforeBackup', /before the oldest base backup.*rolled forward/));
    assert.equal(await clusterFingerprint(), fp);
    const script = await runClusterScript('restore-backup.sh', ['--time', new Date(oldest.endedAt - 3_600_000).toISOString()], {}, 300_000);
    assert.equal(script.code, 1);
    assert.match(script.stderr, /every backup ended after .*rolled FORWARD/);
    assert.equal(await clusterFingerprint(), fp);
  });

  test('Bad input: a missing WAL segment is named, the restore refused; the cluster unchanged', async () => {
    const cat = await readBackupCatalog(ctx());
    const b = cat.backups.find((x) => x.name === backup.name)!;
    // A segment after the backup: move it aside, then put it back whatever happens.
    await archiveCurrentWal(ctx());
    const endSeg = segNoOfLsn(b.endLsn!)!;
    const after = (await readBackupCatalog(ctx())).archive.segments.filter((s) => /^[0-9A-F]{24}$/.test(s.name) && BigInt(`0x${s.name.slice(8, 16)}`) * 0x100n + BigInt(`0x${s.name.slice(16)}`) > endSeg);
    assert.ok(after.length >= 2, `segments archived after the backup: ${after.map((s) => s.name).join(', ')}`);
    const victim = after[0].name;
    const folder = cat.archive.folder!;
    await containers.exec(primary(), ['mv', `${folder}/${victim}`, `/tmp/${victim}`], { user: 'postgres' });
    const fp = await clusterFingerprint();
    try {
      await assert.rejects(restoreToPointInTime(ctx(), { target: { kind: 'end' }, backup: backup.name }), rejects('missingWal', new RegExp(`${victim} is missing`)));
      assert.equal(await clusterFingerprint(), fp);
    } finally {
      await containers.exec(primary(), ['mv', `/tmp/${victim}`, `${folder}/${victim}`], { user: 'postgres' });
    }
  });

  test('Bad input: a full volume (a restored node on an 8 MB tmpfs) fails clearly, the new node is removed; the cluster unchanged', async () => {
    const fp = await clusterFingerprint();
    await assert.rejects(restoreToPointInTime(ctx(), { target: { kind: 'end' }, backup: backup.name, dataTmpfsMb: 8 }), rejects('volumeFull', /ran out of space.*removed.*unchanged/));
    assert.equal(await clusterFingerprint(), fp);
  });

  /** Nothing of a cancelled backup runs on: no pg_basebackup in the container, no walsender for it on the server. */
  async function nothingOfBackupRuns(): Promise<void> {
    const procs = await containers.exec(primary(), ['sh', '-c', 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f 2>/dev/null; echo; done | grep -c "^pg_basebackup" || true'], { user: 'postgres' });
    assert.equal(procs.stdout.trim(), '0', 'no pg_basebackup process left in the container');
    const senders = await query<{ n: string }>('primary', "SELECT count(*) AS n FROM pg_stat_replication WHERE application_name = 'pg_basebackup'");
    assert.equal(senders[0].n, '0', 'no pg_basebackup walsender left on the primary');
  }

  test('Cancel: a base backup cancelled before it starts or mid-way leaves no partial folder and nothing running', async (t) => {
    const list = async () => (await containers.exec(primary(), ['ls', '/backup/base'], { user: 'postgres' })).stdout.trim();
    const before = await list();
    // Cancelled at once (the first progress report comes before the copy starts).
    const early = new AbortController();
    await assert.rejects(takeBaseBackup(ctx(t), { signal: early.signal, onProgress: () => early.abort() }), rejects('cancelled', /removed/));
    assert.equal(await list(), before, 'no partial backup folder left');
    await nothingOfBackupRuns();
    // Cancelled mid-way: a ~150 MB table makes the copy last long enough to be cut.
    await query('primary', "CREATE TABLE backup_cancel_ballast AS SELECT g, repeat('x', 120) AS pad FROM generate_series(1, 1000000) g");
    try {
      const mid = new AbortController();
      let started = false;
      const p = takeBaseBackup(ctx(t), {
        signal: mid.signal,
        onProgress: (x) => {
          if (started) return;
          started = true;
          setTimeout(() => mid.abort(), 300);
          t.diagnostic(`cancel 300 ms after: ${x.message ?? ''}`);
        },
      });
      await assert.rejects(p, rejects('cancelled', /removed/));
      assert.equal(await list(), before, 'no partial backup folder left');
      await nothingOfBackupRuns();
    } finally {
      await query('primary', 'DROP TABLE IF EXISTS backup_cancel_ballast');
    }
  });
});
