// The one guard of every test and benchmark entry point (scripts/lib/test-cluster.mjs): the tests'
// own cluster by default, a refusal naming the variables when they point at the workshop's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { TEST_CLUSTER_DEFAULTS, testClusterEnv } from '../../scripts/lib/test-cluster.mjs';

const ROOT = path.resolve(__dirname, '../..');
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PGHA_') && k !== 'COMPOSE_PROJECT_NAME'));

describe('test cluster guard', () => {
  test('nothing set: the tests own project, prefix, ports and the local image', () => {
    const { env, refusal } = testClusterEnv({});
    assert.equal(refusal, undefined);
    assert.equal(env.COMPOSE_PROJECT_NAME, 'pghatest');
    assert.equal(env.PGHA_CONTAINER_PREFIX, 'pgtest-');
    assert.deepEqual([env.PGHA_PRIMARY_PORT, env.PGHA_REPLICA1_PORT, env.PGHA_REPLICA2_PORT, env.PGHA_PGBOUNCER_PORT], ['30432', '30433', '30434', '30632']);
    assert.equal(env.PGHA_POSTGRES_IMAGE, 'pgha-local:15');
  });
  test('another test cluster is kept as given', () => {
    const given = { COMPOSE_PROJECT_NAME: 'pgh11', PGHA_CONTAINER_PREFIX: 'p11-', PGHA_PRIMARY_PORT: '31432', PGHA_REPLICA1_PORT: '31433', PGHA_REPLICA2_PORT: '31434', PGHA_PGBOUNCER_PORT: '31632' };
    const { env, refusal } = testClusterEnv(given);
    assert.equal(refusal, undefined);
    for (const [k, v] of Object.entries(given)) assert.equal(env[k], v);
  });
  for (const [name, env] of [
    ['the workshop project', { COMPOSE_PROJECT_NAME: 'pgha' }],
    ['the workshop primary port', { PGHA_PRIMARY_PORT: '5432' }],
    ['a workshop replica port', { PGHA_REPLICA2_PORT: '5434' }],
    ['the workshop PgBouncer port', { PGHA_PGBOUNCER_PORT: '6432' }],
  ] as const) {
    test(`refuses ${name}`, () => {
      const { refusal } = testClusterEnv(env, 'who');
      assert.match(refusal ?? '', /^who: refusing to test against the workshop's own cluster \(.*\): the tests stop, promote and delete its nodes\. Unset these variables/);
    });
  }
  test('the defaults name no workshop value', () => assert.equal(testClusterEnv(TEST_CLUSTER_DEFAULTS).refusal, undefined));
});

describe('every entry point refuses the workshop cluster with the same message', () => {
  const workshop = { ...clean, COMPOSE_PROJECT_NAME: 'pgha' };
  const expected = (who: string) => testClusterEnv(workshop, who).refusal!;
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { cwd: ROOT, env: workshop, encoding: 'utf8', timeout: 60_000 });
  test('scripts/test.sh (npm test, test:unit, test:integration)', () => {
    const r = run('bash', ['scripts/test.sh', 'unit']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), expected('scripts/test.sh'));
    assert.match(r.stdout, /tests: 0 passed, 1 failed/);
  });
  test('npm run test:vscode (scripts/run-vscode-tests.mjs), before building or starting anything', () => {
    const r = run('node', ['scripts/run-vscode-tests.mjs']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), expected('npm run test:vscode'));
  });
  test('npm run screenshots and npm run bench:activation', () => {
    for (const [file, who] of [['scripts/screenshots.mjs', 'npm run screenshots'], ['bench/activation.mjs', 'npm run bench:activation']]) {
      const r = run('node', [file]);
      assert.equal(r.status, 1, file);
      assert.equal(r.stderr.trim(), expected(who), file);
    }
  });
  test('the integration fixture and the benchmarks that use it', () => {
    const r = run('node', ['--import', 'tsx', 'bench/cluster-up.ts']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), expected('bench/cluster-up.ts'));
    const f = run('node', ['--import', 'tsx', '-e', "require('./test/support/cluster')"]);
    assert.equal(f.status, 1);
    assert.equal(f.stderr.trim(), expected('the integration tests'));
  });
});
