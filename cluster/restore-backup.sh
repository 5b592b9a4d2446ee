#!/usr/bin/env bash
# Restores a base backup into a NEW node (a new container beside the cluster), replaying the WAL
# archive up to a point in time: point-in-time recovery (PITR), Demo 9 "Replication != Backup".
#   ./restore-backup.sh                                   newest backup, replay the whole archive
#   ./restore-backup.sh --time '2026-12-01 21:05:03+00'   stop just before that moment
#   ./restore-backup.sh --lsn 0/5000028                   stop just before that WAL position
# The running cluster is never touched: the new node has its own container, data and port, and it
# never archives. Remove it with: docker rm -f -v NAME
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

usage() {
  cat <<USAGE
Usage: ./restore-backup.sh [--time TIMESTAMP | --lsn LSN] [--backup FOLDER] [--name NAME] [--port PORT]

  --time TIMESTAMP  recovery_target_time: replay up to just before this moment
                    (e.g. '2026-12-01 21:05:03+00'; without a zone: UTC)
  --lsn LSN         recovery_target_lsn: replay up to just before this WAL position (e.g. 0/5000028)
  --backup FOLDER   the base backup, as a folder under /backup on the backup volume
                    (base/20261201-210503, or 20261201 made with the workshop's pg_basebackup);
                    default: the newest backup that ended before the target
  --name NAME       container name (default: ${PGHA_PREFIX}postgres-restore-<time>)
  --port PORT       host port on 127.0.0.1 (default: a free one from 5440)

Lists the backups when it cannot pick one. Prints the new node's port when it accepts queries.
Environment: PGHA_CONTAINER_PREFIX (see lib/common.sh)
USAGE
}

TIME="" LSN="" BACKUP="" NAME="" PORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --time) TIME="${2:-}"; shift 2 || die 2 "--time needs a timestamp" ;;
    --lsn) LSN="${2:-}"; shift 2 || die 2 "--lsn needs a WAL position" ;;
    --backup) BACKUP="${2:-}"; shift 2 || die 2 "--backup needs a folder" ;;
    --name) NAME="${2:-}"; shift 2 || die 2 "--name needs a container name" ;;
    --port) PORT="${2:-}"; shift 2 || die 2 "--port needs a port number" ;;
    *) usage >&2; die 2 "unknown argument '$1'" ;;
  esac
done
[ -z "$TIME" ] || [ -z "$LSN" ] || die 2 "give --time or --lsn, not both"
[ -z "$LSN" ] || [[ "$LSN" =~ ^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$ ]] || die 2 "'$LSN' is not a WAL position: write it as pg_current_wal_lsn() shows it, e.g. 0/5000028"
[ -z "$PORT" ] || is_uint "$PORT" || die 2 "--port must be a port number"
command -v docker >/dev/null 2>&1 || die 1 "docker is not installed"

# Learn the cluster's image, network, mounts from any of its nodes.
SOURCE=""
for s in $PGHA_NODES; do
  c="$(container_of "$s")"
  if docker inspect "$c" >/dev/null 2>&1; then SOURCE="$c"; break; fi
done
[ -n "$SOURCE" ] || die 1 "no node of the cluster exists (${PGHA_PREFIX}postgres-primary ...): start it first (docker compose up -d)"
mount_of() { docker inspect -f "{{range .Mounts}}{{if eq .Destination \"$1\"}}{{if .Name}}{{.Name}}{{else}}{{.Source}}{{end}}{{end}}{{end}}" "$SOURCE"; }
VOLUME="$(mount_of /backup)"
[ -n "$VOLUME" ] || die 1 "$SOURCE has no backup volume at /backup: the cluster was created before WAL archiving existed. Recreate it (docker compose down -v && docker compose up -d), then take a base backup."
PGHA_DIR="$(mount_of /pgha)"
CONF_DIR="$(mount_of /etc/postgresql)"
IMAGE="$(docker inspect -f '{{.Config.Image}}' "$SOURCE")"
NETWORK="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$SOURCE")"
PROJECT="$(docker inspect -f '{{index .Config.Labels "com.docker.compose.project"}}' "$SOURCE")"

