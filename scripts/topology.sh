#!/usr/bin/env bash
# The production topology from real processes (docker-compose.yml without
# Docker): two PostgreSQL instances of its own (one holds Temporal's
# persistence, one hookd's database, as in production where they fail
# apart), a Temporal server built from the Go module proxy persisting to the
# first, one `hookd api` and two `hookd worker`s on the second.
#
#   scripts/topology.sh setup   build the binaries; make fresh PostgreSQL
#                               instances (initdb) under $TOPOLOGY_DIR, their
#                               databases and schemas, the Temporal config; pick
#                               free ports; write $TOPOLOGY_DIR/topology.env.
#                               The instances are left stopped.
#   scripts/topology.sh up      setup, then run everything in the foreground
#                               (Ctrl-C stops it all, the instances included)
#   scripts/topology.sh env     the environment of the hookd processes
#   scripts/topology.sh run MODE [VAR=value...]   exec bin/hookd MODE with it
#   scripts/topology.sh pg start|stop NAME   start or stop (-m immediate) one
#                               instance: NAME is temporal or hookd
#
# It never touches a PostgreSQL server or a port it did not make: the
# instances listen on 127.0.0.1 only, on free ports (Temporal's eleven ports
# are free ones too, templated into a copy of its development-postgres12
# config), and `setup` only deletes the instances of a previous setup in the
# same $TOPOLOGY_DIR. initdb refuses to run as root: as root the instances
# run as the `postgres` user (Debian's `postgresql` package, which
# scripts/test-services.sh installs).
#
# An existing server instead (`up` only; the fault test needs its own):
# TOPOLOGY_PG=host:port uses it for both, with databases named
# ${TOPOLOGY_DB_PREFIX:-hookd_topology}_{temporal,visibility,hookd} (dropped
# and made again by `setup`; nothing else is touched), as user postgres
# without a password (PGPASSWORD is honoured).
#
# TOPOLOGY_DIR (default .topology) holds the data, config and logs; the name
# is outside HOOKD_ on purpose: hookd refuses unknown HOOKD_ settings, and
# only `env`'s variables reach the hookd processes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${HOOKD_TOPOLOGY_DIR:-}" ]; then
  echo "topology: HOOKD_TOPOLOGY_DIR is no longer read; use TOPOLOGY_DIR" >&2
  exit 2
fi
ROOT=$PWD
RUN=${TOPOLOGY_DIR:-$ROOT/.topology}
case "$RUN" in /*) ;; *) RUN=$ROOT/$RUN ;; esac
BIN=${TOPOLOGY_BIN:-$ROOT/bin}
PREFIX=${TOPOLOGY_DB_PREFIX:-hookd_topology}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# as_pg runs a PostgreSQL tool as the user that owns the instances.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# free_port sets REPLY to a port nobody listens on, below the ephemeral
# range (so no outgoing connection takes it meanwhile), not given before.
given=" "
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$given" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      given+="$p "
      REPLY=$p
      return
    fi
  done
}

# pg_dir is where instance $1 keeps its data (and its server.log):
# $RUN/pg-$1, or, when the postgres user cannot reach $RUN (a checkout
# under /root), a directory of its own under /tmp that $RUN/pg-$1 links to.
# It answers the resolved path, which is the one the postgres user can use.
pg_dir() { readlink -f "$RUN/pg-$1"; }

pg_init() {
  local name=$1 port=$2 dir=$RUN/pg-$1
  # A previous run's instance still up (its runner was SIGKILLed): ours, stop it.
  if [ -f "$dir/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$(pg_dir "$name")" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [ -L "$dir" ]; then
    local target
    target=$(readlink "$dir")
    case "$target" in /tmp/hookd-topology-pg.*) rm -rf "$target" ;; esac
  fi
  rm -rf "$dir"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "topology: no postgres user (install Debian's postgresql package)" >&2; exit 1; }
    mkdir -p "$dir"
    chown postgres "$dir"
    chmod 700 "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      rm -rf "$dir"
      local tmp
      tmp=$(mktemp -d /tmp/hookd-topology-pg.XXXXXX)
      chown postgres "$tmp"
      ln -s "$tmp" "$dir"
    fi
  else
    mkdir -p "$dir" && chmod 700 "$dir"
  fi
  dir=$(pg_dir "$name")
  as_pg "$PGBIN/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$RUN/pg-$name-initdb.log" 2>&1 ||
    { cat "$RUN/pg-$name-initdb.log" >&2; exit 1; }
  cat >>"$dir/postgresql.conf" <<EOF
# scripts/topology.sh: loopback only, no unix socket, a port of its own.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
max_connections = 200
EOF
}

pg_ctl_do() {
  local action=$1 name=$2 dir
  dir=$(pg_dir "$name")
  [ -f "$dir/PG_VERSION" ] || { echo "topology: no instance $RUN/pg-$name (run setup)" >&2; exit 1; }
  case "$action" in
    start) as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null ;;
    stop) as_pg "$PGBIN/pg_ctl" -D "$dir" -m immediate -w -t 60 stop >/dev/null ;;
    *) echo "usage: $0 pg start|stop temporal|hookd" >&2; exit 2 ;;
  esac
}

load_env() {
  [ -f "$RUN/topology.env" ] || { echo "topology: $RUN/topology.env missing (run setup)" >&2; exit 1; }
  # shellcheck disable=SC1091
  . "$RUN/topology.env"
}

setup() {
  if [ -z "${TOPOLOGY_PG:-}" ] && [ ! -x "$PGBIN/initdb" ]; then
    bash scripts/test-services.sh >/dev/null # installs Debian's postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  mkdir -p "$BIN" "$RUN"
  echo "topology: building hookd, temporal-server, temporal-sql-tool"
  go build -o "$BIN/hookd" ./cmd/hookd
  go build -o "$BIN/temporal-server" go.temporal.io/server/cmd/server
  go build -o "$BIN/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql

  local pg_temporal pg_hookd pg_host=127.0.0.1 own=1
  if [ -n "${TOPOLOGY_PG:-}" ]; then
    own=0
    pg_host=${TOPOLOGY_PG%:*}
    pg_temporal=${TOPOLOGY_PG##*:}
    pg_hookd=$pg_temporal
  else
    [ -x "$PGBIN/initdb" ] || { echo "topology: no initdb under /usr/lib/postgresql/*/bin" >&2; exit 1; }
    free_port; pg_temporal=$REPLY
    free_port; pg_hookd=$REPLY
  fi
  local ports=() i
  for i in $(seq 1 14); do free_port; ports+=("$REPLY"); done
  cat >"$RUN/topology.env" <<EOF
