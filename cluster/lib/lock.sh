# The cluster's operation lock, for the role-changing workshop scripts (sourced after common.sh).
# The extension and these scripts share one lock: a container named <prefix>pgha-operation-lock in
# the Docker engine (see src/core/operationLock.ts for why it lives there). Taking it is atomic (a
# second container with that name is refused); it is released when the script ends, however it
# ends: the container reads a stdin only this script keeps open, and exits (--rm) when it closes.
#
#   take_operation_lock "WHAT"   takes it or dies with a message naming the running operation
#   describe_operation_lock      one line: who holds it, since when, doing what (empty when free)

PGHA_LOCK_NAME="${PGHA_PREFIX}pgha-operation-lock"
PGHA_LOCK_LABEL=pg-ha-workshop.lock

lock_label() { docker inspect -f "{{index .Config.Labels \"$PGHA_LOCK_LABEL.$1\"}}" "$PGHA_LOCK_NAME" 2>/dev/null; }

describe_operation_lock() {
  docker inspect "$PGHA_LOCK_NAME" >/dev/null 2>&1 || return 0
  local what holder since nodes ago when
  what="$(lock_label what)"; holder="$(lock_label holder)"; since="$(lock_label since)"; nodes="$(lock_label nodes)"
  ago=""; when="?"
  if is_uint "$since"; then
    when="$(date -u -d "@$((since / 1000))" +%H:%M:%S 2>/dev/null || echo "$since") UTC"
    ago=" ($(( $(date +%s) - since / 1000 )) s ago)"
  fi
  echo "\"$what\"${nodes:+ on $nodes}, by $holder, since $when$ago"
}

# lock_abandoned: prints why the current lock may be taken over (holder gone / expired), else fails.
lock_abandoned() {
  local pid host expires running now
  pid="$(lock_label pid)"; host="$(lock_label host)"; expires="$(lock_label expires)"
  running="$(docker inspect -f '{{.State.Running}}' "$PGHA_LOCK_NAME" 2>/dev/null)"
  now=$(( $(date +%s) * 1000 ))
  if is_uint "$expires" && [ "$now" -gt "$expires" ]; then echo "it expired"; return 0; fi
  if [ "$host" = "$(hostname)" ] && is_uint "$pid" && [ "$pid" -gt 0 ] && ! kill -0 "$pid" 2>/dev/null; then echo "its holder (pid $pid) is gone"; return 0; fi
  if [ "$running" = false ]; then
    local created; created="$(docker inspect -f '{{.Created}}' "$PGHA_LOCK_NAME" 2>/dev/null)"
    local c_s; c_s="$(date -d "$created" +%s 2>/dev/null || echo 0)"
    if [ $(( $(date +%s) - c_s )) -gt 15 ]; then echo "its holder never started it"; return 0; fi
  fi
  return 1
}

take_operation_lock() { # take_operation_lock WHAT [NODES]
  command -v docker >/dev/null 2>&1 || return 0 # psql-only use without Docker: nothing to coordinate with
  local what="$1" nodes="${2:-}" image net since expires id why attempt
  local ref; ref="$(container_of postgres-primary)"
  image="$(docker inspect -f '{{.Config.Image}}' "$ref" 2>/dev/null || echo "${PGHA_POSTGRES_IMAGE:-postgres:15}")"
  net="$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$ref" 2>/dev/null | awk '{print $1}')"
  local netargs=(--network none)
  [ -n "$net" ] && netargs=(--network "$net" --network-alias pgha-operation-lock)
  for attempt in 1 2 3; do
    since=$(( $(date +%s) * 1000 )); expires=$(( since + 30 * 60 * 1000 ))
    if id="$(docker create -i --rm --name "$PGHA_LOCK_NAME" \
        --label "$PGHA_LOCK_LABEL=${COMPOSE_PROJECT_NAME:-pgha}" --label "$PGHA_LOCK_LABEL.holder=$(basename "$0") (pid $$ on $(hostname))" \
        --label "$PGHA_LOCK_LABEL.what=$what" --label "$PGHA_LOCK_LABEL.nodes=$nodes" --label "$PGHA_LOCK_LABEL.since=$since" \
        --label "$PGHA_LOCK_LABEL.expires=$expires" --label "$PGHA_LOCK_LABEL.pid=$$" --label "$PGHA_LOCK_LABEL.host=$(hostname)" \
        "${netargs[@]}" \
        --entrypoint /bin/sh "$image" -c 'cat >/dev/null' 2>/dev/null)"; then
      # Held while fd 9 is open: it closes when this script ends (even on kill -9).
      exec 9> >(docker start -ai "$id" >/dev/null 2>&1)
      PGHA_LOCK_ID="$id"
      trap 'docker rm -f "$PGHA_LOCK_ID" >/dev/null 2>&1 || true' EXIT
      local i; for i in $(seq 1 50); do
        [ "$(docker inspect -f '{{.State.Running}}' "$id" 2>/dev/null)" = true ] && return 0
        sleep 0.1
      done
      return 0
    fi
    if why="$(lock_abandoned)"; then
      echo "${C_WARN}note:${C_OFF} taking over the cluster's operation lock: $why."
      docker rm -f "$(docker inspect -f '{{.Id}}' "$PGHA_LOCK_NAME" 2>/dev/null)" >/dev/null 2>&1 || true
      continue
    fi
    local running; running="$(describe_operation_lock)"
    [ -n "$running" ] || continue # released meanwhile
    die 1 "another cluster operation is running: $running. Nothing was changed. Wait until it finishes (docker ps --filter name=$PGHA_LOCK_NAME), then run this again."
  done
  die 1 "could not take the cluster's operation lock ($PGHA_LOCK_NAME); nothing was changed. Try again."
}
