#!/usr/bin/env bash
# Benchmark: the REST service on a PostgreSQL store, two servers with two workers each —
# 50 asynchronous schema validations at once (all succeed, time to drain the queue), then 200
# concurrent clients (wrk) reading run documents: requests/s, p50/p95/p99 (target p95 < 20 ms),
# errors (target: none). SOAK=600 adds ten minutes of reading with each server's RSS sampled.
# Loopback only. Usage: tests/bench/rest.sh   (DURATION=seconds per read round, default 20;
# uses $DBCONSULTANT_TEST_POSTGRES_URL or starts a throwaway server with scripts/servers.sh;
# installs wrk from Debian's packages when missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -q -p dbconsultant-cli
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_servers
fi
python3 tests/bench/rest_load.py
