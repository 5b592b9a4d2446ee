#!/bin/sh
# Entry point of the postgres-primary service (runs inside the container as user postgres).
# Empty data directory: initdb, then run init/*.sql once (roles, demodb, replication slots).
# Data present: start on it, whatever it holds (so `docker stop` / `docker start` behave as in
# the workshop, split brain included). Arguments (compose `command:`) are passed to postgres,
# e.g. command: ["-c", "synchronous_commit=remote_apply"].
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
CONF="${PGHA_CONFIG_FILE:-/etc/postgresql/postgresql.conf}"
NODE="${PGHA_NODE:-postgres-primary}"
INIT_DIR="${PGHA_INIT_DIR:-/pgha/init}"
export PGDATA

log() { echo "pgha[$NODE]: $*"; }

# Images whose default command is `postgres` hand it over as the first argument.
if [ "${1:-}" = postgres ]; then shift; fi

initialize() {
  if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
    log "$PGDATA is not empty but holds no PG_VERSION: refusing to initialize over it." >&2
    log "Remove the volume (docker compose down -v) or empty the directory, then start again." >&2
    exit 1
  fi
  log "initializing a new cluster in $PGDATA"
  # A failed first initialization leaves nothing behind, so the next start tries again.
  trap 'log "initialization failed; cleaning $PGDATA"; pg_ctl -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDATA"/* "$PGDATA"/.[!.]* 2>/dev/null || true' EXIT
  # Nothing is synced file by file while initializing (initdb --no-sync, the setup server with
  # fsync=off): one sync of the data directory's file system after its clean shutdown makes all of
  # it durable at once, seconds sooner on a slow disk.
  initdb -D "$PGDATA" -U postgres --encoding=UTF8 --no-locale --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  # Listen on the socket only while the init scripts run: nobody connects to a half-made cluster.
  pg_ctl -D "$PGDATA" -w -t 60 -o "-c config_file=$CONF -c listen_addresses='' -c cluster_name=$NODE -c archive_mode=off -c fsync=off -c full_page_writes=off" start
  for f in "$INIT_DIR"/*.sql; do
    [ -e "$f" ] || continue
    log "running $(basename "$f")"
    psql -X -q -v ON_ERROR_STOP=1 -U postgres -d postgres -f "$f"
  done
  pg_ctl -D "$PGDATA" -w -t 60 -m fast stop
  sync -f "$PGDATA" 2>/dev/null || sync
  trap - EXIT
  log "initialization done"
}

# A node a failover fenced must not come back as a second primary (lib/fence.sh).
. /pgha/lib/fence.sh
refuse_if_fenced

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initialize
fi
chmod 700 "$PGDATA"
if [ -f "$PGDATA/standby.signal" ]; then log "starting as a standby (standby.signal present)"; else log "starting"; fi
# WAL archiving needs the backup volume (docker-compose.yml mounts it at /backup).
. /pgha/lib/archive.sh
wal_archive_setup
[ "$ARCHIVE" = on ] || log "no writable /backup/wal: WAL archiving is off (recreate the cluster to get the backup volume)"
exec postgres -D "$PGDATA" -c config_file="$CONF" -c cluster_name="$NODE" -c archive_mode="$ARCHIVE" "$@"
