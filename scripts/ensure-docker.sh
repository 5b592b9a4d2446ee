#!/usr/bin/env bash
# Makes sure the integration tests have what they need, idempotently:
#   1. a Docker engine that answers (as root with apt: installs docker.io when no engine is
#      installed, and starts an installed engine that is stopped; otherwise says exactly what the
#      user must do, and fails),
#   2. a Compose CLI (v2 `docker compose` or v1 `docker-compose`),
#   3. the local image pgha-local:15 (scripts/build-image.sh; built once from Debian packages,
#      then cached), so tests never pull from a registry. `--engine-only` skips this step.
# The engine is the one the docker CLI talks to: DOCKER_HOST, else the current docker context.
# Every decision below is unit-tested with stub programs on a fake PATH (test/unit/ensureDocker.test.ts).
#   PGHA_DOCKERD_LOG   where a dockerd started here logs (default /var/log/pgha-dockerd.log)
#   PGHA_DOCKERD_WAIT  seconds to wait for a started engine to answer (default 60)
set -euo pipefail
ENGINE_ONLY=""
[ "${1:-}" = --engine-only ] && ENGINE_ONLY=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."

DOCKERD_LOG="${PGHA_DOCKERD_LOG:-/var/log/pgha-dockerd.log}"
DOCKERD_WAIT="${PGHA_DOCKERD_WAIT:-60}"
USER_NAME="$(id -un 2>/dev/null || echo "${USER:-you}")"

log() { echo "ensure-docker: $*"; }
fail() { echo "ensure-docker: $*" >&2; exit 1; }

have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [ "$(id -u)" = 0 ]; }
has_apt() { have apt-get; }
can_apt() { is_root && has_apt; }
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_answers() { docker info >/dev/null 2>&1; }
# The last line of docker's complaint, for messages.
engine_error() { docker info 2>&1 >/dev/null | tail -n 1 || true; }
# Where the CLI looks for the engine: DOCKER_HOST, else the current context's endpoint.
engine_endpoint() {
  if [ -n "${DOCKER_HOST:-}" ]; then echo "$DOCKER_HOST (DOCKER_HOST)"; return; fi
  local ctx ep
  ctx="$(docker context show 2>/dev/null || true)"
  ep="$(docker context inspect --format '{{.Endpoints.docker.Host}}' 2>/dev/null || true)"
  echo "${ep:-unix:///var/run/docker.sock}${ctx:+ (docker context $ctx)}"
}
# The engine is rootless when its endpoint is a per-user socket (/run/user/UID/docker.sock).
rootless_endpoint() { engine_endpoint | grep -q '/run/user/[0-9]*/docker.sock'; }
in_docker_group() { id -nG "$USER_NAME" 2>/dev/null | tr ' ' '\n' | grep -qx docker; }
session_in_docker_group() { id -nG 2>/dev/null | tr ' ' '\n' | grep -qx docker; }

INSTALL_HINT="Install Docker Engine (Linux: https://docs.docker.com/engine/install/ or your distribution's docker.io package; macOS/Windows: Docker Desktop), start it, and run the tests again."
SUDO_INSTALL="sudo apt-get install -y docker.io docker-compose && sudo usermod -aG docker $USER_NAME, then log out and in (or run: newgrp docker)"

start_engine() {
  if have systemctl && systemctl start docker >/dev/null 2>&1; then
    log "started the Docker engine with systemctl start docker"
  else
    log "no Docker engine answers: starting dockerd (log: $DOCKERD_LOG)"
    setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  for _ in $(seq 1 "$DOCKERD_WAIT"); do
    engine_answers && break
    sleep 1
  done
  engine_answers || fail "dockerd did not answer within $DOCKERD_WAIT s; see $DOCKERD_LOG"
  log "the Docker engine is up"
}

# 1. Docker CLI and engine
if ! have docker; then
  if can_apt; then
    log "no docker command: installing Docker"
    apt_install docker.io docker-compose
  elif has_apt; then
    fail "Docker is not installed, and installing it needs root. Run: $SUDO_INSTALL; then run the tests again."
  else
    fail "Docker is not installed and this machine has no apt-get. $INSTALL_HINT"
  fi
fi
if ! engine_answers; then
  why="$(engine_error)"
  endpoint="$(engine_endpoint)"
  if grep -qi "permission denied" <<<"$why"; then
    if in_docker_group && ! session_in_docker_group; then
      fail "the Docker socket refuses this session ($why): $USER_NAME is in the docker group, but this login session started before that. Log out and in (or run: newgrp docker), then run the tests again."
    fi
    fail "the Docker socket refuses user $USER_NAME ($why). Add the user to the docker group: sudo usermod -aG docker $USER_NAME, then log out and in (or run: newgrp docker); or use rootless Docker; then run the tests again."
  fi
  if ! is_root && { rootless_endpoint || have dockerd-rootless.sh; }; then
    fail "no rootless Docker engine answers at $endpoint ($why). Start it: systemctl --user start docker, and export DOCKER_HOST=unix://\${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/docker.sock; then run the tests again."
  fi
  if ! grep -q '^unix:///var/run/docker.sock\|^unix:///run/docker.sock' <<<"$endpoint"; then
    # Another engine was chosen (DOCKER_HOST, a docker context: Docker Desktop, Colima ...): start that one.
    fail "no Docker engine answers at $endpoint ($why). Start that engine (Docker Desktop, colima start ...), or unset DOCKER_HOST / run docker context use default; then run the tests again."
  fi
  if ! have dockerd; then
    # A docker CLI without an engine (dev containers, CI images).
    if can_apt; then
      log "a docker CLI but no Docker engine is installed: installing docker.io"
      apt_install docker.io docker-compose
      hash -r
    elif has_apt; then
      fail "a docker CLI is installed but no Docker engine (no dockerd). Install one: $SUDO_INSTALL; then run the tests again."
    else
      fail "a docker CLI is installed but no Docker engine (no dockerd). $INSTALL_HINT"
    fi
  fi
  if engine_answers; then
    log "the Docker engine started with its installation"
  elif is_root; then
    start_engine
  else
    fail "the Docker engine is installed but not running ($why). Start it: sudo systemctl start docker (or sudo service docker start); then run the tests again."
  fi
fi
log "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') answers at $(engine_endpoint)"

# 2. Compose: v2 (`docker compose`) first, else v1 (`docker-compose`); scripts/compose.sh picks the same.
compose_found() {
  if docker compose version >/dev/null 2>&1; then
    log "Compose v2: $(docker compose version 2>/dev/null | head -n 1)"
  elif have docker-compose; then
    log "Compose v1: $(docker-compose version --short 2>/dev/null || echo '?')"
  else
    return 1
  fi
}
if ! compose_found; then
  if can_apt; then
    apt_install docker-compose
    hash -r
    compose_found || fail "Docker Compose is still missing after apt-get install docker-compose."
  elif has_apt; then
    fail "Docker Compose is missing. Install it: sudo apt-get install -y docker-compose (or Docker's docker-compose-plugin); then run the tests again."
  else
    fail "Docker Compose is missing. Install Docker's docker-compose-plugin (docker compose) or docker-compose; then run the tests again."
  fi
fi

# 3. The local test image
[ -z "$ENGINE_ONLY" ] || exit 0
IMAGE="${PGHA_LOCAL_IMAGE:-pgha-local:15}"
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if ! have debootstrap; then
    can_apt || fail "building $IMAGE needs debootstrap (a Debian/Ubuntu tool) and root: sudo apt-get install -y debootstrap, then run again as root."
    apt_install debootstrap
  fi
fi
bash scripts/build-image.sh
