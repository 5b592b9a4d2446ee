# Sourced by the node entry points (POSIX sh, inside the container). The WAL archive lives on the
# shared backup volume, one folder per database system (its identifier from pg_control), so a
# cluster created afresh never collides with the segments of an earlier one.
#   wal_archive_setup  sets ARCHIVE=on|off (for -c archive_mode) and exports PGHA_WAL_ARCHIVE
#                      (read by archive-wal.sh, which archive_command runs)
BACKUP_ROOT="${PGHA_BACKUP_ROOT:-/backup}"

system_identifier() { # system_identifier PGDATA
  pg_controldata "$1" 2>/dev/null | sed -n 's/^Database system identifier: *//p'
}

wal_archive_setup() {
  ARCHIVE=off
  # The one-shot backup-volume service makes a new volume writable; it runs beside the primary's
  # first start (not before it), so give it a moment when the volume is there but not ready yet.
  waited=0
  while [ -d "$BACKUP_ROOT" ] && ! [ -w "$BACKUP_ROOT/wal" ] && [ "$waited" -lt 50 ]; do
    sleep 0.2
    waited=$((waited + 1))
  done
  if [ -d "$BACKUP_ROOT/wal" ] && [ -w "$BACKUP_ROOT/wal" ]; then
    sysid="$(system_identifier "$PGDATA")"
    if [ -n "$sysid" ] && mkdir -p "$BACKUP_ROOT/wal/$sysid" 2>/dev/null; then
      PGHA_WAL_ARCHIVE="$BACKUP_ROOT/wal/$sysid"
      export PGHA_WAL_ARCHIVE
      ARCHIVE=on
    fi
  fi
}
