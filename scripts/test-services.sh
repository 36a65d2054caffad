#!/usr/bin/env bash
# Makes sure what the tests talk to is present: Node.js (the Vessel receiver
# runs the seed's own JavaScript), Chromium (the dashboard's browser tests
# drive it headless) and PostgreSQL on 127.0.0.1:5432 with a database
# "test". Installs from Debian's packages when missing (needs root).
set -euo pipefail

need_apt=()
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
# The README's walk-through (run by a test) uses curl and jq.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# The dashboard's browser tests (e2e/dashboard_test.go) look for /usr/bin/chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-services: installing ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "test-services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# The "test" database, reachable without a password from loopback.
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
    su postgres -c "psql -Atc \"select 1 from pg_database where datname='test'\"" | grep -q 1 ||
      su postgres -c "createdb test"
  fi
fi
psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null
