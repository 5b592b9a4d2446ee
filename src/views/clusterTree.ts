// The cluster view: one item per node (and PgBouncer), rendered from the monitor's ClusterStatus.
// Alerts (split brain, timeline divergence, lag over threshold ...) come first. Each node expands
// into its figures (LSNs, lag, upstream, standbys, slots, container); PgBouncer into its target
// and pools. Replicas are nested under the node they stream from (a cascade shows as a chain), so
// the tree draws any number of nodes. contextValue drives the menus: the role and state first
// (node.<primary|replica|unknown>.<running|stopped>, pgbouncer.<running|stopped>), then one
// `can-<operation>` per operation the cluster's manager allows on it (src/core/clusterManager.ts).
import * as vscode from 'vscode';
import { formatBytes, formatDuration, nonNegative } from '../core/format';
import type { Alert, ClusterStatus, Health, NodeRole, NodeStatus, PgBouncerStatus } from '../core/status';
import { composeManager, nodeContextValue, pgbouncerContextValue, type ClusterManager, type RememberedRole } from '../core/clusterManager';
import { formatAddress, nodeHierarchy, type NodeHierarchy } from '../core/nodes';
import { shortProfileLabel, type AttachedProfile } from '../core/clusterProfile';
import { patroniUrlsOf } from '../core/patroni/attached';
import type { NodeKey } from '../core/topology';
import type { BackupSnapshot } from '../backups/state';

export type ClusterTreeElement =
  | { readonly kind: 'node'; readonly key: NodeKey }
  | { readonly kind: 'pgbouncer' }
  | { readonly kind: 'backups' }
  | { readonly kind: 'alert'; readonly alert: Alert }
  | { readonly kind: 'message'; readonly id: string; readonly text: string; readonly icon: string; readonly command?: vscode.Command }
  /** The attached cluster shown: its short name, the whole profile in the tooltip. */
  | { readonly kind: 'profile'; readonly profile: AttachedProfile }
  | {
      readonly kind: 'detail';
      readonly id: string;
      readonly label: string;
      readonly description?: string;
      readonly tooltip?: string;
      readonly icon?: string;
      readonly children?: readonly ClusterTreeElement[];
      /** Menus target it (default 'detail'). */
      readonly contextValue?: string;
      /** A restored node's container (Remove Restored Node's argument). */
      readonly restored?: string;
    };

const t = vscode.l10n.t;

export function roleLabel(n: NodeStatus, status: ClusterStatus): string {
  switch (n.role) {
    case 'primary':
      return t('primary');
    case 'replica':
      return t('replica');
    case 'cascadingReplica':
      return t('cascading replica of {0}', upstreamName(n, status));
    case 'notStreaming':
      return t('replica · not streaming');
    case 'starting':
      // A container that has run for a while and only answers slowly is being connected to, not starting.
      // A node of an attached cluster is not ours to start: until its first answer we are connecting.
      return n.containerState.status === 'external' || (n.containerState.startedAt !== undefined && status.at - n.containerState.startedAt > 60_000) ? t('connecting…') : t('starting…');
    case 'unreachable':
      return t('not answering');
    case 'down':
      return n.containerState.status === 'missing' ? t('not created') : n.containerState.exitCode === 137 ? t('killed') : t('stopped');
  }
}

function upstreamName(n: NodeStatus, status: ClusterStatus): string {
  if (n.upstream) return status.nodes.find((x) => x.key === n.upstream)?.name ?? n.upstream;
  return n.upstreamHost ?? '?';
}

/**
 * `primary · TL 1`, `replica · 12 MB`, `stopped`: the role and the one figure that matters first,
 * short enough for a narrow side bar. Time lags, upstream and the rest are in the tooltip and the
 * node's children.
 */
