// Localized words for demo results: a one-line summary with the measured values, and a label for
// each check. The core returns numbers and stable check ids; this is the one place they become text.
import * as vscode from 'vscode';
import type { DemoCheck, DemoId, DemoResult } from '../core/demos/common';
import type {
  BasicReplicationMeasures,
  CleanupMeasures,
  FailoverMeasures,
  LagMonitoringMeasures,
  LagUnderLoadMeasures,
  PgBouncerMeasures,
  ReadScalingMeasures,
  ReplicationNotBackupMeasures,
  WayMeasures,
  SplitBrainMeasures,
  VerifyMeasures,
} from '../core/demos';
import { formatBytes, formatDuration } from '../core/format';
import type { PrerequisiteCheck } from '../core/prerequisites';

const t = vscode.l10n.t;

/** A record's entries in name order (replica1 before replica2), whichever replica answered first. */
const byName = <V>(r: Readonly<Record<string, V>>): [string, V][] => Object.entries(r).sort(([a], [b]) => a.localeCompare(b));
const ms = (v: number | null | undefined) => (v === null || v === undefined ? '?' : formatDuration(v));
const short = (service: string) => service.replace(/^postgres-/, '');

export function demoTitle(id: DemoId): string {
  switch (id) {
    case 'prerequisites': return t('Check prerequisites');
    case 'start': return t('Start cluster');
    case 'verify': return t('Verify replication');
    case 'demo1': return t('Demo 1: Basic replication');
    case 'demo2': return t('Demo 2: Read scaling');
    case 'demo3': return t('Demo 3: Replication lag monitoring');
    case 'demo4': return t('Demo 4: Primary failure and manual failover');
    case 'demo5': return t('Demo 5: Replication lag under load');
    case 'demo6': return t('Demo 6: Split brain');
    case 'demo7': return t('Demo 7: Connection pooling with PgBouncer');
    case 'demo9': return t('Demo 9: Replication is not a backup');
    case 'cleanup': return t('Cleanup');
  }
}

const CHECK_LABELS: () => Record<string, string> = () => ({
  docker: t('Docker engine reachable'),
  compose: t('Docker Compose available'),
  ports: t('Workshop ports free'),
  healthy: t('Cluster healthy'),
  replicasConnected: t('Primary shows the replicas connected'),
  replicasInRecovery: t('Replicas show pg_is_in_recovery() = true'),
  rowReplicated: t('Data inserted on the primary appears on the replicas'),
  replicaReadOnly: t('Write to a replica fails (read-only)'),
  visibleUnder1s: t('Data appears on the replicas in < 1 s'),
  replicaWriteRefused: t('Write to the replica refused'),
  allReadsAnswered: t('Every read answered'),
  servedByReplicas: t('Reads served by replicas'),
  replicasAgree: t('Replicas agree with the primary'),
  streaming: t('Replicas streaming'),
  async: t('sync_state = async'),
  lagUnder100ms: t('Lag usually < 100 ms'),
  loadRan: t('Write load ran without errors'),
  promoted: t('Replica promoted'),
  acceptsWrites: t('New primary accepts writes'),
  rtoMeasured: t('Downtime (RTO) measured'),
  rpoMeasured: t('Data loss (RPO) measured'),
  lagGrew: t('Lag grows under heavy load'),
  caughtUp: t('Replicas catch up after the load'),
  bothWritable: t('Both nodes say pg_is_in_recovery() = false (split brain)'),
  detected: t('Split brain detected'),
  fenced: t('Old primary fenced'),
  rejoined: t('Old primary rejoined as a replica'),
  readThroughPgBouncer: t('Read through PgBouncer'),
  writesReachPrimary: t('Writes through PgBouncer reach the primary'),
  connectionReuse: t('Server connections reused'),
  poolsAndStats: t('SHOW POOLS and SHOW STATS'),
  containersRemoved: t('No container left'),
  mistakeReplicated: t('The DELETE reaches both replicas within milliseconds'),
  delayedReplicaBack: t('(a) Delayed replica: earlier writes back'),
  pitrBack: t('(b) Point-in-time recovery: earlier writes back'),
  dumpBack: t('(c) Logical dump: earlier writes back'),
  nothingLost: t('Every acknowledged write is on the primary again'),
});

export function checkLabel(c: Pick<DemoCheck, 'id'>): string {
  return CHECK_LABELS()[c.id] ?? c.id;
}

export function prerequisiteFix(c: PrerequisiteCheck): string | undefined {
  if (c.ok) return undefined;
  if (c.id === 'docker') return t('Start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux), or set "pgHaWorkshop.dockerHost".');
  if (c.id === 'compose') return t('Install Docker Compose: Docker Desktop includes it; on Linux install docker-compose-plugin (`docker compose`) or docker-compose.');
  return t('Stop what holds port(s) {0}, or choose other ports with PGHA_PRIMARY_PORT, PGHA_REPLICA1_PORT, PGHA_REPLICA2_PORT, PGHA_PGBOUNCER_PORT.', (c.takenPorts ?? []).join(', '));
}

