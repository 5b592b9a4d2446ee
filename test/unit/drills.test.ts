// Fault drills, the pure parts: every drill file of cluster/drills parses, bad drill files get an
// actionable message, the history checker classifies writes as Jepsen does, histories survive a
// round trip through JSON lines, and expectations are judged from the checker's report.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkHistory } from '../../src/core/history/checker';
import { HistoryFormatError, loadHistory, parseJsonLines, saveHistory, toJsonLines, type HistoryRecord, type WriteRecord } from '../../src/core/history/history';
import { outcomeOfError } from '../../src/core/history/writer';
import { evaluateExpectations, type DrillFacts } from '../../src/core/drills/runner';
import { drillForProfile, drillsDir, DrillSpecError, loadDrills, parseDrill, parseDuration, skipReason } from '../../src/core/drills/spec';
import { repoRoot } from '../../src/core/topology';
import { summaryTable } from '../../src/core/drills/cli';

test('the drills folder holds at least 15 drills, among them those a PostgreSQL HA engineer expects', async () => {
  const drills = await loadDrills(drillsDir(repoRoot()));
  assert.ok(drills.length >= 15, `${drills.length} drills`);
  const has = (pred: (d: (typeof drills)[number]) => boolean, what: string) => assert.ok(drills.some(pred), `a drill for ${what}`);
  const faults = (d: (typeof drills)[number]) => d.steps.flatMap((s) => ('fault' in s ? [`${s.fault}:${s.node}`] : []));
  const actions = (d: (typeof drills)[number]) => d.steps.flatMap((s) => ('action' in s ? [s.action] : []));
  has((d) => faults(d).includes('kill:primary') && d.setup.sync === '' && actions(d).includes('failover'), 'kill -9 of the primary, async');
  has((d) => faults(d).includes('kill:primary') && d.setup.sync !== '' && actions(d).includes('failover'), 'kill -9 of the primary, sync');
  has((d) => actions(d).includes('auto-failover'), 'automatic failover');
  has((d) => faults(d).includes('pause:primary'), 'docker pause of the primary');
  has((d) => faults(d).includes('disconnect:primary'), 'network partition of the primary');
  has((d) => faults(d).includes('stop:primary'), 'clean stop');
  has((d) => actions(d).includes('switchover') && d.expect.some((e) => e.kind === 'failed-writes'), 'switchover with zero failed writes');
  has((d) => faults(d).includes('kill:sync-standby') && actions(d).includes('set-sync'), 'loss of the sync standby');
  has((d) => faults(d).includes('kill:sync-standby') && faults(d).includes('kill:primary'), 'loss of primary and sync standby');
  has((d) => d.expect.some((e) => e.kind === 'action-refused' && e.problem === 'candidateBehind'), 'a replica too far behind');
  has((d) => d.steps.some((s) => 'action' in s && s.during?.node === 'new-primary'), 'kill of the new primary during the repoint');
  has((d) => d.expect.some((e) => e.kind === 'timeline' && e.value === 'unchanged') && faults(d).includes('start:primary'), 'crash restart without failover');
  has((d) => actions(d).includes('promote') && actions(d).includes('rejoin'), 'rejoin with pg_rewind after a split brain');
  has((d) => d.expect.some((e) => e.kind === 'no-read-only-after-recovery'), 'no write routed to a demoted node');
  assert.ok(drills.some((d) => d.quick), 'some drills are in the quick subset');
  for (const d of drills) assert.ok(d.learn.length > 40, `${d.name} explains what it shows`);
});

