// The failover guard for synchronous replication on the live cluster (pg_auto_failover's): when the
// primary is lost together with its only synchronous standby, the survivor may miss acknowledged
// commits, so the failover refuses and changes nothing; bringing the synchronous standby back lets
// it fail over without losing any acknowledged write; accepting the data loss explicitly promotes
// the survivor, which then takes writes (its synchronous_standby_names no longer wait for the
// standby that is gone).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { failover, FailoverError } from '../../src/core/failover';
import { killNode, startNode } from '../../src/core/nodeActions';
import { setSynchronousReplication } from '../../src/core/syncReplication';
import type { SyncGuardRefusal } from '../../src/core/syncGuard';
import { clusterUp, containers, isInRecovery, pgClient, query, resetCluster, topology, waitFor } from '../support/cluster';

const ctx = { topology, containers, holder: 'syncGuard test', log: (m: string) => process.env.PGHA_TEST_VERBOSE && console.log(`# ${m}`) };

/** Synchronous to postgres-replica1 only; `n` commits acknowledged on the primary; both nodes killed. */
async function losePrimaryAndSyncStandby(t: { diagnostic: (m: string) => void }, n: number): Promise<number[]> {
  await setSynchronousReplication(ctx, { method: 'FIRST', num: 1, standbys: ['postgres-replica1'], commit: 'on' });
  const c = await pgClient(undefined, 'primary');
  const acked: number[] = [];
  try {
    await c.query('CREATE TABLE IF NOT EXISTS pgha_guard_writes (id int PRIMARY KEY)');
    for (let i = 1; i <= n; i++) {
      await c.query('INSERT INTO pgha_guard_writes VALUES ($1)', [i]);
      acked.push(i);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  t.diagnostic(`${acked.length} commits acknowledged with synchronous_standby_names = FIRST 1 (postgres-replica1)`);
  await killNode(ctx, 'replica1');
  await killNode(ctx, 'primary');
  return acked;
}

describe('failover guard: the primary lost with its synchronous standby', { timeout: 1_200_000 }, () => {
  after(async () => {
    await resetCluster();
  });

  test('refused by default (nothing changed); with the synchronous standby back it fails over and loses nothing', async (t) => {
    await clusterUp(t);
    const acked = await losePrimaryAndSyncStandby(t, 40);
    let refusal: FailoverError | undefined;
    await assert.rejects(
      failover(ctx, { fencing: 'kill' }),
      (e: unknown) => {
        refusal = e instanceof FailoverError ? e : undefined;
        return e instanceof FailoverError && e.problem === 'syncStandbyLost';
      },
    );
    t.diagnostic(refusal!.message);
    assert.equal(refusal!.state, 'unchanged');
    assert.match(refusal!.message, /postgres-replica1/, 'names the lost synchronous standby');
    assert.match(refusal!.message, /Bring postgres-replica1 back/, 'says what to do');
    assert.match(refusal!.message, /accept the data loss/, 'names the other way out');
    assert.equal(await isInRecovery('replica2'), true, 'nothing was promoted');

    await startNode(ctx, 'replica1');
    await waitFor(() => isInRecovery('replica1').catch(() => undefined), 120_000, 'postgres-replica1 answering as a standby', 500);
    const r = await failover(ctx, { fencing: 'kill' });
    t.diagnostic(`promoted ${r.newPrimary.container}: ${r.chosenBecause}; ${r.warnings.join(' ')}`);
    const present = await query<{ id: number }>(r.newPrimary.key, 'SELECT id FROM pgha_guard_writes ORDER BY id');
    const ids = new Set(present.map((x) => x.id));
    assert.deepEqual(acked.filter((i) => !ids.has(i)), [], 'no acknowledged commit lost');
  });

  test('accepting the data loss promotes the survivor, which takes writes', async (t) => {
    await resetCluster(t);
    await losePrimaryAndSyncStandby(t, 20);
    let asked: SyncGuardRefusal | undefined;
    const r = await failover(ctx, {
      fencing: 'kill',
      confirmDataLoss: async (x) => {
        asked = x;
        return true;
      },
    });
    assert.ok(asked, 'the caller was asked to accept the data loss');
    assert.deepEqual(asked.lost, ['postgres-replica1']);
    assert.deepEqual(asked.survivors, ['postgres-replica2']);
    assert.equal(r.newPrimary.key, 'replica2');
    assert.ok(r.warnings.some((w) => /Data loss accepted/.test(w)), r.warnings.join(' | '));
    // The survivor must not wait for the standby that is gone: a commit returns.
    const c = await pgClient(undefined, 'replica2');
    try {
      await c.query("SET statement_timeout = '60s'");
      await c.query('INSERT INTO pgha_guard_writes VALUES (1000)');
      const [s] = (await c.query<{ s: string }>("SELECT current_setting('synchronous_standby_names') AS s")).rows;
      assert.equal(s.s, '', 'asynchronous until a standby rejoins');
    } finally {
      await c.end().catch(() => undefined);
    }
  });
});
