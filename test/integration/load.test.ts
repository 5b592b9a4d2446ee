// The write load against the live cluster: the workshop's rate mode, Demo 5's bulk inserts and max
// throughput, through the primary and through PgBouncer; every acknowledged write is in the ledger
// and on the primary; bad input and an unreachable target are refused with a message.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { LoadGenerator, LoadInputError, preflightTarget, presentKeys } from '../../src/core/load';
import { clusterUp, nodePort, topology } from '../support/cluster';

describe('write load on the live cluster', { timeout: 600_000 }, () => {
  before(async () => {
    await clusterUp();
  });

  test('Demo 3: rate mode keeps the pace and every acknowledged write is on the primary', async () => {
    const g = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec: 10, durationSec: 3 } });
    const seen: number[] = [];
    g.onProgress((p) => seen.push(p.acked));
    const r = await g.run();
    assert.equal(r.state, 'done');
    assert.ok(r.acked + r.failed <= 31, `at most the asked pace: ${r.acked} + ${r.failed}`);
    assert.ok(r.acked >= 5, `${r.acked} writes`);
    assert.equal(r.node, 'postgres-primary');
    assert.ok(seen.length >= 2, 'progress was reported while it ran');
    const present = await presentKeys(topology, nodePort('primary'), g.ledger);
    assert.equal(present.size, r.acked);
    assert.ok(r.latencyMs.p50 !== undefined && r.latencyMs.p50 > 0);
  });

  test('Demo 5: 30 bulk inserts of 100 rows, 10 at a time', async () => {
    const g = new LoadGenerator(topology, { target: 'primary', mode: { kind: 'bulk', statements: 30, rowsPerStatement: 100, concurrency: 10 } });
    const r = await g.run();
    assert.equal(r.acked, 30);
    assert.equal(r.ackedRows, 3000);
    assert.equal(r.failed, 0);
    const present = await presentKeys(topology, nodePort('primary'), g.ledger);
    assert.equal(present.size, 30);
  });

  test('max throughput through PgBouncer, and cancel stops it early', async () => {
    const g = new LoadGenerator(topology, { target: 'pgbouncer', mode: { kind: 'max', clients: 3, durationSec: 60 } });
    const run = g.run();
    await new Promise((r) => setTimeout(r, 3000));
    const t0 = Date.now();
    g.cancel();
    const r = await run;
    assert.ok(Date.now() - t0 < 15_000, 'cancel is prompt');
    assert.equal(r.state, 'cancelled');
    assert.ok(r.acked > 0);
    assert.equal(r.node, 'postgres-primary', 'PgBouncer sent the writes to the primary');
  });

  test('bad input: rate 0, negative, absurd; unknown target; read-only target', async () => {
    for (const ratePerSec of [0, -1, 1e9, Number.NaN]) {
      assert.throws(() => new LoadGenerator(topology, { target: 'primary', mode: { kind: 'rate', ratePerSec, durationSec: 10 } }), LoadInputError);
    }
    assert.throws(() => new LoadGenerator(topology, { target: 'replica9' as never, mode: { kind: 'rate', ratePerSec: 1, durationSec: 1 } }), /Unknown load target/);
    assert.match((await preflightTarget(topology, 'replica1')) ?? '', /read-only/);
    assert.equal(await preflightTarget(topology, 'primary'), undefined);
    assert.equal(await preflightTarget(topology, 'pgbouncer'), undefined);
  });

  test('a target that is down: preflight says so, and a run counts failures without crashing', async () => {
    const down = { ...topology, nodes: topology.nodes.map((n) => (n.key === 'replica2' ? { ...n, hostPort: 1 } : n)) };
    assert.match((await preflightTarget(down, 'replica2')) ?? '', /does not accept connections/);
    const g = new LoadGenerator(down, { target: 'replica2', mode: { kind: 'rate', ratePerSec: 5, durationSec: 2 } });
    const r = await g.run();
    assert.equal(r.acked, 0);
    assert.ok(r.failed >= 2);
    assert.match(r.lastError?.message ?? '', /refused/);
  });
});
