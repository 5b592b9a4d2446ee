// Start Cluster: Compose up (the only Compose use besides down), then wait until the monitor sees
// the whole cluster healthy: a primary, every replica streaming, PgBouncer answering.
// A node fenced by a failover (fenceMarker.ts) is not started with the others: the learner chooses
// first, rejoin it as a replica (recommended) or start it as it is (a second primary).
import * as vscode from 'vscode';
import { fenceConsequence, fencedNodes, liftFence } from '../core/fenceMarker';
import { rejoinAsReplica } from '../core/rejoin';
import type { ClusterStatus } from '../core/status';
import { composeUp } from '../docker/compose';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export function isClusterHealthy(s: ClusterStatus, leaveOut: readonly string[] = []): boolean {
  return (
    (leaveOut.length > 0 || s.clusterState === 'running') &&
    s.primary !== undefined &&
    s.nodes.every((n) => leaveOut.includes(n.key) || n.key === s.primary || n.role === 'replica' || n.role === 'cascadingReplica') &&
    s.pgbouncer.health !== 'pending' &&
    s.pgbouncer.health !== 'error' &&
    s.pgbouncer.health !== 'off'
  );
}

/** Compose up with progress lines, then waits for health; resolves with the seconds it took. `leaveOut`: fenced node keys not to start. */
export async function bringUp(services: Services, progress: vscode.Progress<{ message?: string }>, started = Date.now(), leaveOut: readonly string[] = []): Promise<number> {
  const topology = services.topology();
  const only = leaveOut.length ? [...topology.nodes.filter((n) => !leaveOut.includes(n.key)).map((n) => n.service), topology.pgbouncer.service] : undefined;
  await composeUp(topology, { docker: services.docker(), only, onOutput: (line) => progress.report({ message: line.replace(/\s+/g, ' ').slice(0, 120) }) });
  progress.report({ message: t('containers started; waiting for the replicas to stream…') });
  services.monitor.start();
  await services.monitor.refresh();
  await services.monitor.waitFor((s) => isClusterHealthy(s, leaveOut), 180_000, t('a primary, streaming replicas and PgBouncer'));
  return (Date.now() - started) / 1000;
}

export async function startCluster(services: Services): Promise<CommandOutcome<{ seconds: number }>> {
  const ctx = actionContext(services);
  const fenced = await fencedNodes(ctx).catch(() => []);
  let leaveOut: string[] = [];
  let rejoin: string[] = [];
  if (fenced.length) {
    const names = fenced.map((f) => f.container).join(', ');
    const rejoinIt = t('Rejoin as Replica (Recommended)');
    const asItIs = t('Start As It Is');
    const leave = t('Leave It Fenced');
    const pick = await vscode.window.showWarningMessage(
      t('{0} was fenced by a failover.', names),
      { modal: true, detail: t('Start Cluster does not start a fenced node by itself. Rejoin it as a replica of the current primary (pg_rewind), leave it fenced, or start it as it is: {0}', fenced.map((f) => fenceConsequence(f.container)).join(' ')) },
      rejoinIt,
      leave,
      asItIs,
    );
    if (!pick) return cancelled();
    if (pick === asItIs) for (const f of fenced) await liftFence(ctx, f.key);
    else {
      leaveOut = fenced.map((f) => f.key);
      if (pick === rejoinIt) rejoin = leaveOut;
    }
  }
  return runCommand(services, 'Start cluster', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Starting the workshop cluster') }, async (progress) => {
      let seconds = await bringUp(services, progress, Date.now(), leaveOut);
      const t0 = Date.now() - seconds * 1000;
      for (const key of rejoin) {
        await rejoinAsReplica({ ...ctx, log: (m) => services.log.info(m) }, key, { method: 'rewind', onStep: (m) => progress.report({ message: t('rejoin: {0}', m) }) });
      }
      if (rejoin.length) {
        await services.monitor.waitFor((s) => isClusterHealthy(s), 180_000, t('a primary, streaming replicas and PgBouncer'));
        seconds = (Date.now() - t0) / 1000;
      }
      const msg = leaveOut.length && !rejoin.length
        ? t('Workshop cluster running in {0} s; {1} stays fenced (rejoin it when you are ready: PG HA Workshop: Rejoin as Replica).', seconds.toFixed(1), leaveOut.join(', '))
        : t('Workshop cluster healthy in {0} s: a primary, {1} streaming replicas and PgBouncer.', seconds.toFixed(1), services.topology().nodes.length - 1);
      services.log.info(msg);
      void vscode.window.showInformationMessage(msg);
      return { seconds };
    }),
  );
}
