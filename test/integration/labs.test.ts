// The workshop's exercises 2, 3 and 4 on the real cluster, as a learner runs them. Each test starts
// from the standard topology (fixture) and leaves it standard again: by the lab's own undo, or by
// a reset when the lab cannot be undone (a failover) or when the test failed half-way.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AutoFailoverWatcher, DEFAULT_AUTO_FAILOVER, type AutoFailoverReport } from '../../src/core/autoFailover';
import { checkCascade, setupCascade, undoCascade } from '../../src/core/labs/cascade';
import { LabError, standardTopologyProblems, surveyCluster, type LabContext } from '../../src/core/labs/common';
import { checkDelayed, copyRowsToPrimary, pauseReplay, readRowsFromDelayed, resumeReplay, setupDelayed, undoDelayed } from '../../src/core/labs/delayed';
import { LoadGenerator } from '../../src/core/load';
import { killNode } from '../../src/core/nodeActions';
import { clusterUp, containerOf, containers, query, resetCluster, topology, waitFor } from '../support/cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dirty = false;

/** Each test starts standard: a test that failed half-way leaves the next one a fresh cluster. */
async function standardStart(): Promise<void> {
  if (dirty) await resetCluster();
  else await clusterUp();
  dirty = false;
}

function ctxFor(t: { diagnostic(m: string): void }): LabContext {
  return { topology, containers, log: (m) => t.diagnostic(m) };
}

