#!/usr/bin/env bash
# Benchmarks: `dbconsultant schema lint --format json` vs `squawk --reporter json` (the same
# output format on both sides, squawk at its defaults) on the same inputs, in one run: the
# PostgreSQL corpus (tests/fixtures/corpus/postgres), a directory of 400 migration files, and
# one 5,000-statement file; then full `schema validate` runs (sandbox included) of the example
# migrations. Prints a Markdown table with wall and CPU time. Usage: tests/bench/run.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
work=target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
bin=target/release/dbconsultant
if [ ! -x "$work/venv/bin/squawk" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install --quiet squawk-cli==2.70.0
fi
squawk=$work/venv/bin/squawk
python3 tests/bench/make_pg_migration.py 5000 "$work/migration_5000.sql"
# The same statements as 400 migration files of 12-13 statements, as a real repository has them.
rm -rf "$work/migrations_400" && mkdir -p "$work/migrations_400"
python3 - "$work/migration_5000.sql" "$work/migrations_400" <<'PY'
import sys
statements = [s for s in open(sys.argv[1]).read().split(";\n") if s.strip()]
for i in range(400):
    part = statements[i::400]
    open(f"{sys.argv[2]}/V{i + 1}__step.sql", "w").write(";\n".join(part) + ";\n")
PY
corpus=tests/fixtures/corpus/postgres
version=$("$squawk" --version | awk '{print $2}')
python3 examples/make_shop_db.py "$work/shop.db" >/dev/null
export DBCONSULTANT_STORE=$PWD/$work/store.db
RATIOS="2/1,4/3,6/5" python3 tests/bench/timeit.py "$runs" \
  "dbconsultant schema lint --format json, corpus (5 files, 353 statements)|$bin schema lint --dialect postgres --format json $corpus" \
  "squawk $version --reporter json, corpus|$squawk --reporter json '$corpus/*.sql'" \
  "dbconsultant schema lint --format json, 400 files (5,000 statements)|$bin schema lint --dialect postgres --format json $work/migrations_400" \
  "squawk $version --reporter json, 400 files|$squawk --reporter json '$work/migrations_400/*.sql'" \
  "dbconsultant schema lint --format json, one 5,000-statement file|$bin schema lint --dialect postgres --format json $work/migration_5000.sql" \
  "squawk $version --reporter json, one 5,000-statement file|$squawk --reporter json $work/migration_5000.sql" \
  "dbconsultant schema validate, example 002 on shop.db (sandbox)|$bin schema validate --db sqlite://$work/shop.db examples/migrations/002_unique_customer_email.sql" \
  "dbconsultant schema validate, example 004 rebuild on shop.db (sandbox)|$bin schema validate --db sqlite://$work/shop.db examples/migrations/004_orders_foreign_key.sql"
