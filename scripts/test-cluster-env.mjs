#!/usr/bin/env node
// For bash entry points (scripts/test.sh): prints `export K='V'` lines for the tests' cluster, or
// the refusal of scripts/lib/test-cluster.mjs on stderr with exit 1.
//   guard="$(node scripts/test-cluster-env.mjs WHO)" || exit 1; eval "$guard"
import { TEST_CLUSTER_DEFAULTS, testClusterEnv } from './lib/test-cluster.mjs';

const { env, refusal } = testClusterEnv(process.env, process.argv[2] || 'the tests');
if (refusal) {
  console.error(refusal);
  process.exit(1);
}
for (const k of Object.keys(TEST_CLUSTER_DEFAULTS)) console.log(`export ${k}='${String(env[k]).replace(/'/g, `'\\''`)}'`);