export function nodeDescription(n: NodeStatus, status: ClusterStatus): string {
  if (n.role === 'primary') return `${roleLabel(n, status)} · TL ${n.timeline ?? '?'}`;
  if ((n.role === 'replica' || n.role === 'cascadingReplica') && n.lag) {
    const role = n.role === 'cascadingReplica' ? t('cascading') : roleLabel(n, status);
    const delayed = n.applyDelayMs ? ` · ${t('delayed {0}', formatDuration(n.applyDelayMs))}` : '';
    return `${role} · ${formatBytes(nonNegative(n.lag.bytes))}${delayed}`;
  }
  return roleLabel(n, status);
}

const HEALTH_COLOR: Record<Health, string | undefined> = {
  ok: undefined,
  warning: 'list.warningForeground',
  error: 'list.errorForeground',
  pending: undefined,
  off: 'disabledForeground',
};

const ROLE_ICON: Record<NodeRole, [string, string | undefined]> = {
  primary: ['database', 'charts.green'],
  replica: ['mirror', 'charts.blue'],
  cascadingReplica: ['type-hierarchy-sub', 'charts.blue'],
  notStreaming: ['debug-disconnect', 'list.warningForeground'],
  starting: ['loading~spin', undefined],
  unreachable: ['error', 'list.errorForeground'],
  down: ['circle-slash', 'disabledForeground'],
};

function nodeIcon(n: NodeStatus): vscode.ThemeIcon {
  const [icon, roleColor] = ROLE_ICON[n.role];
  const color = n.health === 'error' || n.health === 'warning' ? HEALTH_COLOR[n.health] : roleColor;
  // A writable node in a split brain gets the warning sign itself, not just a colour.
  const id = n.health === 'error' && n.role === 'primary' ? 'warning' : icon;
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : formatDuration(v));
const bytes = (v: number | null | undefined) => (v === null || v === undefined ? '–' : formatBytes(v));

export function nodeTooltip(n: NodeStatus, status: ClusterStatus): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${n.name}** — ${roleLabel(n, status)}\n\n`);
  const rows: [string, string][] = [];
  if (n.containerState.status !== 'external') rows.push([t('Container'), `${n.containerState.status}${n.containerState.health ? ` (${n.containerState.health})` : ''}${n.containerState.exitCode !== undefined ? `, exit ${n.containerState.exitCode}` : ''}`]);
  rows.push([t('Address'), formatAddress(n.address)]);
  if (n.timeline !== undefined) rows.push([t('Timeline'), `${n.timeline}`]);
  if (n.upstream || n.upstreamHost) rows.push([t('Streams from'), upstreamName(n, status)]);
  if (n.currentLsn) rows.push([t('Current LSN'), n.currentLsn]);
  if (n.receiveLsn) rows.push([t('Received LSN'), n.receiveLsn]);
  if (n.replayLsn) rows.push([t('Replayed LSN'), n.replayLsn]);
  if (n.lag) {
    rows.push([t('Lag (bytes behind upstream)'), bytes(n.lag.bytes)]);
    rows.push([t('Write / flush / replay lag'), `${ms(n.lag.writeMs)} / ${ms(n.lag.flushMs)} / ${ms(n.lag.replayMs)}`]);
    rows.push([t('Received, not replayed'), bytes(n.lag.receiveReplayBytes)]);
    rows.push([t('Last replayed commit'), n.lag.lastReplayAgeMs === null ? '–' : t('{0} ago (grows while the primary is idle: not lag)', formatDuration(n.lag.lastReplayAgeMs))]);
  }
  if (n.syncState) rows.push([t('Sync state'), n.syncState]);
  if (n.applyDelayMs) rows.push([t('Apply delay'), `${formatDuration(n.applyDelayMs)} (recovery_min_apply_delay)`]);
  if (n.replayPaused) rows.push([t('Replay'), t('paused')]);
  if (n.walReceiver) rows.push([t('WAL receiver'), `${n.walReceiver.status}${n.walReceiver.senderHost ? ` ← ${n.walReceiver.senderHost}:${n.walReceiver.senderPort ?? ''}` : ''}`]);
  for (const r of n.downstream) rows.push([t('Standby {0}', r.applicationName), `${r.state}, ${r.syncState}, ${bytes(r.replayBytes)} · ${ms(r.replayLagMs)}`]);
  for (const s of n.slots) rows.push([t('Slot {0}', s.name), `${s.active ? t('active') : t('inactive')}, ${t('retains {0}', bytes(s.retainedBytes))}`]);
  if (n.synchronousStandbyNames) rows.push(['synchronous_standby_names', n.synchronousStandbyNames]);
  if (n.problem) rows.push([t('Problem'), n.problem]);
  md.appendMarkdown(`| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`).join('\n')}\n`);
  return md;
}