test('profiles: a drill runs on the workshop profile only unless it says so; per-profile steps and bounds; skipped drills say why', () => {
  const plain = parseDrill('title: t\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0', 'plain');
  assert.deepEqual(plain.profiles, ['workshop']);
  assert.equal(skipReason(plain, 'workshop'), undefined);
  assert.match(skipReason(plain, 'patroni')!, /workshop profile only \(profiles: \[workshop\]\)/);

  const both = parseDrill(
    [
      'title: t',
      'profiles: [workshop, patroni]',
      'steps:',
      '  - fault: kill',
      '    node: primary',
      '  - action: failover',
      '  - action: set-sync',
      '    sync: ""',
      '    profiles: [workshop]',
      '  - action: rejoin',
      '    profiles: [patroni]',
      'expect:',
      '  - writes-resume: { workshop: 60s, patroni: 150s }',
      '  - commits-blocked: { workshop: true }',
      '  - lost: 0',
    ].join('\n'),
    'both',
  );
  assert.deepEqual(both.profiles, ['workshop', 'patroni']);
  const w = drillForProfile(both, 'workshop');
  const p = drillForProfile(both, 'patroni');
  const acts = (d: typeof w) => d.steps.flatMap((s) => ('action' in s ? [s.action] : []));
  assert.deepEqual(acts(w), ['failover', 'set-sync']);
  assert.deepEqual(acts(p), ['failover', 'rejoin']);
  assert.deepEqual(w.expect, [{ kind: 'writes-resume', withinMs: 60_000 }, { kind: 'commits-blocked' }, { kind: 'lost', max: 0 }]);
  assert.deepEqual(p.expect, [{ kind: 'writes-resume', withinMs: 150_000 }, { kind: 'lost', max: 0 }]);
  assert.deepEqual(both.expect, w.expect, 'the parsed spec carries the workshop expectations');

  const known = parseDrill('title: t\nprofiles: [workshop, patroni]\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0\nknown:\n  lost: { patroni: a Patroni bug }\n  stale-acks: everywhere', 'k');
  assert.deepEqual(drillForProfile(known, 'patroni').known, { lost: 'a Patroni bug', 'stale-acks': 'everywhere' });
  assert.deepEqual(drillForProfile(known, 'workshop').known, { 'stale-acks': 'everywhere' });
  assert.throws(() => parseDrill('title: t\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0\nknown:\n  lost: { k8s: x }', 'x'), /x known\.lost \(a reason per profile\): "k8s"/);

  // Title and text per profile: what the learner reads names that profile's machinery.
  const titled = parseDrill('title:\n  workshop: one-click failover\n  patroni: Patroni elects\nlearn:\n  workshop: through PgBouncer\nprofiles: [workshop, patroni]\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0', 'tt');
  assert.equal(titled.title, 'one-click failover');
  assert.equal(drillForProfile(titled, 'patroni').title, 'Patroni elects');
  assert.equal(drillForProfile(titled, 'patroni').learn, 'through PgBouncer', 'a profile left out reads the workshop text');
  assert.throws(() => parseDrill('title:\n  patroni: only\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0', 'x'), /x title: name the workshop's text too/);
  assert.throws(() => parseDrill('title:\n  k8s: t\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0', 'x'), /x title: "k8s" is not one of workshop, patroni/);

  const skipped = parseDrill('title: t\nprofiles: [workshop]\nnot-on:\n  patroni: PgBouncer-specific\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0', 's');
  assert.equal(skipReason(skipped, 'patroni'), 'PgBouncer-specific');

  // Refused with what to do.
  const drill = (head: string, steps = '  - wait: 1s', expect = '  - lost: 0') => `title: t\n${head}\nsteps:\n${steps}\nexpect:\n${expect}`;
  assert.throws(() => parseDrill(drill('profiles: [workshop, k8s]'), 'x'), /x profiles: "k8s" is not one of workshop, patroni/);
  assert.throws(() => parseDrill(drill('profiles: []'), 'x'), /must name at least one profile/);
  assert.throws(() => parseDrill(drill('profiles: [patroni]\nnot-on:\n  patroni: why'), 'x'), /patroni is both in profiles and in not-on/);
  assert.throws(() => parseDrill(drill('profiles: [patroni]', '  - action: promote'), 'x'), (e: unknown) => e instanceof DrillSpecError && /x steps\[1\]: action promote does not exist on the Patroni profile.*profiles: \[workshop\]/.test(e.message));
  assert.throws(() => parseDrill(drill('profiles: [patroni]', '  - action: failover\n    acceptDataLoss: true'), 'x'), /acceptDataLoss belong to our own failover/);
  assert.doesNotThrow(() => parseDrill(drill('profiles: [workshop, patroni]', '  - action: promote\n    profiles: [workshop]'), 'x'));
  assert.throws(() => parseDrill(drill('profiles: [patroni]', '  - wait: 1s', '  - lost: { workshop: 0 }'), 'x'), /no expectation applies on the patroni profile/);
  assert.throws(() => parseDrill(drill('', '  - wait: 1s', '  - lost: { cloud: 0 }'), 'x'), /x expect\[1\] lost \(a value per profile\): "cloud" is not one of workshop, patroni/);
  assert.throws(() => parseDrill(drill('', '  - wait: 1s\n    profiles: [k8s]'), 'x'), /x steps\[1\] profiles: "k8s"/);
});

test('the drills folder: the Patroni subset runs there, every other drill says why it does not', async () => {
  const drills = await loadDrills(drillsDir(repoRoot()));
  const onPatroni = drills.filter((d) => !skipReason(d, 'patroni')).map((d) => d.name).sort();
  assert.deepEqual(onPatroni, ['kill-primary-async', 'kill-primary-sync', 'kill-replica-no-impact', 'partition-primary-sync', 'pause-primary-sync', 'stop-primary-async', 'switchover-no-write-to-demoted', 'sync-standby-lost']);
  for (const d of drills.filter((x) => skipReason(x, 'patroni'))) assert.ok(d.notOn.patroni && d.notOn.patroni.length > 20, `${d.name} states why it is not run on Patroni`);
  for (const d of drills) assert.equal(skipReason(d, 'workshop'), undefined, `${d.name} still runs on the workshop profile`);
  const table = summaryTable([], [{ name: 'pgbouncer-restart', reason: drills.find((d) => d.name === 'pgbouncer-restart')!.notOn.patroni! }]);
  assert.match(table, /\| pgbouncer-restart \| 0 .*\| skipped: PgBouncer-specific/);
});

test('bad drill files are refused with the place and what to write', () => {
  assert.throws(() => parseDrill('title: [unclosed', 'x'), (e: unknown) => e instanceof DrillSpecError && /not valid YAML/.test(e.message));
  assert.throws(() => parseDrill('steps: []', 'x'), /needs a title/);
  assert.throws(() => parseDrill('title: t\nsteps:\n  - fault: explode\nexpect:\n  - lost: 0', 'x'), (e: unknown) => e instanceof DrillSpecError && /x steps\[1\] fault: "explode" is not one of kill, stop/.test(e.message));
  assert.throws(() => parseDrill('title: t\nsteps:\n  - wait: soon\nexpect:\n  - lost: 0', 'x'), /"soon" is not a duration: write e.g. 3s/);
  assert.throws(() => parseDrill('title: t\nsteps:\n  - wait: 1s\nexpect:\n  - lost: -1', 'x'), /must be a whole number/);
  assert.throws(() => parseDrill('title: t\nsteps:\n  - wait: 1s\nexpect:\n  - fast: yes', 'x'), /"fast" is not one of writes-resume/);
  assert.throws(() => parseDrill('title: t\nsteps:\n  - wait: 1s', 'x'), /needs expectations/);
  assert.equal(parseDuration('500ms', 'w'), 500);
  assert.equal(parseDuration('1.5s', 'w'), 1500);
  assert.equal(parseDuration('1m', 'w'), 60_000);
  assert.equal(parseDuration(2, 'w'), 2000);
});

const header: HistoryRecord = { type: 'header', version: 1, drill: 'd', title: 'D', runId: 'r1', startedAt: 0, via: 'pgbouncer', sync: 'off' };
const w = (seq: number, outcome: WriteRecord['outcome'], doneAt: number, timeline?: number, extra: Partial<WriteRecord> = {}): WriteRecord => ({ type: 'write', seq, client: 1, sentAt: doneAt - 5, doneAt, outcome, timeline, node: outcome === 'ok' ? 'n' : undefined, ...extra });

test('checker: ok, lost, unexpected, recovered, vanished and duplicated, per timeline', () => {
  const records: HistoryRecord[] = [
    header,
    w(1, 'ok', 100, 1),
    w(2, 'ok', 200, 1), // lost
    w(3, 'failed', 300), // present: unexpected
    w(4, 'indeterminate', 400), // present: recovered
    w(5, 'indeterminate', 500), // absent: vanished
    w(6, 'ok', 2600, 2), // present twice: duplicated
    w(7, 'failed', 2700, undefined, { sqlstate: '25006' }),
    { type: 'event', at: 250, kind: 'fault', message: 'kill' },
    { type: 'event', at: 240, kind: 'lag', message: 'lag', lagBytes: { 'postgres-replica1': 1234 } },
    { type: 'rows', node: 'old', at: 3000, role: 'unreachable', timeline: null, rows: [] },
    { type: 'rows', node: 'new', at: 3000, role: 'primary', timeline: 2, rows: [[1, 1], [3, 1], [4, 1], [6, 2], [6, 2], [99, 2]] },
  ];
  const r = checkHistory(records);
  assert.equal(r.judgedOn, 'new');
  assert.deepEqual(
    { ok: r.totals.ok, lost: r.totals.lost, unexpected: r.totals.unexpected, recovered: r.totals.recovered, vanished: r.totals.vanished, duplicated: r.totals.duplicated, failed: r.totals.failed },
    { ok: 3, lost: 1, unexpected: 2, recovered: 1, vanished: 1, duplicated: 1, failed: 2 },
  );
  assert.deepEqual(r.lost.map((x) => x.seq), [2]);
  assert.deepEqual([...r.unexpectedSeqs].sort((a, b) => a - b), [3, 99]);
  assert.equal(r.byTimeline['1'].lost, 1);
  assert.equal(r.byTimeline['2'].duplicated, 1);
  assert.equal(r.valid, false);
  assert.match(r.verdict, /INVALID: 1 acknowledged writes lost, 2 unexpected, 1 duplicated/);
  // RTO: from the last acknowledgement before the fault (200) to the first after it (2600).
  assert.deepEqual(r.rto && { ms: r.rto.ms, from: r.rto.fromTimeline, to: r.rto.toTimeline }, { ms: 2400, from: 1, to: 2 });
  assert.deepEqual(r.rpo.lagBytesAtFault, { 'postgres-replica1': 1234 });
  assert.equal(r.readOnlyErrorsAfterRecovery, 0, '25006 within RTO + 1 s is allowed');
});

test('checker: a valid run, a write acknowledged on an old timeline after a new one, and no primary at all', () => {
  const base: HistoryRecord[] = [header, w(1, 'ok', 100, 1), w(2, 'ok', 200, 2), w(3, 'ok', 300, 1), w(4, 'failed', 5000, undefined, { sqlstate: '25006' }), { type: 'event', at: 150, kind: 'fault', message: 'f' }];
  const r = checkHistory([...base, { type: 'rows', node: 'p', at: 1, role: 'primary', timeline: 2, rows: [[1, 1], [2, 2], [3, 1]] }]);
  assert.equal(r.valid, true, r.verdict);
  assert.deepEqual(r.staleAcks.map((x) => x.seq), [3]);
  assert.deepEqual(r.timelines, [1, 2]);
  assert.equal(r.readOnlyErrorsAfterRecovery, 1);
  const none = checkHistory([...base, { type: 'rows', node: 'p', at: 1, role: 'unreachable', timeline: null, rows: [] }]);
  assert.equal(none.valid, false);
  assert.match(none.verdict, /cannot judge/);
});

test('histories round-trip through JSON lines and bad lines name their line', async () => {
  const records: HistoryRecord[] = [header, w(1, 'ok', 100, 1), { type: 'rows', node: 'p', at: 1, role: 'primary', timeline: 1, rows: [[1, 1]] }];
  assert.deepEqual(parseJsonLines(toJsonLines(records)), records);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgha-hist-'));
  const file = path.join(dir, 'h.jsonl');
  await saveHistory(file, records);
  assert.equal(checkHistory(await loadHistory(file)).valid, true);
  assert.throws(() => parseJsonLines('{"type":"header"}\nnot json', 'f.jsonl'), (e: unknown) => e instanceof HistoryFormatError && /f\.jsonl:2 is not JSON/.test(e.message));
  assert.throws(() => parseJsonLines('{"type":"write","seq":1,"outcome":"maybe"}', 'f'), /outcome ok, failed or indeterminate/);
  assert.throws(() => parseJsonLines('{"type":"write","seq":1,"outcome":"ok"}', 'f'), /no header record/);
  await assert.rejects(loadHistory(path.join(dir, 'missing.jsonl')), /Cannot read/);
});

test('write outcomes: refused is failed, a lost acknowledgement is indeterminate', () => {
  const pg = (code: string, message = 'x') => Object.assign(new Error(message), { code });
  assert.equal(outcomeOfError(pg('25006', 'cannot execute INSERT in a read-only transaction')), 'failed');
  assert.equal(outcomeOfError(pg('55000')), 'failed');
  assert.equal(outcomeOfError(pg('57P01', 'terminating connection due to administrator command')), 'indeterminate');
  assert.equal(outcomeOfError(pg('08P01', 'server conn crashed?')), 'indeterminate');
  assert.equal(outcomeOfError(pg('08P01', 'pgbouncer cannot connect to server')), 'failed');
  assert.equal(outcomeOfError(new Error('Connection terminated unexpectedly')), 'indeterminate');
  assert.equal(outcomeOfError(new Error('Query read timeout')), 'indeterminate');
});

test('expectations are judged from the report and the facts, with the pending reason of a known failure', () => {
  const spec = parseDrill(
    'title: t\nsteps:\n  - wait: 1s\nexpect:\n  - lost: 0\n  - writes-resume: 1s\n  - commits-blocked: true\n  - writes-resume-after-action: 2s\n  - action-refused: candidateBehind\n  - one-primary-at-end: true\nknown:\n  one-primary-at-end: pending fencing',
    'd',
  );
  const records: HistoryRecord[] = [header, w(1, 'ok', 100, 1), w(2, 'ok', 5000, 1), { type: 'event', at: 150, kind: 'fault', message: 'f' }, { type: 'rows', node: 'p', at: 1, role: 'primary', timeline: 1, rows: [[1, 1], [2, 1]] }];
  const facts: DrillFacts = { actions: [{ kind: 'failover', at: 3000, doneAt: 3100, ok: false, problem: 'candidateBehind', message: 'behind' }], primariesAtEnd: 2, faultAt: 150, firstActionAfterFaultAt: 4000 };
  const res = evaluateExpectations(spec, checkHistory(records), facts, [100, 5000]);
  assert.deepEqual(res.map((r) => r.ok), [true, false, true, true, true, false]);
  assert.match(res[1].detail, /longest gap 4900 ms/);
  assert.equal(res[5].known, 'pending fencing');
  assert.equal(res[1].known, undefined);
});

test('docker pause is tried again when the freezer could not freeze, and only then', async () => {
  const { pauseContainer } = await import('../../src/core/drills/faults');
  let calls = 0;
  const flaky = (failures: number, message: string) => ({
    getContainer: () => ({
      pause: async () => {
        calls++;
        if (calls <= failures) throw new Error(message);
      },
    }),
  });
  await pauseContainer(flaky(2, '(HTTP code 500) server error - Cannot pause container x: OCI runtime pause failed: unable to freeze: unknown'), 'x');
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(pauseContainer(flaky(1, 'No such container: x'), 'x'), /No such container/);
  assert.equal(calls, 1, 'another error is not retried');
  calls = 0;
  await assert.rejects(pauseContainer(flaky(9, 'unable to freeze'), 'x', 3), /unable to freeze/);
  assert.equal(calls, 3, 'at most the given tries');
});
