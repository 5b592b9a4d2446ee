// The long-lived objects every feature shares, created once per activation.
import * as vscode from 'vscode';
import type Docker from 'dockerode';
import { attachedManager, composeManager, type ClusterManager } from './core/clusterManager';
import { attachedTopology, type AttachedProfile } from './core/clusterProfile';
import { ClusterMonitor } from './core/monitor';
import { patroniUrlsOf } from './core/patroni/attached';
import { patroniClusterManager } from './core/patroni/manager';
import { DEFAULT_THRESHOLDS, type Thresholds } from './core/status';
import { type ClusterTopology } from './core/topology';
import { clusterProfileSetting, topologyFromSettings } from './configuration';
import { Containers, createDockerClient } from './docker/engine';

export interface Services {
  readonly log: vscode.LogOutputChannel;
  /** Current topology: settings over PGHA_* environment variables over defaults. */
  topology(): ClusterTopology;
  /** Docker client for the "pgHaWorkshop.dockerHost" setting (rebuilt when the setting changes). */
  docker(): Docker;
  /** Container operations on that client (start/stop/kill/exec/logs, DockerError on failure). */
  containers(): Containers;
  /** Who manages the active cluster: what views and commands may offer per node (src/core/clusterManager.ts). */
  manager(): ClusterManager;
  /** The attached cluster the views show, or undefined for the workshop's own Compose cluster. */
  attached(): AttachedProfile | undefined;
  /** Shows another cluster: an attached profile (with its password) or, undefined, the workshop's cluster. */
  setAttached(profile: AttachedProfile | undefined, password?: string): void;
  /** Fires after setAttached. */
  readonly onDidChangeCluster: vscode.Event<void>;
  /** The live ClusterStatus every view renders (src/core/monitor.ts); started at activation. */
  readonly monitor: ClusterMonitor;
  /** Set by the cluster view: its tree data provider (extension-host tests read its items). */
  clusterTree?: vscode.TreeDataProvider<unknown>;
  /** Set by the walkthrough: the latest result of each demo (extension-host tests read it). */
  demoResults?: import('./walkthrough/results').DemoResults;
  demoResultsPanel?: import('./walkthrough/resultsPanel').DemoResultsPanel;
  /** Set by the lag dashboard (Exercise 5): what its webview received (extension-host tests read it). */
  lagDashboard?: import('./dashboard').DashboardProbe;
  /** Set by the failover commands: this window's write load (its ledger gives Restore to Point in Time a timeline). */
  loadSession?: import('./commands/loadSession').LoadSession;
  /** Set by the backups feature: the backup volume's catalog and the restored nodes. */
  backups?: import('./backups/state').BackupState;
  /** Set by the labs: the automatic-failover watcher (Exercise 4), when enabled. */
  autoFailover?: import('./core/autoFailover').AutoFailoverWatcher;
  /** Set by the labs: the watcher's last automatic failover in this window (Demo 8 compares it). */
  lastAutoFailover?: import('./core/autoFailover').AutoFailoverReport;
}

/** Monitor settings: poll interval and the workshop's alert thresholds. */
function monitorSettings(): { pollIntervalMs: number; thresholds: Thresholds } {
  const c = vscode.workspace.getConfiguration('pgHaWorkshop');
  return {
    pollIntervalMs: c.get<number>('pollIntervalMs', 1000),
    thresholds: {
      lagSeconds: c.get<number>('alerts.lagSeconds', DEFAULT_THRESHOLDS.lagSeconds),
      retainedWalBytes: c.get<number>('alerts.retainedWalBytes', DEFAULT_THRESHOLDS.retainedWalBytes),
    },
  };
}

/** `log` is the channel src/entry.ts made at activation (one channel per window). */
export function createServices(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Services {
  const dockerHost = () => vscode.workspace.getConfiguration('pgHaWorkshop').get<string>('dockerHost', '');
  let docker = createDockerClient(dockerHost());
  let containers = new Containers(docker);
  let attached: { profile: AttachedProfile; password: string } | undefined;
  const topology = () => (attached ? attachedTopology(attached.profile, attached.password) : topologyFromSettings(process.env));
  const monitor = new ClusterMonitor({ docker, topology: topology(), log, ...monitorSettings() });
  const clusterChanged = new vscode.EventEmitter<void>();
  context.subscriptions.push(clusterChanged);
  context.subscriptions.push(
    monitor,
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('pgHaWorkshop')) return;
      if (e.affectsConfiguration('pgHaWorkshop.dockerHost')) {
        docker = createDockerClient(dockerHost());
        containers = new Containers(docker);
      }
      monitor.configure({ docker, topology: topology(), ...monitorSettings() });
    }),
  );
  return {
    log,
    topology,
    docker: () => docker,
    containers: () => containers,
    manager: () => (attached ? attachedManager({ lab: attached.profile.lab, patroni: patroniUrlsOf(attached.profile.patroniUrl).length > 0 }) : clusterProfileSetting() === 'patroni' ? patroniClusterManager : composeManager),
    attached: () => attached?.profile,
    setAttached: (profile, password) => {
      attached = profile ? { profile, password: password ?? '' } : undefined;
      log.info(profile ? `Watching the attached cluster ${profile.label} (${profile.nodes.length} nodes, ${profile.lab ? 'lab' : 'read-only'})` : "Watching the workshop's cluster");
      monitor.configure({ topology: topology() });
      clusterChanged.fire();
    },
    onDidChangeCluster: clusterChanged.event,
    monitor,
  };
}
