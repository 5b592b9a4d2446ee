#!/usr/bin/env bash
# `npm run workshop`: starts the workshop cluster and checks it, then opens the extension.
#   1. a Docker engine and Compose (scripts/ensure-docker.sh --engine-only)
#   2. the cluster (cluster/docker-compose.yml); when the public images cannot be pulled (no
#      registry), a local image built from Debian packages instead (scripts/build-image.sh)
#   3. waits until every service is healthy and runs cluster/test-replication.sh
#   4. builds the extension and opens it on this folder: in VS Code when `code` is installed, else
#      in the browser through code-server on 127.0.0.1:${PGHA_CODE_SERVER_PORT:-8080} (URL printed).
#      PGHA_NO_EDITOR=1 stops after the cluster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
log() { echo "workshop: $*"; }

bash scripts/ensure-docker.sh --engine-only

prefix="${PGHA_CONTAINER_PREFIX:-}"
names=("${prefix}postgres-primary" "${prefix}postgres-replica1" "${prefix}postgres-replica2" "${prefix}pgbouncer")

up() { bash scripts/compose.sh up -d 2>&1 | tee /tmp/pgha-workshop-up.log; return "${PIPESTATUS[0]}"; }
log "starting the cluster (images: ${PGHA_POSTGRES_IMAGE:-postgres:15}, ${PGHA_PGBOUNCER_IMAGE:-edoburu/pgbouncer:latest})"
if ! up; then
  if grep -qiE 'pull access denied|manifest unknown|failed to resolve|registry|No such image|Temporary failure in name resolution|dial tcp' /tmp/pgha-workshop-up.log; then
    log "the public images could not be pulled: building a local one from Debian packages instead"
    bash scripts/ensure-docker.sh
    export PGHA_POSTGRES_IMAGE=pgha-local:15 PGHA_PGBOUNCER_IMAGE=pgha-local:15
    up || { log "the cluster did not start; see the messages above"; exit 1; }
  elif grep -qiE 'port is already allocated|address already in use' /tmp/pgha-workshop-up.log; then
    log "a port the cluster needs is taken (see above). Stop what holds it (docker ps; sudo lsof -iTCP:PORT -sTCP:LISTEN), or choose other ports: PGHA_PRIMARY_PORT, PGHA_REPLICA1_PORT, PGHA_REPLICA2_PORT, PGHA_PGBOUNCER_PORT."
    exit 1
  else
    log "the cluster did not start; see the messages above"
    exit 1
  fi
fi

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
  # No desktop VS Code: the same workbench in the browser, served by code-server on 127.0.0.1
  # with the extension loaded from this folder (the smoke-test driver makes the web workbench
  # honour the development payload in the URL, as the desktop honours --extensionDevelopmentPath).
  CODE_SERVER="$(bash scripts/ensure-code-server.sh | tail -n 1)"
  PORT="${PGHA_CODE_SERVER_PORT:-8080}"
  STATE="${PGHA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg-ha-workshop}/workshop-editor"
  mkdir -p "$STATE/user-data" "$STATE/extensions"
  URL="$(node -e '
    const [port, root] = process.argv.slice(1);
    const payload = [["extensionDevelopmentPath", `vscode-remote://127.0.0.1:${port}${root}`], ["skipWelcome", "true"]];
    console.log(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(root)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  ' "$PORT" "$ROOT")"
  cat <<OPEN

The cluster is running. No desktop VS Code here, so the workshop opens in the browser:

  $URL

(code-server on 127.0.0.1:$PORT, this folder, the extension loaded. Ctrl+C stops the editor;
the cluster keeps running: bash scripts/compose.sh down stops it.)
OPEN
  exec "$CODE_SERVER" --auth none --bind-addr "127.0.0.1:$PORT" \
    --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions" \
    --disable-telemetry --disable-update-check --vscode-option enable-smoke-test-driver "$ROOT"
else
  cat <<NEXT

The cluster is running. Next:
  - VS Code: code --extensionDevelopmentPath="$ROOT" "$ROOT"
    (or install the packaged extension: npm run package, then code --install-extension dist/pg-ha-workshop.vsix)
  - Terminal: cd cluster and follow the workshop README (./generate-load.sh 120 2, ./promote-replica.sh postgres-replica1, ...)
  - Stop: bash scripts/compose.sh down (add -v to delete the data)
NEXT
fi
