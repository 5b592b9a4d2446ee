#!/usr/bin/env bash
# Builds the local image that meets cluster/README.md's image contract (PostgreSQL 15 server and
# client, PgBouncer, a `postgres` user, sh) from Debian packages, because tests must never pull
# from a registry. Idempotent: skips the build when the image already exists.
set -euo pipefail
IMAGE="${PGHA_LOCAL_IMAGE:-pgha-local:15}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "image $IMAGE: present"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
MIRROR="${PGHA_DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
ROOT="$(mktemp -d /tmp/pgha-rootfs.XXXXXX)"
trap 'rm -rf "$ROOT"' EXIT
echo "building $IMAGE from Debian bookworm ($MIRROR) ..."
debootstrap --variant=minbase --include=postgresql-15,postgresql-client-15,pgbouncer,procps,iproute2 \
  bookworm "$ROOT" "$MIRROR" >/tmp/pgha-debootstrap.log 2>&1 \
  || { echo "debootstrap failed; see /tmp/pgha-debootstrap.log" >&2; exit 1; }
# The data directory the compose volumes mount, and the socket directory psql looks in by default.
chroot "$ROOT" sh -c 'mkdir -p /var/lib/postgresql/data /var/run/postgresql /etc/postgresql \
  && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
  && chmod 700 /var/lib/postgresql/data && chmod 2775 /var/run/postgresql \
  && rm -rf /etc/postgresql/15 /var/lib/postgresql/15 /var/cache/apt/archives/*.deb /var/lib/apt/lists/*'
tar -C "$ROOT" -c . | docker import \
  --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'USER postgres' \
  --change 'CMD ["postgres"]' - "$IMAGE" >/dev/null
echo "image $IMAGE: built"
