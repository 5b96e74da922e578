#!/usr/bin/env bash
# Benchmark: schemas of 10,000 tables (TABLES=N to change) on PostgreSQL and MariaDB, each
# table with a primary key, a unique, a CHECK and a foreign key; 100 hold 10,000-100,000 rows,
# 20 carry planted violations (tests/bench/make_large_schema.py). Measures `integrity check`
# (every planted violation must be found with its exact count, and nothing else), `inspect
# tables` (introspection) and `schema validate` of a one-line migration, with wall time, peak
# RSS and where the time goes (the CLI's --log-level info timings). One run each: loading the
# schemas takes a few minutes. Usage: tests/bench/large_schema.sh
# Uses $DBCONSULTANT_TEST_POSTGRES_URL / $DBCONSULTANT_TEST_MYSQL_URL, or starts throwaway
# servers (scripts/servers.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
tables=${TABLES:-10000}
work=target/bench/large
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ] || [ -z "${DBCONSULTANT_TEST_MYSQL_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_postgres
  start_mariadb
fi
pg_admin=$DBCONSULTANT_TEST_POSTGRES_URL
pg_url="${pg_admin%/*}/bench_large"
my_url="${DBCONSULTANT_TEST_MYSQL_URL%/*}/bench_large"

python3 tests/bench/make_large_schema.py postgres "$tables" "$work/pg"
python3 tests/bench/make_large_schema.py mariadb "$tables" "$work/my"
if [ "${REUSE:-}" != 1 ]; then
  echo "loading $tables tables into PostgreSQL..." >&2
  psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS bench_large" >/dev/null
  psql "$pg_admin" -qtAc "CREATE DATABASE bench_large" >/dev/null
  psql "$pg_url" -q -v ON_ERROR_STOP=1 -f "$work/pg/schema.sql" >/dev/null
  echo "loading $tables tables into MariaDB..." >&2
  python3 - "$DBCONSULTANT_TEST_MYSQL_URL" "$work/my/schema.sql" <<'PY'
import subprocess, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
client = ["mariadb", "-h", u.hostname, "-P", str(u.port), "-u", urllib.parse.unquote(u.username)]
env = {"MYSQL_PWD": urllib.parse.unquote(u.password or ""), "PATH": "/usr/bin:/bin"}
subprocess.run(client + ["-e", "DROP DATABASE IF EXISTS bench_large; CREATE DATABASE bench_large"], env=env, check=True)
with open(sys.argv[2]) as sql:
    subprocess.run(client + ["bench_large"], stdin=sql, stdout=subprocess.DEVNULL, env=env, check=True)
PY
fi
echo "ALTER TABLE t05000 ADD COLUMN note2 varchar(20);" > "$work/one_line.sql"
export DBCONSULTANT_STORE=$PWD/$work/store.db
python3 tests/bench/large_schema.py target/release/dbconsultant "$tables" "$work" "$pg_url" "$my_url"
