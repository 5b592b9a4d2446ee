// The cluster profile setting (workshop | patroni) and the Patroni topology from settings over the
// PGHA_* environment, as configuration.ts does for the workshop cluster.
import * as vscode from 'vscode';
import { clusterProfileSetting } from '../configuration';
import { patroniTopologyFromEnv, type PatroniTopology } from '../core/patroni/topology';

export type ClusterProfile = 'workshop' | 'patroni';

export function clusterProfile(): ClusterProfile {
  return clusterProfileSetting(process.env);
}

export function patroniTopologyFromSettings(env: NodeJS.ProcessEnv = process.env): PatroniTopology {
  const image = vscode.workspace.getConfiguration('pgHaWorkshop').get<string>('patroniImage', '').trim();
  return patroniTopologyFromEnv(image ? { ...env, PGHA_PATRONI_IMAGE: image } : env);
}

export async function setClusterProfile(p: ClusterProfile): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('pgHaWorkshop').update('clusterProfile', p, target);
}
