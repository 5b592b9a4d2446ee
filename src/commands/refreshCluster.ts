// Refresh: one full monitor round now (containers and every node), instead of at the next tick.
import type { ClusterStatus } from '../core/status';
import type { Services } from '../services';
import { runCommand, type CommandOutcome } from './common';

export async function refreshCluster(services: Services): Promise<CommandOutcome<ClusterStatus>> {
  return runCommand(services, 'Refresh', () => services.monitor.refresh());
}
