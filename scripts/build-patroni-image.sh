#!/usr/bin/env bash
# Builds the local image for cluster/patroni/ from Debian bookworm packages (PostgreSQL 15, Patroni
# 3.0, etcd 3.4, HAProxy 2.6), because tests must never pull from a registry. Users build the same
# image from cluster/patroni/Dockerfile (FROM postgres:15). Idempotent: skips the build when the
# image already exists.
set -euo pipefail
IMAGE="${PGHA_PATRONI_IMAGE:-pgha-patroni-local:15}"
PATCH="$(cd "$(dirname "$0")/.." && pwd)/cluster/patroni/patch-leader-renewal.py"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  if [ "$(docker image inspect -f '{{index .Config.Labels "org.pgha.leader-renewal"}}' "$IMAGE" 2>/dev/null)" = compare-and-set ]; then
    echo "image $IMAGE: present"
    exit 0
  fi
  # An image built before the patch: add it as one layer (no registry needed: FROM a local image).
  CTX="$(mktemp -d /tmp/pgha-patroni-patch.XXXXXX)"
  cp "$PATCH" "$CTX/"
  printf 'FROM %s\nUSER root\nCOPY patch-leader-renewal.py /usr/local/lib/pgha/\nRUN python3 /usr/local/lib/pgha/patch-leader-renewal.py\nUSER postgres\nLABEL org.pgha.leader-renewal=compare-and-set\n' "$IMAGE" >"$CTX/Dockerfile"
  docker build -q -t "$IMAGE" "$CTX" >/dev/null || { rm -rf "$CTX"; echo "could not patch $IMAGE (Patroni's leader renewal)" >&2; exit 1; }
  rm -rf "$CTX"
  echo "image $IMAGE: present, leader renewal patched"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
MIRROR="${PGHA_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
ROOT="$(mktemp -d /tmp/pgha-patroni-rootfs.XXXXXX)"
LOG=/tmp/pgha-patroni-debootstrap.log
trap 'rm -rf "$ROOT"' EXIT
echo "building $IMAGE from Debian bookworm ($MIRROR) ..."
debootstrap --variant=minbase \
  --include=postgresql-15,postgresql-client-15,patroni,python3-etcd,etcd-server,etcd-client,haproxy,curl,procps,iproute2 \
  bookworm "$ROOT" "$MIRROR" >"$LOG" 2>&1 \
  || { echo "debootstrap failed; see $LOG" >&2; exit 1; }
chroot "$ROOT" sh -c 'mkdir -p /var/lib/postgresql/data /var/run/postgresql /var/lib/etcd /run/haproxy \
  && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql /var/lib/etcd /run/haproxy \
  && chmod 700 /var/lib/postgresql/data && chmod 2775 /var/run/postgresql \
  && rm -rf /etc/postgresql/15 /var/lib/postgresql/15 /var/cache/apt/archives/*.deb /var/lib/apt/lists/*'
# Patroni 3.0.2 (bookworm) can take the leader key back after a pause: cluster/patroni/patch-leader-renewal.py.
mkdir -p "$ROOT/usr/local/lib/pgha" && cp "$PATCH" "$ROOT/usr/local/lib/pgha/"
chroot "$ROOT" python3 /usr/local/lib/pgha/patch-leader-renewal.py
tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'USER postgres' \
  --change 'CMD ["patroni", "/etc/patroni/patroni.yml"]' \
  --change 'LABEL org.pgha.leader-renewal=compare-and-set' - "$IMAGE" >/dev/null
echo "image $IMAGE: built"
