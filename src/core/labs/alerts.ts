// Exercise 5: the three alerts of the workshop's "Monitoring & Alerting" section, each with its
// SQL as the workshop writes it and whether it fires now. The conditions themselves are evaluated
// once, in deriveStatus (status.ts: lagOverThreshold, tooFewStreamingReplicas, slotRetainedWal),
// so the tree, the status bar, the notifications and this list always agree.
//
// API (no vscode): workshopAlertRules(status) → WorkshopAlertRule[] (pure)
import { formatBytes } from '../format';
import type { AlertKind, ClusterStatus } from '../status';

export interface WorkshopAlertRule {
  readonly id: 'lag' | 'disconnected' | 'walRetention';
  readonly kind: AlertKind;
  readonly title: string;
  readonly sql: string;
  readonly firing: boolean;
  /** The firing alerts' messages (empty when quiet). */
  readonly messages: readonly string[];
}

export function workshopAlertRules(s: ClusterStatus): WorkshopAlertRule[] {
  const th = s.thresholds;
  const rule = (id: WorkshopAlertRule['id'], kind: AlertKind, title: string, sql: string): WorkshopAlertRule => {
    const hits = s.alerts.filter((a) => a.kind === kind);
    return { id, kind, title, sql, firing: hits.length > 0, messages: hits.map((a) => a.message) };
  };
  return [
    rule('lag', 'lagOverThreshold', `Lag > ${th.lagSeconds} s`, `SELECT EXTRACT(EPOCH FROM replay_lag) > ${th.lagSeconds} FROM pg_stat_replication;`),
    rule('disconnected', 'tooFewStreamingReplicas', `Replica disconnected (fewer than ${th.minStreamingReplicas ?? 2} streaming)`, `SELECT count(*) < ${th.minStreamingReplicas ?? 2} FROM pg_stat_replication WHERE state = 'streaming';`),
    rule(
      'walRetention',
      'slotRetainedWal',
      `WAL retention > ${formatBytes(th.retainedWalBytes)}`,
      `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > ${th.retainedWalBytes} FROM pg_replication_slots WHERE NOT active;`,
    ),
  ];
}
