// The one guard every test and benchmark entry point goes through: the tests' own cluster
// (project pghatest, containers pgtest-*, ports 30432-30434/30632, the local image) unless the
// PGHA_* variables name another test cluster, and a refusal when they name the workshop's own.
// Tests and benchmarks stop, kill, promote and `down -v` their cluster: pointed at the learner's
// workshop cluster they would delete its data.
//
//   import { useTestCluster } from './lib/test-cluster.mjs';  useTestCluster('npm run test:vscode');
//       fills process.env with the defaults, or prints the refusal and exits 1
//   guard="$(node scripts/test-cluster-env.mjs 'scripts/test.sh')" || exit 1; eval "$guard"   (bash)
/** The tests' cluster, used for every variable the environment leaves unset. */
export const TEST_CLUSTER_DEFAULTS = Object.freeze({
  COMPOSE_PROJECT_NAME: 'pghatest',
  PGHA_CONTAINER_PREFIX: 'pgtest-',
  PGHA_PRIMARY_PORT: '30432',
  PGHA_REPLICA1_PORT: '30433',
  PGHA_REPLICA2_PORT: '30434',
  PGHA_PGBOUNCER_PORT: '30632',
  PGHA_POSTGRES_IMAGE: 'pgha-local:15',
  PGHA_PGBOUNCER_IMAGE: 'pgha-local:15',
});

/** The workshop's own cluster (cluster/docker-compose.yml's defaults). */
const WORKSHOP = { project: 'pgha', prefix: '', ports: ['5432', '5433', '5434', '6432'] };

/**
 * The test cluster's environment: `env` with the defaults filled in (an empty value counts as
 * unset), and `refusal`, a message, when it still points at the workshop's own cluster.
 */
export function testClusterEnv(env = process.env, who = 'the tests') {
  const out = { ...env };
  for (const [k, v] of Object.entries(TEST_CLUSTER_DEFAULTS)) if (!out[k]) out[k] = v;
  const ports = ['PGHA_PRIMARY_PORT', 'PGHA_REPLICA1_PORT', 'PGHA_REPLICA2_PORT', 'PGHA_PGBOUNCER_PORT'].map((k) => out[k]);
  const clash =
    out.COMPOSE_PROJECT_NAME === WORKSHOP.project ||
    out.PGHA_CONTAINER_PREFIX === WORKSHOP.prefix ||
    ports.some((p) => WORKSHOP.ports.includes(p));
  const refusal = clash
    ? `${who}: refusing to test against the workshop's own cluster (COMPOSE_PROJECT_NAME=${out.COMPOSE_PROJECT_NAME}, ` +
      `PGHA_CONTAINER_PREFIX=${out.PGHA_CONTAINER_PREFIX}, ports ${ports.join('/')}): the tests stop, promote and delete its nodes. ` +
      `Unset these variables (the tests then use project pghatest, containers pgtest-*, ports 30432-30434/30632), ` +
      `or set all of them to a cluster of your own.`
    : undefined;
  return { env: out, refusal };
}

/** For node entry points: fills process.env with the test cluster, or prints the refusal and exits 1. */
export function useTestCluster(who) {
  const { env, refusal } = testClusterEnv(process.env, who);
  if (refusal) {
    console.error(refusal);
    console.log('# fail 1');
    process.exit(1);
  }
  for (const k of Object.keys(TEST_CLUSTER_DEFAULTS)) process.env[k] = env[k];
  return env;
}
