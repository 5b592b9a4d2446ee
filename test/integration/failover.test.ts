// Demo 4 with measurements, on the live cluster: refusals that change nothing, a failover while a
// write load runs (kill -9 of the primary, best replica promoted, the other replica and PgBouncer
// repointed, RTO and RPO measured from the ledger), the old primary rejoined with pg_rewind, then
// a switchover back to postgres-primary without loss. The cluster ends in its standard shape.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { failover, FailoverError, surveyCluster } from '../../src/core/failover';
import { renderFailoverReport } from '../../src/core/failoverReport';
import { LoadGenerator, presentKeys } from '../../src/core/load';
import { rejoinAsReplica } from '../../src/core/rejoin';
import { switchover } from '../../src/core/switchover';
import { pgbouncerTarget } from '../../src/core/pgbouncer';
import { clusterUp, containers, nodePort, resetCluster, topology, waitFor } from '../support/cluster';
import { inRecovery, q } from './failoverSupport';

const ctx = { topology, containers, log: (m: string) => process.env.PGHA_TEST_VERBOSE && console.log(`# ${m}`) };
const streamingFrom = async (port: number) =>
  (await q<{ a: string }>(port, "SELECT application_name AS a FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1", [], 'postgres')).map((r) => r.a);

describe('failover on the live cluster', { timeout: 900_000 }, () => {
  let broken = false;
  before(async () => {
    await clusterUp();
  });
  after(async () => {
    // A failed step may leave any shape: start again from scratch. Success leaves the standard shape.
    if (broken) await resetCluster();
  });

  test('bad input: an unknown or non-replica candidate is refused and nothing changes', async () => {
    await assert.rejects(failover(ctx, { candidate: 'postgres-replica9' }), (e: unknown) => e instanceof FailoverError && e.problem === 'badCandidate' && e.state === 'unchanged');
    await assert.rejects(failover(ctx, { candidate: 'primary' }), (e: unknown) => e instanceof FailoverError && e.problem === 'badCandidate' && /primary already/.test(e.message));
    assert.equal(await inRecovery('primary'), false, 'postgres-primary still the primary');
  });

  test('bad input: a candidate far behind is refused unless confirmed, and nothing changes', async () => {
    // Stop replica1's WAL receiver (empty primary_conninfo) and write ~2 MB: it falls behind by
    // more than the 1 MB limit. Pausing replay would not do: WAL it received counts as not lost.
    const [{ primary_conninfo: conninfo }] = await q<{ primary_conninfo: string }>('replica1', 'SHOW primary_conninfo', [], 'postgres');
    const setConninfo = async (v: string) => {
      await q('replica1', `ALTER SYSTEM SET primary_conninfo = '${v.replace(/'/g, "''")}'`, [], 'postgres');
      await q('replica1', 'SELECT pg_reload_conf()', [], 'postgres');
    };
    await setConninfo('');
    await waitFor(async () => (await q<{ n: string }>('replica1', 'SELECT count(*)::text AS n FROM pg_stat_wal_receiver', [], 'postgres'))[0].n === '0', 30_000, 'replica1 WAL receiver stopped');
    try {
      await q('primary', "INSERT INTO users (name, email) SELECT 'lag', repeat('x', 200) FROM generate_series(1, 8000)");
      await waitFor(async () => (await surveyCluster(ctx)).nodes.find((n) => n.key === 'replica1')!.replayLsn !== null, 30_000);
      let asked = '';
      await assert.rejects(
        failover(ctx, {
          candidate: 'replica1',
          confirmLag: async (c) => {
            asked = `${c.service} ${c.behindBytes}`;
            return false;
          },
        }),
        (e: unknown) => e instanceof FailoverError && e.problem === 'candidateBehind' && e.state === 'unchanged' && /behind/.test(e.message),
      );
      assert.match(asked, /^postgres-replica1 \d+$/);
      assert.ok(Number(asked.split(' ')[1]) > 1024 * 1024, `asked with the lag: ${asked}`);
      assert.equal(await inRecovery('primary'), false);
      assert.equal(await inRecovery('replica1'), true);
    } finally {
      await setConninfo(conninfo);
      await waitFor(async () => (await q<{ n: string }>('replica1', "SELECT count(*)::text AS n FROM pg_stat_wal_receiver WHERE status = 'streaming'", [], 'postgres'))[0].n === '1', 60_000, 'replica1 streaming again');
    }
  });

  test('Demo 4: kill -9 of the primary under load; best replica promoted, others repointed, RTO and RPO measured', async (t) => {
    broken = true;
    const load = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec: 20, durationSec: 240 } });
    const run = load.run();
    try {
      await waitFor(() => load.progress.acked >= 20, 180_000, '20 acknowledged writes').catch((e: Error) => {
        throw new Error(`${e.message}; load: ${JSON.stringify(load.progress)}`);
      });
      const r = await failover(ctx, { fencing: 'kill', ledger: load.ledger, loadRunning: () => load.progress.state === 'running', waitForLoadMs: 120_000 });
      t.diagnostic(renderFailoverReport(r).split('\n').filter((l) => /RTO|RPO|promotion/.test(l)).join('\n'));
      assert.equal(r.oldPrimary?.key, 'primary');
      assert.equal(r.fencing.mode, 'kill');
      assert.ok(r.newPrimary.key === 'replica1' || r.newPrimary.key === 'replica2');
      assert.ok(r.newPrimary.timeline >= 2, 'a new timeline');
      // Highest replay LSN: no other candidate had replayed more.
      const chosen = r.candidates.find((c) => c.key === r.newPrimary.key)!;
      for (const c of r.candidates) assert.ok((c.behindBytes ?? 0) >= (chosen.behindBytes ?? 0));
      const np = nodePort(r.newPrimary.key);
      const other = r.newPrimary.key === 'replica1' ? 'replica2' : 'replica1';
      assert.equal(await inRecovery(r.newPrimary.key), false);
      assert.ok(r.replicas.find((x) => x.key === other)?.ok, r.replicas.map((x) => x.message).join('; '));
      await waitFor(async () => (await streamingFrom(np)).join() === `postgres-${other}`, 120_000, `postgres-${other} streaming from the new primary`);
      assert.equal(await pgbouncerTarget(topology), r.newPrimary.service);
      assert.equal((await containers.state(topology.nodes[0].container))?.Status, 'exited', 'the old primary is fenced');
      // RTO: measured from the ledger, first failure before first success on the new primary.
      assert.ok(r.rto, r.measureNote);
      assert.equal(r.rto.node, r.newPrimary.service);
      assert.ok(r.rto.ms > 0 && r.rto.firstSuccessAt > r.rto.firstFailureAt);
      // RPO: recomputed independently from the rows on the new primary.
      assert.ok(r.rpo);
      const present = await presentKeys(topology, np, load.ledger);
      const ackedOnOld = load.ledger.writes.filter((w) => w.node === 'postgres-primary' && w.ackAt <= r.newPrimary.promotedAt);
      assert.equal(r.rpo.acked, ackedOnOld.length);
      assert.equal(r.rpo.lostWrites, ackedOnOld.filter((w) => !present.has(w.key)).length);
      // The load keeps going on the new primary.
      const before = load.progress.acked;
      await waitFor(() => load.progress.acked > before + 5, 60_000, 'writes on the new primary');
      assert.equal(load.ledger.writes[load.ledger.writes.length - 1].node, r.newPrimary.service);
    } finally {
      load.cancel();
      await run;
    }
    assert.ok(load.progress.failed > 0, 'failures were counted, the generator did not stop');
  });

  test('the old primary rejoins as a replica with pg_rewind: 2 streaming replicas again', async () => {
    const s = await surveyCluster(ctx);
    const np = s.primary!;
    const r = await rejoinAsReplica(ctx, 'primary', { method: 'rewind' });
    assert.ok(r.method === 'rewind' || r.method === 'noRewindNeeded', r.method);
    assert.equal(r.streaming, true, r.message);
    assert.equal(await inRecovery('primary'), true);
    const streaming = await streamingFrom(nodePort(np));
    assert.equal(streaming.length, 2, streaming.join(','));
    assert.ok(streaming.includes('postgres-primary'));
    // Rejoin of a node that already streams changes nothing.
    const again = await rejoinAsReplica(ctx, 'primary');
    assert.equal(again.method, 'alreadyStreaming');
  });

  test('switchover back to postgres-primary under load: no acknowledged write lost, old primary rejoins', async () => {
    const load = new LoadGenerator(topology, { target: 'pgbouncer', mode: { kind: 'rate', ratePerSec: 20, durationSec: 240 } });
    const run = load.run();
    let result;
    try {
      await waitFor(() => load.progress.acked >= 10, 180_000, '10 acknowledged writes').catch((e: Error) => {
        throw new Error(`${e.message}; load: ${JSON.stringify(load.progress)}`);
      });
      result = await switchover(ctx, { candidate: 'primary', ledger: load.ledger, loadRunning: () => load.progress.state === 'running', waitForLoadMs: 60_000 });
    } finally {
      load.cancel();
      await run;
    }
    assert.equal(result.failover.newPrimary.key, 'primary');
    assert.equal(result.failover.fencing.mode, 'stop');
    assert.equal(result.rejoinError, undefined);
    assert.equal(result.rejoin?.streaming, true);
    assert.ok(result.failover.rpo);
    assert.equal(result.failover.rpo.lostWrites, 0, 'a switchover loses nothing');
    assert.equal(await inRecovery('primary'), false);
    await waitFor(async () => (await streamingFrom(nodePort('primary'))).length === 2, 60_000, '2 replicas streaming from postgres-primary');
    assert.equal(await pgbouncerTarget(topology), 'postgres-primary');
    // Every write acknowledged during the whole run is on the primary.
    const present = await presentKeys(topology, nodePort('primary'), load.ledger);
    assert.equal(load.ledger.writes.filter((w) => !present.has(w.key)).length, 0);
    broken = false;
  });

  test('no healthy replica: refused before anything is fenced', async () => {
    await containers.stop(topology.nodes[1].container, 5);
    await containers.stop(topology.nodes[2].container, 5);
    try {
      await assert.rejects(failover(ctx, { fencing: 'kill' }), (e: unknown) => e instanceof FailoverError && e.problem === 'noHealthyReplica' && e.state === 'unchanged' && /No healthy replica/.test(e.message));
      assert.equal(await inRecovery('primary'), false, 'the primary was not touched');
    } finally {
      await containers.start(topology.nodes[1].container);
      await containers.start(topology.nodes[2].container);
    }
    await waitFor(async () => (await streamingFrom(nodePort('primary'))).length === 2, 120_000, 'replicas streaming again');
  });
});
