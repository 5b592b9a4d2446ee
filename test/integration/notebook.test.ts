// The notebook's core against the real cluster: every query of the monitoring notebook on its
// node, the row cap on a million rows, cancel on the server, node down, run on all nodes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { clusterUp, containerOf, containers, query, streamingReplicas, topology, waitFor } from '../support/cluster';
import { columnsMatch, expectedNodes, MONITORING_CELL_COLUMNS } from '../support/monitoringNotebook';
import { NotebookConnections } from '../../src/notebook/connections';
import { parseNotebook } from '../../src/notebook/format';
import { parseTarget, resolveTarget, type Endpoint } from '../../src/notebook/targets';

const describe = async (name: string) => {
  const s = await containers.state(name);
  return s ? `container ${name} is ${s.Status}` : `container ${name} does not exist`;
};
let conns: NotebookConnections;

before(async () => {
  await clusterUp();
  conns = new NotebookConnections(() => topology, describe);
});
after(() => conns?.dispose());

async function endpoints(target: string): Promise<Endpoint[]> {
  const spec = parseTarget(target, topology);
  return resolveTarget(spec, topology, spec.kind === 'role' ? await conns.probeRoles() : undefined);
}

test('every SQL cell of the monitoring notebook runs on its node and returns the expected columns', async () => {
  const nb = parseNotebook(readFileSync(path.join(__dirname, '..', '..', 'cluster', 'monitoring.pgha.sql'), 'utf8'));
  const cells = nb.cells.filter((c) => c.kind === 'code');
  assert.equal(cells.length, MONITORING_CELL_COLUMNS.length);
  for (const [i, cell] of cells.entries()) {
    const target = cell.target ?? 'primary';
    const eps = await endpoints(target);
    const runs = await Promise.all(eps.map((ep) => conns.session(ep).run(cell.source, { maxRows: 50 })));
    const onNode = expectedNodes(target);
    for (const run of runs) {
      assert.equal(run.error, undefined, `cell ${i + 1} (@${target}) on ${run.node}: ${run.error?.message}`);
      assert.ok(onNode(run.node), `cell ${i + 1} (@${target}) ran on ${run.node}`);
      assert.deepEqual(
        run.results.map((r) => columnsMatch(r.columns.map((c) => c.name), MONITORING_CELL_COLUMNS[i][run.results.indexOf(r)] ?? [])),
        run.results.map(() => true),
        `cell ${i + 1} columns: ${JSON.stringify(run.results.map((r) => r.columns.map((c) => c.name)))}`,
      );
      assert.equal(run.results.length, MONITORING_CELL_COLUMNS[i].length, `cell ${i + 1} statements`);
    }
    if (target === 'all') assert.equal(runs.length, 3);
  }
});

test('Demo 1: a row inserted on @primary is read back on @postgres-replica1', async () => {
  const [p] = await endpoints('primary');
  const ins = await conns.session(p).run("INSERT INTO users (name, email) VALUES ('nb-demo1', 'nb@example.com') RETURNING id", { maxRows: 5 });
  const id = ins.results[0].rows[0][0];
  const [r1] = await endpoints('postgres-replica1');
  const seen = await waitFor(async () => {
    const r = await conns.session(r1).run(`SELECT name FROM users WHERE id = ${Number(id)}`, { maxRows: 5 });
    return r.results[0]?.rows.length === 1 ? r : undefined;
  }, 5000, 'the row on replica1');
  assert.deepEqual(seen.results[0].rows, [['nb-demo1']]);
});

test('one connection per node is reused across cells', async () => {
  const [p] = await endpoints('postgres-primary');
  const a = await conns.session(p).run('SELECT pg_backend_pid()', { maxRows: 5 });
  const b = await conns.session(p).run('SELECT pg_backend_pid()', { maxRows: 5 });
  assert.equal(a.results[0].rows[0][0], b.results[0].rows[0][0]);
  assert.equal(String(a.pid), a.results[0].rows[0][0]);
});

test('a million rows: the first page is shown at once, the rest counted, not loaded', async () => {
  const [r] = await endpoints('replica');
  let progress: number | undefined;
  const before = process.memoryUsage().heapUsed;
  const run = await conns.session(r).run('SELECT g FROM generate_series(1, 1000000) g', {
    maxRows: 200,
    countBudgetMs: 120_000,
    onProgress: (p) => (progress ??= p.results[0].rows.length),
  });
  assert.equal(run.error, undefined);
  const res = run.results[0];
  assert.equal(res.rows.length, 200);
  // Exact when counting finished within its budget (a loaded machine may not): never more than the truth.
  if (res.moreRowsExact) assert.equal(res.moreRows, 999_800);
  else assert.ok(res.moreRows > 0 && res.moreRows < 999_800);
  assert.equal(progress, 200, 'first page reported before counting finished');
  assert.ok(process.memoryUsage().heapUsed - before < 150 * 1024 * 1024, 'rows past the cap are not kept');
});

