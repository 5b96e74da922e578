#!/usr/bin/env bash
# Benchmark: `dbconsultant etl validate` against reladiff (hashdiff) and against the lower
# bound — one count + checksum full-scan query per table — on the same tables in one run.
# Tables: ROWS (default 1,000,000) rows of (bigint key, text, int, numeric, timestamp); one
# identical copy and one with ~100 scattered differences (40 updates, 30 deletes, 30 inserts).
# Pairs: PostgreSQL → PostgreSQL, PostgreSQL → MariaDB, MariaDB → SQLite.
# Every differing key must be found and none invented (checked against SQL EXCEPT queries).
# Usage: tests/bench/etl.sh [runs]   (uses $DBCONSULTANT_TEST_{POSTGRES,MYSQL}_URL or starts
# throwaway servers with scripts/servers.sh; installs reladiff into target/bench)
# Environment: ROWS (default 1000000); RELADIFF_J=n uses reladiff -j n instead of trying
# 1, 2, 4 and 8 first; SQLITE=0 leaves out the MariaDB → SQLite pair (loading 10M rows into
# SQLite from Python takes minutes); LOAD=0 keeps the tables of the previous run of the same
# ROWS instead of loading them again. The tables print each command's peak RSS and, with ROWS,
# its median wall time per million rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-3}
rows=${ROWS:-1000000}
export ROWS=$rows   # timeit.py prints ms per million rows
sqlite_pair=${SQLITE:-1}
work=$PWD/target/bench
mkdir -p "$work"
cargo build --release --locked -q -p dbconsultant-cli
if [ ! -x "$work/reladiff-venv/bin/reladiff" ]; then
  python3 -m venv "$work/reladiff-venv"
  "$work/reladiff-venv/bin/pip" install -q "reladiff[postgresql,mysql]==0.6.0"
fi
reladiff=$work/reladiff-venv/bin/reladiff
if [ -z "${DBCONSULTANT_TEST_POSTGRES_URL:-}" ] || [ -z "${DBCONSULTANT_TEST_MYSQL_URL:-}" ]; then
  source scripts/servers.sh
  install_server_packages
  trap stop_servers EXIT
  start_servers
fi
pg_admin=$DBCONSULTANT_TEST_POSTGRES_URL
pg="${pg_admin%/*}/bench_etl"
my_admin=$DBCONSULTANT_TEST_MYSQL_URL
my="${my_admin%/*}/bench_etl"
sqlite=$work/bench_etl.db
export DBCONSULTANT_STORE=$work/etl-store.db
bin=$PWD/target/release/dbconsultant

# The planted differences, the same on every server (keys are even; inserts take odd keys).
diff_sql() { # $1 = table, $2 = generate_series or seq source
  cat <<SQL
UPDATE $1 SET qty = qty + 1 WHERE id IN (SELECT ((g * 24989) % $rows + 1) * 2 FROM $2 WHERE g <= 20);
UPDATE $1 SET amount = amount + 0.01 WHERE id IN (SELECT ((g * 15331 + 3) % $rows + 1) * 2 FROM $2 WHERE g <= 20);
DELETE FROM $1 WHERE id IN (SELECT ((g * 33331 + 7) % $rows + 1) * 2 FROM $2 WHERE g <= 30);
SQL
}

loaded=$work/etl-loaded-rows
if [ "${LOAD:-1}" = 0 ] && [ "$(cat "$loaded" 2>/dev/null)" = "$rows" ]; then
  echo "LOAD=0: keeping the $rows-row tables of the previous run" >&2
else
rm -f "$loaded"
echo "loading $rows rows x 3 tables into PostgreSQL..." >&2
psql "$pg_admin" -qtAc "DROP DATABASE IF EXISTS bench_etl" >/dev/null
psql "$pg_admin" -qtAc "CREATE DATABASE bench_etl" >/dev/null
psql "$pg" -q >/dev/null <<SQL
CREATE TABLE src (id bigint PRIMARY KEY, name text, qty integer, amount numeric(12,2), created_at timestamp);
INSERT INTO src SELECT g * 2, 'name ' || g, g % 1000, (g % 100000) / 100.0, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, $rows) g;
CREATE TABLE same (LIKE src INCLUDING ALL); INSERT INTO same SELECT * FROM src;
CREATE TABLE dst (LIKE src INCLUDING ALL); INSERT INTO dst SELECT * FROM src;
CREATE TEMP VIEW seq AS SELECT g FROM generate_series(1, 100) g;
$(diff_sql dst seq)
INSERT INTO dst SELECT ((g * 66667) % $rows) * 2 + 1, 'inserted ' || g, 1, 1.00, timestamp '2024-06-01' FROM generate_series(1, 30) g;
VACUUM ANALYZE src; VACUUM ANALYZE same; VACUUM ANALYZE dst;
SQL

