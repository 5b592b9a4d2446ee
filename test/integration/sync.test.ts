// Exercise 1 on the live cluster: synchronous replication set with ALTER SYSTEM + reload, shown in
// pg_stat_replication.sync_state (what the tree renders); a kill -9 of the primary under load in
// remote_apply mode loses 0 acknowledged writes; in async mode the loss is measured (may be 0).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { failover, surveyCluster } from '../../src/core/failover';
import { LoadGenerator } from '../../src/core/load';
import { getSynchronousReplication, setSynchronousReplication, SyncConfigError } from '../../src/core/syncReplication';
import { clusterUp, containers, resetCluster, topology, waitFor } from '../support/cluster';

const ctx = { topology, containers };

async function killUnderLoad() {
  const load = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'max', clients: 4, durationSec: 300 } });
  const run = load.run();
  try {
    await waitFor(() => load.progress.acked >= 200, 120_000, '200 acknowledged writes');
    return await failover(ctx, { fencing: 'kill', ledger: load.ledger, loadRunning: () => load.progress.state === 'running', waitForLoadMs: 120_000 });
  } finally {
    load.cancel();
    await run;
  }
}

describe('synchronous replication on the live cluster (Exercise 1)', { timeout: 900_000 }, () => {
  before(async () => {
    await clusterUp();
  });
  after(async () => {
    await resetCluster();
  });

  test('bad input: unknown standby, the primary itself, too many required standbys', async () => {
    await assert.rejects(setSynchronousReplication(ctx, { method: 'FIRST', standbys: ['postgres-replica9'] }), SyncConfigError);
    await assert.rejects(setSynchronousReplication(ctx, { method: 'FIRST', standbys: ['postgres-primary'] }), /cannot be its own/);
    await assert.rejects(setSynchronousReplication(ctx, { method: 'ANY', num: 3, standbys: ['postgres-replica1', 'postgres-replica2'] }), /from 1 to 2/);
    assert.equal((await getSynchronousReplication(ctx)).synchronousStandbyNames, '', 'nothing changed');
  });

  test('ANY 1 shows quorum, FIRST 1 shows sync + potential, in sync_state', async () => {
    const any = await setSynchronousReplication(ctx, { method: 'ANY', num: 1, commit: 'on' });
    assert.equal(any.synchronousStandbyNames, 'ANY 1 ("postgres-replica1", "postgres-replica2")');
    assert.deepEqual(any.standbys.map((s) => s.syncState), ['quorum', 'quorum']);
    const first = await setSynchronousReplication(ctx, { method: 'FIRST', num: 1, standbys: ['postgres-replica1', 'postgres-replica2'], commit: 'remote_apply' });
    assert.equal(first.synchronousCommit, 'remote_apply');
    assert.deepEqual(first.standbys.map((s) => `${s.name}:${s.syncState}`), ['postgres-replica1:sync', 'postgres-replica2:potential']);
    assert.deepEqual([...first.appliedOn].sort(), topology.nodes.map((n) => n.container).sort(), 'applied on every node, so it survives a failover');
    // The status the tree renders carries the same sync_state.
    const s = await surveyCluster(ctx);
    assert.equal(s.nodes.find((n) => n.key === 'replica1')!.syncState, 'sync');
  });

  test('remote_apply: kill -9 of the primary under load, fail over: 0 acknowledged writes lost', async (t) => {
    const r = await killUnderLoad();
    assert.ok(r.rpo);
    t.diagnostic(`sync remote_apply: ${r.rpo.acked} acknowledged, ${r.rpo.lostWrites} lost; RTO ${r.rto?.ms} ms`);
    assert.ok(r.rpo.acked >= 200);
    assert.equal(r.rpo.lostWrites, 0);
    // The new primary still runs synchronously, with the remaining replica as its standby.
    const st = await getSynchronousReplication(ctx);
    assert.notEqual(st.synchronousStandbyNames, '');
    assert.ok(!st.synchronousStandbyNames.includes(r.newPrimary.service), st.synchronousStandbyNames);
    // The new primary acknowledges no commit until the standby it names streams from it: that
    // standby is repointed beside PgBouncer, not after the CHECKPOINT (which only a later pg_rewind needs).
    const names = r.steps.map((x) => x.name);
    const replicas = r.steps.find((x) => x.name === 'replicas');
    assert.ok(replicas?.ok, replicas?.message);
    assert.ok(names.indexOf('replicas') < names.indexOf('checkpoint'), `steps in order: ${names.join(', ')}`);
  });

  test('async: kill -9 under load, fail over: the loss is measured and reported', async (t) => {
    await setSynchronousReplication(ctx, { method: 'async', commit: 'on' });
    const r = await killUnderLoad();
    assert.ok(r.rpo);
    t.diagnostic(`async: ${r.rpo.acked} acknowledged, ${r.rpo.lostWrites} lost (window ${r.rpo.window?.ms ?? 0} ms); RTO ${r.rto?.ms} ms`);
    assert.ok(r.rpo.acked >= 200);
    assert.ok(r.rpo.lostWrites >= 0 && r.rpo.lostWrites <= r.rpo.acked);
    assert.equal(r.rpo.lost.length, r.rpo.lostWrites);
  });
});
