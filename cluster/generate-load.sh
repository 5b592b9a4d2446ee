#!/usr/bin/env bash
# Continuous writes for the workshop's demos 3 and 4: RATE inserts per second into demodb.users
# for DURATION seconds. Every failed write is reported with its error and the load goes on (so
# you see the outage while the primary is down and the recovery after a failover); at the end
# (or on Ctrl-C) a summary of writes ok / failed.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

usage() {
  cat <<USAGE
Usage: ./generate-load.sh DURATION RATE [--target SERVICE] [--quiet]

  DURATION  seconds to run (a whole number > 0), e.g. 120
  RATE      inserts per second (> 0, decimals allowed), e.g. 2

Options:
  --target SERVICE  where to write: postgres-primary (default), postgres-replica1, postgres-replica2
                    (after a failover) or pgbouncer
  --quiet           print only failures and the summary

Examples:
  ./generate-load.sh 120 2                      # Demo 3
  ./generate-load.sh 300 2                      # Demo 4: keep it running, then docker stop postgres-primary
  ./generate-load.sh 60 5 --target pgbouncer    # through PgBouncer
Environment: PGHA_CONTAINER_PREFIX, PGHA_*_PORT, PGHA_PSQL=host|docker (see lib/common.sh)
USAGE
}

TARGET=postgres-primary
QUIET=""
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --target) [ $# -ge 2 ] || die 2 "--target needs a service name"; TARGET="$(service_of "$2")" || die 2 "unknown target '$2': use postgres-primary, postgres-replica1, postgres-replica2 or pgbouncer"; shift 2 ;;
    --quiet) QUIET=1; shift ;;
    -*) usage >&2; die 2 "unknown option: $1" ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ ${#ARGS[@]} -ne 2 ]; then
  usage >&2
  die 2 "expected DURATION and RATE (got ${#ARGS[@]} argument(s)), e.g. ./generate-load.sh 120 2"
fi
DURATION="${ARGS[0]}"
RATE="${ARGS[1]}"
is_uint "$DURATION" && [ "$DURATION" -gt 0 ] || die 2 "DURATION must be a whole number of seconds > 0 (got '$DURATION'), e.g. ./generate-load.sh 120 2"
is_number "$RATE" && awk -v r="$RATE" 'BEGIN { exit !(r > 0 && r <= 1000) }' || die 2 "RATE must be a number of inserts per second, > 0 and <= 1000 (got '$RATE'), e.g. ./generate-load.sh 120 2"
require_docker_if_needed

INTERVAL_US="$(awk -v r="$RATE" 'BEGIN { printf "%d", 1000000 / r }')"
PORT="$(port_of "$TARGET")"
ok=0
failed=0
n=0
first_fail=""
last_fail=""
recovered_at=""
started="$(date +%s)"

# Microseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds on older shells).
now_us() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/[.,]/}"; else echo "$(date +%s)000000"; fi; }
stamp() { date +%H:%M:%S; }

summary() {
  local elapsed=$(( $(date +%s) - started ))
  echo
  echo "== Load summary: $TARGET ($PGHA_HOST:$PORT) =="
  echo "duration: ${elapsed} s, target rate: $RATE/s"
  echo "writes ok:     $ok"
  echo "writes failed: $failed"
  if [ -n "$first_fail" ]; then
    echo "first failure: $first_fail, last failure: $last_fail${recovered_at:+, writes succeeded again at $recovered_at}"
  fi
}
trap 'summary; exit 130' INT TERM

echo "Writing $RATE row(s)/s for $DURATION s to $TARGET ($PGHA_HOST:$PORT, psql on $(psql_mode)). Ctrl-C stops early."
start_us="$(now_us)"
end_us=$(( start_us + DURATION * 1000000 ))
while [ "$(now_us)" -lt "$end_us" ]; do
  n=$((n + 1))
  if out="$(pg "$TARGET" "$PGHA_DB" -tAq -c "INSERT INTO users (name, email) VALUES ('load_$n', 'load_$n@example.com') RETURNING id" 2>&1)"; then
    ok=$((ok + 1))
    if [ -n "$last_fail" ] && [ -z "$recovered_at" ]; then recovered_at="$(stamp)"; fi
    [ -n "$QUIET" ] || echo "[$(stamp)] write #$n ok (id $(first_line "$out"))"
  else
    failed=$((failed + 1))
    last_fail="$(stamp)"
    first_fail="${first_fail:-$last_fail}"
    recovered_at=""
    echo "${C_BAD}[$(stamp)] write #$n FAILED:${C_OFF} $(first_line "$out")"
  fi
  # Keep the pace: sleep until this write's slot ends (whole-second clock on old shells).
  wait_us=$(( start_us + n * INTERVAL_US - $(now_us) ))
  if [ "$wait_us" -gt 0 ]; then sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"; fi
done
trap - INT TERM
summary
exit 0
