// Pure parts of the backup module: the catalog the volume reports, recovery targets as users type
// them, and which backup a target restores from (or the clear refusal when none can).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackupError, explainRestoreFailure, firstGap, parseBasebackupProgress, parseCatalog, parseRecoveryTarget, planRestore, segmentName, segNoOfLsn, targetTimeSetting, type BackupCatalog } from '../../src/core/backup';

const NOW = Date.parse('2026-12-01T21:30:00Z');

test('parseCatalog: backups newest first (the workshop\'s /backup/YYYYMMDD too), dumps, archive, free space', () => {
  const text = [
    'backup\tbase/20261201-210503\t1796158000\t47647431\t2026-12-01 21:05:03 UTC\t0/8000028\t0/8000138\t1',
    'backup\t20261201\t1796157000\t40000000\t2026-12-01 20:48:20 UTC\t0/3000028\t0/3000100\t1',
    'dump\tdump/demodb-20261201-210600.sql\t1796158100\t2126',
    'df\t79513374720\t270553174016',
    'wal\t000000010000000000000003\t1796157010\t16777216',
    'wal\t000000010000000000000004\t1796157020\t16777216',
  ].join('\n');
  const c = parseCatalog(text);
  assert.deepEqual(c.backups.map((b) => b.name), ['base/20261201-210503', '20261201']);
  assert.equal(c.backups[0].endLsn, '0/8000138');
  assert.equal(c.backups[0].startedAt, Date.parse('2026-12-01T21:05:03Z'));
  assert.equal(c.dumps[0].sizeBytes, 2126);
  assert.equal(c.segments.length, 2);
  assert.equal(c.archiveBytes, 2 * 16777216);
  assert.equal(c.freeBytes, 79513374720);
});

test('parseRecoveryTarget: times (UTC unless a zone is given), LSNs, end; nonsense refused with an example', () => {
  assert.deepEqual(parseRecoveryTarget('', NOW), { kind: 'end' });
  assert.deepEqual(parseRecoveryTarget('latest', NOW), { kind: 'end' });
  assert.deepEqual(parseRecoveryTarget('0/5000028', NOW), { kind: 'lsn', lsn: '0/5000028' });
  const a = parseRecoveryTarget('2026-12-01 21:05:03', NOW);
  assert.equal(a.kind === 'time' && a.at, Date.parse('2026-12-01T21:05:03Z'));
  const b = parseRecoveryTarget('2026-12-01 21:05:03.250+07', NOW);
  assert.equal(b.kind === 'time' && b.at, Date.parse('2026-12-01T14:05:03.250Z'));
  const c = parseRecoveryTarget('21:05', NOW);
  assert.equal(c.kind === 'time' && c.at, Date.parse('2026-12-01T21:05:00Z'));
  assert.throws(() => parseRecoveryTarget('yesterday', NOW), (e: unknown) => e instanceof BackupError && e.problem === 'badInput' && /0\/5000028/.test(e.message));
  assert.equal(targetTimeSetting(Date.parse('2026-12-01T21:05:03.250Z')), '2026-12-01 21:05:03.250+00');
});

test('pg_basebackup progress lines and LSN → segment arithmetic', () => {
  assert.deepEqual(parseBasebackupProgress(' 23552/46545 kB (50%), 0/1 tablespace'), { doneKb: 23552, totalKb: 46545, percent: 50 });
  assert.equal(parseBasebackupProgress('waiting for checkpoint'), undefined);
  assert.equal(segNoOfLsn('0/8000138'), 8n);
  assert.equal(segNoOfLsn('1/2000000'), 0x102n);
  assert.equal(segmentName(1, 0x102n), '000000010000000100000002');
});

const seg = (n: number, at: number) => ({ name: segmentName(1, BigInt(n)), at });
const catalog = (segments = [3, 4, 5, 6, 7, 8, 9].map((n) => seg(n, Date.parse('2026-12-01T21:00:00Z') + n * 60_000))): Pick<BackupCatalog, 'backups' | 'archive'> => ({
  backups: [
    { name: 'base/b2', endedAt: Date.parse('2026-12-01T21:06:00Z'), sizeBytes: 1, startLsn: '0/6000028', endLsn: '0/6000100', timeline: 1 },
    { name: 'base/b1', endedAt: Date.parse('2026-12-01T21:03:00Z'), sizeBytes: 1, startLsn: '0/3000028', endLsn: '0/3000100', timeline: 1 },
  ],
  archive: { segments, sizeBytes: 0, folder: '/backup/wal/1' },
});

test('planRestore: the newest backup that ended before the target', () => {
  assert.equal(planRestore(catalog(), parseRecoveryTarget('2026-12-01 21:07:00', NOW), NOW).backup.name, 'base/b2');
  assert.equal(planRestore(catalog(), parseRecoveryTarget('2026-12-01 21:04:00', NOW), NOW).backup.name, 'base/b1');
  assert.equal(planRestore(catalog(), parseRecoveryTarget('0/7000000', NOW), NOW).backup.name, 'base/b2');
  assert.equal(planRestore(catalog(), { kind: 'end' }, NOW).backup.name, 'base/b2');
});

test('planRestore: a target before the oldest backup is refused, saying from when a restore is possible', () => {
  assert.throws(
    () => planRestore(catalog(), parseRecoveryTarget('2026-12-01 21:01:00', NOW), NOW),
    (e: unknown) => e instanceof BackupError && e.problem === 'beforeBackup' && /oldest base backup \(base\/b1, ended 2026-12-01 21:03:00 UTC\)/.test(e.message),
  );
  assert.throws(() => planRestore(catalog(), parseRecoveryTarget('0/2000000', NOW), NOW), (e: unknown) => e instanceof BackupError && e.problem === 'beforeBackup');
  assert.throws(() => planRestore(catalog(), parseRecoveryTarget('2026-12-02 09:00', NOW), NOW), (e: unknown) => e instanceof BackupError && e.problem === 'future');
  assert.throws(() => planRestore({ ...catalog(), backups: [] }, { kind: 'end' }, NOW), (e: unknown) => e instanceof BackupError && /no base backup yet/.test(e.message));
});

test('planRestore: a missing WAL segment is named; a target before the hole still restores', () => {
  const holed = catalog([3, 4, 6, 7].map((n) => seg(n, Date.parse('2026-12-01T21:00:00Z') + n * 60_000)));
  assert.deepEqual(firstGap(holed.archive.segments, 3n), { missing: 5n, coveredUntil: Date.parse('2026-12-01T21:04:00Z') });
  assert.throws(
    () => planRestore(holed, parseRecoveryTarget('2026-12-01 21:05:30', NOW), NOW, 'base/b1'),
    (e: unknown) => e instanceof BackupError && e.problem === 'missingWal' && e.message.includes('000000010000000000000005'),
  );
  assert.equal(planRestore(holed, parseRecoveryTarget('2026-12-01 21:03:30', NOW), NOW).backup.name, 'base/b1');
});

test('explainRestoreFailure: full volume, missing WAL, target before consistency, each with what to do', () => {
  assert.equal(explainRestoreFailure('pgha[x]: error: copying the base backup failed: cp: error writing: No space left on device', 't').problem, 'volumeFull');
  assert.equal(explainRestoreFailure('FATAL:  recovery ended before configured recovery target was reached', 't').problem, 'missingWal');
  assert.equal(explainRestoreFailure('FATAL:  requested recovery stop point is before consistent recovery point', 't').problem, 'beforeBackup');
  assert.match(explainRestoreFailure('FATAL:  something else', 't').message, /cluster is unchanged/);
});
