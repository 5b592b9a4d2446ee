// Command ids of the load, failover, fencing, rejoin and synchronous-replication commands.
export const FailoverCommands = {
  startLoad: 'pgHaWorkshop.startLoad',
  stopLoad: 'pgHaWorkshop.stopLoad',
  failOver: 'pgHaWorkshop.failOver',
  switchover: 'pgHaWorkshop.switchover',
  fenceNode: 'pgHaWorkshop.fenceNode',
  rejoinReplica: 'pgHaWorkshop.rejoinReplica',
  setSynchronousReplication: 'pgHaWorkshop.setSynchronousReplication',
  showFailoverReport: 'pgHaWorkshop.showFailoverReport',
} as const;