function pgbouncerDescription(b: PgBouncerStatus, status: ClusterStatus): string {
  if (b.containerState.status !== 'running') return b.containerState.status === 'missing' ? t('not created') : t('stopped');
  if (b.health === 'pending') return t('starting…');
  if (b.problem) return t('not answering');
  const target = b.target ? (status.nodes.find((n) => n.key === b.target)?.container ?? b.targetHost) : b.targetHost;
  const arrow = `→ ${target ?? '?'}`;
  if (b.paused) return `${arrow} · ${t('paused')}`;
  return b.targetIsPrimary === false ? `${arrow} · ${t('not the primary')}` : arrow;
}

function pgbouncerTooltip(b: PgBouncerStatus, status: ClusterStatus): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${b.container}** — PgBouncer ${pgbouncerDescription(b, status)}\n\n`);
  const rows: [string, string][] = [[t('Container'), `${b.containerState.status}${b.containerState.health ? ` (${b.containerState.health})` : ''}`], [t('Port'), `${b.hostPort}`]];
  if (b.targetHost) rows.push([t('Sends demodb to'), `${b.targetHost}:${b.targetPort ?? ''}`]);
  for (const p of b.pools) rows.push([t('Pool {0}/{1}', p.database, p.user), t('{0} clients active, {1} waiting · {2} servers active, {3} idle', p.clientsActive, p.clientsWaiting, p.serversActive, p.serversIdle)]);
  if (b.problem) rows.push([t('Problem'), b.problem]);
  md.appendMarkdown(`| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`).join('\n')}\n`);
  return md;
}

function detail(parent: string, name: string, label: string, description?: string, icon?: string, tooltip?: string, children?: ClusterTreeElement[]): ClusterTreeElement {
  return { kind: 'detail', id: `${parent}/${name}`, label, description, icon, tooltip, children };
}

