// The extension's settings that shape the cluster, laid over the PGHA_* environment (which the
// compose file and shell scripts read too): a setting left empty keeps the environment's value.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { patroniTopologyFromEnv, type PatroniTopology } from './core/patroni/topology';
import { topologyFromEnv, type ClusterTopology } from './core/topology';

/**
 * The cluster profile: the pgHaWorkshop.clusterProfile setting when set, else PGHA_CLUSTER_PROFILE
 * (scripts and tests), else the workshop's cluster.
 */
export function clusterProfileSetting(env: NodeJS.ProcessEnv = process.env): 'workshop' | 'patroni' {
  const i = vscode.workspace.getConfiguration('pgHaWorkshop').inspect<string>('clusterProfile');
  const set = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue ?? env.PGHA_CLUSTER_PROFILE;
  return set === 'patroni' ? 'patroni' : 'workshop';
}

/** ClusterTopology from settings (pgHaWorkshop.composeFile / postgresImage / pgbouncerImage) over `env`. */
export function topologyFromSettings(env: NodeJS.ProcessEnv = process.env): ClusterTopology {
  const c = vscode.workspace.getConfiguration('pgHaWorkshop');
  const setting = (key: string) => c.get<string>(key, '').trim();
  const merged: NodeJS.ProcessEnv = { ...env };
  if (setting('postgresImage')) merged.PGHA_POSTGRES_IMAGE = setting('postgresImage');
  if (setting('pgbouncerImage')) merged.PGHA_PGBOUNCER_IMAGE = setting('pgbouncerImage');
  let composeFile: string | undefined;
  const file = setting('composeFile');
  if (file) {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    composeFile = path.isAbsolute(file) || !base ? path.resolve(file) : path.resolve(base, file);
  }
  // The Patroni profile: the same PostgreSQL nodes and ports (probes, load, notebook unchanged);
  // its entry point is HAProxy instead of PgBouncer.
  if (clusterProfileSetting(env) === 'patroni') {
    return patroniTopologyFromSettings(merged).cluster;
  }
  return topologyFromEnv(merged, composeFile);
}

/** The Patroni profile's topology from settings (pgHaWorkshop.patroniImage) over `env`. */
export function patroniTopologyFromSettings(env: NodeJS.ProcessEnv = process.env): PatroniTopology {
  const image = vscode.workspace.getConfiguration('pgHaWorkshop').get<string>('patroniImage', '').trim();
  return patroniTopologyFromEnv(image ? { ...env, PGHA_PATRONI_IMAGE: image } : env);
}