echo "loading into MariaDB..." >&2
mysql_cli() { # run SQL from stdin on the MariaDB database a mysql:// URL names
  python3 -c '
import sys, urllib.parse, subprocess
u = urllib.parse.urlparse(sys.argv[1])
args = ["mariadb", f"-h{u.hostname}", f"-P{u.port}", f"-u{u.username}", f"-p{urllib.parse.unquote(u.password)}"]
if u.path.strip("/"): args.append(u.path.strip("/"))
sys.exit(subprocess.run(args).returncode)' "$1"
}
echo "DROP DATABASE IF EXISTS bench_etl; CREATE DATABASE bench_etl CHARACTER SET utf8mb4;" | mysql_cli "$my_admin"
mysql_cli "$my" <<SQL
CREATE TABLE src (id bigint PRIMARY KEY, name text, qty int, amount decimal(12,2), created_at datetime(6));
INSERT INTO src SELECT seq * 2, concat('name ', seq), seq % 1000, (seq % 100000) / 100.0, timestamp'2024-01-01 00:00:00' + interval seq second FROM seq_1_to_$rows;
CREATE TABLE same LIKE src; INSERT INTO same SELECT * FROM src;
CREATE TABLE dst LIKE src; INSERT INTO dst SELECT * FROM src;
CREATE VIEW seqv AS SELECT seq AS g FROM seq_1_to_100;
$(diff_sql dst seqv)
INSERT INTO dst SELECT ((seq * 66667) % $rows) * 2 + 1, concat('inserted ', seq), 1, 1.00, timestamp'2024-06-01 00:00:00' FROM seq_1_to_30;
ANALYZE TABLE src, same, dst;
SQL

if [ "$sqlite_pair" = 1 ]; then
echo "loading into SQLite..." >&2
rm -f "$sqlite"
python3 - "$sqlite" "$rows" <<'PY'
import sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1]); rows = int(sys.argv[2])
db.execute("CREATE TABLE dst (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, amount NUMERIC(12,2), created_at TIMESTAMP)")
start = datetime.datetime(2024, 1, 1)
def gen():
    for g in range(1, rows + 1):
        yield (g * 2, f"name {g}", g % 1000, (g % 100000) / 100.0, (start + datetime.timedelta(seconds=g)).strftime("%Y-%m-%d %H:%M:%S"))
db.executemany("INSERT INTO dst VALUES (?,?,?,?,?)", gen())
db.execute("CREATE TABLE same AS SELECT * FROM dst")
for g in range(1, 21):
    db.execute("UPDATE dst SET qty = qty + 1 WHERE id = ?", ((((g * 24989) % rows) + 1) * 2,))
    db.execute("UPDATE dst SET amount = round(amount + 0.01, 2) WHERE id = ?", ((((g * 15331 + 3) % rows) + 1) * 2,))
for g in range(1, 31):
    db.execute("DELETE FROM dst WHERE id = ?", ((((g * 33331 + 7) % rows) + 1) * 2,))
    db.execute("INSERT INTO dst VALUES (?,?,?,?,?)", (((g * 66667) % rows) * 2 + 1, f"inserted {g}", 1, 1.0, "2024-06-01 00:00:00"))
db.commit()
PY
# SQLite's `same` came from CREATE TABLE AS (no key): give it its primary key back.
python3 -c "
import sqlite3,sys; db=sqlite3.connect('$sqlite')
db.executescript('CREATE TABLE s2 (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, amount NUMERIC(12,2), created_at TIMESTAMP); INSERT INTO s2 SELECT * FROM same; DROP TABLE same; ALTER TABLE s2 RENAME TO same;')"
fi

echo "$rows" > "$loaded"
fi

