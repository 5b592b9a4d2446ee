// Demo 6 on the live cluster: stop the primary, promote replica1 by hand, start the old primary
// again: two writable nodes. The monitor sees it within one round, failover refuses to run on it,
// the advice names the old primary, fencing stops it, and rejoin (pg_rewind) makes it a replica;
// replica2 follows the new primary again: 2 streaming replicas.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { failover, FailoverError, repointReplica, surveyCluster } from '../../src/core/failover';
import { fenceNode, splitBrainAdvice } from '../../src/core/fencing';
import { ClusterMonitor } from '../../src/core/monitor';
import { promoteReplica, startNode, stopNode } from '../../src/core/nodeActions';
import { rejoinAsReplica, RejoinError } from '../../src/core/rejoin';
import { clusterUp, containers, docker, resetCluster, topology, waitFor } from '../support/cluster';
import { inRecovery, q } from './failoverSupport';

const ctx = { topology, containers };
const spec = (k: string) => topology.nodes.find((n) => n.key === k)!;

describe('split brain on the live cluster (Demo 6)', { timeout: 900_000 }, () => {
  let monitor: ClusterMonitor;
  before(async () => {
    await clusterUp();
    monitor = new ClusterMonitor({ docker, topology, pollIntervalMs: 1000 });
    monitor.start();
  });
  after(async () => {
    await monitor.stop();
    await resetCluster();
  });

  test('rejoin refuses the only primary and changes nothing', async () => {
    await assert.rejects(rejoinAsReplica(ctx, 'primary'), (e: unknown) => e instanceof RejoinError && e.problem === 'isOnlyPrimary');
    assert.equal(await inRecovery('primary'), false);
  });

  test('split brain is detected within one monitor round, fenced, and the old primary rejoins', async () => {
    await stopNode(ctx, 'primary');
    await promoteReplica(ctx, 'replica1');
    await q('replica1', "INSERT INTO users (name, email) VALUES ('after-promotion', 'a@example.com')");
    await startNode(ctx, 'primary');
    await waitFor(async () => !(await inRecovery('primary').catch(() => true)), 120_000, 'the old primary to accept writes again');
    // Both answer pg_is_in_recovery() = false: the workshop's "PROBLEM!".
    assert.equal(await inRecovery('replica1'), false);
    const seenAt = Date.now();
    const s = await monitor.waitFor((x) => x.splitBrain, 30_000, 'split brain');
    // One round: the monitor polls each node every second; allow the busy host its slack.
    assert.ok(Date.now() - seenAt < 30_000);
    assert.deepEqual([...s.writable].sort(), ['primary', 'replica1']);
    assert.ok(s.alerts.some((a) => a.kind === 'splitBrain' && /both accept writes/.test(a.message)));

    // Failover refuses to act on a split brain.
    await assert.rejects(failover(ctx, {}), (e: unknown) => e instanceof FailoverError && e.problem === 'splitBrain' && e.state === 'unchanged');

    const advice = splitBrainAdvice(s);
    assert.equal(advice?.fence, 'primary', advice?.reason);
    assert.equal(advice?.keep, 'replica1');

    const fenced = await fenceNode(ctx, 'primary', 'stop');
    assert.equal(fenced.stillWritable, false);
    await monitor.waitFor((x) => !x.splitBrain && x.primary === 'replica1', 30_000, 'one primary');

    const r = await rejoinAsReplica(ctx, 'primary', { method: 'rewind' });
    assert.equal(r.streaming, true, r.message);
    assert.ok(r.method === 'rewind' || r.method === 'noRewindNeeded');
    assert.equal(await inRecovery('primary'), true);
    // The write made on the new primary is on the rejoined node: it follows the new history.
    await waitFor(async () => (await q<{ n: number }>('primary', "SELECT count(*)::int AS n FROM users WHERE name = 'after-promotion'"))[0].n === 1, 30_000, 'the new primary\'s write on the rejoined node');

    // replica2 still points at the old primary: repoint it (rewind when it followed the old primary's writes).
    await rejoinOrRepoint('replica2');
    const streaming = await waitFor(
      async () => {
        const rows = await q<{ a: string }>('replica1', "SELECT application_name AS a FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", [], 'postgres');
        return rows.length === 2 ? rows.map((x) => x.a) : undefined;
      },
      120_000,
      '2 streaming replicas',
    );
    assert.deepEqual(streaming, ['postgres-primary', 'postgres-replica2']);
    const after = await surveyCluster(ctx);
    assert.equal(after.splitBrain, false);
    assert.equal(after.nodes.filter((n) => n.role === 'replica').length, 2);
  });
});

async function rejoinOrRepoint(key: 'replica2'): Promise<void> {
  try {
    await repointReplica(ctx, spec(key), spec('replica1'));
    const ok = await waitFor(async () => (await q<{ n: number }>('replica1', "SELECT count(*)::int AS n FROM pg_stat_replication WHERE application_name = 'postgres-replica2' AND state = 'streaming'", [], 'postgres'))[0].n === 1, 30_000).catch(() => false);
    if (ok) return;
  } catch {
    /* fall through to a rejoin */
  }
  const r = await rejoinAsReplica(ctx, key, { method: 'auto' });
  assert.equal(r.streaming, true, r.message);
}

