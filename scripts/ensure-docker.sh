#!/usr/bin/env bash
# Makes sure the integration tests have what they need, idempotently:
#   1. a Docker engine that answers (on Debian as root: installs docker.io and starts dockerd
#      when none answers; elsewhere: says what to install or start, and fails),
#   2. a Compose CLI (v2 `docker compose` or v1 `docker-compose`),
#   3. the local image pgha-local:15 (scripts/build-image.sh; built once from Debian packages,
#      then cached), so tests never pull from a registry. `--engine-only` skips this step.
set -euo pipefail
ENGINE_ONLY=""
[ "${1:-}" = --engine-only ] && ENGINE_ONLY=1
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "ensure-docker: $*"; }
fail() { echo "ensure-docker: $*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }
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

# 1. Docker CLI and engine
if ! command -v docker >/dev/null 2>&1; then
  if can_apt; then
    apt_install docker.io docker-compose
  else
    fail "Docker is not installed. Install Docker Engine (Linux: your distribution's docker.io package or Docker's docker-ce; macOS/Windows: Docker Desktop), start it, and run the tests again."
  fi
fi
# A docker CLI without an engine (dev containers, CI images): install the engine too.
if ! engine_answers && ! command -v dockerd >/dev/null 2>&1 && can_apt; then
  apt_install docker.io docker-compose
fi
if ! engine_answers; then
  why="$(docker info 2>&1 >/dev/null | tail -n 1 || true)"
  if grep -qi "permission denied" <<<"$why"; then
    fail "the Docker socket refuses this user ($why). Add the user to the docker group (sudo usermod -aG docker \$USER, then log in again), or run as root."
  fi
  if is_root && command -v dockerd >/dev/null 2>&1; then
    log "no Docker engine answers: starting dockerd (log: /var/log/pgha-dockerd.log)"
    setsid dockerd >/var/log/pgha-dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do
      engine_answers && break
      sleep 1
    done
    engine_answers || fail "dockerd did not answer within 60 s; see /var/log/pgha-dockerd.log"
    log "dockerd is up"
  else
    fail "no Docker engine answers ($why). Start it (Docker Desktop, or sudo systemctl start docker) and run the tests again."
  fi
fi
log "Docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?') answers"

# 2. Compose
if docker compose version >/dev/null 2>&1; then
  log "Compose: $(docker compose version 2>/dev/null | head -n 1)"
elif command -v docker-compose >/dev/null 2>&1; then
  log "Compose: $(docker-compose version --short 2>/dev/null || echo v1)"
elif can_apt; then
  apt_install docker-compose
else
  fail "Docker Compose is missing: install the docker-compose-plugin (docker compose) or docker-compose package."
fi

# 3. The local test image
[ -z "$ENGINE_ONLY" ] || exit 0
IMAGE="${PGHA_LOCAL_IMAGE:-pgha-local:15}"
if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    can_apt || fail "building $IMAGE needs debootstrap (a Debian/Ubuntu tool): install it and run again."
    apt_install debootstrap
  fi
fi
bash scripts/build-image.sh
