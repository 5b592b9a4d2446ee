#!/usr/bin/env bash
# Checks the cluster's replication, as the workshop's "Verify Replication Setup" expects:
#   1. the primary shows 2 connected (streaming) replicas
#   2. both replicas answer pg_is_in_recovery() = true
#   3. a row inserted on the primary appears on both replicas (with the time it took)
#   4. a write on a replica fails (read-only)
# Prints each check with its result; exits 1 when any check fails.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$HERE/lib/common.sh"

usage() {
  cat <<USAGE
Usage: ./test-replication.sh [--timeout SECONDS]

Checks that streaming replication works (run it once 'docker compose ps' shows every service healthy):
  1. primary shows 2 connected replicas
  2. replicas show pg_is_in_recovery() = true
  3. data inserted on the primary appears on the replicas
  4. a write to a replica fails (read-only)
Exit status: 0 when all four pass, 1 otherwise, 2 on bad arguments.
Options: --timeout SECONDS  how long to wait for the row on the replicas (default 5)
Environment: PGHA_CONTAINER_PREFIX, PGHA_*_PORT, PGHA_PSQL=host|docker (see lib/common.sh)
USAGE
}

TIMEOUT=5
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --timeout) [ $# -ge 2 ] && is_number "$2" || die 2 "--timeout needs a number of seconds"; TIMEOUT="$2"; shift 2 ;;
    *) usage >&2; die 2 "unknown argument: $1" ;;
  esac
done
require_docker_if_needed

failed=0
pass() { echo "${C_OK}✓ PASS${C_OFF} $*"; }
fail() { echo "${C_BAD}✗ FAIL${C_OFF} $*"; failed=$((failed + 1)); }
title() { echo; echo "== $* =="; }

REPLICAS="postgres-replica1 postgres-replica2"
PRIMARY_PORT="$(port_of postgres-primary)"

# Reachability first: a clear message beats four failures.
if ! err="$(pg_value postgres-primary 'SELECT 1' 2>&1 >/dev/null)"; then
  echo "${C_BAD}The primary does not answer on $PGHA_HOST:$PRIMARY_PORT${C_OFF}: $(first_line "$err")" >&2
  echo "Start the cluster (docker compose up -d), wait until 'docker compose ps' shows it healthy, then run this again." >&2
  exit 1
fi

title "1. Primary shows 2 connected replicas"
pg postgres-primary postgres -c "SELECT application_name, client_addr, state, sync_state, replay_lag FROM pg_stat_replication ORDER BY application_name;" || true
streaming="$(pg_value postgres-primary "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 2>/dev/null || echo 0)"
if [ "$streaming" = 2 ]; then pass "primary has 2 streaming replicas"; else fail "primary has ${streaming:-0} streaming replicas, expected 2 (docker logs $(container_of postgres-replica1))"; fi

title "2. Replicas show pg_is_in_recovery() = true"
for r in $REPLICAS; do
  v="$(pg_value "$r" 'SELECT pg_is_in_recovery()' 2>&1)"
  if [ "$v" = t ]; then pass "$r (port $(port_of "$r")): pg_is_in_recovery() = true"
  elif [ "$v" = f ]; then fail "$r (port $(port_of "$r")): pg_is_in_recovery() = false: it is not a replica (promoted?)"
  else fail "$r (port $(port_of "$r")) does not answer: $(first_line "$v")"; fi
done

title "3. Data inserted on primary appears on replicas"
marker="repl-test-$(date +%s)-$$"
if id="$(pg postgres-primary "$PGHA_DB" -tAq -c "INSERT INTO users (name, email) VALUES ('$marker', '$marker@example.com') RETURNING id" 2>&1)"; then
  echo "inserted on postgres-primary: id=$id name=$marker"
  start_ns="$(date +%s%N 2>/dev/null)"
  for r in $REPLICAS; do
    seen=""
    deadline=$(( $(date +%s) + ${TIMEOUT%.*} + 1 ))
    while [ "$(date +%s)" -le "$deadline" ]; do
      if [ "$(pg "$r" "$PGHA_DB" -tAq -c "SELECT count(*) FROM users WHERE id = $id" 2>/dev/null)" = 1 ]; then seen=yes; break; fi
      sleep 0.05
    done
    now_ns="$(date +%s%N 2>/dev/null)"
    ms=""
    if [[ "$start_ns" =~ ^[0-9]+$ && "$now_ns" =~ ^[0-9]+$ ]]; then ms=" within $(( (now_ns - start_ns) / 1000000 )) ms"; fi
    if [ -n "$seen" ]; then pass "row id=$id visible on $r$ms"; else fail "row id=$id not visible on $r after ${TIMEOUT} s"; fi
  done
else
  fail "insert on postgres-primary failed: $(first_line "$id")"
fi

title "4. Write to replica fails (read-only)"
for r in $REPLICAS; do
  out="$(pg "$r" "$PGHA_DB" -tAq -c "INSERT INTO users (name, email) VALUES ('must-fail', 'must-fail@example.com')" 2>&1)"
  rc=$?
  if [ $rc -ne 0 ] && grep -q "read-only transaction" <<<"$out"; then pass "$r rejected the write: $(first_line "$out")"
  elif [ $rc -eq 0 ]; then fail "$r ACCEPTED a write: it is not read-only (split brain?)"
  else fail "$r: write failed for another reason: $(first_line "$out")"; fi
done

echo
if [ "$failed" -eq 0 ]; then
  echo "${C_OK}All checks passed: replication works.${C_OFF}"
  exit 0
fi
echo "${C_BAD}$failed check(s) failed.${C_OFF} See the troubleshooting section of the workshop README (docker logs, pg_hba.conf)."
exit 1