export function nodeDetails(n: NodeStatus, status: ClusterStatus): ClusterTreeElement[] {
  const id = `node:${n.key}`;
  const out: ClusterTreeElement[] = [];
  if (n.problem) out.push(detail(id, 'problem', t('Problem'), n.problem, 'warning'));
  if (n.role === 'down') {
    out.push(detail(id, 'container', t('Container'), `${n.containerState.status}${n.containerState.exitCode !== undefined ? ` (exit ${n.containerState.exitCode})` : ''}`, 'package'));
    return out;
  }
  if (n.upstream || n.upstreamHost) out.push(detail(id, 'upstream', t('Streams from'), upstreamName(n, status), 'arrow-left'));
  if (n.timeline !== undefined) out.push(detail(id, 'timeline', t('Timeline'), String(n.timeline), 'git-commit'));
  if (n.currentLsn) out.push(detail(id, 'currentLsn', t('Current LSN'), n.currentLsn, 'symbol-number'));
  if (n.receiveLsn) out.push(detail(id, 'receiveLsn', t('Received LSN'), n.receiveLsn, 'symbol-number'));
  if (n.replayLsn) out.push(detail(id, 'replayLsn', t('Replayed LSN'), n.replayLsn, 'symbol-number'));
  if (n.lag) {
    out.push(detail(id, 'lagBytes', t('Lag'), `${bytes(n.lag.bytes)} · ${t('replay lag {0}', ms(n.lag.replayMs))}`, 'watch', t('Write / flush / replay lag: {0} / {1} / {2}', ms(n.lag.writeMs), ms(n.lag.flushMs), ms(n.lag.replayMs))));
    out.push(
      detail(id, 'lastReplay', t('Last replayed commit'), n.lag.lastReplayAgeMs === null ? '–' : t('{0} ago', formatDuration(n.lag.lastReplayAgeMs)), 'history', t('now() − pg_last_xact_replay_timestamp(): the time since the last replayed commit. It grows while the primary is idle, so it is not lag.')),
    );
  }
  if (n.syncState) out.push(detail(id, 'sync', t('Sync state'), n.syncState, 'sync'));
  if (n.applyDelayMs) out.push(detail(id, 'applyDelay', t('Apply delay'), formatDuration(n.applyDelayMs), 'clock', t('recovery_min_apply_delay: this replica applies each commit only this long after the primary made it (a delayed replica, Exercise 3).')));
  if (n.replayPaused) out.push(detail(id, 'paused', t('Replay'), t('paused'), 'debug-pause'));
  if (n.walReceiver) out.push(detail(id, 'walReceiver', t('WAL receiver'), `${n.walReceiver.status}${n.walReceiver.senderHost ? ` ← ${n.walReceiver.senderHost}` : ''}`, 'radio-tower'));
  if (n.downstream.length) {
    out.push(
      detail(
        id,
        'standbys',
        t('Standbys'),
        String(n.downstream.length),
        'type-hierarchy',
        undefined,
        n.downstream.map((r) => detail(`${id}/standbys`, r.applicationName, r.applicationName, `${r.state} · ${r.syncState} · ${bytes(r.replayBytes)} · ${ms(r.replayLagMs)}`, 'mirror', t('sent {0}, written {1}, flushed {2}, replayed {3} behind', bytes(r.sentBytes), bytes(r.writeBytes), bytes(r.flushBytes), bytes(r.replayBytes)))),
      ),
    );
  }
  if (n.slots.length) {
    out.push(
      detail(
        id,
        'slots',
        t('Replication slots'),
        String(n.slots.length),
        'bookmark',
        undefined,
        n.slots.map((s) => detail(`${id}/slots`, s.name, s.name, `${s.active ? t('active') : t('inactive')} · ${t('retains {0}', bytes(s.retainedBytes))}${s.walStatus ? ` · ${s.walStatus}` : ''}`, s.active ? 'bookmark' : 'warning')),
      ),
    );
  }
  if (n.containerState.status === 'external') out.push(detail(id, 'address', t('Address'), formatAddress(n.address), 'plug'));
  else out.push(detail(id, 'container', t('Container'), `${n.containerState.status}${n.containerState.health ? ` (${n.containerState.health})` : ''} · ${formatAddress(n.address)}`, 'package'));
  return out;
}

function pgbouncerDetails(b: PgBouncerStatus, status: ClusterStatus): ClusterTreeElement[] {
  const id = 'pgbouncer';
  const out: ClusterTreeElement[] = [];
  if (b.problem) out.push(detail(id, 'problem', t('Problem'), b.problem, 'warning'));
  if (b.targetHost) {
    const who = b.target ? status.nodes.find((n) => n.key === b.target) : undefined;
    out.push(detail(id, 'target', t('Sends demodb to'), `${who ? who.container : b.targetHost}:${b.targetPort ?? ''}${b.targetIsPrimary === false ? ` · ${t('not the primary')}` : ''}`, b.targetIsPrimary === false ? 'warning' : 'arrow-right'));
  }
  for (const p of b.pools) {
    out.push(detail(id, `pool:${p.database}:${p.user}`, t('Pool {0}/{1}', p.database, p.user), t('{0} active, {1} waiting clients · {2} active, {3} idle servers', p.clientsActive, p.clientsWaiting, p.serversActive, p.serversIdle), 'layers'));
  }
  out.push(detail(id, 'container', t('Container'), `${b.containerState.status}${b.containerState.health ? ` (${b.containerState.health})` : ''} · 127.0.0.1:${b.hostPort}`, 'package'));
  return out;
}

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '–');

