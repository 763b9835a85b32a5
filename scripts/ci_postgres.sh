#!/usr/bin/env bash
# Make sure PostgreSQL server binaries are on this machine, so the test suite runs its PostgreSQL half (the tests
# start and stop their own throwaway server in a temp dir; nothing here starts a service). Non-interactive.
set -euo pipefail
found() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; }
if found; then
    echo "ci_postgres: PostgreSQL binaries present: $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' ')"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci_postgres: no PostgreSQL binaries and no apt-get; the PostgreSQL half of the tests will be SKIPPED" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# postgresql-common would create and start a cluster; the tests do not need one, so no service is left running.
$SUDO apt-get install -y -q --no-install-recommends postgresql postgresql-client
if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r ver name _; do $SUDO pg_ctlcluster "$ver" "$name" stop || true; done
fi
found || { echo "ci_postgres: install finished but initdb is still missing" >&2; exit 1; }
echo "ci_postgres: installed $(ls -d /usr/lib/postgresql/*/bin | tr '\n' ' ')"
