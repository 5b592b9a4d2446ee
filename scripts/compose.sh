#!/usr/bin/env bash
# Runs Docker Compose on cluster/docker-compose.yml with whichever CLI is installed:
# v2 (`docker compose`) when it answers, else v1 (`docker-compose`).
#   scripts/compose.sh up -d | ps | logs -f | down -v ...
# PGHA_COMPOSE_CLI=v1|v2 forces one.
set -euo pipefail
CLUSTER="$(cd "$(dirname "${BASH_SOURCE[0]}")/../cluster" && pwd)"
cd "$CLUSTER"
case "${PGHA_COMPOSE_CLI:-}" in
  v2) exec docker compose "$@" ;;
  v1) exec docker-compose "$@" ;;
esac
if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; fi
if command -v docker-compose >/dev/null 2>&1; then exec docker-compose "$@"; fi
echo "Docker Compose was not found: install Docker Desktop, or the docker-compose-plugin (docker compose) or docker-compose package." >&2
exit 127