/** One line for the Backups item: how many backups, and whether the archive keeps up. */
export function backupsDescription(b: BackupSnapshot): string {
  if (!b.catalog) return t('not available');
  const a = b.catalog.archive;
  const archive =
    a.mode === 'off' ? t('archive off') : (a.failedCount ?? 0) > 0 && (a.lastFailedAt ?? 0) > (a.lastArchivedAt ?? 0) ? t('archive FAILING') : a.lastArchivedWal ? t('archived {0}', a.lastArchivedWal.slice(0, 24)) : t('nothing archived yet');
  return `${t('{0} base backups', b.catalog.backups.length)} · ${archive}`;
}

export function backupDetails(b: BackupSnapshot): ClusterTreeElement[] {
  const id = 'backups';
  if (!b.catalog) return [detail(id, 'problem', t('Problem'), b.problem ?? t('not available'), 'warning')];
  const c = b.catalog;
  const a = c.archive;
  const out: ClusterTreeElement[] = [];
  const failing = (a.failedCount ?? 0) > 0 && (a.lastFailedAt ?? 0) > (a.lastArchivedAt ?? 0);
  out.push(
    detail(id, 'archive', t('WAL archive'), a.problem ?? `${a.mode ?? '?'} · ${t('{0} segments, {1}', a.segments.length, bytes(a.sizeBytes))}`, failing ? 'warning' : 'files', t('archive_command copies every finished WAL segment to {0} (pg_stat_archiver on {1}).', a.folder ?? '/backup/wal', a.node ?? '?'), [
      detail(`${id}/archive`, 'last', t('Last archived'), `${a.lastArchivedWal ?? '–'} · ${when(a.lastArchivedAt)}`, 'check'),
      detail(`${id}/archive`, 'failed', t('Failures'), `${a.failedCount ?? 0}${a.lastFailedWal ? ` · ${t('last {0} at {1}', a.lastFailedWal, when(a.lastFailedAt))}` : ''}`, failing ? 'error' : 'pass'),
      detail(`${id}/archive`, 'count', t('Archived'), `${a.archivedCount ?? 0}`, 'symbol-number'),
    ]),
  );
  out.push(
    detail(
      id,
      'base',
      t('Base backups'),
      String(c.backups.length),
      'archive',
      undefined,
      c.backups.map((x) => detail(`${id}/base`, x.name, x.name, `${bytes(x.sizeBytes)} · ${t('ended {0}', when(x.endedAt))}`, 'archive', t('Restores to any moment after {0} (start {1}, end {2}, timeline {3}).', when(x.endedAt), x.startLsn ?? '?', x.endLsn ?? '?', x.timeline ?? '?'))),
    ),
  );
  out.push(detail(id, 'dumps', t('Dumps'), String(c.dumps.length), 'file-code', undefined, c.dumps.map((x) => detail(`${id}/dumps`, x.name, x.name, `${bytes(x.sizeBytes)} · ${when(x.endedAt)}`, 'file-code'))));
  if (b.restored.length) {
    out.push(
      detail(
        id,
        'restored',
        t('Restored nodes'),
        String(b.restored.length),
        'debug-restart',
        undefined,
        b.restored.map((r) => ({ ...(detail(`${id}/restored`, r.container, r.container, `${r.state} · 127.0.0.1:${r.hostPort ?? '?'} · ${r.target ?? ''}`, 'database', t('Restored from {0} up to {1}. A separate primary: the cluster does not know it.', r.backup ?? '?', r.target ?? '?')) as Extract<ClusterTreeElement, { kind: 'detail' }>), contextValue: 'restoredNode', restored: r.container })),
      ),
    );
  }
  if (c.volumeFreeBytes !== undefined) out.push(detail(id, 'volume', t('Backup volume'), t('{0} free of {1}', bytes(c.volumeFreeBytes), bytes(c.volumeSizeBytes)), 'database'));
  return out;
}

