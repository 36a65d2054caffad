#!/usr/bin/env bash
# The production topology from real processes (docker-compose.yml without
# Docker): local PostgreSQL, a Temporal server built from the Go module proxy
# persisting to it, one `hookd api` and two `hookd worker`s.
#
#   scripts/topology.sh setup   build the binaries, (re)create the databases and schemas
#   scripts/topology.sh up      setup, then run everything in the foreground (Ctrl-C stops)
#
# Ports: Temporal 7233 (and 7234/7235/7239, 6933-6939, 7243, 8000, 7936 as in
# the server's development-postgres12 config), hookd API 127.0.0.1:8080,
# worker metrics 127.0.0.1:9101 and :9102.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=${HOOKD_TOPOLOGY_DIR:-$ROOT/.topology}
BIN=$ROOT/bin
PGHOST=127.0.0.1
TOPOLOGY_DB=${TOPOLOGY_DB:-hookd_topology}

psql_admin() { psql -h "$PGHOST" -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }

setup() {
  bash scripts/test-services.sh >/dev/null
  mkdir -p "$BIN" "$RUN"
  echo "topology: building hookd, temporal-server, temporal-sql-tool"
  go build -o "$BIN/hookd" ./cmd/hookd
  go build -o "$BIN/temporal-server" go.temporal.io/server/cmd/server
  go build -o "$BIN/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql

  echo "topology: fresh databases temporal, temporal_visibility, $TOPOLOGY_DB"
  psql_admin -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='temporal') THEN CREATE ROLE temporal LOGIN PASSWORD 'temporal' CREATEDB; END IF; END\$\$;"
  for db in temporal temporal_visibility "$TOPOLOGY_DB"; do
    psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    psql_admin -c "CREATE DATABASE $db OWNER temporal"
  done

  local mod
  mod=$(go list -m -f '{{.Dir}}' go.temporal.io/server)
  for db in temporal temporal_visibility; do
    local dir=temporal
    [ "$db" = temporal_visibility ] && dir=visibility
    "$BIN/temporal-sql-tool" --plugin postgres12 --ep "$PGHOST" -p 5432 -u temporal --pw temporal --db "$db" setup-schema -v 0.0 >/dev/null 2>&1
    "$BIN/temporal-sql-tool" --plugin postgres12 --ep "$PGHOST" -p 5432 -u temporal --pw temporal --db "$db" \
      update-schema -d "$mod/schema/postgresql/v12/$dir/versioned" >/dev/null 2>&1
  done
  rm -rf "$RUN/config" && mkdir -p "$RUN/config/dynamicconfig"
  cp "$mod/config/development-postgres12.yaml" "$RUN/config/"
  cp "$mod/config/dynamicconfig/development-sql.yaml" "$RUN/config/dynamicconfig/"
  chmod -R u+w "$RUN/config"
  echo "topology: set up in $RUN"
}

# The environment every hookd process of the topology gets.
hookd_env() {
  echo "HOOKD_DATABASE_URL=postgres://temporal:temporal@$PGHOST:5432/$TOPOLOGY_DB?sslmode=disable"
  echo "HOOKD_TEMPORAL_ADDRESS=127.0.0.1:7233"
  echo "HOOKD_TEMPORAL_NAMESPACE=hookd"
  echo "HOOKD_API_KEY=${HOOKD_API_KEY:-topology-key-0123456789}"
  echo "HOOKD_ALLOW_PRIVATE_TARGETS=127.0.0.0/8"
}

up() {
  setup
  pids=()
  trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
  (cd "$RUN" && exec "$BIN/temporal-server" --root "$RUN" --config config --env development-postgres12 --allow-no-auth start) \
    >"$RUN/temporal.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    (echo >/dev/tcp/127.0.0.1/7233) 2>/dev/null && break
    sleep 0.5
  done
  mapfile -t envs < <(hookd_env)
  env "${envs[@]}" HOOKD_METRICS_ADDR=127.0.0.1:9101 "$BIN/hookd" worker >"$RUN/worker1.log" 2>&1 & pids+=($!)
  env "${envs[@]}" HOOKD_METRICS_ADDR=127.0.0.1:9102 "$BIN/hookd" worker >"$RUN/worker2.log" 2>&1 & pids+=($!)
  env "${envs[@]}" HOOKD_API_ADDR=127.0.0.1:8080 "$BIN/hookd" api >"$RUN/api.log" 2>&1 & pids+=($!)
  echo "topology: temporal 127.0.0.1:7233, api http://127.0.0.1:8080 (key in HOOKD_API_KEY or topology-key-0123456789), logs in $RUN"
  wait -n "${pids[@]}"
  echo "topology: a process exited; stopping"
}

case "${1:-up}" in
  setup) setup ;;
  up) up ;;
  env) hookd_env ;;
  *) echo "usage: $0 setup | up | env" >&2; exit 2 ;;
esac
