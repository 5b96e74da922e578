#!/usr/bin/env bash
# Benchmark: what TLS costs. (1) Connection set-up on loopback, as the drivers connect (sqlx
# on rustls; core/examples/connect_timing.rs), without TLS, with `require` and with
# `verify-full` (the test CA, host name checked), on PostgreSQL and MariaDB. (2) An ETL
# comparison of ROWS (default 1,000,000) identical rows PostgreSQL → MariaDB, without TLS
# and over verify-full on both connections. Usage: tests/bench/tls.sh [runs]
# (uses the servers of scripts/servers.sh, which run with TLS on, or starts them).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
rows=${ROWS:-1000000}
connects=${CONNECTS:-50}
work=$PWD/target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
cargo build --release --locked -q -p dbconsultant --example connect_timing
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ] || [ -z "${DBCONSULTANT_TEST_MYSQL_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_servers
fi
ca=$DBCONSULTANT_TEST_TLS_DIR/ca.crt
bin=$PWD/target/release/dbconsultant
export DBCONSULTANT_STORE=$work/tls-store.db
# The server certificate names localhost: verify-full connects there.
on_localhost() { python3 -c 'import sys,urllib.parse as u; p=u.urlsplit(sys.argv[1]); print(p._replace(netloc=p.netloc.replace("127.0.0.1","localhost"), path=sys.argv[2]).geturl())' "$1" "$2"; }
pg_plain="$(on_localhost "$DBCONSULTANT_TEST_POSTGRES_URL" /postgres)?sslmode=disable"
pg_require="$(on_localhost "$DBCONSULTANT_TEST_POSTGRES_URL" /postgres)?sslmode=require"
pg_verify="$(on_localhost "$DBCONSULTANT_TEST_POSTGRES_URL" /postgres)?sslmode=verify-full&sslrootcert=$ca"
my_plain="$(on_localhost "$DBCONSULTANT_TEST_MYSQL_URL" /mysql)?ssl-mode=DISABLED"
my_require="$(on_localhost "$DBCONSULTANT_TEST_MYSQL_URL" /mysql)?ssl-mode=REQUIRED"
my_verify="$(on_localhost "$DBCONSULTANT_TEST_MYSQL_URL" /mysql)?ssl-mode=VERIFY_IDENTITY&ssl-ca=$ca"

echo "### Connection set-up on loopback ($connects connects each, connect + ping + close)"
echo
echo "| server | TLS | median ms | best ms | added by TLS (median) |"
echo "|---|---|---:|---:|---:|"
for server in PostgreSQL MariaDB; do
  if [ $server = PostgreSQL ]; then set -- "$pg_plain" "$pg_require" "$pg_verify"; else set -- "$my_plain" "$my_require" "$my_verify"; fi
  read -r plain plain_best < <(target/release/examples/connect_timing "$1" "$connects")
  echo "| $server | none | $plain | $plain_best | |"
  for mode in require verify-full; do
    url=$2; [ $mode = verify-full ] && url=$3
    read -r median best < <(target/release/examples/connect_timing "$url" "$connects")
    echo "| $server | $mode | $median | $best | $(python3 -c "print(f'{$median - $plain:+.2f} ms')") |"
  done
done

echo "loading $rows identical rows into PostgreSQL and MariaDB..." >&2
pg_admin=$DBCONSULTANT_TEST_POSTGRES_URL
psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS bench_tls" >/dev/null
psql "$pg_admin" -qtAc "CREATE DATABASE bench_tls" >/dev/null
psql "${pg_admin%/*}/bench_tls" -q >/dev/null <<SQL
CREATE TABLE src (id bigint PRIMARY KEY, name text, qty integer, amount numeric(12,2), created_at timestamp);
INSERT INTO src SELECT g * 2, 'name ' || g, g % 1000, (g % 100000) / 100.0, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, $rows) g;
VACUUM ANALYZE src;
SQL
python3 - "$DBCONSULTANT_TEST_MYSQL_URL" "$rows" <<'PY'
import subprocess, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1]); rows = sys.argv[2]
args = ["mariadb", "--no-defaults", f"-h{u.hostname}", f"-P{u.port}", f"-u{u.username}", f"-p{urllib.parse.unquote(u.password)}"]
sql = f"""DROP DATABASE IF EXISTS bench_tls; CREATE DATABASE bench_tls CHARACTER SET utf8mb4; USE bench_tls;
CREATE TABLE src (id bigint PRIMARY KEY, name text, qty int, amount decimal(12,2), created_at datetime(6));
INSERT INTO src SELECT seq * 2, concat('name ', seq), seq % 1000, (seq % 100000) / 100.0, timestamp'2024-01-01 00:00:00' + interval seq second FROM seq_1_to_{rows};
ANALYZE TABLE src;"""
subprocess.run(args, input=sql, text=True, check=True, stdout=subprocess.DEVNULL)
PY
pg_db() { echo "${1/\/postgres\?//bench_tls?}"; }
my_db() { echo "${1/\/mysql\?//bench_tls?}"; }
for pair in "$pg_plain $my_plain" "$pg_verify $my_verify"; do
  read -r source target <<<"$pair"
  "$bin" etl validate --source "$(pg_db "$source")" --source-table src --target "$(my_db "$target")" --target-table src --key id --format json > "$work/tls-run.json" || true
  python3 -c "
import json,sys; r=json.load(open(sys.argv[1]))['etl_results'][0]
assert r['checksum_match'] and r['source_count'] == int(sys.argv[2]), r" "$work/tls-run.json" "$rows"
done
echo
echo "### ETL validate, PostgreSQL → MariaDB, $rows identical rows"
RATIOS="2/1" python3 tests/bench/timeit.py "$runs" \
  "dbconsultant, no TLS|$bin etl validate --source '$(pg_db "$pg_plain")' --source-table src --target '$(my_db "$my_plain")' --target-table src --key id --format json" \
  "dbconsultant, verify-full on both connections|$bin etl validate --source '$(pg_db "$pg_verify")' --source-table src --target '$(my_db "$my_verify")' --target-table src --key id --format json"