test('counting stops at its time budget and says the count is a lower bound', async () => {
  const [p] = await endpoints('primary');
  const run = await conns.session(p).run('SELECT g FROM generate_series(1, 5000000) g', { maxRows: 10, countBudgetMs: 1 });
  const res = run.results[0];
  assert.equal(res.rows.length, 10);
  assert.equal(res.moreRowsExact, false);
  assert.ok(res.moreRows > 0 && res.moreRows < 4_999_990);
  // The connection is usable right after.
  const next = await conns.session(p).run('SELECT 1', { maxRows: 5 });
  assert.deepEqual(next.results[0].rows, [['1']]);
});

test('several statements, then an error with SQLSTATE, hint and the line in the cell', async () => {
  const [p] = await endpoints('primary');
  const run = await conns.session(p).run('SELECT 1 AS one;\nSELECT 2 AS two;\nSELECT nme\nFROM users;\nSELECT 3;', { maxRows: 5 });
  assert.deepEqual(run.results.map((r) => r.columns[0].name), ['one', 'two']);
  assert.equal(run.error?.kind, 'sql');
  assert.equal(run.error?.sqlstate, '42703');
  assert.match(run.error?.hint ?? '', /users\.name/);
  assert.equal(run.error?.line, 3);
  assert.equal(run.error?.statementIndex, 3);
});

test('cancel stops the query on the server (pg_cancel_backend) and keeps the connection', async () => {
  const [p] = await endpoints('postgres-primary');
  const s = conns.session(p);
  await s.run('SELECT 1', { maxRows: 1 });
  const pid = s.pid;
  const ac = new AbortController();
  const started = Date.now();
  const pending = s.run('SELECT pg_sleep(60)', { maxRows: 1, signal: ac.signal });
  await waitFor(async () => (await query(p.node!.key, 'SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE $2', [pid, '%pg_sleep%'])).length === 1, 5000, 'the sleep to run');
  ac.abort();
  const run = await pending;
  assert.equal(run.error?.kind, 'cancelled');
  assert.equal(run.error?.sqlstate, '57014');
  assert.ok(Date.now() - started < 30_000);
  const after = await s.run('SELECT pg_backend_pid()', { maxRows: 1 });
  assert.equal(after.results[0].rows[0][0], String(pid));
});

test("run on all nodes: one result per node, with each node's role", async () => {
  const eps = await endpoints('all');
  const roles = await conns.probeRoles();
  const runs = await Promise.all(eps.map((ep) => conns.session(ep).run('SELECT pg_is_in_recovery()', { maxRows: 5, role: roles.get(ep.id)!.role })));
  assert.deepEqual(
    runs.map((r) => [r.node, r.role, r.results[0].rows[0][0]]),
    [
      ['postgres-primary', 'primary', 'f'],
      ['postgres-replica1', 'replica', 't'],
      ['postgres-replica2', 'replica', 't'],
    ],
  );
});

test('a node that is down gives an error naming the node and its container state', async () => {
  const name = containerOf('replica2');
  const [r2] = await endpoints('postgres-replica2');
  await conns.session(r2).run('SELECT 1', { maxRows: 1 });
  await containers.stop(name, 5);
  try {
    const run = await conns.session(r2).run('SELECT 1', { maxRows: 1 });
    assert.equal(run.error?.kind, 'nodeDown');
    assert.match(run.error?.message ?? '', /postgres-replica2 is down/);
    assert.match(run.error?.message ?? '', new RegExp(`container ${name} is exited`));
    assert.match(run.error?.hint ?? '', /docker start/);
    const roles = await conns.probeRoles();
    assert.equal(roles.get('postgres-replica2')?.role, 'down');
  } finally {
    await containers.start(name);
    await waitFor(async () => (await streamingReplicas()).length === 2, 60_000, 'replica2 streaming again');
  }
  const again = await conns.session(r2).run('SELECT pg_is_in_recovery()', { maxRows: 1 });
  assert.equal(again.error, undefined, again.error?.message);
});
