#!/bin/sh
# Entry point of the replica services (runs inside the container as user postgres).
# Data present: start on it (standby.signal decides standby or primary, so a promoted replica
# stays primary across restarts). Empty data directory: wait for the cluster's writable node,
# make sure this replica's slot exists there, clone it with `pg_basebackup -R -X stream -S SLOT`
# and start as a hot standby streaming from it.
#
# Environment (set by docker-compose.yml):
#   PGHA_NODE      this node's service name, e.g. postgres-replica1 (also its cluster_name,
#                  hence its application_name in pg_stat_replication)
#   PGHA_SLOT      its replication slot (default: PGHA_NODE with '-' -> '_')
#   PGHA_PEERS     service names searched for the writable node, in order
#   PGHA_UPSTREAM  clone from this node instead, primary or standby (cascading replication,
#                  Exercise 2: PGHA_UPSTREAM=postgres-replica1 on postgres-replica2)
# Arguments (compose `command:`) are passed to postgres.
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
CONF="${PGHA_CONFIG_FILE:-/etc/postgresql/postgresql.conf}"
NODE="${PGHA_NODE:?PGHA_NODE must name this service, e.g. postgres-replica1}"
SLOT="${PGHA_SLOT:-$(echo "$NODE" | tr '-' '_')}"
PEERS="${PGHA_PEERS:-postgres-primary postgres-replica1 postgres-replica2}"
UPSTREAM="${PGHA_UPSTREAM:-}"
REPL_USER="${PGHA_REPLICATION_USER:-replicator}"
export PGDATA PGPASSWORD="${PGHA_REPLICATION_PASSWORD:-replicator}" PGCONNECT_TIMEOUT=10
# Marks a clone in progress; lives in the container, not in the volume.
CLONING=/tmp/pgha-clone-in-progress

log() { echo "pgha[$NODE]: $*"; }

if [ "${1:-}" = postgres ]; then shift; fi

start() {
  chmod 700 "$PGDATA"
  # A standby does not archive (archive_mode=on); once promoted it archives to the same place.
  . /pgha/lib/archive.sh
  wal_archive_setup
  exec postgres -D "$PGDATA" -c config_file="$CONF" -c cluster_name="$NODE" -c archive_mode="$ARCHIVE" "$@"
}

q() { # q HOST SQL: one value, or failure
  psql -X -h "$1" -p 5432 -U "$REPL_USER" -d postgres -tAq -c "$2" 2>/dev/null
}

find_upstream() {
  if [ -n "$UPSTREAM" ]; then
    q "$UPSTREAM" 'SELECT 1' >/dev/null && { echo "$UPSTREAM"; return 0; }
    return 1
  fi
  for h in $PEERS; do
    [ "$h" = "$NODE" ] && continue
    [ "$(q "$h" 'SELECT pg_is_in_recovery()' || true)" = f ] && { echo "$h"; return 0; }
  done
  return 1
}

# The cluster's operation lock (a failover, a rejoin, promote-replica.sh ...) is visible on the
# cluster's network as the host name pgha-operation-lock while it is held: the writable node may be
# changing right now, so wait for it to finish before choosing what to clone.
operation_running() { getent hosts pgha-operation-lock >/dev/null 2>&1; }

wipe() { rm -rf "$PGDATA"/* "$PGDATA"/.[!.]* 2>/dev/null || true; }

# A node a failover fenced must not come back as a second primary (lib/fence.sh).
. /pgha/lib/fence.sh
refuse_if_fenced

if [ -f "$CLONING" ]; then
  log "a previous clone did not finish: discarding its partial copy"
  wipe
  rm -f "$CLONING"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
  if [ -f "$PGDATA/standby.signal" ]; then log "starting as a standby on existing data"; else log "starting on existing data (no standby.signal: not a standby)"; fi
  start "$@"
fi

if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
  log "$PGDATA is not empty but holds no PG_VERSION: refusing to clone over it." >&2
  log "Empty it (docker exec $NODE sh -c 'rm -rf $PGDATA/*') and start the container again." >&2
  exit 1
fi

waited=0
while :; do
  if operation_running; then
    [ $((waited % 10)) -eq 0 ] && log "a cluster operation is running (its lock pgha-operation-lock is held; docker ps --filter label=pg-ha-workshop.lock shows which): waiting for it to finish before cloning"
  elif up="$(find_upstream)"; then
    exists="$(q "$up" "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$SLOT'" || echo error)"
    if [ "$exists" = 0 ]; then
      log "creating replication slot $SLOT on $up"
      q "$up" "SELECT pg_create_physical_replication_slot('$SLOT')" >/dev/null || true
    fi
    log "cloning $up with pg_basebackup (slot $SLOT)"
    touch "$CLONING"
    if pg_basebackup -h "$up" -p 5432 -U "$REPL_USER" -D "$PGDATA" -R -X stream -S "$SLOT" -c fast --no-password; then
      rm -f "$CLONING"
      log "clone done: starting as a hot standby of $up"
      start "$@"
    fi
    log "pg_basebackup from $up failed; retrying"
    wipe
    rm -f "$CLONING"
  elif [ $((waited % 50)) -eq 0 ]; then
    log "waiting for a writable node among: ${UPSTREAM:-$PEERS}"
  fi
  # Short: all services start together, and the primary answers a second or two after this one.
  sleep 0.2
  waited=$((waited + 1))
done
