#!/usr/bin/env bash
# `npm run workshop`: starts the workshop cluster and checks it, then opens the extension.
#   1. a Docker engine and Compose (scripts/ensure-docker.sh --engine-only)
#   2. the cluster (cluster/docker-compose.yml); when the public images cannot be pulled (no
#      registry), a local image built from Debian packages instead (scripts/build-image.sh)
#   3. waits until every service is healthy and runs cluster/test-replication.sh
#   4. builds the extension and opens it on this folder: in VS Code when `code` is installed, else
#      in the browser through code-server on 127.0.0.1:${PGHA_CODE_SERVER_PORT:-8080} with the
#      packaged extension installed (scripts/workshop-editor.mjs; URL printed).
#      PGHA_NO_EDITOR=1 stops after the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
log() { echo "workshop: $*"; }

bash scripts/ensure-docker.sh --engine-only

prefix="${PGHA_CONTAINER_PREFIX:-}"
names=("${prefix}postgres-primary" "${prefix}postgres-replica1" "${prefix}postgres-replica2" "${prefix}pgbouncer")

UP_LOG="${TMPDIR:-/tmp}/pgha-workshop-up.$$.log"
up() { bash scripts/compose.sh up -d >"$UP_LOG" 2>&1; }
LOCAL_IMAGE=pgha-local:15
# The public images need a registry. When none was chosen and the public image is not here but the
# local one is (an earlier run built it), use the local one at once instead of failing a pull again.
if [ -z "${PGHA_POSTGRES_IMAGE:-}" ] && ! docker image inspect postgres:15 >/dev/null 2>&1 && docker image inspect "$LOCAL_IMAGE" >/dev/null 2>&1; then
  log "using the local image $LOCAL_IMAGE (built from Debian packages on an earlier run; the public postgres:15 image is not on this machine)"
  export PGHA_POSTGRES_IMAGE="$LOCAL_IMAGE" PGHA_PGBOUNCER_IMAGE="$LOCAL_IMAGE"
fi
log "starting the cluster (images: ${PGHA_POSTGRES_IMAGE:-postgres:15}, ${PGHA_PGBOUNCER_IMAGE:-the pinned PgBouncer image})"
if ! up; then
  if grep -qiE 'pull access denied|manifest unknown|failed to resolve|registry|No such image|Temporary failure in name resolution|dial tcp' "$UP_LOG"; then
    log "the public images cannot be pulled here (no registry reachable): using a local image built from Debian packages instead"
    log "(the pull's own message is in $UP_LOG)"
    bash scripts/ensure-docker.sh
    export PGHA_POSTGRES_IMAGE="$LOCAL_IMAGE" PGHA_PGBOUNCER_IMAGE="$LOCAL_IMAGE"
    up || { cat "$UP_LOG"; log "the cluster did not start; see the messages above"; exit 1; }
  elif grep -qiE 'port is already allocated|address already in use' "$UP_LOG"; then
    cat "$UP_LOG"
    log "a port the cluster needs is taken (see above). Stop what holds it (docker ps; sudo lsof -iTCP:PORT -sTCP:LISTEN), or choose other ports: PGHA_PRIMARY_PORT, PGHA_REPLICA1_PORT, PGHA_REPLICA2_PORT, PGHA_PGBOUNCER_PORT."
    exit 1
  else
    cat "$UP_LOG"
    log "the cluster did not start; see the messages above"
    exit 1
  fi
fi
tail -n 5 "$UP_LOG"

log "waiting until all services are healthy"
for i in $(seq 1 120); do
  healthy=0
  for n in "${names[@]}"; do
    [ "$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$n" 2>/dev/null)" = healthy ] && healthy=$((healthy + 1))
  done
  [ "$healthy" = 4 ] && break
  sleep 1
done
[ "$healthy" = 4 ] || { bash scripts/compose.sh ps; log "not all services became healthy within 120 s (docker logs ${prefix}postgres-replica1)"; exit 1; }
# Replicas accept connections a moment before they stream.
sleep 1
(cd cluster && ./test-replication.sh) || log "replication checks failed (see above); the cluster is still running. To start over from scratch: bash scripts/compose.sh down -v && npm run workshop"

log "building the extension"
npm run --silent build
if command -v code >/dev/null 2>&1 && [ -z "${PGHA_NO_EDITOR:-}" ]; then
  log "opening VS Code with the extension"
  code --extensionDevelopmentPath="$ROOT" "$ROOT"
elif [ -z "${PGHA_NO_EDITOR:-}" ]; then
  # No desktop VS Code: the same workbench in the browser (code-server on 127.0.0.1) with the
  # packaged extension installed, as a learner installs it; the URL is printed.
  exec node scripts/workshop-editor.mjs
else
  cat <<NEXT

The cluster is running. Next:
  - VS Code: code --extensionDevelopmentPath="$ROOT" "$ROOT"
    (or install the packaged extension: npm run package, then code --install-extension dist/pg-ha-workshop.vsix)
  - Terminal: cd cluster and follow the workshop README (./generate-load.sh 120 2, ./promote-replica.sh postgres-replica1, ...)
  - Stop: bash scripts/compose.sh down (add -v to delete the data)
NEXT
fi