# Written by scripts/topology.sh setup.
TOPOLOGY_OWN_PG=$own
TOPOLOGY_PG_HOST=$pg_host
TOPOLOGY_PG_TEMPORAL_PORT=$pg_temporal
TOPOLOGY_PG_HOOKD_PORT=$pg_hookd
TOPOLOGY_DB_TEMPORAL=${PREFIX}_temporal
TOPOLOGY_DB_VISIBILITY=${PREFIX}_visibility
TOPOLOGY_DB_HOOKD=${PREFIX}_hookd
TOPOLOGY_TEMPORAL_ADDR=127.0.0.1:${ports[0]}
TOPOLOGY_API_ADDR=127.0.0.1:${ports[11]}
TOPOLOGY_WORKER1_METRICS_ADDR=127.0.0.1:${ports[12]}
TOPOLOGY_WORKER2_METRICS_ADDR=127.0.0.1:${ports[13]}
EOF
  load_env

  if [ "$own" = 1 ]; then
    echo "topology: PostgreSQL instances in $RUN/pg-temporal (port $pg_temporal) and $RUN/pg-hookd (port $pg_hookd)"
    pg_init temporal "$pg_temporal"
    pg_init hookd "$pg_hookd"
    pg_ctl_do start temporal
    pg_ctl_do start hookd
  fi
  psql_at() { PGOPTIONS="-c client_min_messages=warning" psql -h "$pg_host" -p "$1" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq -c "$2"; }
  for port in $(printf '%s\n' "$pg_temporal" "$pg_hookd" | sort -u); do
    psql_at "$port" "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='temporal') THEN CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB; END IF; END\$\$;"
  done
  local db
  for db in "$TOPOLOGY_DB_TEMPORAL" "$TOPOLOGY_DB_VISIBILITY"; do
    psql_at "$pg_temporal" "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    psql_at "$pg_temporal" "CREATE DATABASE $db OWNER temporal"
  done
  psql_at "$pg_hookd" "DROP DATABASE IF EXISTS $TOPOLOGY_DB_HOOKD WITH (FORCE)"
  psql_at "$pg_hookd" "CREATE DATABASE $TOPOLOGY_DB_HOOKD OWNER temporal"

  local mod dir
  mod=$(go list -m -f '{{.Dir}}' go.temporal.io/server)
  for db in "$TOPOLOGY_DB_TEMPORAL" "$TOPOLOGY_DB_VISIBILITY"; do
    dir=temporal
    [ "$db" = "$TOPOLOGY_DB_VISIBILITY" ] && dir=visibility
    sql_tool() { "$BIN/temporal-sql-tool" --plugin postgres12 --ep "$pg_host" -p "$pg_temporal" -u temporal --pw temporal --db "$db" "$@"; }
    sql_tool setup-schema -v 0.0 >/dev/null 2>&1
    sql_tool update-schema -d "$mod/schema/postgresql/v12/$dir/versioned" >/dev/null 2>&1
  done
  if [ "$own" = 1 ]; then
    pg_ctl_do stop hookd
    pg_ctl_do stop temporal
  fi

  # Temporal's config: every port a free one, its databases the ones above.
  rm -rf "$RUN/config" && mkdir -p "$RUN/config/dynamicconfig"
  sed -E \
    -e "s/\"127\.0\.0\.1:5432\"/\"$pg_host:$pg_temporal\"/" \
    -e "s/databaseName: \"temporal\"/databaseName: \"$TOPOLOGY_DB_TEMPORAL\"/" \
    -e "s/databaseName: \"temporal_visibility\"/databaseName: \"$TOPOLOGY_DB_VISIBILITY\"/" \
    -e "s/\b7233\b/${ports[0]}/g" -e "s/\b7243\b/${ports[1]}/g" -e "s/\b6933\b/${ports[2]}/g" \
    -e "s/\b7234\b/${ports[3]}/g" -e "s/\b6934\b/${ports[4]}/g" \
    -e "s/\b7235\b/${ports[5]}/g" -e "s/\b6935\b/${ports[6]}/g" \
    -e "s/\b7239\b/${ports[7]}/g" -e "s/\b6939\b/${ports[8]}/g" \
    -e "s/\b7936\b/${ports[9]}/g" -e "s/127\.0\.0\.1:8000\b/127.0.0.1:${ports[10]}/g" \
    "$mod/config/development-postgres12.yaml" >"$RUN/config/development-postgres12.yaml"
  cp "$mod/config/dynamicconfig/development-sql.yaml" "$RUN/config/dynamicconfig/"
  chmod -R u+w "$RUN/config"
  echo "topology: set up in $RUN"
}

