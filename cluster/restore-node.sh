#!/bin/sh
# Entry point of a RESTORED node (runs inside a new container as user postgres; started by
# restore-backup.sh or the extension's Restore to Point in Time, never on a cluster node).
# Empty data directory: copy a base backup from the backup volume, then start PostgreSQL in
# recovery: it replays WAL from the archive (restore_command) up to the recovery target and is
# promoted there, a separate primary on a new timeline. Data present: start on it.
# The node never archives (archive_mode=off) and never streams from the cluster, so it cannot
# touch the running cluster or its archive.
#
# Environment:
#   PGHA_BACKUP          the base backup to restore: its folder under /backup, e.g. base/20261201-210503
#                        or 20261201 (the workshop's pg_basebackup -D /backup/$(date +%Y%m%d)); required
#   PGHA_NODE            this node's name (its cluster_name), e.g. postgres-restore-1
#   PGHA_TARGET_TIME     recovery_target_time, e.g. '2026-12-01 21:05:03.123+00' (optional)
#   PGHA_TARGET_LSN      recovery_target_lsn, e.g. 0/3000060 (optional; not with a time)
#   PGHA_TARGET_INCLUSIVE  false (default: stop just BEFORE the target) or true
#   (neither target: replay every segment the archive holds)
set -eu

PGDATA="${PGDATA:-/var/lib/postgresql/data}"
CONF="${PGHA_CONFIG_FILE:-/etc/postgresql/postgresql.conf}"
NODE="${PGHA_NODE:-postgres-restore}"
BACKUP_ROOT="${PGHA_BACKUP_ROOT:-/backup}"
BACKUP="${PGHA_BACKUP:?PGHA_BACKUP must name a base backup folder under $BACKUP_ROOT, e.g. base/20261201-210503}"
SRC="$BACKUP_ROOT/$BACKUP"
export PGDATA

log() { echo "pgha[$NODE]: $*"; }
die() { log "error: $*" >&2; exit 1; }
wipe() { rm -rf "$PGDATA"/* "$PGDATA"/.[!.]* 2>/dev/null || true; }

if [ "${1:-}" = postgres ]; then shift; fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -f "$SRC/backup_label" ] || die "no base backup at $SRC (no backup_label): list them with ls $BACKUP_ROOT $BACKUP_ROOT/base"
  [ -z "$(ls -A "$PGDATA" 2>/dev/null)" ] || die "$PGDATA is not empty but holds no PG_VERSION: refusing to restore over it"
  log "copying base backup $BACKUP ($(du -sh "$SRC" 2>/dev/null | cut -f1)) to $PGDATA"
  if ! cp -R "$SRC"/. "$PGDATA"/ 2>/tmp/pgha-copy.err; then
    err="$(tail -n 1 /tmp/pgha-copy.err)"
    wipe
    die "copying the base backup failed: $err (is the volume full? free: $(df -h "$PGDATA" | awk 'NR==2 {print $4}'))"
  fi
  # A backup of a standby or a clone carries standby settings: this node is restored, not a replica.
  rm -f "$PGDATA/standby.signal" "$PGDATA/postmaster.pid"
  touch "$PGDATA/recovery.signal"
  log "base backup copied; starting recovery"
fi
chmod 700 "$PGDATA"

sysid="$(pg_controldata "$PGDATA" | sed -n 's/^Database system identifier: *//p')"
ARCHIVE_DIR="$BACKUP_ROOT/wal/$sysid"
[ -d "$ARCHIVE_DIR" ] || log "warning: no WAL archive at $ARCHIVE_DIR: only the base backup itself can be restored"

set -- -c restore_command="cp $ARCHIVE_DIR/%f %p" -c recovery_target_action=promote "$@"
if [ -n "${PGHA_TARGET_TIME:-}" ] && [ -n "${PGHA_TARGET_LSN:-}" ]; then die "give PGHA_TARGET_TIME or PGHA_TARGET_LSN, not both"; fi
if [ -n "${PGHA_TARGET_TIME:-}" ]; then
  set -- -c recovery_target_time="$PGHA_TARGET_TIME" -c recovery_target_inclusive="${PGHA_TARGET_INCLUSIVE:-false}" "$@"
  log "recovery target: time $PGHA_TARGET_TIME"
elif [ -n "${PGHA_TARGET_LSN:-}" ]; then
  set -- -c recovery_target_lsn="$PGHA_TARGET_LSN" -c recovery_target_inclusive="${PGHA_TARGET_INCLUSIVE:-false}" "$@"
  log "recovery target: LSN $PGHA_TARGET_LSN"
else
  log "recovery target: the end of the archive"
fi
# Settings the backup may carry from the cluster (ALTER SYSTEM of Exercises 1 and 3, standby
# settings) are overridden on the command line, which wins over postgresql.auto.conf.
exec postgres -D "$PGDATA" -c config_file="$CONF" -c cluster_name="$NODE" \
  -c archive_mode=off -c primary_conninfo= -c primary_slot_name= \
  -c synchronous_standby_names= -c recovery_min_apply_delay=0 "$@"
