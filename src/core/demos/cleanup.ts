// Cleanup: `docker compose down` (keeps the data volumes) or `down -v` (removes them), then checks
// that none of the cluster's containers is left.
import type Docker from 'dockerode';
import { composeDown, composePs } from '../../docker/compose';
import { check, result, type DemoContext, type DemoResult } from './common';

export interface CleanupMeasures {
  readonly removedData: boolean;
  readonly containersLeft: readonly string[];
  readonly downMs: number;
}

export async function cleanupCluster(ctx: DemoContext & { docker: Docker }, o: { volumes: boolean }): Promise<DemoResult<CleanupMeasures>> {
  const started = Date.now();
  ctx.log?.(`cleanup: docker compose down${o.volumes ? ' -v (removes the data)' : ' (keeps the data volumes)'}`);
  const down = () => composeDown(ctx.topology, { volumes: o.volumes, docker: ctx.docker, onOutput: (l) => ctx.log?.(`cleanup: ${l}`) });
  try {
    await down();
  } catch (e) {
    // A slow engine may still be detaching a container when Compose removes the network: once more.
    if (!/active endpoints/i.test(e instanceof Error ? e.message : String(e))) throw e;
    ctx.log?.('cleanup: the network still had a container attached; running down again');
    await new Promise((r) => setTimeout(r, 3000));
    await down();
  }
  const downMs = Date.now() - started;
  const left = (await composePs(ctx.topology, ctx.docker)).map((s) => s.container);
  ctx.log?.(`cleanup: ${left.length === 0 ? 'no container left' : `left: ${left.join(', ')}`} (${downMs} ms)`);
  return result('cleanup', started, [check('containersRemoved', left.length === 0, left.length === 0 ? 'no container left' : left.join(', '))], { removedData: o.volumes, containersLeft: left, downMs });
}