# The environment every hookd process of the topology gets (and nothing of
# the topology's own: hookd refuses unknown HOOKD_ settings).
hookd_env() {
  load_env
  echo "HOOKD_DATABASE_URL=postgres://temporal:temporal@$TOPOLOGY_PG_HOST:$TOPOLOGY_PG_HOOKD_PORT/$TOPOLOGY_DB_HOOKD?sslmode=disable"
  echo "HOOKD_TEMPORAL_ADDRESS=$TOPOLOGY_TEMPORAL_ADDR"
  echo "HOOKD_TEMPORAL_NAMESPACE=hookd"
  echo "HOOKD_API_KEY=${HOOKD_API_KEY:-topology-key-0123456789}"
  echo "HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8"
}

# hookd_run replaces the shell with bin/hookd MODE, given the topology's
# environment and the VAR=value arguments; no HOOKD_ variable of the caller
# reaches it (hookd would refuse to start on one it does not know).
hookd_run() {
  local mode=${1:?mode} v envs unset=()
  shift
  for v in $(compgen -e); do [[ $v == HOOKD_* ]] && unset+=(-u "$v"); done
  mapfile -t envs < <(hookd_env)
  exec env "${unset[@]}" "${envs[@]}" "$@" "$BIN/hookd" "$mode"
}

up() {
  setup
  load_env
  pids=()
  stop_all() {
    trap - EXIT INT TERM
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
    wait
    if [ "$TOPOLOGY_OWN_PG" = 1 ]; then
      pg_ctl_do stop hookd || true
      pg_ctl_do stop temporal || true
    fi
  }
  trap stop_all EXIT INT TERM
  if [ "$TOPOLOGY_OWN_PG" = 1 ]; then
    pg_ctl_do start temporal
    pg_ctl_do start hookd
  fi
  (cd "$RUN" && exec "$BIN/temporal-server" --root "$RUN" --config config --env development-postgres12 --allow-no-auth start) \
    >"$RUN/temporal.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    (echo >"/dev/tcp/${TOPOLOGY_TEMPORAL_ADDR%:*}/${TOPOLOGY_TEMPORAL_ADDR##*:}") 2>/dev/null && break
    sleep 0.5
  done
  (hookd_run worker HOOKD_METRICS_ADDR="$TOPOLOGY_WORKER1_METRICS_ADDR") >"$RUN/worker1.log" 2>&1 & pids+=($!)
  (hookd_run worker HOOKD_METRICS_ADDR="$TOPOLOGY_WORKER2_METRICS_ADDR") >"$RUN/worker2.log" 2>&1 & pids+=($!)
  (hookd_run api HOOKD_API_ADDR="$TOPOLOGY_API_ADDR") >"$RUN/api.log" 2>&1 & pids+=($!)
  echo "topology: temporal $TOPOLOGY_TEMPORAL_ADDR, api http://$TOPOLOGY_API_ADDR (key in HOOKD_API_KEY or topology-key-0123456789)," \
    "worker metrics $TOPOLOGY_WORKER1_METRICS_ADDR and $TOPOLOGY_WORKER2_METRICS_ADDR, logs in $RUN"
  wait -n "${pids[@]}"
  echo "topology: a process exited; stopping"
}

case "${1:-up}" in
  setup) setup ;;
  up) up ;;
  env) hookd_env ;;
  run) shift; hookd_run "$@" ;;
  pg) pg_ctl_do "${2:-}" "${3:-}" ;;
  *) echo "usage: $0 setup | up | env | run MODE [VAR=value...] | pg start|stop temporal|hookd" >&2; exit 2 ;;
esac
