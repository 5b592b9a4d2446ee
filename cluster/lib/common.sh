# Shared by the workshop scripts in cluster/ (sourced, not run). Reads the same variables as
# docker-compose.yml, with the same defaults, so the scripts follow a cluster started under
# another prefix or other ports.
#
#   PGHA_CONTAINER_PREFIX  prefix of the container names (default: none)
#   PGHA_PRIMARY_PORT / PGHA_REPLICA1_PORT / PGHA_REPLICA2_PORT / PGHA_PGBOUNCER_PORT
#   PGHA_PSQL=host|docker  force psql on this machine, or psql inside the containers (docker exec);
#                          default: host when `psql` is installed, else docker.

PGHA_PREFIX="${PGHA_CONTAINER_PREFIX:-}"
PGHA_HOST=127.0.0.1
PGHA_USER=postgres
PGHA_PASSWORD=postgres
PGHA_DB=demodb
PGHA_NODES="postgres-primary postgres-replica1 postgres-replica2"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  C_OK=$'\e[32m'; C_BAD=$'\e[31m'; C_WARN=$'\e[33m'; C_DIM=$'\e[2m'; C_OFF=$'\e[0m'
else
  C_OK=''; C_BAD=''; C_WARN=''; C_DIM=''; C_OFF=''
fi

die() { # die CODE MESSAGE...
  local code="$1"; shift
  echo "${C_BAD}error:${C_OFF} $*" >&2
  exit "$code"
}

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number() { [[ "$1" =~ ^[0-9]+([.][0-9]+)?$|^[.][0-9]+$ ]]; }

# port_of SERVICE: host port published for a service.
port_of() {
  case "$1" in
    postgres-primary) echo "${PGHA_PRIMARY_PORT:-5432}" ;;
    postgres-replica1) echo "${PGHA_REPLICA1_PORT:-5433}" ;;
    postgres-replica2) echo "${PGHA_REPLICA2_PORT:-5434}" ;;
    pgbouncer) echo "${PGHA_PGBOUNCER_PORT:-6432}" ;;
    *) return 1 ;;
  esac
}

# service_of NAME: the service a container name (with or without prefix) stands for.
service_of() {
  local name="$1" s
  for s in $PGHA_NODES pgbouncer; do
    if [ "$name" = "$s" ] || [ "$name" = "$PGHA_PREFIX$s" ]; then echo "$s"; return 0; fi
  done
  return 1
}

container_of() { echo "$PGHA_PREFIX$1"; }

psql_mode() {
  case "${PGHA_PSQL:-}" in
    host|docker) echo "$PGHA_PSQL" ;;
    "") if command -v psql >/dev/null 2>&1; then echo host; else echo docker; fi ;;
    *) die 2 "PGHA_PSQL must be 'host' or 'docker' (got '$PGHA_PSQL')" ;;
  esac
}

# pg SERVICE DB [psql args...]: psql against a node (or pgbouncer) as the workshop's superuser,
# on this machine through the published port, or inside the container.
pg() {
  local service="$1" db="$2"; shift 2
  local port
  port="$(port_of "$service")" || die 2 "unknown service $service"
  if [ "$(psql_mode)" = host ]; then
    PGPASSWORD="$PGHA_PASSWORD" PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" psql -X -v ON_ERROR_STOP=1 -h "$PGHA_HOST" -p "$port" -U "$PGHA_USER" -d "$db" "$@"
  elif [ "$service" = pgbouncer ]; then
    docker exec -i -e PGPASSWORD="$PGHA_PASSWORD" -e PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" "$(container_of pgbouncer)" \
      psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p 6432 -U "$PGHA_USER" -d "$db" "$@"
  else
    docker exec -i -e PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-5}" "$(container_of "$service")" \
      psql -X -v ON_ERROR_STOP=1 -U "$PGHA_USER" -d "$db" "$@"
  fi
}

# pg_value SERVICE SQL: one value (unaligned, tuples only), from the postgres database.
pg_value() { pg "$1" postgres -tAq -c "$2"; }

# first_line TEXT: the first non-empty line, without psql's "psql: error: " prefix.
first_line() { printf '%s\n' "$1" | sed -e '/^[[:space:]]*$/d' -e 's/^psql: error: //' -e 's/^ERROR: *//' | head -n 1; }

require_docker_if_needed() {
  if [ "$(psql_mode)" = docker ]; then
    command -v docker >/dev/null 2>&1 || die 1 "neither psql nor docker is installed: install the PostgreSQL client (apt-get install postgresql-client, brew install libpq) or Docker"
    docker info >/dev/null 2>&1 || die 1 "psql is not installed, and Docker does not answer (is it running? may you use its socket?). Install the PostgreSQL client, or start Docker."
  fi
}
