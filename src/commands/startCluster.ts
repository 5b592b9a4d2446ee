// Start Cluster: Compose up (the only Compose use besides down), then wait until the monitor sees
// the whole cluster healthy: a primary, every replica streaming, PgBouncer answering.
import * as vscode from 'vscode';
import type { ClusterStatus } from '../core/status';
import { composeUp } from '../docker/compose';
import type { Services } from '../services';
import { runCommand, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export function isClusterHealthy(s: ClusterStatus): boolean {
  return (
    s.clusterState === 'running' &&
    s.primary !== undefined &&
    s.nodes.every((n) => n.key === s.primary || n.role === 'replica' || n.role === 'cascadingReplica') &&
    s.pgbouncer.health !== 'pending' &&
    s.pgbouncer.health !== 'error' &&
    s.pgbouncer.health !== 'off'
  );
}

/** Compose up with progress lines, then waits for health; resolves with the seconds it took. */
export async function bringUp(services: Services, progress: vscode.Progress<{ message?: string }>, started = Date.now()): Promise<number> {
  const topology = services.topology();
  await composeUp(topology, { docker: services.docker(), onOutput: (line) => progress.report({ message: line.replace(/\s+/g, ' ').slice(0, 120) }) });
  progress.report({ message: t('containers started; waiting for the replicas to stream…') });
  services.monitor.start();
  await services.monitor.refresh();
  await services.monitor.waitFor(isClusterHealthy, 180_000, t('a primary, streaming replicas and PgBouncer'));
  return (Date.now() - started) / 1000;
}

export async function startCluster(services: Services): Promise<CommandOutcome<{ seconds: number }>> {
  return runCommand(services, 'Start cluster', () =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Starting the workshop cluster') }, async (progress) => {
      const seconds = await bringUp(services, progress);
      const msg = t('Workshop cluster healthy in {0} s: a primary, {1} streaming replicas and PgBouncer.', seconds.toFixed(1), services.topology().nodes.length - 1);
      services.log.info(msg);
      void vscode.window.showInformationMessage(msg);
      return { seconds };
    }),
  );
}
