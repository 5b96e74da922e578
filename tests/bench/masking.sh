#!/usr/bin/env bash
# Benchmark: what masking costs a `run_query` of 500 rows on SQLite (customers with emails,
# names and free-text notes that hold an email): masking on (sensitive names, values, lineage
# of derived columns; the guard's view check runs in both) against masking off, and the
# lineage analysis alone. In-process (core/examples/query_masking.rs), median of N.
# Usage: tests/bench/masking.sh [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-200}
work=$PWD/target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant --example query_masking
rm -f "$work/masking.db"
python3 - "$work/masking.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, note TEXT)")
db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?)",
               [(i, f"user{i}@example.com", f"Customer {i}", f"called on day {i % 30}, wrote from user{i}@example.com") for i in range(1, 501)])
db.commit()
PY
read -r masked plain lineage < <(target/release/examples/query_masking "$work/masking.db" "$n")
echo "| run_query, 500 rows x 5 columns, SQLite | median ms ($n runs) |"
echo "|---|---:|"
echo "| masking off | $plain |"
echo "| masking on (names, values, lineage) | $masked |"
echo "| added by masking | $(python3 -c "print(f'{$masked - $plain:.3f}')") |"
echo "| of which the lineage analysis | $lineage |"
