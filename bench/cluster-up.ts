// Time from `compose up` (empty volumes) to both replicas streaming, median of 3 runs.
//   npx tsx bench/cluster-up.ts [runs]
// Runs the tests' cluster (scripts/lib/test-cluster.mjs: project pghatest, ports 30432-30434/30632,
// image pgha-local:15) unless the PGHA_* variables name another, never the workshop's; it removes that cluster's volumes between runs, so never
// point it at a cluster whose data you want to keep.
import { composeDown, composePs, composeUp, detectComposeCli } from '../src/docker/compose';
import { topologyFromEnv } from '../src/core/topology';
import { withNodeClient } from '../src/core/connection';
import { useTestCluster } from '../scripts/lib/test-cluster.mjs';

const env = useTestCluster('bench/cluster-up.ts');
const t = topologyFromEnv(env);
const primaryPort = t.nodes.find((n) => n.key === 'primary')!.hostPort;

let lastError = '';

async function streaming(): Promise<number> {
  try {
    return await withNodeClient(t, primaryPort, async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_stat_replication WHERE state = 'streaming'")).rows[0].n), { database: 'postgres', connectTimeoutMs: 5000 });
  } catch (e) {
    lastError = e instanceof Error ? e.message : String(e);
    return 0;
  }
}

async function healthy(): Promise<boolean> {
  const ps = await composePs(t);
  return ps.length === 4 && ps.every((p) => p.health === 'healthy');
}

async function once(): Promise<{ up: number; healthy: number; streaming: number }> {
  await composeDown(t, { volumes: true });
  const start = performance.now();
  await composeUp(t);
  const up = performance.now() - start;
  let h = 0;
  for (;;) {
    const now = performance.now() - start;
    if (now > 300_000) throw new Error(`cluster did not reach 2 streaming replicas within 300 s (last error: ${lastError || 'none'})`);
    if (!h && (await healthy())) h = performance.now() - start;
    if ((await streaming()) >= 2) return { up, healthy: h || performance.now() - start, streaming: performance.now() - start };
    await new Promise((r) => setTimeout(r, 100));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

(async () => {
  const runs = Number(process.argv[2] ?? 3);
  const cli = await detectComposeCli(env);
  console.log(`bench/cluster-up: ${runs} runs, ${cli.label}, image ${t.postgresImage}, project ${t.projectName}`);
  const results = [];
  try {
    for (let i = 1; i <= runs; i++) {
      const r = await once();
      results.push(r);
      console.log(`run ${i}: compose up returned ${s(r.up)}, 2 replicas streaming ${s(r.streaming)}, all 4 healthy ${s(r.healthy)}`);
    }
  } finally {
    await composeDown(t, { volumes: true }).catch(() => undefined);
  }
  const m = median(results.map((r) => r.streaming));
  console.log(`median time from up to 2 streaming replicas: ${s(m)} (median compose up: ${s(median(results.map((r) => r.up)))}, all healthy: ${s(median(results.map((r) => r.healthy)))})`);
  const ratio = m < 30_000 ? `${(30_000 / m).toFixed(1)}x faster than` : `${(m / 30_000).toFixed(1)}x slower than`;
  console.log(`ratio: ${ratio} the workshop README's expected startup (30-60 s; lower bound used)`);
})().catch((e) => {
  console.error(`bench/cluster-up failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