# The truth, from PostgreSQL: keys missing in dst, extra in dst, changed.
truth=$work/etl-truth.json
psql "$pg" -qtA > "$truth" <<'SQL'
SELECT json_build_object(
  'missing', (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM (SELECT id FROM src EXCEPT SELECT id FROM dst) m),
  'extra', (SELECT coalesce(json_agg(id ORDER BY id), '[]') FROM (SELECT id FROM dst EXCEPT SELECT id FROM src) e),
  'changed', (SELECT coalesce(json_agg(s.id ORDER BY s.id), '[]') FROM src s JOIN dst d USING (id) WHERE (s.name, s.qty, s.amount, s.created_at) IS DISTINCT FROM (d.name, d.qty, d.amount, d.created_at)));
SQL

verify() { # $1 = label, $2... = dbconsultant args; checks the keys against the truth
  "$bin" etl validate "${@:2}" --key id --sample-limit 1000 --format json > "$work/etl-run.json" || true
  python3 - "$1" "$work/etl-run.json" "$truth" <<'PY'
import json, sys
label, run, truth = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
r = run["etl_results"][0]
got = {"missing": sorted(k["id"] for k in r["missing_in_target"]), "extra": sorted(k["id"] for k in r["extra_in_target"]),
       "changed": sorted(c["key"]["id"] for c in r["changed"])}
want = {k: sorted(v) for k, v in truth.items()}
if got != want:
    sys.exit(f"{label}: keys differ from the truth: {json.dumps({k: (sorted(set(got[k]) ^ set(want[k]))) for k in got})}")
print(f"{label}: all {sum(len(v) for v in want.values())} differing keys found, none invented "
      f"({len(want['missing'])} missing, {len(want['extra'])} extra, {len(want['changed'])} changed; {r['queries']} queries, {r['rows_fetched']} rows fetched)")
PY
}

verify_identical() { # $1 = label, $2... = args
  "$bin" etl validate "${@:2}" --key id --format json > "$work/etl-run.json" || true
  python3 -c "
import json,sys; r=json.load(open('$work/etl-run.json'))['etl_results'][0]
assert r['checksum_match'] and r['missing_count']+r['extra_count']+r['changed_count']==0, r
print('$1: identical, checksum_match, {} rows'.format(r['source_count']))"
}

echo "## correctness" >&2
verify_identical "pg → pg identical" --source "$pg" --source-table src --target "$pg" --target-table same --strategy bisect
verify "pg → pg ~100 differences" --source "$pg" --source-table src --target "$pg" --target-table dst --strategy bisect
verify "pg → pg ~100 differences (join)" --source "$pg" --source-table src --target "$pg" --target-table dst --strategy join
verify_identical "pg → mariadb identical" --source "$pg" --source-table src --target "$my" --target-table same
verify "pg → mariadb ~100 differences" --source "$pg" --source-table src --target "$my" --target-table dst
if [ "$sqlite_pair" = 1 ]; then
  verify_identical "mariadb → sqlite identical" --source "$my" --source-table src --target "sqlite://$sqlite" --target-table same
  verify "mariadb → sqlite ~100 differences" --source "$my" --source-table src --target "sqlite://$sqlite" --target-table dst
fi

