// The long-lived objects every feature shares, created once per activation.
import * as vscode from 'vscode';
import { topologyFromEnv, type ClusterTopology } from './core/topology';

export interface Services {
  readonly log: vscode.LogOutputChannel;
  /** Current topology: settings over PGHA_* environment variables over defaults. */
  topology(): ClusterTopology;
}

export function createServices(context: vscode.ExtensionContext): Services {
  const log = vscode.window.createOutputChannel('PG HA Workshop', { log: true });
  context.subscriptions.push(log);
  return {
    log,
    topology: () => topologyFromEnv(process.env),
  };
}
