// Pure parts of failover and load: candidate choice, RTO/RPO from a ledger, option checks,
// PgBouncer ini rewrite, synchronous_standby_names parsing, pg_rewind failure reasons.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseCandidate, formatSyncNames, parseSyncNames, withBehind } from '../../src/core/failover';
import { renderFailoverReport } from '../../src/core/failoverReport';
import { splitBrainAdvice } from '../../src/core/fencing';
import { measureRpo, measureRto, percentile, WriteLedger, writeKey } from '../../src/core/ledger';
import { validateLoadOptions } from '../../src/core/load';
import { rewriteDatabasesHost } from '../../src/core/pgbouncer';
import { explainRewindFailure, helperScript } from '../../src/core/rejoin';
import { validateSyncConfig } from '../../src/core/syncReplication';
import { topologyFromEnv } from '../../src/core/topology';
import type { ClusterStatus } from '../../src/core/status';

const t = topologyFromEnv({});

test('candidate choice: highest replay LSN wins, then receive LSN, then replica1 before replica2', () => {
  const c = (key: 'replica1' | 'replica2', replayLsn: string | null, receiveLsn: string | null) => ({ key, service: `postgres-${key}`, replayLsn, receiveLsn });
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/3000060', '0/3000060'), c('replica2', '0/3000100', '0/3000100')]))?.key, 'replica2');
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/3000100', '0/3000200'), c('replica2', '0/3000100', '0/3000100')]))?.key, 'replica1');
  assert.equal(chooseCandidate(withBehind([c('replica2', '0/3000100', '0/3000100'), c('replica1', '0/3000100', '0/3000100')]))?.key, 'replica1');
  // LSNs compare as numbers, not strings ('0/A0' > '0/9F', '1/0' > '0/FFFFFFFF').
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/FFFFFFFF', null), c('replica2', '1/0', null)]))?.key, 'replica2');
  assert.equal(chooseCandidate(withBehind([c('replica1', null, null), c('replica2', '0/1', '0/1')]))?.key, 'replica2');
  assert.equal(chooseCandidate([]), undefined);
});

test('behind bytes are measured against the old primary when known, else the best replica', () => {
  const cands = [
    { key: 'replica1' as const, service: 'postgres-replica1', replayLsn: '0/3000000', receiveLsn: '0/3000000' },
    { key: 'replica2' as const, service: 'postgres-replica2', replayLsn: '0/3100000', receiveLsn: '0/3100000' },
  ];
  assert.deepEqual(withBehind(cands, '0/3200000').map((c) => c.behindBytes), [0x200000, 0x100000]);
  assert.deepEqual(withBehind(cands, null).map((c) => c.behindBytes), [0x100000, 0]);
});

function ledgerOf(rows: [kind: 'ok' | 'fail', at: number, node?: string][]): WriteLedger {
  const l = new WriteLedger('run1');
  rows.forEach(([kind, at, node], i) => {
    if (kind === 'ok') l.recordAck({ seq: i + 1, key: writeKey('run1', i + 1), id: 100 + i, rows: 1, sentAt: at - 2, ackAt: at, node: node ?? 'postgres-primary' });
    else l.recordFailure({ seq: i + 1, sentAt: at - 1, at, kind: 'refused', message: 'connection refused' });
  });
  return l;
}

test('RTO: first failed write to the first later success on the new primary', () => {
  const l = ledgerOf([
    ['ok', 1000],
    ['ok', 1500],
    ['fail', 2000],
    ['fail', 2500],
    ['ok', 2600, 'postgres-primary'], // a success on the old node does not end the outage on the new one
    ['fail', 3000],
    ['ok', 9000, 'postgres-replica1'],
    ['ok', 9500, 'postgres-replica1'],
  ]);
  const r = measureRto(l, { onNode: 'postgres-replica1' });
  assert.ok(r);
  assert.equal(r.firstFailureAt, 2000);
  assert.equal(r.firstSuccessAt, 9000);
  assert.equal(r.ms, 7000);
  assert.equal(r.failedWrites, 3);
  assert.equal(r.node, 'postgres-replica1');
  // Without a node: the first success after the first failure.
  assert.equal(measureRto(l)?.ms, 600);
  // `after` skips an earlier outage.
  assert.equal(measureRto(l, { after: 2800, onNode: 'postgres-replica1' })?.firstFailureAt, 3000);
  assert.equal(measureRto(ledgerOf([['ok', 1], ['ok', 2]])), undefined, 'no failure, no RTO');
  assert.equal(measureRto(ledgerOf([['ok', 1], ['fail', 2]])), undefined, 'no recovery yet, no RTO');
});

