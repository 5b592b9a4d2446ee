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
import { registerPatroni } from './patroni';
import { createServices, type Services } from './services';
import { registerClusterView } from './views';
import { registerOperationStatus } from './views/operationStatus';
import { registerWalkthrough } from './walkthrough/register';

type Register = (context: vscode.ExtensionContext, services: Services) => void;

// One line per feature (its name names its performance measure); keep the list sorted by folder.
const features: [string, Register][] = [
  ['attach', registerAttach],
  ['backups', registerBackups],
  ['commands', registerClusterCommands],
  ['failoverCommands', registerFailoverCommands],
  ['dashboard', registerLagDashboard],
  ['dockerStatus', registerDockerStatus],
  ['drills', registerFaultDrills],
  ['labs', registerLabs],
  ['notebook', registerNotebook],
  ['patroni', registerPatroni],
  ['views', registerClusterView],
  ['operationStatus', registerOperationStatus],
  ['walkthrough', registerWalkthrough],
];

export async function activate(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<Services> {
  // Each step is a performance measure of the extension host process (bench/activation.mjs prints
  // them): what activation spends its time on.
  let start = performance.now();
  const services = createServices(context, log);
  performance.measure('pg-ha-workshop:register:services', { start });
  for (const [name, register] of features) {
    start = performance.now();
    register(context, services);
    performance.measure(`pg-ha-workshop:register:${name}`, { start });
  }
  services.log.info('PG HA Workshop activated');
  // Returned (through src/entry.ts's services()) so the extension-host tests can read what the views render.
  return services;
}

export function deactivate(): void {
  // Disposables registered on the context are disposed by VS Code.
}
