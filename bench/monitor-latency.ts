// Time from `docker stop` of a replica to the monitor publishing it as down (goal ≤ 1 s after
// Docker's die event), with Docker events (the product) and, side by side in the same run,
// polling only (what a poll-every-second monitor would see). Median of N stops each.
//   npx tsx bench/monitor-latency.ts [runs]
// Uses the cluster of the PGHA_* environment (brings it up in its standard shape if needed) and
// stops/starts its replica2 only.
import { ClusterMonitor } from '../src/core/monitor';
import type { ClusterStatus } from '../src/core/status';
import { clusterUp, containerOf, containers, docker, topology } from '../test/support/cluster';

const runs = Number(process.argv[2] ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const r2 = (s: ClusterStatus) => s.nodes.find((n) => n.key === 'replica2')!;

async function measure(events: boolean): Promise<{ fromDie: number[]; fromCall: number[] }> {
  const m = new ClusterMonitor({ docker, topology, pollIntervalMs: 1000, dockerEvents: events });
  const fromDie: number[] = [];
  const fromCall: number[] = [];
  let seenDownAt = 0;
  const sub = m.onDidChange((s) => {
    if (!seenDownAt && r2(s).role === 'down') seenDownAt = Date.now();
  });
  m.start();
  try {
    for (let i = 0; i < runs; i++) {
      await m.waitFor((s) => r2(s).role === 'replica', 240_000, 'replica2 streaming');
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700)); // random phase against the poll tick
      seenDownAt = 0;
      const called = Date.now();
      await containers.stop(containerOf('replica2'), 10);
      const diedAt = Date.parse((await containers.inspect(containerOf('replica2'))).State.FinishedAt);
      const s = await m.waitFor((x) => r2(x).role === 'down', 10_000, 'replica2 down');
      void s;
      fromDie.push(seenDownAt - diedAt);
      fromCall.push(seenDownAt - called);
      console.log(`  ${events ? 'events ' : 'polling'} run ${i + 1}: ${seenDownAt - diedAt} ms after the die event, ${seenDownAt - called} ms after the stop call`);
      await containers.start(containerOf('replica2'));
    }
    await m.waitFor((s) => r2(s).role === 'replica', 240_000, 'replica2 streaming');
  } finally {
    sub.dispose();
    await m.stop();
  }
  return { fromDie, fromCall };
}

async function main(): Promise<void> {
  await clusterUp();
  const withEvents = await measure(true);
  const pollOnly = await measure(false);
  const e = median(withEvents.fromDie);
  const p = median(pollOnly.fromDie);
  console.log(`docker stop → "down" in the status, median of ${runs} (ms after Docker's die event / after the stop call):`);
  console.log(`  with Docker events : ${e} / ${median(withEvents.fromCall)}   (all: ${withEvents.fromDie.join(', ')})`);
  console.log(`  polling only (1 s) : ${p} / ${median(pollOnly.fromCall)}   (all: ${pollOnly.fromDie.join(', ')})`);
  console.log(`  ratio polling/events: ${(p / Math.max(1, e)).toFixed(1)}x; goal ≤ 1000 ms after the event: ${e <= 1000 ? 'met' : 'MISSED'}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
