// The pure parts of "never two primaries": candidate order (timeline, received LSN, replay LSN),
// the operation lock's refusal text and takeover rule, and the fence mark's file format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseCandidate, withBehind, type CandidateInfo } from '../../src/core/failover';
import { firstFileOfTar, formatFenceMark, parseFenceMark, tarOneFile } from '../../src/core/fenceMarker';
import { abandonedBecause, describeBusy, type OperationLockInfo } from '../../src/core/operationLock';

const c = (key: 'replica1' | 'replica2', replayLsn: string | null, receiveLsn: string | null, timeline: number | null = 1): Omit<CandidateInfo, 'behindBytes'> => ({
  key,
  service: `postgres-${key}`,
  replayLsn,
  receiveLsn,
  timeline,
});

test('candidate: a standby on an older timeline never wins on a raw LSN', () => {
  // replica1 is far ahead in bytes but on timeline 1; replica2 follows the promoted timeline 2.
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/9000000', '0/9000000', 1), c('replica2', '0/3000000', '0/3000000', 2)]))?.key, 'replica2');
});

test('candidate: received WAL counts before replayed WAL (received is not lost)', () => {
  // replica1 replayed more, replica2 received more (its replay lags behind its receive).
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/3000200', '0/3000200'), c('replica2', '0/3000100', '0/3000900')]))?.key, 'replica2');
  // Same received position: the higher replay breaks the tie.
  assert.equal(chooseCandidate(withBehind([c('replica1', '0/3000100', '0/3000900'), c('replica2', '0/3000800', '0/3000900')]))?.key, 'replica2');
});

test('behind bytes count received WAL as kept', () => {
  const [r1] = withBehind([c('replica1', '0/3000000', '0/3100000')], '0/3100000');
  assert.equal(r1.behindBytes, 0);
});

const lock = (o: Partial<OperationLockInfo> = {}): OperationLockInfo => ({
  id: 'abc',
  holder: 'VS Code window (pid 42 on host)',
  what: 'Fail over (fence: kill)',
  nodes: [],
  since: 1_000_000,
  expires: 1_000_000 + 1_800_000,
  pid: 42,
  host: 'host',
  running: true,
  ...o,
});

test('a refused operation is told which one runs, by whom, since when', () => {
  const m = describeBusy(lock({ nodes: ['postgres-primary'] }), 1_000_000 + 12_000);
  assert.match(m, /"Fail over \(fence: kill\)" on postgres-primary, by VS Code window \(pid 42 on host\), since \d\d:\d\d:\d\d UTC \(12 s ago\)/);
  assert.match(m, /Wait until it finishes/);
});

test('a lock is taken over only when its holder is gone or it expired', () => {
  const alive = () => true;
  const dead = () => false;
  assert.equal(abandonedBecause(lock(), 1_000_100, 'host', alive), undefined, 'a live holder keeps it');
  assert.equal(abandonedBecause(lock(), 1_000_100, 'other-host', dead), undefined, 'a pid on another machine cannot be judged');
  assert.match(abandonedBecause(lock(), 1_000_100, 'host', dead) ?? '', /pid 42\) is gone/);
  assert.match(abandonedBecause(lock(), 1_000_000 + 1_800_001, 'host', alive) ?? '', /expired/);
  assert.match(abandonedBecause(lock({ running: false }), 1_000_000 + 16_000, 'host', alive) ?? '', /never started/);
  assert.equal(abandonedBecause(lock({ running: false }), 1_000_000 + 2_000, 'host', alive), undefined, 'being started right now');
});

test('the fence mark survives a tar round trip; an empty mark means no fence', () => {
  const text = formatFenceMark({ at: Date.UTC(2026, 0, 2, 3, 4, 5), reason: 'fenced by a failover (kill)' });
  const tar = tarOneFile('pgha-fenced', text);
  assert.equal(tar.length % 512, 0);
  assert.equal(firstFileOfTar(tar), text);
  assert.deepEqual(parseFenceMark(firstFileOfTar(tar)!), { at: Date.UTC(2026, 0, 2, 3, 4, 5), reason: 'fenced by a failover (kill)' });
  assert.equal(parseFenceMark(firstFileOfTar(tarOneFile('pgha-fenced', ''))!), undefined);
});

test('ledger: acknowledged seqs are kept as ranges, whatever the order they arrive in', async () => {
  const { SeqRanges } = await import('../../src/core/ledger');
  const r = SeqRanges.of([1, 2, 3, 5, 4, 10, 8, 9, 12]);
  assert.deepEqual(r.ranges(), [[1, 5], [8, 10], [12, 12]]);
  assert.equal(r.count, 9);
  assert.ok(r.has(9) && !r.has(7) && !r.has(11));
  assert.deepEqual(r.minus(SeqRanges.fromRanges([[2, 3], [9, 20]])).ranges(), [[1, 1], [4, 5], [8, 8]]);
  assert.deepEqual(SeqRanges.fromRanges([[5, 9], [1, 3], [4, 4], [8, 12]]).ranges(), [[1, 12]]);
});

test('ledger: a long run keeps bounded memory and the RPO is exact from ranges', async () => {
  const { WriteLedger, measureRpo, SeqRanges, writeKey } = await import('../../src/core/ledger');
  const l = new WriteLedger('r', { recentWrites: 1000, recentFailures: 100 });
  for (let seq = 1; seq <= 200_000; seq++) {
    if (seq % 50_000 === 0) l.recordFailure({ seq, sentAt: seq, at: seq, kind: 'refused', message: 'x' });
    else l.recordAck({ seq, key: writeKey('r', seq), id: seq, rows: 1, sentAt: seq, ackAt: seq + 1, node: seq < 150_000 ? 'postgres-primary' : 'postgres-replica1' });
  }
  assert.equal(l.acked, 199_996);
  assert.equal(l.failed, 4);
  assert.ok(l.keptEntries < 1200, `kept ${l.keptEntries}`);
  assert.equal(l.writes.length, 1000);
  // The new primary has everything but the old primary's last 7 writes.
  const present = SeqRanges.fromRanges([[1, 149_992], [150_000, 200_000]]);
  const rpo = measureRpo(l, present, { onNode: 'postgres-primary' });
  assert.equal(rpo.acked, 149_997); // 1..149,999 without the failed 50,000 and 100,000
  assert.equal(rpo.lostWrites, 7);
  assert.equal(l.latency.percentile(50)! > 0.9 && l.latency.percentile(50)! < 1.1, true);
});
