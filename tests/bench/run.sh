#!/usr/bin/env bash
# Benchmarks: `dbconsultant schema lint` vs squawk on the same 5,000-statement PostgreSQL
# migration, and a full `schema validate` (sandbox included) of the example migration.
# Prints a Markdown table. Usage: tests/bench/run.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
work=target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
bin=target/release/dbconsultant
if [ ! -x "$work/venv/bin/squawk" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet squawk-cli
fi
python3 tests/bench/make_pg_migration.py 5000 "$work/migration_5000.sql"
python3 examples/make_shop_db.py "$work/shop.db" >/dev/null
export DBCONSULTANT_STORE=$PWD/$work/store.db
python3 tests/bench/timeit.py "$runs" \
  "dbconsultant schema lint (5,000 statements)|$bin schema lint --dialect postgres $work/migration_5000.sql" \
  "squawk $("$work/venv/bin/squawk" --version | awk '{print $2}') (5,000 statements)|$work/venv/bin/squawk $work/migration_5000.sql" \
  "dbconsultant schema validate, example 002 on shop.db (sandbox)|$bin schema validate --db sqlite://$work/shop.db examples/migrations/002_unique_customer_email.sql" \
  "dbconsultant schema validate, example 004 rebuild on shop.db (sandbox)|$bin schema validate --db sqlite://$work/shop.db examples/migrations/004_orders_foreign_key.sql"
