// What each SQL cell of cluster/monitoring.pgha.sql must return on a healthy cluster, in cell
// order: the columns of each statement's result (a trailing '…' means "at least these"). Shared
// by the integration test (core) and the extension-host test (the notebook UI).
export const MONITORING_CELL_COLUMNS: readonly (readonly (readonly string[])[])[] = [
  [['pg_is_in_recovery']],
  [['application_name', 'client_addr', 'state', 'sync_state', 'replay_lag', 'lag_bytes']],
  [['replication_lag', 'is_replica']],
  [['slot_name', 'active', 'retained_wal']],
  [['pg_size_pretty'], ['pg_size_pretty'], ['count']],
  [['?column?']],
  [['?column?']],
  [['?column?']],
  [['line_number', 'type', 'database', 'user_name', 'address', 'auth_method']],
  [['status', 'sender_host', 'sender_port', 'slot_name']],
  [['total_wal_generated']],
  [['caught_up']],
  [['id', 'name', 'email', 'created_at']],
  [['id', 'name', 'email', 'created_at']],
  [['id', 'name', 'email', 'created_at']],
  [['count']],
  [['application_name', 'state', 'sync_state', 'replay_lag']],
  [['replication_lag']],
  [['pid', 'usesysid', 'usename', 'application_name', '…']],
  [['id', 'name', 'email', 'created_at']],
  [[]],
  [['application_name', 'lag']],
  [['pg_is_in_recovery']],
  [['id', 'name', 'email', 'created_at']],
  [['database', 'user', 'cl_active', '…']],
  [['database', 'total_xact_count', '…']],
  [['cluster_name', 'in_recovery', 'timeline', 'synchronous_standby_names', 'config_file']],
];

/** True when `actual` matches `expected` (exactly, or as a prefix when expected ends with '…'). */
export function columnsMatch(actual: readonly string[], expected: readonly string[]): boolean {
  if (expected[expected.length - 1] === '…') {
    const want = expected.slice(0, -1);
    return want.every((c) => actual.includes(c));
  }
  return actual.length === expected.length && actual.every((c, i) => c === expected[i]);
}

/** The nodes a target must have run on, given which node is primary (healthy cluster: postgres-primary). */
export function expectedNodes(target: string, primary = 'postgres-primary'): (node: string) => boolean {
  const all = ['postgres-primary', 'postgres-replica1', 'postgres-replica2'];
  switch (target) {
    case 'primary':
      return (n) => n === primary;
    case 'replica':
      return (n) => all.includes(n) && n !== primary;
    case 'all':
      return (n) => all.includes(n);
    default:
      return (n) => n === target;
  }
}