test('RPO: acknowledged writes missing on the new primary, as a count and a time window', () => {
  const l = ledgerOf([
    ['ok', 1000],
    ['ok', 1100],
    ['ok', 1200],
    ['ok', 1300],
    ['fail', 1400],
    ['ok', 5000, 'postgres-replica1'],
  ]);
  const present = new Set([writeKey('run1', 1), writeKey('run1', 2), writeKey('run1', 6)]);
  const r = measureRpo(l, present, { onNode: 'postgres-primary', failureAt: 1400 });
  assert.equal(r.acked, 4);
  assert.equal(r.lostWrites, 2);
  assert.deepEqual(r.lost.map((w) => w.id), [102, 103]);
  assert.deepEqual(r.window, { from: 1200, to: 1300, ms: 100 });
  assert.equal(r.lastLostBeforeFailureMs, 100);
  const none = measureRpo(l, new Set(l.writes.map((w) => w.key)));
  assert.equal(none.lostWrites, 0);
  assert.equal(none.window, undefined);
  // Writes acknowledged after the promotion are not part of the RPO.
  assert.equal(measureRpo(l, new Set(), { ackedBefore: 2000 }).acked, 4);
});

test('percentile', () => {
  assert.equal(percentile([], 50), undefined);
  assert.equal(percentile([5, 1, 3], 50), 3);
  assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 10);
});

test('load options: rate 0, negative, absurd and malformed values get a clear message', () => {
  const rate = (ratePerSec: number, durationSec = 120) => validateLoadOptions({ target: 'primary', mode: { kind: 'rate', ratePerSec, durationSec } });
  assert.deepEqual(rate(2), []);
  assert.match(rate(0).join(' '), /more than 0/);
  assert.match(rate(-5).join(' '), /more than 0/);
  assert.match(rate(1e9).join(' '), /from 0\.01 to 5000/);
  assert.match(rate(Number.NaN).join(' '), /a number/);
  assert.match(rate(2, 0).join(' '), /duration/);
  assert.match(rate(2, 1.5).join(' '), /whole number/);
  assert.match(validateLoadOptions({ target: 'primary', mode: { kind: 'max', clients: 0, durationSec: 10 } }).join(' '), /clients/);
  assert.match(validateLoadOptions({ target: 'primary', mode: { kind: 'bulk', statements: 1000, rowsPerStatement: 100, concurrency: 1000 } }).join(' '), /concurrency/);
  assert.deepEqual(validateLoadOptions({ target: 'primary', mode: { kind: 'bulk', statements: 1000, rowsPerStatement: 100, concurrency: 10 } }), []);
});

test('PgBouncer repoint rewrites host= in [databases] only', () => {
  const ini = ['[databases]', 'demodb = host=postgres-primary port=5432 dbname=demodb', '; x = host=keep', '* = host=postgres-primary port=5432', '', '[pgbouncer]', 'listen_addr = 0.0.0.0', 'host = untouched'].join('\n');
  const r = rewriteDatabasesHost(ini, 'postgres-replica1');
  assert.deepEqual(r.previous, ['postgres-primary', 'postgres-primary']);
  assert.match(r.text, /demodb = host=postgres-replica1 port=5432 dbname=demodb/);
  assert.match(r.text, /\* = host=postgres-replica1 port=5432/);
  assert.match(r.text, /; x = host=keep/);
  assert.match(r.text, /host = untouched/);
});

test('synchronous_standby_names parse and format', () => {
  assert.deepEqual(parseSyncNames('FIRST 1 ("postgres-replica1", "postgres-replica2")'), { method: 'FIRST', num: 1, names: ['postgres-replica1', 'postgres-replica2'] });
  assert.deepEqual(parseSyncNames('ANY 2 (a, b, c)'), { method: 'ANY', num: 2, names: ['a', 'b', 'c'] });
  assert.deepEqual(parseSyncNames('postgres-replica1'), { method: 'FIRST', num: 1, names: ['postgres-replica1'] });
  assert.equal(parseSyncNames(''), undefined);
  assert.equal(formatSyncNames('ANY', 1, ['postgres-replica1', 'postgres-replica2']), 'ANY 1 ("postgres-replica1", "postgres-replica2")');
  assert.deepEqual(validateSyncConfig({ method: 'FIRST', num: 1, standbys: ['postgres-replica1'], commit: 'remote_apply' }, t), []);
  assert.match(validateSyncConfig({ method: 'FIRST', num: 2, standbys: ['postgres-replica1'] }, t).join(' '), /from 1 to 1/);
  assert.match(validateSyncConfig({ method: 'ANY', standbys: ['nope'] }, t).join(' '), /not a node/);
  assert.match(validateSyncConfig({ method: 'FIRST', commit: 'sometimes' as never }, t).join(' '), /synchronous_commit/);
});

