#!/bin/sh
# Entry point of the pgbouncer service (runs as user postgres; PgBouncer refuses root).
# The configuration is copied to a writable place once per container, so an edit made there
# (repointing [databases] after a failover, then RELOAD) survives `docker restart pgbouncer`,
# and `docker compose down` + `up` starts again from cluster/pgbouncer/.
set -eu
RUN_DIR=/tmp/pgbouncer
mkdir -p "$RUN_DIR"
for f in pgbouncer.ini userlist.txt; do
  [ -f "$RUN_DIR/$f" ] || cp "/pgha/pgbouncer/$f" "$RUN_DIR/$f"
done
chmod 600 "$RUN_DIR/userlist.txt"
exec pgbouncer "$RUN_DIR/pgbouncer.ini"
