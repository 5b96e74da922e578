#!/usr/bin/env bash
# Benchmark: round trips of `dbconsultant mcp` tool calls over stdio — run_query (a keyed
# SELECT) and describe_table — 1,000 calls each, p50/p95/p99, on the shop database in SQLite,
# PostgreSQL and MariaDB; with a minimal JSON-RPC client and with the official Python client.
# Target (issue 10): p95 under 10 ms on SQLite. Usage: tests/bench/mcp.sh [calls]
# Uses $DBCONSULTANT_TEST_POSTGRES_URL / $DBCONSULTANT_TEST_MYSQL_URL, or starts throwaway
# servers (scripts/servers.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
calls=${1:-1000}
work=$PWD/target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ] || [ -z "${DBCONSULTANT_TEST_MYSQL_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_servers >&2
fi
venv=$work/mcp-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "mcp==2.3.0"

python3 examples/make_shop_db.py "$work/mcp-shop.db" >/dev/null
pg_admin=$DBCONSULTANT_TEST_POSTGRES_URL
pg="${pg_admin%/*}/bench_mcp"
psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS bench_mcp" >/dev/null
psql "$pg_admin" -qtAc "CREATE DATABASE bench_mcp" >/dev/null
psql "$pg" -q -f examples/postgres/shop.sql >/dev/null
my_admin=$DBCONSULTANT_TEST_MYSQL_URL
my="${my_admin%/*}/bench_mcp"
python3 - "$my_admin" <<'PY' > "$work/my.args"
import sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
print(f"-h{u.hostname} -P{u.port} -u{u.username} -p{u.password}")
PY
# shellcheck disable=SC2046
mariadb $(cat "$work/my.args") -e "DROP DATABASE IF EXISTS bench_mcp; CREATE DATABASE bench_mcp"
# shellcheck disable=SC2046
mariadb $(cat "$work/my.args") bench_mcp < examples/mysql/shop.sql >/dev/null

rm -f "$work"/mcp-store.db*
"$venv/bin/python" tests/bench/mcp_latency.py target/release/dbconsultant "$work/mcp-store.db" "$calls" \
  "sqlite=sqlite://$work/mcp-shop.db" "postgres=$pg" "mariadb=$my" --official
