#!/usr/bin/env bash
# Promotes a replica to primary (the workshop's Demo 4 and 6):  ./promote-replica.sh postgres-replica1
# Refuses an unknown container, a stopped one, and a node that is already a primary. Warns when
# another node still accepts writes: promoting then makes two primaries (split brain).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"
# shellcheck source=lib/lock.sh
. "$HERE/lib/lock.sh"

usage() {
  cat <<USAGE
Usage: ./promote-replica.sh CONTAINER

  CONTAINER  the replica to promote: postgres-replica1 or postgres-replica2
             (also postgres-primary, when it runs as a replica after a rejoin)

Runs SELECT pg_promote() on it, waits until it accepts writes, and prints what to do next.
Example (Demo 4):
  docker stop postgres-primary
  ./promote-replica.sh postgres-replica1
Environment: PGHA_CONTAINER_PREFIX, PGHA_*_PORT, PGHA_PSQL=host|docker (see lib/common.sh)
USAGE
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  "") usage >&2; die 2 "name the replica to promote, e.g. ./promote-replica.sh postgres-replica1" ;;
esac
[ $# -eq 1 ] || { usage >&2; die 2 "expected one container name, got $#"; }

NAME="$1"
SERVICE="$(service_of "$NAME")" || die 2 "unknown container '$NAME': the cluster's nodes are $(for s in $PGHA_NODES; do printf '%s ' "$(container_of "$s")"; done | sed 's/ $//')"
[ "$SERVICE" != pgbouncer ] || die 2 "pgbouncer is a connection pooler, not a PostgreSQL node: promote postgres-replica1 or postgres-replica2"
CONTAINER="$(container_of "$SERVICE")"
PORT="$(port_of "$SERVICE")"
require_docker_if_needed

if command -v docker >/dev/null 2>&1; then
  state="$(docker inspect -f '{{.State.Status}}' "$CONTAINER" 2>&1)" || die 1 "container $CONTAINER does not exist ($(first_line "$state")). Start the cluster first: docker compose up -d"
  [ "$state" = running ] || die 1 "container $CONTAINER is $state, not running: start it first (docker start $CONTAINER)"
fi

# One cluster operation at a time: the extension's failover, rejoin ... and this script share a lock.
take_operation_lock "promote-replica.sh $CONTAINER" "$SERVICE"

recovery="$(pg_value "$SERVICE" 'SELECT pg_is_in_recovery()' 2>&1)" || die 1 "$CONTAINER does not answer on $PGHA_HOST:$PORT: $(first_line "$recovery")"
if [ "$recovery" = f ]; then
  die 1 "$CONTAINER is already a primary (pg_is_in_recovery() = false): nothing to promote. Nothing was changed."
fi

# Would this make a second primary?
for s in $PGHA_NODES; do
  [ "$s" = "$SERVICE" ] && continue
  if [ "$(pg_value "$s" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; then
    echo "${C_WARN}warning:${C_OFF} $(container_of "$s") still accepts writes. Promoting $CONTAINER makes TWO primaries (split brain)."
    echo "         In production, fence the old primary first (docker stop $(container_of "$s"))."
  fi
done

echo "Promoting $CONTAINER ..."
before="$(date +%s%N 2>/dev/null || date +%s)"
out="$(pg_value "$SERVICE" 'SELECT pg_promote(wait => true, wait_seconds => 60)' 2>&1)" || die 1 "pg_promote() on $CONTAINER failed: $(first_line "$out")"
[ "$out" = t ] || die 1 "pg_promote() on $CONTAINER did not finish within 60 s; see docker logs $CONTAINER"
after="$(date +%s%N 2>/dev/null || date +%s)"
ms=""; [[ "$before" =~ ^[0-9]{12,}$ && "$after" =~ ^[0-9]{12,}$ ]] && ms=" in $(( (after - before) / 1000000 )) ms"

[ "$(pg_value "$SERVICE" 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] || die 1 "$CONTAINER still reports pg_is_in_recovery() = true; see docker logs $CONTAINER"
timeline="$(pg_value "$SERVICE" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int" 2>/dev/null || echo '?')"
echo "${C_OK}$CONTAINER is now a primary${C_OFF}$ms (pg_is_in_recovery() = false, timeline $timeline)."
cat <<NEXT

Next:
  - It accepts writes on port $PORT:
      PGPASSWORD=postgres psql -h localhost -p $PORT -U postgres -d demodb -c "INSERT INTO users (name, email) VALUES ('AfterFailover', 'after@example.com') RETURNING *;"
  - Applications (and PgBouncer's [databases]) still point at the old primary: repoint them.
  - The other replica still follows the old primary, and the old primary must not come back as a
    primary (docker start would make two primaries: Demo 6).
NEXT
