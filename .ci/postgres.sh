#!/bin/sh
# Installs Debian's PostgreSQL server binaries when missing, so that the
# store suite (internal/store) and the replicas test (cmd/ai-agent) run
# against a real PostgreSQL. The tests start their own throwaway server
# (internal/store/pgtest); nothing is started here.
#
#   .ci/postgres.sh && CI=true go test -race ./internal/store/... ./cmd/ai-agent/
#
# With CI=true the PostgreSQL tests fail instead of skipping when the
# binaries cannot be found.
set -eu
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "postgresql: $(ls -d /usr/lib/postgresql/*/bin | tail -n 1)"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql
# The package's service is not needed (and would fail without systemd).
ls -d /usr/lib/postgresql/*/bin | tail -n 1
