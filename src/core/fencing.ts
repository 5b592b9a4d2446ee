// Fencing: make sure a node can no longer accept writes (PostgreSQL does not fence by itself).
// Split brain (Demo 6): two writable nodes; the one to fence is the OLD primary, i.e. the one on
// the older timeline (the promoted node started a new timeline), or the one nothing follows.
//
// API (no vscode):
//   fenceNode(ctx, node, mode)      stop (clean) or kill the container; verifies it no longer answers;
//                                   a paused (hung) container is killed whatever the mode: it is not
//                                   down, it accepts writes again the moment it wakes. The fence is
//                                   made durable (fenceMarker.ts): the node does not start again
//                                   until it is rejoined or started as it is on purpose.
//   splitBrainAdvice(status)        → { fence, keep, reason } | undefined when there is no split brain
import { classifyPgError, withNodeClient } from './connection';
import { markFenced } from './fenceMarker';
import { holderOf, killNode, resolveNode, stopNode, type ActionResult, type NodeActionContext } from './nodeActions';
import { withOperationLock } from './operationLock';
import type { ClusterStatus } from './status';
import type { NodeKey } from './topology';

export type FenceMode = 'stop' | 'kill';

export async function fenceNode(ctx: NodeActionContext, node: string, mode: FenceMode = 'stop', o: { reason?: string } = {}): Promise<ActionResult & { stillWritable: boolean }> {
  const target = resolveNode(ctx.topology, node);
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Fence ${target.container} (${mode})`, nodes: [target.container] }, async () => {
    const st = await ctx.containers.state(target.container);
    const status = st?.Status;
    const r: ActionResult =
      status === 'paused'
        ? { ...(await killNode(ctx, node)), message: `${target.container} was paused (hung, not down): killed, because it would accept writes again the moment it wakes.` }
        : status === 'running' || status === 'restarting'
          ? mode === 'kill'
            ? await killNode(ctx, node)
            : await stopNode(ctx, node, { timeoutSec: 10 })
          : { node: target.key, container: target.container, changed: false, tookMs: 0, message: `${target.container} is already down (${status ?? 'missing'}): fenced.` };
    if (target.kind === 'postgres' && status) await markFenced(ctx, target.key, o.reason ?? `fenced by hand (${mode})`);
    // Verify: nothing answers on its port any more.
    const stillWritable = await withNodeClient(ctx.topology, target.hostPort, async (c) => !(await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0]?.r, {
      database: 'postgres',
      connectTimeoutMs: 1500,
      queryTimeoutMs: 2000,
    }).catch((e: unknown) => {
      classifyPgError(e);
      return false;
    });
    return { ...r, stillWritable };
  });
}

export interface SplitBrainAdvice {
  /** The node to fence (the old primary). */
  readonly fence: NodeKey;
  /** The node that stays primary. */
  readonly keep: NodeKey;
  readonly reason: string;
}

export function splitBrainAdvice(s: ClusterStatus): SplitBrainAdvice | undefined {
  if (!s.splitBrain || s.writable.length < 2) return undefined;
  const nodes = s.writable.map((k) => s.nodes.find((n) => n.key === k)!);
  const followers = (k: NodeKey) => s.nodes.filter((n) => n.upstream === k).length;
  const sorted = [...nodes].sort((a, b) => (b.timeline ?? 0) - (a.timeline ?? 0) || followers(b.key) - followers(a.key) || (s.pgbouncer.target === b.key ? 1 : 0) - (s.pgbouncer.target === a.key ? 1 : 0));
  const keep = sorted[0];
  const fence = sorted[sorted.length - 1];
  let reason: string;
  if ((keep.timeline ?? 0) > (fence.timeline ?? 0)) reason = `${keep.container} is on the newer timeline ${keep.timeline} (it was promoted); ${fence.container} is on timeline ${fence.timeline}, the old history`;
  else if (followers(keep.key) !== followers(fence.key)) reason = `the replicas follow ${keep.container}`;
  else if (s.pgbouncer.target === keep.key) reason = `PgBouncer sends clients to ${keep.container}`;
  else reason = `both look alike; ${keep.container} comes first`;
  return { fence: fence.key, keep: keep.key, reason };
}
