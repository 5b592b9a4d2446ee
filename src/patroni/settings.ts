// Switching the cluster profile setting (workshop | patroni); reading it and the Patroni topology
// from settings live in configuration.ts beside the workshop cluster's.
import * as vscode from 'vscode';

export type ClusterProfile = 'workshop' | 'patroni';

export async function setClusterProfile(p: ClusterProfile): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('pgHaWorkshop').update('clusterProfile', p, target);
}