# reladiff finds the same number of differing rows (a changed row is one - and one + line).
rd_pg=${pg/postgres:\/\//postgresql://}
n=$("$reladiff" "$rd_pg" src "$rd_pg" dst -k id -c name -c qty -c amount -c created_at -a hashdiff -j 4 --json | wc -l)
echo "reladiff pg → pg: $n diff lines (expected 30 + 30 + 2 x 40 = 140)" >&2

cols="-k id -c name -c qty -c amount -c created_at"
lower_bound() { # $1 = table a, $2 = table b: count + checksum, one full scan per table, concurrently
  # The same row encoding and checksum dbconsultant computes for these columns.
  for t in "$1" "$2"; do
    cat > "$work/lower_bound_$t.sql" <<SQL
SELECT count(*), sum(('x' || substr(m, 1, 8))::bit(31)::int), sum((('x' || substr(m, 8, 8))::bit(32)::bigint % 536870912)::int)
FROM (SELECT md5('"' || id::text || '"' || coalesce('"' || replace(name, '"', '""') || '"', 'N') || '"' || qty::text || '"'
  || '"' || amount::text || '"' || '"' || created_at::text || '"') AS m FROM $t OFFSET 0) s;
SQL
  done
  echo "bash -c 'psql $pg -qtA -f $work/lower_bound_$1.sql >/dev/null & psql $pg -qtA -f $work/lower_bound_$2.sql >/dev/null & wait'"
}
best_j=${RELADIFF_J:-1}
best=999999
for j in $([ -n "${RELADIFF_J:-}" ] || echo 1 2 4 8); do
  t=$(python3 -c "
import subprocess,time,shlex
a=shlex.split('''$reladiff $rd_pg src $rd_pg dst $cols -a hashdiff -j $j --json''')
subprocess.run(a,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); s=time.perf_counter(); subprocess.run(a,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL); print(int((time.perf_counter()-s)*1000))")
  echo "reladiff -j $j: $t ms" >&2
  if [ "$t" -lt "$best" ]; then best=$t; best_j=$j; fi
done
echo "reladiff best -j: $best_j" >&2

echo
echo "### PostgreSQL → PostgreSQL, identical tables ($rows rows)"
RATIOS="3/1,5/2" python3 tests/bench/timeit.py "$runs" \
  "lower bound: count + checksum, one scan per table|$(lower_bound src same)" \
  "dbconsultant (bisection)|$bin etl validate --source $pg --source-table src --target $pg --target-table same --key id --strategy bisect --format json" \
  "dbconsultant (same-database join)|$bin etl validate --source $pg --source-table src --target $pg --target-table same --key id --strategy join --format json" \
  "reladiff hashdiff, defaults (-j 1)|$reladiff $rd_pg src $rd_pg same $cols -a hashdiff --json" \
  "reladiff hashdiff, -j $best_j|$reladiff $rd_pg src $rd_pg same $cols -a hashdiff -j $best_j --json" \
  | sed 's/squawk median \/ dbconsultant median/dbconsultant (bisection) \/ lower bound/; s/ (dbconsultant faster)//; s/ (squawk faster)//'
echo
echo "### PostgreSQL → PostgreSQL, ~100 scattered differences ($rows rows)"
RATIOS="5/2,4/2" python3 tests/bench/timeit.py "$runs" \
  "lower bound: count + checksum, one scan per table|$(lower_bound src dst)" \
  "dbconsultant (bisection)|$bin etl validate --source $pg --source-table src --target $pg --target-table dst --key id --strategy bisect --format json" \
  "dbconsultant (same-database join)|$bin etl validate --source $pg --source-table src --target $pg --target-table dst --key id --strategy join --format json" \
  "reladiff hashdiff, defaults (-j 1)|$reladiff $rd_pg src $rd_pg dst $cols -a hashdiff --json" \
  "reladiff hashdiff, -j $best_j|$reladiff $rd_pg src $rd_pg dst $cols -a hashdiff -j $best_j --json" \
  | sed 's/squawk median \/ dbconsultant median/dbconsultant (bisection) \/ lower bound/; s/ (dbconsultant faster)//; s/ (squawk faster)//'
echo
echo "### PostgreSQL → MariaDB ($rows rows)"
RATIOS="4/3" python3 tests/bench/timeit.py "$runs" \
  "dbconsultant, identical|$bin etl validate --source $pg --source-table src --target $my --target-table same --key id --format json" \
  "reladiff hashdiff -j $best_j, identical|$reladiff $rd_pg src $my same $cols -a hashdiff -j $best_j --json" \
  "dbconsultant, ~100 differences|$bin etl validate --source $pg --source-table src --target $my --target-table dst --key id --format json" \
  "reladiff hashdiff -j $best_j, ~100 differences|$reladiff $rd_pg src $my dst $cols -a hashdiff -j $best_j --json" \
  | sed 's/squawk median \/ dbconsultant median/reladiff \/ dbconsultant, identical/; s/squawk faster/reladiff faster/'
[ "$sqlite_pair" = 1 ] || exit 0
echo
echo "### MariaDB → SQLite ($rows rows; reladiff has no SQLite driver)"
python3 tests/bench/timeit.py "$runs" \
  "dbconsultant, identical|$bin etl validate --source $my --source-table src --target sqlite://$sqlite --target-table same --key id --format json" \
  "dbconsultant, ~100 differences|$bin etl validate --source $my --source-table src --target sqlite://$sqlite --target-table dst --key id --format json" \
  | sed '/squawk median/d'
