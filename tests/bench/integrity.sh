#!/usr/bin/env bash
# Benchmark: `dbconsultant integrity check` vs the hand-written SQL a DBA would run for the
# same checks, on PostgreSQL with a 1,000,000-row child and a 100,000-row parent with planted
# orphans, check violations, duplicates and NULLs. Both run in one go on the same data; the
# exact counts must agree. Usage: tests/bench/integrity.sh [runs]
# Uses $DBCONSULTANT_TEST_POSTGRES_URL, or starts a throwaway server (scripts/servers.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
work=target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_postgres
fi
admin=$DBCONSULTANT_TEST_POSTGRES_URL
url="${admin%/*}/bench_integrity"
psql "$admin" -qtAc "DROP DATABASE IF EXISTS bench_integrity" >/dev/null
psql "$admin" -qtAc "CREATE DATABASE bench_integrity" >/dev/null
echo "loading 1,100,000 rows..." >&2
psql "$url" -q -f tests/bench/integrity_data.sql >/dev/null
export DBCONSULTANT_STORE=$PWD/$work/integrity-store.db
bin=target/release/dbconsultant
# Exact counts first: every hand-written count must equal dbconsultant's failure_count.
"$bin" integrity check --db "$url" --rules tests/bench/integrity_rules.toml --format json > "$work/integrity.json" || true
psql "$url" -qtA -f tests/bench/integrity_handwritten.sql > "$work/handwritten.txt"
python3 - "$work/integrity.json" "$work/handwritten.txt" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
lines = [l for l in open(sys.argv[2]).read().split("\n") if l.strip()]
hand = dict(zip(lines[0::2], (int(float(v)) for v in lines[1::2])))
ours = {(r["table_name"], r["constraint"]): r["failure_count"] for r in run["integrity_results"]}
pairs = {
    "parent_pk_null": ("parent", "primary key (id) not null"), "parent_pk_duplicates": ("parent", "primary key (id)"),
    "parent_code_null": ("parent", "code NOT NULL"), "child_pk_null": ("child", "primary key (id) not null"),
    "child_pk_duplicates": ("child", "primary key (id)"), "child_parent_id_null": ("child", "parent_id NOT NULL"),
    "child_amount_null": ("child", "amount NOT NULL"), "child_created_at_null": ("child", "created_at NOT NULL"),
    "child_amount_check": ("child", "child_amount_check"), "child_orphans": ("child", "child_parent_fk"),
    "child_external_ref_duplicates": ("child", "unique child(external_ref)"), "child_category_nulls": ("child", "max_null_fraction child.category"),
}
bad = [(k, hand[k], ours.get(v)) for k, v in pairs.items() if hand[k] != ours.get(v)]
if bad or len(ours) != len(pairs):
    sys.exit(f"counts differ: {bad}; dbconsultant ran {len(ours)} checks, hand-written {len(pairs)}")
print(f"exact counts agree on all {len(pairs)} checks: "
      f"orphans {hand['child_orphans']}, check violations {hand['child_amount_check']}, "
      f"duplicated refs {hand['child_external_ref_duplicates']}, NULL categories {hand['child_category_nulls']}")
PY
python3 tests/bench/timeit.py "$runs" \
  "dbconsultant integrity check (12 checks, 2 tables, samples + stored run)|$bin integrity check --db $url --rules tests/bench/integrity_rules.toml --format json" \
  "hand-written SQL, one query per check (psql)|psql $url -qtA -f tests/bench/integrity_handwritten.sql" \
  | sed 's/squawk median \/ dbconsultant median/hand-written median \/ dbconsultant median/; s/squawk faster/hand-written faster/'
