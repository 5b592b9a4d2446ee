// Time from `compose up` (empty volumes) to both replicas streaming, median of 3 runs, beside a
// minimal compose of the same image (bench/minimal-compose.yml: initdb + two pg_basebackup clones,
// nothing else) measured the same way in the same run, alternating, and their ratio.
//   npx tsx bench/cluster-up.ts [runs]
// Runs the tests' cluster (scripts/lib/test-cluster.mjs: project pghatest, ports 30432-30434/30632,
// image pgha-local:15) unless the PGHA_* variables name another, never the workshop's; it removes that cluster's volumes between runs, so never
// point it at a cluster whose data you want to keep.
import * as path from 'node:path';
import { compose, composeDown, composePs, composeUp, detectComposeCli } from '../src/docker/compose';
import { topologyFromEnv } from '../src/core/topology';
import { withNodeClient } from '../src/core/connection';
import { useTestCluster } from '../scripts/lib/test-cluster.mjs';

const env = useTestCluster('bench/cluster-up.ts');
const t = topologyFromEnv(env);
const primaryPort = t.nodes.find((n) => n.key === 'primary')!.hostPort;

let lastError = '';

/** The same image and ports, minimal compose file, its own project. */
const minimal = { ...t, composeFile: path.join(__dirname, 'minimal-compose.yml'), projectName: `${t.projectName}-min` };

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

async function untilStreaming(start: number, onPoll?: () => Promise<void>): Promise<number> {
  for (;;) {
    const now = performance.now() - start;
    if (now > 300_000) throw new Error(`cluster did not reach 2 streaming replicas within 300 s (last error: ${lastError || 'none'})`);
    await onPoll?.();
    if ((await streaming()) >= 2) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function once(): Promise<{ up: number; healthy: number; streaming: number }> {
  await composeDown(t, { volumes: true });
  const start = performance.now();
  await composeUp(t);
  const up = performance.now() - start;
  let h = 0;
  const streamingMs = await untilStreaming(start, async () => {
    if (!h && (await healthy())) h = performance.now() - start;
  });
  return { up, healthy: h, streaming: streamingMs };
}

const minimalDown = () => compose(minimal, ['down', '-v', '-t', '1', '--remove-orphans'], 'remove the minimal cluster');

async function onceMinimal(): Promise<number> {
  await minimalDown();
  const start = performance.now();
  await compose(minimal, ['up', '-d'], 'start the minimal cluster');
  const ms = await untilStreaming(start);
  await minimalDown();
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

(async () => {
  const runs = Number(process.argv[2] ?? 3);
  const cli = await detectComposeCli(env);
  console.log(`bench/cluster-up: ${runs} runs each, alternating, ${cli.label}, image ${t.postgresImage}, project ${t.projectName}`);
  const results = [];
  const minimalMs: number[] = [];
  try {
    for (let i = 1; i <= runs; i++) {
      await composeDown(t, { volumes: true });
      const m = await onceMinimal();
      minimalMs.push(m);
      const r = await once();
      results.push(r);
      await composeDown(t, { volumes: true });
      console.log(`run ${i}: workshop compose: up returned ${s(r.up)}, 2 replicas streaming ${s(r.streaming)}, all 4 healthy ${r.healthy ? s(r.healthy) : '-'}; minimal compose: 2 replicas streaming ${s(m)}`);
    }
  } finally {
    await composeDown(t, { volumes: true }).catch(() => undefined);
    await minimalDown().catch(() => undefined);
  }
  const m = median(results.map((r) => r.streaming));
  const mm = median(minimalMs);
  console.log(`median time from up to 2 streaming replicas: ${s(m)} (median compose up: ${s(median(results.map((r) => r.up)))}, all healthy: ${s(median(results.map((r) => r.healthy)))})`);
  console.log(`minimal compose of the same image: median ${s(mm)}; ratio workshop / minimal: ${(m / mm).toFixed(2)}`);
  const ratio = m < 30_000 ? `${(30_000 / m).toFixed(1)}x faster than` : `${(m / 30_000).toFixed(1)}x slower than`;
  console.log(`ratio: ${ratio} the workshop README's expected startup (30-60 s; lower bound used)`);
})().catch((e) => {
  console.error(`bench/cluster-up failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
