// The workshop's demos as functions (no vscode): each returns a DemoResult with measured values and
// the checks the workshop promises, or throws DemoNotReady (nothing changed: what is missing) or
// DemoFailed (changed part-way: where the cluster was left).
export * from './common';
export { verifyReplication, type VerifyMeasures } from './verifyReplication';
export { basicReplication, VISIBILITY_PROMISE_MS, type BasicReplicationMeasures } from './basicReplication';
export { readScaling, type ReadScalingMeasures } from './readScaling';
export { lagMonitoring, LAG_PROMISE_MS, type LagMonitoringMeasures } from './lagMonitoring';
export { primaryFailover, type FailoverMeasures } from './primaryFailover';
export { lagUnderLoad, type LagUnderLoadMeasures } from './lagUnderLoad';
export { splitBrain, splitBrainStart, type SplitBrainMeasures } from './splitBrain';
export { pgbouncerPooling, type PgBouncerMeasures } from './pgbouncerPooling';
export { replicationNotBackup, DEMO9_DELAY_SEC, type ReplicationNotBackupMeasures, type WayMeasures } from './replicationNotBackup';
export { cleanupCluster, type CleanupMeasures } from './cleanup';
