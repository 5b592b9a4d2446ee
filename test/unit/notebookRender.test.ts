import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topologyFromEnv } from '../../src/core/topology';
import { errorText, renderHtml, renderJson, renderText, resultToCsv, type NodeRun, type StatementResult } from '../../src/notebook/render';
import { lineOfPosition, splitStatements } from '../../src/notebook/statements';
import { parseTarget, resolveTarget, TargetError, type NodeRoleInfo } from '../../src/notebook/targets';

const t = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'x-', PGHA_PRIMARY_PORT: '15432', PGHA_REPLICA1_PORT: '15433', PGHA_REPLICA2_PORT: '15434', PGHA_PGBOUNCER_PORT: '16432' });
const roles = (p: string, r1: string, r2: string) =>
  new Map<string, NodeRoleInfo>([
    ['postgres-primary', { role: p as NodeRoleInfo['role'] }],
    ['postgres-replica1', { role: r1 as NodeRoleInfo['role'] }],
    ['postgres-replica2', { role: r2 as NodeRoleInfo['role'] }],
  ]);

test('@primary follows the role: after a failover it is the promoted replica', () => {
  assert.deepEqual(resolveTarget(parseTarget('primary', t), t, roles('primary', 'replica', 'replica')).map((e) => e.port), [15432]);
  assert.deepEqual(resolveTarget(parseTarget('@primary', t), t, roles('down', 'primary', 'replica')).map((e) => e.id), ['postgres-replica1']);
  assert.deepEqual(resolveTarget(parseTarget('replica', t), t, roles('down', 'primary', 'replica')).map((e) => e.id), ['postgres-replica2']);
});

test('container targets stay on their container whatever the role; @all is every node', () => {
  const e = resolveTarget(parseTarget('postgres-primary', t), t, roles('replica', 'primary', 'replica'));
  assert.deepEqual(e.map((x) => [x.id, x.container, x.port]), [['postgres-primary', 'x-postgres-primary', 15432]]);
  assert.deepEqual(resolveTarget(parseTarget('all', t), t).map((x) => x.port), [15432, 15433, 15434]);
  const admin = resolveTarget(parseTarget('pgbouncer-admin', t), t)[0];
  assert.equal(admin.database, 'pgbouncer');
  assert.equal(admin.simpleProtocol, true);
  assert.equal(resolveTarget(parseTarget('pgbouncer', t), t)[0].database, 'demodb');
});

test('unknown target, no primary and split brain are errors that say what to do', () => {
  assert.throws(() => parseTarget('replica9', t), (e: unknown) => e instanceof TargetError && /Unknown target node "@replica9"/.test(e.message) && /@postgres-replica1/.test(e.message));
  assert.throws(() => resolveTarget(parseTarget('primary', t), t, roles('down', 'replica', 'replica')), /No node is primary now.*postgres-primary: down/);
  assert.throws(() => resolveTarget(parseTarget('primary', t), t, roles('primary', 'primary', 'replica')), /Split brain: postgres-primary and postgres-replica1/);
  assert.throws(() => resolveTarget(parseTarget('replica', t), t, roles('primary', 'down', 'down')), /No node is a replica now/);
});

test('statements: split on top-level semicolons only; comment-only tails dropped; error positions map to cell lines', () => {
  const sql = "-- size\nSELECT 1;\n\nSELECT ';' AS a, $$x;y$$ AS b; /* c; */\n-- done;\n";
  const st = splitStatements(sql);
  assert.deepEqual(st.map((s) => s.text), ['-- size\nSELECT 1', "SELECT ';' AS a, $$x;y$$ AS b"]);
  assert.equal(lineOfPosition(sql, st[1], 8), 4);
  assert.deepEqual(splitStatements('-- nothing\n/* here */'), []);
});

const result = (rows: (string | null)[][], more = 0, exact = true): StatementResult => ({
  statement: 'SELECT a, b FROM t',
  command: 'SELECT',
  columns: [
    { name: 'a', typeId: 23 },
    { name: 'b<script>', typeId: 25 },
  ],
  rows,
  rowCount: rows.length + more,
  moreRows: more,
  moreRowsExact: exact,
  durationMs: 3.2,
});
const run = (r: StatementResult[], extra: Partial<NodeRun> = {}): NodeRun => ({ node: 'postgres-primary', container: 'x-postgres-primary', port: 15432, role: 'primary', results: r, durationMs: 5, ...extra });

test('HTML: theme colours, escaped values, NULL, "N more rows", node, duration and row count', () => {
  const html = renderHtml([run([result([['1', '<b>'], ['2', null]], 999_998)])]);
  assert.match(html, /var\(--vscode-editor-foreground|var\(--vscode-foreground\)/);
  assert.match(html, /&lt;b&gt;/);
  assert.ok(!html.includes('<script>'));
  assert.match(html, /class="null">NULL/);
  assert.match(html, /999,998 more rows not shown/);
  assert.match(html, /postgres-primary/);
  assert.match(html, /1,000,000 rows/);
  assert.match(html, /5 ms/);
});

test('side by side: one panel per node; errors show SQLSTATE, message and hint', () => {
  const err = { kind: 'sql' as const, sqlstate: '42P01', message: 'relation "nope" does not exist', hint: 'Check the name.', line: 2, statementIndex: 1 };
  const runs = [run([result([['1', 'x']])]), run([], { node: 'postgres-replica1', port: 15433, role: 'replica', error: err })];
  const html = renderHtml(runs);
  assert.equal(html.match(/class="node"/g)?.length, 2);
  assert.match(html, /42P01/);
  const text = errorText(err);
  assert.match(text, /^ERROR 42P01: relation "nope" does not exist\nHINT: Check the name\.\nat statement 1, line 2 of the cell$/);
  const json = renderJson(runs);
  assert.deepEqual(json[0].results[0].columns, ['a', 'b<script>']);
  assert.deepEqual(json[0].results[0].rows, [{ a: '1', 'b<script>': 'x' }]);
  assert.equal(json[1].error?.sqlstate, '42P01');
  assert.match(renderText(runs), /-- postgres-replica1 \(replica\) · port 15433/);
});

test('text table is aligned and says how many rows were not shown; inexact counts say so', () => {
  const text = renderText([run([result([['1', 'a'], ['22', null]], 5, false)])]);
  assert.match(text, / a {2}\| b<script>\n----\+-----------\n 1 {2}\| a\n 22 \| NULL\n\(7\+ rows, 5\+ more not shown\)/);
});

test('CSV export quotes what needs quoting and writes NULL as an empty field', () => {
  assert.equal(resultToCsv(result([['1', 'x,"y"'], ['2', null]])), 'a,b<script>\n1,"x,""y"""\n2,\n');
});
