// The faults a drill injects, on the real containers: crash (SIGKILL), clean stop, start, a hung
// node (docker pause = SIGSTOP of every process), a network partition (docker network disconnect:
// the node loses its peers, PgBouncer and its published port), and replication faults in SQL.
//
// API (no vscode):
//   injectFault(ctx, kind, container, port?, o?)   one fault on one container
//   healPartitionsAndPauses(ctx)                   unpause and reconnect every node of the topology
import { withNodeClient } from '../connection';
import type { FailoverContext } from '../failover';
import type { FaultKind } from './spec';

export interface FaultResult {
  readonly message: string;
}

/**
 * docker pause, tried again when the freezer could not freeze: runc gives up ("unable to freeze")
 * while a process sits in uninterruptible I/O (a flush, an fsync), and thaws it again; a moment
 * later it freezes. Seen once in 140 drill runs on a busy 2-core machine.
 */
export async function pauseContainer(docker: { getContainer(name: string): { pause(): Promise<unknown> } }, container: string, tries = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await docker.getContainer(container).pause();
      return;
    } catch (e) {
      if (i >= tries || !/unable to freeze/i.test(e instanceof Error ? e.message : String(e))) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Networks a drill disconnected each container from, with its aliases, to reconnect it as it was. */
const disconnected = new Map<string, { network: string; aliases: string[] }[]>();

/** o.networks: for disconnect, only these networks (default: every network of the container). */
export async function injectFault(ctx: FailoverContext, kind: FaultKind, container: string, port: number | undefined, o: { megabytes?: number; networks?: readonly string[] } = {}): Promise<FaultResult> {
  const c = ctx.containers;
  const docker = c.docker;
  const sql = async (text: string) => {
    if (port === undefined) throw new Error(`${container} has no SQL port for ${kind}`);
    await withNodeClient(ctx.topology, port, (cl) => cl.query(text), { connectTimeoutMs: 10_000, queryTimeoutMs: 120_000 });
  };
  switch (kind) {
    case 'kill':
      await c.kill(container);
      return { message: `docker kill ${container} (SIGKILL: a crash, no shutdown checkpoint)` };
    case 'stop':
      await c.stop(container, 10);
      return { message: `docker stop ${container} (clean shutdown)` };
    case 'start':
      await c.start(container);
      return { message: `docker start ${container}` };
    case 'pause':
      await pauseContainer(docker, container);
      return { message: `docker pause ${container} (hung: it keeps its sockets but answers nothing)` };
    case 'unpause': {
      const st = await c.state(container);
      if (!st?.Paused) return { message: `${container} is not paused (${st?.Status ?? 'missing'}): it was fenced` };
      await docker.getContainer(container).unpause();
      return { message: `docker unpause ${container}` };
    }
    case 'disconnect': {
      const info = await c.inspect(container);
      const nets = Object.entries(info.NetworkSettings.Networks ?? {}).filter(([n]) => !o.networks || o.networks.includes(n));
      const saved: { network: string; aliases: string[] }[] = [];
      for (const [network, ep] of nets) {
        saved.push({ network, aliases: (ep.Aliases ?? []).filter((a: string) => !info.Id.startsWith(a)) });
        await docker.getNetwork(network).disconnect({ Container: container, Force: true });
      }
      disconnected.set(container, [...(disconnected.get(container) ?? []), ...saved]);
      return { message: `docker network disconnect ${saved.map((s) => s.network).join(', ')} ${container} (partition: ${o.networks ? 'etcd and its peers cut off, clients still reach it' : 'peers, PgBouncer and its port cut off'})` };
    }
    case 'reconnect': {
      const saved = disconnected.get(container) ?? [];
      for (const s of saved) await docker.getNetwork(s.network).connect({ Container: container, EndpointConfig: { Aliases: s.aliases } });
      disconnected.delete(container);
      return { message: saved.length ? `docker network connect ${saved.map((s) => s.network).join(', ')} ${container}` : `${container} was not disconnected` };
    }
    case 'pause-replay':
      await sql('SELECT pg_wal_replay_pause()');
      return { message: `pg_wal_replay_pause() on ${container} (it receives WAL but applies none)` };
    case 'resume-replay':
      await sql('SELECT pg_wal_replay_resume()');
      return { message: `pg_wal_replay_resume() on ${container}` };
    case 'bulk-write': {
      const mb = o.megabytes ?? 2;
      // About 250 bytes of WAL per row.
      await sql(`INSERT INTO users (name, email) SELECT 'drill-bulk', repeat('x', 200) FROM generate_series(1, ${Math.round(mb * 4500)})`);
      return { message: `wrote about ${mb} MB on ${container}` };
    }
  }
}

/** Unpauses and reconnects every node a drill may have left hung or cut off. */
export async function healPartitionsAndPauses(ctx: FailoverContext): Promise<string[]> {
  const done: string[] = [];
  const names = [...ctx.topology.nodes.map((n) => n.container), ctx.topology.pgbouncer.container];
  for (const name of names) {
    const st = await ctx.containers.state(name);
    if (st?.Paused) {
      await ctx.containers.docker.getContainer(name).unpause();
      done.push(`unpaused ${name}`);
    }
    if (disconnected.has(name)) {
      await injectFault(ctx, 'reconnect', name, undefined);
      done.push(`reconnected ${name}`);
    } else if (st) {
      const info = await ctx.containers.inspect(name);
      if (Object.keys(info.NetworkSettings.Networks ?? {}).length === 0) {
        const network = `${ctx.topology.projectName}_default`;
        const service = ctx.topology.nodes.find((n) => n.container === name)?.service ?? ctx.topology.pgbouncer.service;
        await ctx.containers.docker.getNetwork(network).connect({ Container: name, EndpointConfig: { Aliases: [service] } });
        done.push(`reconnected ${name} to ${network}`);
      }
    }
  }
  return done;
}