/** The measured values in one line. */
export function summarize(r: DemoResult<unknown>): string {
  const m = r.measures as never;
  switch (r.demo) {
    case 'prerequisites': {
      const checks = (r.measures as { checks: PrerequisiteCheck[] }).checks;
      return checks.map((c) => `${c.ok ? '✓' : '✗'} ${checkLabel(c)}: ${c.detail}`).join('; ');
    }
    case 'start':
      return t('Cluster healthy in {0} s: a primary, 2 streaming replicas and PgBouncer.', (r.measures as { seconds: number }).seconds.toFixed(1));
    case 'verify': {
      const v = m as VerifyMeasures;
      const seen = byName(v.visibleAfterMs).map(([k, x]) => t('{0} after {1}', short(k), ms(x))).join(', ');
      return t('{0} replicas streaming from {1}; in recovery: {2}; row seen on {3}; write to {4}: {5}', v.streaming.length, short(v.primary), Object.values(v.inRecovery).map(String).join('/'), seen, short(v.readOnlyError?.replica ?? '?'), v.readOnlyError ? t('refused: read-only') : t('accepted'));
    }
    case 'demo1': {
      const v = m as BasicReplicationMeasures;
      const seen = byName(v.visibleAfterMs).map(([k, x]) => t('{0} saw the row after {1}', short(k), ms(x))).join('; ');
      return `${seen}; ${v.writeRefused.refused ? t('write to {0} refused: read-only', short(v.writeRefused.replica)) : t('write to {0} ACCEPTED', short(v.writeRefused.replica))}`;
    }
    case 'demo2': {
      const v = m as ReadScalingMeasures;
      return t('{0} reads in {1} rounds ({2}/s): {3}; primary has {4} rows', v.totalReads, v.rounds, v.readsPerSec, v.replicas.map((x) => t('{0} {1}/{2} (p50 {3})', short(x.replica), x.reads, v.rounds, ms(x.p50Ms))).join(', '), v.primaryCount);
    }
    case 'demo3': {
      const v = m as LagMonitoringMeasures;
      return t('{0} writes/s for {1} s; {2}', v.writesPerSec, v.durationSec, v.replicas.map((x) => t('{0}: {1}, {2}, replay lag p50 {3}, max {4}', short(x.replica), x.states.join('/'), x.syncStates.join('/'), ms(x.p50ReplayLagMs), ms(x.maxReplayLagMs))).join('; '));
    }
    case 'demo4': {
      const v = m as FailoverMeasures;
      return t('{0} promoted (timeline {1}); RTO {2} ({3} failed writes); RPO {4} of {5} acknowledged writes lost; AfterFailover row id {6}', short(v.newPrimary), v.timeline, ms(v.rtoMs), v.failedWrites, v.rpoLostWrites ?? '?', v.rpoAcked ?? '?', v.afterFailoverRowId ?? '?');
    }
    case 'demo5': {
      const v = m as LagUnderLoadMeasures;
      return t('{0} rows in {1} ({2} rows/s); {3}', v.rows, ms(v.loadMs), v.rowsPerSec, v.replicas.map((x) => t('{0}: peak {1} behind, caught up {2} after the load', short(x.replica), formatBytes(x.peakBehindBytes), ms(x.caughtUpAfterMs))).join('; '));
    }
    case 'demo6': {
      const v = m as SplitBrainMeasures;
      return t('{0}: pg_is_in_recovery() = {1}, {2}: {3} (split brain, detected in {4}); fenced {5}; rejoined by {6} in {7}', short(v.oldPrimary), String(v.inRecovery[v.oldPrimary]), short(v.newPrimary), String(v.inRecovery[v.newPrimary]), ms(v.detectedMs), short(v.fenced), v.rejoinMethod ?? '?', ms(v.rejoinMs));
    }
    case 'demo7': {
      const v = m as PgBouncerMeasures;
      const repoint = v.repointed ? t('repointed {0} → {1} in {2}', short(v.repointed.from), short(v.repointed.to), ms(v.repointed.ms)) : v.afterFailover ? t('already on {0} (the failover repointed it)', short(v.primary)) : t('points at {0}', short(v.primary));
      return t('{0} clients → {1} server connection(s) through PgBouncer, {2} direct ({3} vs {4} per connection); writes land on {5}; {6}', v.clientConnections, v.backendsViaPgBouncer, v.backendsDirect, ms(v.avgConnectMsViaPgBouncer), ms(v.avgConnectMsDirect), short(v.writeLandedOn ?? '?'), repoint);
    }
    case 'demo9': {
      const v = m as ReplicationNotBackupMeasures;
      const way = (w: WayMeasures | undefined) => (w ? t('{0}/{1} back in {2}, {3} later writes given up', w.backBefore, w.ackedBefore, ms(w.readyMs + w.copyMs), w.givenUp) : '?');
      return t('DELETE of {0} rows: gone on replica1 after {1}, WAL on the delayed replica after {2}. (a) delayed replica: {3}; (b) PITR: {4}; (c) dump: {5}; {6} of {7} acknowledged writes missing at the end', v.rowsDeleted, ms(v.appliedOnReplicaMs), ms(v.receivedByDelayedMs), way(v.delayed), way(v.pitr), way(v.logicalDump), v.missingAtEnd, v.acked);
    }
    case 'cleanup': {
      const v = m as CleanupMeasures;
      return v.removedData ? t('Cluster and its data removed in {0}.', ms(v.downMs)) : t('Cluster removed in {0}; data volumes kept for the next start.', ms(v.downMs));
    }
  }
}
