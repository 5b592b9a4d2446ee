// The Patroni view: what `patronictl list` shows (member, role, state, TL, lag, LSNs, pending
// restart), the DCS health (etcd members, raft leader, the leader lock's holder and TTL) and the
// settings. Renders the PatroniMonitor's status; keeps no state of its own.
import * as vscode from 'vscode';
import { formatBytes } from '../core/format';
import { memberActions, memberContextValue } from '../core/patroni/manager';
import type { PatroniMemberRow, PatroniStatus } from '../core/patroni/status';

const t = vscode.l10n.t;

export type PatroniTreeElement =
  | { readonly kind: 'section'; readonly id: 'members' | 'dcs' | 'settings' | 'history' }
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'detail'; readonly id: string; readonly label: string; readonly description?: string; readonly icon?: string; readonly tooltip?: string }
  | { readonly kind: 'message'; readonly label: string };

export class PatroniTreeProvider implements vscode.TreeDataProvider<PatroniTreeElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<PatroniTreeElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  current: PatroniStatus | undefined;
  /** Members cut from etcd by this window, and containers not running (from Docker). */
  cut = new Set<string>();
  stopped = new Set<string>();
  /** No etcd container exists: the Patroni cluster was never started here (the view's welcome shows). */
  notCreated = false;

  update(s: PatroniStatus): void {
    this.current = s;
    this.changed.fire(undefined);
  }

  getChildren(e?: PatroniTreeElement): PatroniTreeElement[] {
    const s = this.current;
    if (!e) {
      if (!s) return [{ kind: 'message', label: t('Reading Patroni…') }];
      // Never started: an empty tree, so the view shows its welcome ("Start Patroni Cluster"), not
      // three etcd members "down" and "NO QUORUM" on a newcomer's first screen.
      if (!s.reachable && this.notCreated) return [];
      if (!s.reachable) return [{ kind: 'message', label: t('No Patroni member answers: start the Patroni cluster.') }, { kind: 'section', id: 'dcs' }];
      return [{ kind: 'section', id: 'members' }, { kind: 'section', id: 'dcs' }, { kind: 'section', id: 'settings' }, { kind: 'section', id: 'history' }];
    }
    if (!s || e.kind !== 'section') return [];
    if (e.id === 'members') return s.members.map((m) => ({ kind: 'member', name: m.name }));
    if (e.id === 'dcs') {
      const d = s.dcs;
      const rows: PatroniTreeElement[] = d.members.map((m) => ({
        kind: 'detail',
        id: `etcd:${m.name}`,
        label: m.name,
        description: m.healthy ? (m.isRaftLeader ? t('healthy · raft leader') : t('healthy')) : t('down'),
        icon: m.healthy ? 'pass' : 'error',
        tooltip: m.problem ?? m.clientUrl,
      }));
      const lock = d.lock;
      rows.push({
        kind: 'detail',
        id: 'lock',
        label: t('Leader lock'),
        description: lock?.holder ? t('{0} · {1} s left of {2} s', lock.holder, String(lock.ttlRemainingSec ?? '?'), String(lock.grantedTtlSec ?? '?')) : lock ? t('free (no leader)') : t('unknown'),
        icon: lock?.holder ? 'lock' : 'unlock',
        tooltip: d.lockProblem,
      });
      return rows;
    }
    if (e.id === 'settings') {
      const st = s.settings;
      if (!st) return [];
      const row = (id: string, label: string, description: string, tooltip: string): PatroniTreeElement => ({ kind: 'detail', id: `setting:${id}`, label, description, icon: 'settings', tooltip });
      const rows = [
        row('ttl', 'ttl', `${st.ttl} s`, t('Lifetime of the leader lock: a crashed leader is noticed at most this late.')),
        row('loop_wait', 'loop_wait', `${st.loop_wait} s`, t('Sleep between two runs of the Patroni loop.')),
        row('retry_timeout', 'retry_timeout', `${st.retry_timeout} s`, t('How long etcd and PostgreSQL operations are retried before the leader demotes itself.')),
        row('maximum_lag_on_failover', 'maximum_lag_on_failover', formatBytes(st.maximum_lag_on_failover), t('A replica further behind than this does not take part in a failover.')),
        row('synchronous_mode', 'synchronous_mode', st.synchronous_mode ? (st.synchronous_mode_strict ? t('on (strict)') : t('on')) : t('off'), t('On: only the Sync Standby may be promoted, so no acknowledged write is lost.')),
        row('pause', t('maintenance mode'), s.paused ? t('paused: no automatic failover') : t('off'), t('Pause/Resume in the view title.')),
      ];
      for (const p of [...s.settingsProblems, ...s.settingsNotes]) rows.push({ kind: 'detail', id: `note:${p}`, label: p, icon: 'warning' });
      return rows;
    }
    return [...s.history].reverse().slice(0, 10).map((h) => ({
      kind: 'detail',
      id: `tl:${h.timeline}`,
      label: t('timeline {0} → {1}', String(h.timeline), String(h.timeline + 1)),
      description: `${h.newLeader ?? ''} ${h.timestamp ?? ''}`.trim(),
      icon: 'history',
      tooltip: h.reason,
    }));
  }

  getTreeItem(e: PatroniTreeElement): vscode.TreeItem {
    if (e.kind === 'message') return new vscode.TreeItem(e.label);
    if (e.kind === 'section') {
      const label = { members: t('Members'), dcs: t('DCS (etcd)'), settings: t('Settings'), history: t('History') }[e.id];
      const item = new vscode.TreeItem(label, e.id === 'history' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
      item.id = `patroni:${e.id}`;
      if (e.id === 'dcs' && this.current) item.description = this.current.dcs.quorum ? t('quorum {0}/{1}', String(this.current.dcs.healthyCount), String(this.current.dcs.members.length)) : t('NO QUORUM');
      return item;
    }
    if (e.kind === 'detail') {
      const item = new vscode.TreeItem(e.label);
      item.id = `patroni:${e.id}`;
      item.description = e.description;
      item.tooltip = e.tooltip;
      if (e.icon) item.iconPath = new vscode.ThemeIcon(e.icon);
      return item;
    }
    const m = this.current?.members.find((x) => x.name === e.name);
    const item = new vscode.TreeItem(e.name);
    item.id = `patroni:member:${e.name}`;
    item.description = m ? memberDescription(m) : '';
    item.iconPath = new vscode.ThemeIcon(m?.role === 'leader' ? 'star-full' : m?.role === 'sync_standby' ? 'sync' : 'database');
    item.tooltip = m ? memberTooltip(m) : undefined;
    item.contextValue = memberContextValue(memberActions(m, { containerRunning: !this.stopped.has(e.name), cutFromDcs: this.cut.has(e.name) }));
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export function memberDescription(m: PatroniMemberRow): string {
  const parts = [m.roleLabel, m.state];
  if (m.timeline !== undefined) parts.push(`TL ${m.timeline}`);
  if (m.role !== 'leader') parts.push(m.lagBytes === undefined ? t('lag unknown') : t('lag {0}', formatBytes(m.lagBytes)));
  if (m.pendingRestart) parts.push(t('pending restart'));
  return parts.join(' · ');
}

function memberTooltip(m: PatroniMemberRow): string {
  const l = [`${m.name} (${m.host ?? '?'})`, `${m.roleLabel} · ${m.state}`];
  if (m.lsn) l.push(t('WAL position {0}', m.lsn));
  if (m.receiveLsn) l.push(t('received {0} · replayed {1}', m.receiveLsn, m.replayLsn ?? '?'));
  if (m.pendingRestart) l.push(t('A setting changed that needs a restart: Restart (Patroni).'));
  return l.join('\n');
}
