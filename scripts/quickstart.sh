#!/usr/bin/env bash
# Quick start: build the example shop database and validate a safe and an unsafe migration.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 examples/make_shop_db.py examples/shop.db
export DBCONSULTANT_STORE="${DBCONSULTANT_STORE:-$PWD/target/quickstart-store.db}"
cargo build -q -p dbconsultant-cli
bin=target/debug/dbconsultant
for m in examples/migrations/001_index_order_status.sql examples/migrations/002_unique_customer_email.sql; do
  echo "\$ dbconsultant schema validate --db sqlite://examples/shop.db $m"
  set +e; "$bin" schema validate --db sqlite://examples/shop.db "$m"; code=$?; set -e
  echo "(exit code $code)"; echo
done
