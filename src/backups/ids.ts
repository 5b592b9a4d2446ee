export const BackupCommands = {
  takeBaseBackup: 'pgHaWorkshop.takeBaseBackup',
  dumpDatabase: 'pgHaWorkshop.dumpDatabase',
  restoreToPointInTime: 'pgHaWorkshop.restoreToPointInTime',
  removeRestoredNode: 'pgHaWorkshop.removeRestoredNode',
  refreshBackups: 'pgHaWorkshop.refreshBackups',
} as const;