# One look at the backup volume (a throw-away container: works while every node is down too).
peek() { docker run --rm --user postgres --entrypoint /bin/sh -v "$VOLUME:/backup:ro" "$IMAGE" -c "$1"; }
if [ -z "$BACKUP" ]; then
  # Backups (folders holding backup_label) with the moment each ended, newest first.
  list="$(peek 'for d in /backup/base/* /backup/*; do [ -f "$d/backup_label" ] || continue; e=$(stat -c %Y "$d/backup_manifest" 2>/dev/null || stat -c %Y "$d/backup_label"); echo "$e ${d#/backup/}"; done | sort -rn')"
  [ -n "$list" ] || die 1 "no base backup on the backup volume: take one first, e.g. docker exec ${PGHA_PREFIX}postgres-primary pg_basebackup -U postgres -D /backup/base/\$(date +%Y%m%d-%H%M%S) -c fast"
  if [ -n "$TIME" ]; then
    target="$(date -u -d "$TIME" +%s 2>/dev/null)" || die 2 "'$TIME' is not a timestamp: write it like '2026-12-01 21:05:03+00'"
    BACKUP="$(awk -v t="$target" '$1 < t { print $2; exit }' <<<"$list")"
    [ -n "$BACKUP" ] || die 1 "every backup ended after $TIME: a backup can only be rolled FORWARD. Pick a later time (the oldest backup ended $(date -u -d "@$(tail -n 1 <<<"$list" | cut -d' ' -f1)" '+%F %T UTC')). Backups: $(cut -d' ' -f2 <<<"$list" | tr '\n' ' ')"
  else
    BACKUP="$(head -n 1 <<<"$list" | cut -d' ' -f2)"
  fi
fi
echo "Restoring base backup $BACKUP${TIME:+ to just before $TIME}${LSN:+ to just before LSN $LSN}"

if [ -z "$PORT" ]; then
  PORT=5440
  while (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do PORT=$((PORT + 1)); done
fi
STAMP="$(date -u +%Y%m%d-%H%M%S)"
NAME="${NAME:-${PGHA_PREFIX}postgres-restore-$STAMP}"
out="$(docker run -d --name "$NAME" --user postgres --network "$NETWORK" -p "127.0.0.1:$PORT:5432" \
  --label "org.pgha.restore=$PROJECT" --label "org.pgha.backup=$BACKUP" \
  -e PGHA_NODE="$NAME" -e PGHA_BACKUP="$BACKUP" -e PGHA_TARGET_TIME="$TIME" -e PGHA_TARGET_LSN="$LSN" \
  -v "$VOLUME:/backup:ro" -v "$PGHA_DIR:/pgha:ro" -v "$CONF_DIR:/etc/postgresql:ro" -v /var/lib/postgresql/data \
  --stop-signal SIGINT --entrypoint /bin/sh "$IMAGE" /pgha/restore-node.sh 2>&1)" || die 1 "could not start $NAME: $(first_line "$out")"

echo "Started $NAME (port $PORT); waiting until recovery ends ..."
for _ in $(seq 1 600); do
  state="$(docker inspect -f '{{.State.Status}}' "$NAME" 2>/dev/null)"
  if [ "$state" != running ]; then
    docker logs --tail 15 "$NAME" >&2
    why="$(docker logs "$NAME" 2>&1 | grep -E 'FATAL|pgha.*error' | tail -n 1)"
    docker rm -f -v "$NAME" >/dev/null 2>&1
    die 1 "the restore failed and $NAME was removed (the cluster was not touched): ${why:-see the log above}"
  fi
  if [ "$(docker exec "$NAME" psql -X -U postgres -d postgres -tAc 'SELECT NOT pg_is_in_recovery()' 2>/dev/null)" = t ]; then
    stop="$(docker logs "$NAME" 2>&1 | grep -E 'recovery stopping|last completed transaction|redo done' | sed 's/^.*LOG: *//' | tail -n 2)"
    echo "${C_OK}Restored.${C_OFF} $NAME is a separate primary on 127.0.0.1:$PORT (${stop//$'\n'/; })"
    echo "  PGPASSWORD=postgres psql -h localhost -p $PORT -U postgres demodb"
    echo "  remove it: docker rm -f -v $NAME"
    exit 0
  fi
  sleep 1
done
die 1 "$NAME did not finish recovery within 10 minutes: see docker logs $NAME"
