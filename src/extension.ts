// Entry point: builds the shared services once and hands them to each feature's register function.
// Each feature lives in its own folder and registers its own commands, views and disposables.
import * as vscode from 'vscode';
import { registerAttach } from './attach';
import { registerBackups } from './backups';
import { registerClusterCommands } from './commands';
import { registerFailoverCommands } from './commands/failoverCommands';
import { registerLagDashboard } from './dashboard';
import { registerDockerStatus } from './dockerStatus';
import { registerFaultDrills } from './drills';
import { registerLabs } from './labs';
import { registerNotebook } from './notebook/register';
import { createServices, type Services } from './services';
import { registerClusterView } from './views';
import { registerOperationStatus } from './views/operationStatus';
import { registerWalkthrough } from './walkthrough/register';

type Register = (context: vscode.ExtensionContext, services: Services) => void;

// One line per feature; keep the list sorted by folder.
const features: Register[] = [
  registerAttach,
  registerBackups,
  registerClusterCommands,
  registerFailoverCommands,
  registerLagDashboard,
  registerDockerStatus,
  registerFaultDrills,
  registerLabs,
  registerNotebook,
  registerClusterView,
  registerOperationStatus,
  registerWalkthrough,
];

export async function activate(context: vscode.ExtensionContext): Promise<Services> {
  const services = createServices(context);
  for (const register of features) register(context, services);
  services.log.info('PG HA Workshop activated');
  // Returned so the extension-host tests can read what the views render.
  return services;
}

export function deactivate(): void {
  // Disposables registered on the context are disposed by VS Code.
}