async function has(node: 'primary' | 'replica1' | 'replica2', email: string): Promise<boolean> {
  const rows = await query<{ n: number }>(node, 'SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
  return rows[0].n > 0;
}

async function insert(email: string): Promise<number> {
  const rows = await query<{ id: number }>('primary', 'INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', ['lab', email]);
  return rows[0].id;
}

function rejectsWith(problem: LabError['problem']) {
  return (e: unknown) => {
    assert.ok(e instanceof LabError, String(e));
    assert.equal(e.problem, problem, e.message);
    return true;
  };
}

before(async () => {
  await clusterUp();
});

after(async () => {
  if (dirty) await resetCluster();
});

test('Cancel: a lab cancelled before its first change stops at that safe point, says so and changes nothing', { timeout: 240_000 }, async (t) => {
  await standardStart();
  const abort = new AbortController();
  abort.abort();
  const ctx: LabContext = { ...ctxFor(t), signal: abort.signal };
  await assert.rejects(setupCascade(ctx), (e: unknown) => rejectsWith('cancelled')(e) && /Nothing was changed/.test((e as Error).message));
  await assert.rejects(setupDelayed(ctx, '5s'), rejectsWith('cancelled'));
  assert.deepEqual(standardTopologyProblems(await surveyCluster(ctx)), [], 'still the standard topology: replica2 streams from the primary, no apply delay');
});

test('Exercise 2: replica2 streams from replica1; a write reaches replica2 through replica1; undo restores the standard topology', { timeout: 240_000 }, async (t) => {
  await standardStart();
  const ctx = ctxFor(t);
  dirty = true;
  const r = await setupCascade(ctx);
  t.diagnostic(`${r.message} (${r.tookMs} ms)`);
  const s = await waitFor(async () => {
    const st = await surveyCluster(ctx);
    return checkCascade(st).ok ? st : undefined;
  }, 20_000, 'the chain primary → replica1 → replica2');
  const chk = checkCascade(s);
  t.diagnostic(chk.items.map((i) => `${i.label}: ${i.detail}`).join(' | '));
  assert.equal(s.nodes.find((n) => n.key === 'replica2')!.role, 'cascadingReplica');
  assert.equal(s.nodes.find((n) => n.key === 'replica2')!.upstream, 'replica1');
  assert.ok(!s.nodes.find((n) => n.key === 'primary')!.slots.some((x) => x.name === 'postgres_replica2'), 'the unused slot on the primary is dropped');
  assert.ok(s.nodes.find((n) => n.key === 'replica1')!.slots.some((x) => x.name === 'postgres_replica2' && x.active), 'replica2 streams through its slot on replica1');

  // Setting it up twice is refused: the topology is no longer the standard one.
  await assert.rejects(setupCascade(ctx), rejectsWith('notStandard'));

  const a = `cascade-a-${Date.now()}@lab`;
  await insert(a);
  await waitFor(() => has('replica2', a), 10_000, 'the write on replica2');

  // Proof that it goes through replica1: with replica1 stopped, a new write does not arrive.
  await containers.stop(containerOf('replica1'), 10);
  const b = `cascade-b-${Date.now()}@lab`;
  await insert(b);
  await sleep(2500);
  assert.equal(await has('replica2', b), false, 'with replica1 down, replica2 receives nothing');
  await containers.start(containerOf('replica1'));
  const t0 = Date.now();
  await waitFor(() => has('replica2', b), 60_000, 'the write on replica2 once replica1 is back');
  t.diagnostic(`write reached replica2 ${Date.now() - t0} ms after replica1 started again`);

  const u = await undoCascade(ctx);
  t.diagnostic(u.message);
  await waitFor(async () => standardTopologyProblems(await surveyCluster(ctx)).length === 0, 30_000, 'the standard topology');
  await assert.rejects(undoCascade(ctx), rejectsWith('alreadyUndone'));
  const c = `cascade-c-${Date.now()}@lab`;
  await insert(c);
  await waitFor(() => has('replica2', c), 10_000, 'a write on replica2 after undo');
  dirty = false;
});

test('Exercise 3: a delayed replica (3 s) gives back a row deleted by mistake on the primary', { timeout: 180_000 }, async (t) => {
  await standardStart();
  const ctx = ctxFor(t);
  // Bad delays are refused before anything changes.
  await assert.rejects(setupDelayed(ctx, '-5s'), rejectsWith('badInput'));
  await assert.rejects(setupDelayed(ctx, 'soon'), rejectsWith('badInput'));
  assert.deepEqual(standardTopologyProblems(await surveyCluster(ctx)), []);

  dirty = true;
  await setupDelayed(ctx, '3s');
  const s = await surveyCluster(ctx);
  assert.ok(checkDelayed(s).ok, checkDelayed(s).summary);
  assert.equal(s.nodes.find((n) => n.key === 'replica2')!.applyDelayMs, 3000);

  const email = `delayed-${Date.now()}@lab`;
  const id = await insert(email);
  await waitFor(() => has('replica1', email), 5000, 'the row on replica1');
  assert.equal(await has('replica2', email), false, 'the delayed replica does not show the row yet');
  await waitFor(() => has('replica2', email), 15_000, 'the row on the delayed replica after its delay');

  // The mistake, then the rescue: pause replay before the delay runs out.
  await query('primary', 'DELETE FROM users WHERE id = $1', [id]);
  const deletedAt = Date.now();
  await pauseReplay(ctx);
  t.diagnostic(`replay paused ${Date.now() - deletedAt} ms after the DELETE`);
  await sleep(4000);
  const rows = await readRowsFromDelayed(ctx, 'users', `id = ${id}`);
  assert.equal(rows.length, 1, 'the delayed, paused replica still has the row');
  assert.equal(await has('primary', email), false);
  assert.equal(await copyRowsToPrimary(ctx, 'users', rows), 1);
  assert.equal(await copyRowsToPrimary(ctx, 'users', rows), 0, 'copying again changes nothing');
  const back = await query<{ id: number; email: string }>('primary', 'SELECT id, email FROM users WHERE id = $1', [id]);
  assert.deepEqual(back, [{ id, email }]);
  await resumeReplay(ctx);

  await undoDelayed(ctx);
  await assert.rejects(undoDelayed(ctx), rejectsWith('alreadyUndone'));
  await waitFor(async () => standardTopologyProblems(await surveyCluster(ctx)).length === 0, 20_000, 'the standard topology');
  await waitFor(() => has('replica2', email), 10_000, 'the restored row on replica2');
  dirty = false;
});

// The lab's goal is a new primary within 10 s (measured and printed here, and by bench/ and the drills);
// the assertion allows a shared CI machine 30 s, the workshop's own upper figure for a manual failover.
const WATCHER_BOUND_MS = 30_000;

test('Exercise 4: the watcher detects a killed primary under load; a new primary accepts writes on its own', { timeout: 300_000 }, async (t) => {
  await standardStart();
  const ctx = ctxFor(t);
  dirty = true;
  const load = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec: 20, durationSec: 25 }, writeTimeoutMs: 2000 });
  let loadRunning = true;
  const loadDone = load.run().finally(() => (loadRunning = false));
  const watcher = new AutoFailoverWatcher(ctx, DEFAULT_AUTO_FAILOVER, { ledger: () => load.ledger, loadRunning: () => loadRunning });
  try {
    const report = new Promise<AutoFailoverReport>((resolve, reject) => {
      watcher.onDidFailover(resolve);
      watcher.onDidFail((f) => reject(new Error(f.message)));
    });
    watcher.start();
    await waitFor(() => watcher.state.kind === 'watching', 30_000, 'the watcher watching the primary');
    await sleep(2000);
    const killedAt = Date.now();
    await killNode(ctx, 'primary');
    const r = await Promise.race([report, sleep(60_000).then(() => Promise.reject(new Error('no failover within 60 s')))]);
    const newPrimary = r.result.newPrimary;
    const writableMs = newPrimary.promotedAt - killedAt;
    t.diagnostic(
      `detection ${r.detectionMs} ms, killed → ${newPrimary.container} writable ${writableMs} ms, RTO ${r.result.rto?.ms ?? '?'} ms, RPO ${r.result.rpo?.lostWrites ?? '?'} writes; chosen: ${r.result.chosenBecause}`,
    );
    assert.notEqual(newPrimary.key, 'primary');
    assert.ok(writableMs < WATCHER_BOUND_MS, `new primary writable ${writableMs} ms after the kill`);
    // It really accepts writes (not just "promoted").
    const rows = await query<{ id: number }>(newPrimary.key, "INSERT INTO users (name, email) VALUES ('lab', 'after-failover@lab') RETURNING id");
    assert.equal(rows.length, 1);
    // The load saw it too: its first write on the new primary came soon after the kill.
    const firstOnNew = load.ledger.writes.filter((w) => w.ackAt > killedAt).sort((a, b) => a.ackAt - b.ackAt)[0];
    assert.ok(firstOnNew, 'the load wrote on the new primary');
    assert.ok(firstOnNew.ackAt - killedAt < WATCHER_BOUND_MS, `first acknowledged write ${firstOnNew.ackAt - killedAt} ms after the kill`);
  } finally {
    watcher.dispose();
    load.cancel();
    await loadDone.catch(() => undefined);
  }
});
