// The workshop's demos (src/core/demos) against the real cluster, in the walkthrough's order:
// each reports success with its measured values. Then the bad input: demos run out of order.
import * as assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  basicReplication,
  cleanupCluster,
  DemoNotReady,
  lagMonitoring,
  lagUnderLoad,
  pgbouncerPooling,
  primaryFailover,
  readScaling,
  replicationNotBackup,
  splitBrain,
  verifyReplication,
  type DemoContext,
  type DemoResult,
} from '../../src/core/demos';
import { checkPrerequisites } from '../../src/core/prerequisites';
import { clusterDown, clusterUp, containers, docker, isInRecovery, query, streamingReplicas, topology, waitFor } from '../support/cluster';

const lines: string[] = [];
const ctx: DemoContext = { topology, containers, log: (m) => lines.push(m) };

function passed(r: DemoResult<unknown>, t: { diagnostic(m: string): void }): void {
  for (const c of r.checks) t.diagnostic(`${c.ok ? 'ok  ' : 'FAIL'} ${c.id}: ${c.detail}`);
  assert.ok(r.passed, `${r.demo} failed: ${r.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail}`).join('; ')}`);
}

describe('workshop demos on the live cluster, in walkthrough order', { timeout: 600_000 }, () => {
  before(async () => {
    await clusterUp();
  });

  test('Prerequisites: engine, Compose and ports (held by this cluster) pass', async (t) => {
    const r = await checkPrerequisites(topology, docker);
    for (const c of r.checks) t.diagnostic(`${c.id}: ${c.ok} ${c.detail}`);
    assert.ok(r.ok);
    assert.deepEqual(r.checks.map((c) => c.id), ['docker', 'compose', 'ports']);
  });

  test('Verify replication: the four expected outputs of test-replication.sh', async (t) => {
    const r = await verifyReplication(ctx);
    passed(r, t);
    assert.deepEqual(r.checks.map((c) => c.id), ['replicasConnected', 'replicasInRecovery', 'rowReplicated', 'replicaReadOnly']);
    assert.equal(r.measures.streaming.length, 2);
  });

  test('Demo 1: a row on the primary is visible on both replicas in < 1 s; a replica refuses the write', async (t) => {
    const r = await basicReplication(ctx);
    passed(r, t);
    assert.equal(Object.keys(r.measures.visibleAfterMs).length, 2);
    for (const ms of Object.values(r.measures.visibleAfterMs)) assert.ok(ms !== null && ms >= 0 && ms < 1000);
    assert.equal(r.measures.writeRefused.code, '25006');
    assert.ok(Object.values(r.measures.latestIds).every((ids) => ids.includes(r.measures.rowId)));
  });

  test('Demo 2: 20 rounds of reads answered by both replicas', async (t) => {
    const r = await readScaling(ctx);
    passed(r, t);
    assert.equal(r.measures.totalReads, 40);
  });

  test('Demo 3: lag sampled under a steady load: streaming, async, small', async (t) => {
    const r = await lagMonitoring(ctx, { durationSec: 4 });
    passed(r, t);
    assert.ok(r.measures.replicas.every((x) => x.samples > 0));
  });

  // Demo 9 needs the standard topology (postgres-replica2 is its delayed replica): before Demo 4.
  test('Demo 9: the DELETE reaches both replicas; the delayed replica, PITR and the dump each bring every earlier acknowledged row back', async (t) => {
    const r = await replicationNotBackup(ctx);
    passed(r, t);
    const m = r.measures;
    t.diagnostic(`deleted ${m.rowsDeleted}; replica1 applied after ${m.appliedOnReplicaMs} ms; ${m.acked} acknowledged, ${m.missingAtEnd} given up`);
    assert.deepEqual(r.checks.map((c) => c.id), ['mistakeReplicated', 'delayedReplicaBack', 'pitrBack', 'dumpBack', 'nothingLost']);
    assert.ok(m.rowsDeleted > 0 && m.acked > 0);
    for (const w of [m.delayed, m.pitr, m.logicalDump]) {
      assert.ok(w, 'each of the three ways ran');
      assert.equal(w.backBefore, w.ackedBefore);
    }
    // The demo leaves the cluster as it found it: both replicas streaming, no delay, the restored node gone.
    assert.equal(await isInRecovery('primary'), false);
    assert.equal(await isInRecovery('replica2'), true);
    assert.equal((await query('replica2', 'SHOW recovery_min_apply_delay'))[0]?.recovery_min_apply_delay, '0', 'the delay is removed');
    await waitFor(async () => (await streamingReplicas()).length === 2, 60_000, 'both replicas streaming again');
    const names = (await docker.listContainers({ all: true })).flatMap((c) => c.Names);
    assert.ok(!names.some((n) => m.pitr !== undefined && n.replace(/^\//, '') === m.pitr.node), `restored node ${m.pitr?.node} removed`);
  });

  test('Demo 6 before Demo 4: not ready, names the missing failover, changes nothing', async () => {
    await assert.rejects(splitBrain(ctx), (e: unknown) => e instanceof DemoNotReady && e.missing === 'failover');
    assert.equal(await isInRecovery('primary'), false);
  });

  test('Demo 4: primary stopped, replica1 promoted, RTO and RPO measured', async (t) => {
    const r = await primaryFailover(ctx);
    passed(r, t);
    t.diagnostic(`RTO ${r.measures.rtoMs} ms, RPO ${r.measures.rpoLostWrites} lost of ${r.measures.rpoAcked}`);
    assert.equal(r.measures.newPrimary, 'postgres-replica1');
    assert.ok(r.measures.rtoMs !== null && r.measures.rtoMs > 0);
    assert.match(r.measures.report, /RTO/);
  });

  // Run right after Demo 4's failover: the bulk load follows the new primary.
  test('Demo 5: lag grows under the bulk load and catches up', async (t) => {
    const r = await lagUnderLoad(ctx, { statements: 200 });
    passed(r, t);
    assert.ok(r.measures.replicas.every((x) => x.peakBehindBytes > 0));
  });

  test('Demo 6: split brain reproduced, detected, fenced, old primary rejoined', async (t) => {
    const r = await splitBrain(ctx);
    passed(r, t);
    assert.deepEqual(Object.values(r.measures.inRecovery), [false, false]);
    assert.equal(r.measures.fenced, 'postgres-primary');
    assert.equal(await isInRecovery('primary'), true);
  });

  test('Demo 7: reads and writes through PgBouncer reach the new primary; connections reused', async (t) => {
    const r = await pgbouncerPooling(ctx);
    passed(r, t);
    assert.equal(r.measures.writeLandedOn, 'postgres-replica1');
    assert.ok(r.measures.backendsViaPgBouncer < r.measures.backendsDirect);
  });

  test('Cleanup: compose down -v leaves no container; demos then say the cluster is missing', async (t) => {
    const r = await cleanupCluster({ ...ctx, docker }, { volumes: true });
    passed(r, t);
    await assert.rejects(primaryFailover(ctx), (e: unknown) => e instanceof DemoNotReady && e.missing === 'cluster');
    await assert.rejects(basicReplication(ctx), (e: unknown) => e instanceof DemoNotReady && e.missing === 'cluster');
  });

  after(async () => {
    if (process.env.PGHA_TEST_VERBOSE) console.log(lines.join('\n'));
    if (!process.env.PGHA_KEEP_CLUSTER) await clusterDown(undefined, { volumes: true }).catch(() => undefined);
  });
});