export class ClusterTreeProvider implements vscode.TreeDataProvider<ClusterTreeElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<ClusterTreeElement | undefined | void>();
  readonly onDidChangeTreeData = this.changed.event;
  private status: ClusterStatus | undefined;
  private backups: BackupSnapshot | undefined;
  /** Last role seen per node, so a stopped replica still offers replica actions. */
  private readonly lastRole = new Map<NodeKey, 'primary' | 'replica'>();
  /** Last upstream seen per node, so a stopped replica stays under the node it streamed from. */
  private readonly lastUpstream = new Map<NodeKey, NodeKey>();
  private hierarchy: NodeHierarchy = { roots: [], children: new Map() };

  /** `manager` says what is possible on each node (the menus' `can-*` context values). */
  constructor(
    private readonly manager: () => ClusterManager = () => composeManager,
    private readonly attached: () => AttachedProfile | undefined = () => undefined,
  ) {}

  update(status: ClusterStatus): void {
    this.status = status;
    for (const n of status.nodes) {
      if (n.role === 'primary') this.lastRole.set(n.key, 'primary');
      else if (n.role === 'replica' || n.role === 'cascadingReplica' || n.role === 'notStreaming') this.lastRole.set(n.key, 'replica');
      // A primary streams from nobody: forget where it once streamed from (after a promotion).
      if (n.role === 'primary') this.lastUpstream.delete(n.key);
      else if (n.upstream) this.lastUpstream.set(n.key, n.upstream);
    }
    const keys = new Set(status.nodes.map((n) => n.key));
    for (const k of [...this.lastUpstream.keys()]) if (!keys.has(k)) this.lastUpstream.delete(k);
    this.hierarchy = nodeHierarchy(status.nodes, this.lastUpstream);
    this.changed.fire();
  }

  /** The manager changed (another cluster profile): menus follow at once. */
  refreshMenus(): void {
    this.changed.fire();
  }

  updateBackups(b: BackupSnapshot): void {
    this.backups = b;
    this.changed.fire();
  }

  get current(): ClusterStatus | undefined {
    return this.status;
  }

  getChildren(element?: ClusterTreeElement): ClusterTreeElement[] {
    const s = this.status;
    const manager = this.manager();
    if (!element) {
      if (!s) return [];
      // No engine: the welcome content (keyed on pgHaWorkshop.dockerState) says why and what to do.
      if (manager.usesDocker && !s.docker.ok) return [];
      // Nothing exists yet: the view's welcome content (keyed on pgHaWorkshop.clusterState) says what to do.
      if (manager.usesDocker && s.nodes.every((n) => n.containerState.status === 'missing') && s.pgbouncer.containerState.status === 'missing') return [];
      // Restricted Mode: the first row says why the commands are off and offers to trust the folder.
      const restricted: ClusterTreeElement[] = vscode.workspace.isTrusted
        ? []
        : [{ kind: 'message', id: 'untrusted', text: t('Restricted Mode: commands are off. Trust this folder…'), icon: 'shield', command: { title: t('Trust This Folder…'), command: 'workbench.trust.manage' } }];
      const profile = this.attached();
      return [
        ...restricted,
        ...(profile ? [{ kind: 'profile', profile } as const] : []),
        ...s.alerts.map((alert): ClusterTreeElement => ({ kind: 'alert', alert })),
        ...this.hierarchy.roots.map((key): ClusterTreeElement => ({ kind: 'node', key })),
        ...(manager.usesDocker ? [{ kind: 'pgbouncer' } as const] : []),
        ...(this.backups && manager.usesDocker ? [{ kind: 'backups' } as const] : []),
      ];
    }
    if (!s) return [];
    switch (element.kind) {
      case 'node': {
        const n = s.nodes.find((x) => x.key === element.key);
        // The nodes that stream from this one first, then its own figures.
        const downstream = (this.hierarchy.children.get(element.key) ?? []).map((key): ClusterTreeElement => ({ kind: 'node', key }));
        return n ? [...downstream, ...nodeDetails(n, s)] : [];
      }
      case 'pgbouncer':
        return pgbouncerDetails(s.pgbouncer, s);
      case 'backups':
        return this.backups ? backupDetails(this.backups) : [];
      case 'detail':
        return [...(element.children ?? [])];
      default:
        return [];
    }
  }

  /** A node's parent is the node it streams from (so reveal() finds a nested replica). */
  getParent(element: ClusterTreeElement): ClusterTreeElement | undefined {
    if (element.kind !== 'node') return undefined;
    for (const [up, downs] of this.hierarchy.children) if (downs.includes(element.key)) return { kind: 'node', key: up };
    return undefined;
  }

  getTreeItem(e: ClusterTreeElement): vscode.TreeItem {
    const s = this.status;
    switch (e.kind) {
      case 'node': {
        const n = s!.nodes.find((x) => x.key === e.key)!;
        // Expanded when it has nodes under it, so the topology is visible at a glance.
        const hasDownstream = (this.hierarchy.children.get(n.key) ?? []).length > 0;
        const item = new vscode.TreeItem(n.name, hasDownstream ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `node:${n.key}`;
        item.description = nodeDescription(n, s!);
        item.tooltip = nodeTooltip(n, s!);
        item.iconPath = nodeIcon(n);
        const lastRole: RememberedRole = this.lastRole.get(n.key) ?? 'unknown';
        item.contextValue = nodeContextValue(this.manager(), n, lastRole);
        item.accessibilityInformation = { label: `${n.name}, ${item.description}` };
        return item;
      }
      case 'pgbouncer': {
        const b = s!.pgbouncer;
        const item = new vscode.TreeItem(b.container, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'pgbouncer';
        item.description = pgbouncerDescription(b, s!);
        item.tooltip = pgbouncerTooltip(b, s!);
        const color = b.health === 'ok' ? 'charts.purple' : HEALTH_COLOR[b.health];
        item.iconPath = new vscode.ThemeIcon(b.health === 'pending' ? 'loading~spin' : 'plug', color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = pgbouncerContextValue(this.manager(), b);
        return item;
      }
      case 'backups': {
        const b = this.backups!;
        const item = new vscode.TreeItem(t('Backups'), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = 'backups';
        item.description = backupsDescription(b);
        item.tooltip = t('Base backups, dumps and the WAL archive on the backup volume (/backup). Replication is not a backup: a DELETE reaches every replica.');
        const failing = b.catalog && (b.catalog.archive.failedCount ?? 0) > 0 && (b.catalog.archive.lastFailedAt ?? 0) > (b.catalog.archive.lastArchivedAt ?? 0);
        item.iconPath = new vscode.ThemeIcon(failing || !b.catalog ? 'warning' : 'archive', failing ? new vscode.ThemeColor('list.warningForeground') : undefined);
        item.contextValue = 'backups';
        return item;
      }
      case 'alert': {
        const a = e.alert;
        const item = new vscode.TreeItem(alertTitle(a), vscode.TreeItemCollapsibleState.None);
        item.id = `alert:${a.id}`;
        // The title and who it concerns fit the side bar; the full explanation is the tooltip.
        item.description = alertNodes(a, s!);
        item.tooltip = new vscode.MarkdownString(`**${alertTitle(a)}**\n\n${a.message}`);
        item.iconPath = new vscode.ThemeIcon(a.severity === 'error' ? 'error' : 'warning', new vscode.ThemeColor(a.severity === 'error' ? 'list.errorForeground' : 'list.warningForeground'));
        item.contextValue = `alert.${a.kind}`;
        return item;
      }
      case 'profile': {
        const item = new vscode.TreeItem(shortProfileLabel(e.profile.label), vscode.TreeItemCollapsibleState.None);
        item.id = `profile:${e.profile.id}`;
        // Short, beside the name (the mode is in the view's title): the rest is in the tooltip.
        item.description = t('{0} nodes', e.profile.nodes.length);
        item.tooltip = profileTooltip(e.profile);
        item.iconPath = new vscode.ThemeIcon('plug');
        item.contextValue = 'clusterProfile';
        item.command = { title: t('Switch Cluster…'), command: 'pgHaWorkshop.switchClusterProfile' };
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(e.text, vscode.TreeItemCollapsibleState.None);
        item.id = `message:${e.id}`;
        item.tooltip = e.id === 'untrusted' ? t("This folder is not trusted, so the workshop's commands that start, stop or change containers and run SQL are turned off; the view still shows the cluster. Trust it if you know its files: the workshop runs its Docker Compose file and scripts.") : e.text;
        item.iconPath = new vscode.ThemeIcon(e.icon);
        item.command = e.command;
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(e.label, e.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = e.id;
        item.description = e.description;
        item.tooltip = e.tooltip ?? (e.description ? `${e.label}: ${e.description}` : e.label);
        if (e.icon) item.iconPath = new vscode.ThemeIcon(e.icon);
        item.contextValue = e.contextValue ?? 'detail';
        return item;
      }
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** "primary, replica1": the nodes an alert concerns, short. */
export function alertNodes(a: Alert, status: ClusterStatus): string {
  return a.nodes.map((k) => (status.nodes.find((n) => n.key === k)?.name ?? k).replace(/^(.*-)?postgres-/, '')).join(', ');
}

export function alertTitle(a: Alert): string {
  switch (a.kind) {
    case 'splitBrain':
      return t('Split brain');
    case 'timelineDivergence':
      return t('Timeline divergence');
    case 'lagOverThreshold':
      return t('Replication lag over threshold');
    case 'slotRetainedWal':
      return t('Slot retains too much WAL');
    case 'inactiveSlot':
      return t('Inactive replication slot');
    case 'notStreaming':
      return t('Replica not streaming');
    case 'noPrimary':
      return t('No primary');
    case 'pgbouncerNotOnPrimary':
      return t('PgBouncer not on the primary');
    case 'tooFewStreamingReplicas':
      return t('Replica disconnected');
  }
}

/** "read-only", "lab" or "Patroni": what the extension may do to an attached cluster. */
export function attachedModeText(p: AttachedProfile): string {
  if (patroniUrlsOf(p.patroniUrl).length) return 'Patroni';
  return p.lab ? t('lab') : t('read-only');
}

/** The whole profile, for the tooltip: nothing of it is cut off there. */
export function profileTooltip(p: AttachedProfile): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`$(plug) **${escapeMd(p.label)}** · ${escapeMd(attachedModeText(p))}\n\n`);
  for (const n of p.nodes) md.appendMarkdown(`- ${escapeMd(n.name)}: \`${formatAddress(n.address)}\`\n`);
  md.appendMarkdown(`\n${escapeMd(t('User {0}, database {1}, sslmode={2}', p.user, p.database, p.ssl.mode))}\n\n`);
  const urls = patroniUrlsOf(p.patroniUrl);
  if (urls.length) md.appendMarkdown(`${escapeMd(t('Patroni REST API: {0}', urls.join(', ')))}\n\n`);
  md.appendMarkdown(escapeMd(t('Click to switch to another cluster.')));
  return md;
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}