test('pg_rewind failures are explained', () => {
  assert.match(explainRewindFailure('pg_rewind: error: target server needs to use either data checksums or "wal_log_hints = on"'), /wal_log_hints/);
  assert.match(explainRewindFailure('pg_rewind: error: source and target clusters are from different systems'), /different clusters/);
  assert.match(explainRewindFailure('pg_rewind: error: could not open file "/var/lib/postgresql/data/pg_wal/000000010000000000000003": No such file or directory'), /WAL written by the old primary/);
  assert.match(explainRewindFailure('pg_rewind: error: could not connect to server: connection to server at "x" failed'), /could not connect/);
});

test('the rejoin helper script rewinds or clones, then always writes the standby settings', () => {
  const spec = t.nodes.find((n) => n.key === 'primary')!;
  const rw = helperScript('rewind', t, 'postgres-replica1', spec);
  assert.match(rw, /pg_rewind --target-pgdata="\$D" --source-server='host=postgres-replica1 port=5432 user=postgres/);
  assert.match(rw, /standby\.signal/);
  // Shell-quoted: the line lands in postgresql.auto.conf as primary_slot_name = 'postgres_primary'.
  assert.ok(rw.includes(`'primary_slot_name = '\\''postgres_primary'\\'''`), rw);
  const cl = helperScript('clone', t, 'postgres-replica1', spec);
  assert.match(cl, /pg_basebackup -h postgres-replica1 .* -S postgres_primary/);
  assert.doesNotMatch(cl, /pg_rewind/);
});

test('split brain advice fences the node on the older timeline', () => {
  const node = (key: 'primary' | 'replica1' | 'replica2', role: string, timeline: number, upstream?: string) => ({ key, container: `postgres-${key}`, role, timeline, upstream });
  const s = {
    splitBrain: true,
    writable: ['primary', 'replica1'],
    nodes: [node('primary', 'primary', 1), node('replica1', 'primary', 2), node('replica2', 'replica', 2, 'replica1')],
    pgbouncer: { target: 'primary' },
  } as unknown as ClusterStatus;
  const a = splitBrainAdvice(s);
  assert.equal(a?.fence, 'primary');
  assert.equal(a?.keep, 'replica1');
  assert.match(a!.reason, /newer timeline 2/);
  assert.equal(splitBrainAdvice({ ...s, splitBrain: false, writable: ['primary'] } as ClusterStatus), undefined);
});

test('the failover report states RTO and RPO with how they were measured', () => {
  const md = renderFailoverReport({
    kind: 'failover',
    startedAt: 0,
    finishedAt: 4000,
    oldPrimary: { key: 'primary', container: 'postgres-primary', service: 'postgres-primary', wasRunning: true, lastLsn: '0/3000000' },
    fencing: { mode: 'kill', at: 100, message: 'killed' },
    newPrimary: { key: 'replica1', container: 'postgres-replica1', service: 'postgres-replica1', timeline: 2, promotedAt: 1500 },
    candidates: [{ key: 'replica1', service: 'postgres-replica1', replayLsn: '0/3000000', receiveLsn: '0/3000000', behindBytes: 0 }],
    chosenBecause: 'highest replay LSN',
    replicas: [{ key: 'replica2', container: 'postgres-replica2', ok: true, message: 'postgres-replica2 streams from postgres-replica1' }],
    pgbouncer: { ok: true, message: 'PgBouncer now sends demodb to postgres-replica1' },
    promotionMs: 1400,
    rto: { firstFailureAt: 120, firstSuccessAt: 2120, ms: 2000, failedWrites: 7, node: 'postgres-replica1' },
    rpo: { acked: 50, lostWrites: 2, lostRows: 2, lost: [], window: { from: 80, to: 95, ms: 15 }, lastLostBeforeFailureMs: 5 },
    steps: [{ name: 'promote', ok: true, ms: 900, message: 'promoted' }],
    warnings: [],
  });
  assert.match(md, /# Failover report: postgres-primary → postgres-replica1/);
  assert.match(md, /\*\*RTO\*\*.*\*\*2\.0 s\*\*/);
  assert.match(md, /\*\*RPO\*\*.*\*\*2\*\* of 50/);
  assert.match(md, /time window \| \*\*15 ms\*\*/);
  assert.match(md, /Rejoin it as a replica/);
});
