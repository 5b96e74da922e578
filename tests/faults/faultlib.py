"""What the fault scenarios share: the fixtures on the three databases, running and killing
the CLI, and the independent checks (store consistency, target fingerprint, leftovers)."""

import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("DBCONSULTANT_BIN", "")
SCRATCH = "dbconsultant_sandbox_"


@dataclass
class Row:
    name: str
    runs: int
    lost: int = 0
    half_written: int = 0
    leftovers: int = 0
    target_changed: bool = False
    failures: list = field(default_factory=list)
    seconds: float = 0.0

    def line(self) -> str:
        verdict = "ok" if not self.failures else "FAILED"
        return f"{self.name}: {self.runs} runs, {self.lost} lost, {self.half_written} half-written, {self.leftovers} leftovers, {self.seconds:.1f} s: {verdict}"


def table(rows) -> str:
    head = "| scenario | runs | runs lost | half-written runs | leftovers | target changed | result | time |"
    lines = [head, "|---|---:|---:|---:|---:|---|---|---:|"]
    for r in rows:
        result = "ok" if not r.failures else "FAILED"
        lines.append(
            f"| {r.name} | {r.runs} | {r.lost} | {r.half_written} | {r.leftovers} | {'yes' if r.target_changed else 'no'} | {result} | {r.seconds:.0f} s |"
        )
    return "\n".join(lines)


def remove_tree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- database clients (not ours)

def with_database(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", url, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"psql: {out.stderr.strip()}")
    return out.stdout.strip()


def mariadb(url: str, sql: str) -> str:
    parts = urllib.parse.urlsplit(url)
    env = dict(os.environ, MYSQL_PWD=urllib.parse.unquote(parts.password or ""))
    args = ["mariadb", "--no-defaults", "-h", parts.hostname, "-P", str(parts.port), "-u", urllib.parse.unquote(parts.username), "-N", "-B"]
    db = parts.path.lstrip("/")
    out = subprocess.run(args + ["-e", sql] + ([db] if db else []), capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"mariadb: {out.stderr.strip()}")
    return out.stdout.strip()


def pg_ctl(*args) -> None:
    """pg_ctl on the test PostgreSQL server (the one scripts/servers.sh started)."""
    bindir, data = os.environ["DBCONSULTANT_TEST_POSTGRES_BIN"], os.environ["DBCONSULTANT_TEST_POSTGRES_DATA"]
    user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # A started server inherits pg_ctl's stdout and stderr: pipes there would keep this call
    # waiting for an end-of-file that comes only when the server stops.
    subprocess.run(user + [f"{bindir}/pg_ctl", "-D", data, "-w", "-t", "60", *args],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pg_start_options() -> str:
    """The running test server's own options (port, socket directory, TLS files), for `pg_ctl
    start -o`: unlike `restart`, `start` does not reuse them."""
    with open(os.path.join(os.environ["DBCONSULTANT_TEST_POSTGRES_DATA"], "postmaster.opts")) as f:
        words = shlex.split(f.read())[1:]
    at = words.index("-D")
    return shlex.join(words[:at] + words[at + 2:])


# ---------------------------------------------------------------- fixtures

PG_FIXTURE = """
DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS customers;
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                     status varchar(20) NOT NULL, amount numeric(10,2) NOT NULL);
INSERT INTO customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, 1 + g % 1000, (ARRAY['new','paid','shipped'])[1 + g % 3], (g % 1000) / 10.0 FROM generate_series(1, {rows}) g;
ANALYZE;
"""

MY_FIXTURE = """
DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS customers;
CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(100) NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, status varchar(20) NOT NULL, amount decimal(10,2) NOT NULL,
                     CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id));
INSERT INTO customers SELECT seq, CONCAT('c', seq, '@example.com') FROM seq_1_to_1000;
INSERT INTO orders SELECT seq, 1 + seq % 1000, ELT(1 + seq % 3, 'new', 'paid', 'shipped'), (seq % 1000) / 10.0 FROM seq_1_to_{rows};
ANALYZE TABLE customers, orders;
"""

PG_MIGRATION = """ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX orders_status_idx ON orders (status);
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount >= 0);
"""

MY_MIGRATION = """ALTER TABLE orders ADD COLUMN note varchar(200);
CREATE INDEX orders_status_idx ON orders (status);
"""

SQLITE_MIGRATION = """CREATE INDEX idx_orders_status ON orders (status);
ALTER TABLE customers ADD COLUMN note TEXT;
"""


class Env:
    """The three targets, the migrations, and where each scenario keeps its store."""

    def __init__(self, work: str):
        self.work = work
        self.tmp = os.environ["TMPDIR"]
        self.pg_server = os.environ["DBCONSULTANT_TEST_POSTGRES_URL"]
        self.my_server = os.environ["DBCONSULTANT_TEST_MYSQL_URL"]
        self.rows = int(os.environ.get("DBCONSULTANT_FAULT_ROWS", "200000"))
        self.pg = with_database(self.pg_server, "faults_target")
        self.pg_copy = with_database(self.pg_server, "faults_copy")
        self.my = with_database(self.my_server, "faults_target")
        for name in ("faults_target", "faults_copy"):
            psql(self.pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            psql(self.pg_server, f"CREATE DATABASE {name}")
            psql(with_database(self.pg_server, name), PG_FIXTURE.format(rows=self.rows))
        # One planted difference: a comparison that completes must find it, and only it.
        self.planted_key = self.rows // 2
        psql(self.pg_copy, f"UPDATE orders SET amount = amount + 1 WHERE id = {self.planted_key}")
        psql(self.pg, "CREATE EXTENSION IF NOT EXISTS hypopg")
        mariadb(self.my_server, "DROP DATABASE IF EXISTS faults_target; CREATE DATABASE faults_target")
        mariadb(self.my, MY_FIXTURE.format(rows=self.rows))
        self.sqlite = os.path.join(work, "shop.db")
        subprocess.run([sys.executable, os.path.join(ROOT, "examples", "make_shop_db.py"), self.sqlite], check=True, capture_output=True)
        self.migrations = {}
        for name, text in (("pg", PG_MIGRATION), ("my", MY_MIGRATION), ("sqlite", SQLITE_MIGRATION)):
            path = os.path.join(work, f"{name}_migration.sql")
            with open(path, "w") as f:
                f.write(text)
            self.migrations[name] = path
        self._stores = 0

    def new_store(self) -> str:
        self._stores += 1
        return os.path.join(self.work, f"store{self._stores}.db")

    def new_pg_store(self) -> str:
        self._stores += 1
        name = f"faults_store{self._stores}"
        psql(self.pg_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        psql(self.pg_server, f"CREATE DATABASE {name}")
        return with_database(self.pg_server, name)

    # -- fingerprints of the targets, read with the databases' own clients

    def fingerprint(self, target: str) -> str:
        if target == "sqlite":
            with open(self.sqlite, "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()
        if target == "pg":
            return psql(
                self.pg,
                "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM ("
                " SELECT table_name || '.' || column_name || ':' || data_type AS x FROM information_schema.columns WHERE table_schema = 'public'"
                " UNION ALL SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
                " UNION ALL SELECT conname FROM pg_constraint WHERE connamespace = 'public'::regnamespace"
                " UNION ALL SELECT 'orders=' || count(*) || '/' || sum(amount) FROM orders) t",
            )
        return mariadb(
            self.my,
            "SELECT MD5(GROUP_CONCAT(x ORDER BY x)) FROM ("
            " SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ':', COLUMN_TYPE) AS x FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'faults_target'"
            " UNION ALL SELECT CONCAT(TABLE_NAME, '.', INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'faults_target'"
            " UNION ALL SELECT CONCAT('orders=', COUNT(*), '/', SUM(amount)) FROM orders) t",
        )

    # -- leftovers

    def leftovers(self) -> list:
        """What runs left behind: temporary directories of dead processes, throwaway servers
        still running, scratch databases on the PostgreSQL and MariaDB servers."""
        found = []
        for name in os.listdir(self.tmp):
            m = re.match(r"dbconsultant-(shadow|sandbox|dump)-(\d+)-", name)
            if m and not alive(int(m.group(2))):
                found.append(f"directory {name}")
        for pid, cmdline in processes():
            if "dbconsultant-shadow-" in cmdline and ("postgres" in cmdline or "mariadbd" in cmdline):
                found.append(f"server process {pid}")
        found += [f"PostgreSQL database {d}" for d in psql(self.pg_server, f"SELECT datname FROM pg_database WHERE datname LIKE '{SCRATCH}%'").split()]
        found += [
            f"MariaDB database {d}"
            for d in mariadb(self.my_server, f"SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE '{SCRATCH.replace('_', chr(92) + '_')}%'").split()
        ]
        return found


def settle(env, seconds=10.0):
    """Leftovers, after giving orphaned children (pg_dump, initdb) a moment to finish."""
    deadline = time.time() + seconds
    while True:
        found = env.leftovers()
        if not found or time.time() > deadline:
            return found
        time.sleep(0.5)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def processes():
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    yield int(pid), f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue


# ---------------------------------------------------------------- the CLI

def command(store: str, args: list) -> list:
    return [BIN, "--store", store] + args


def run(store: str, args: list, timeout: float = 600, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(command(store, args), capture_output=True, text=True, timeout=timeout, env=env)


def spawn(store: str, args: list) -> subprocess.Popen:
    return subprocess.Popen(command(store, args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# ---------------------------------------------------------------- the store, read with sqlite3 / psql

RESULT_TABLES = {
    "findings": "findings",
    "schema_changes": "schema_validation_results",
    "integrity_results": "data_integrity_results",
    "performance_metrics": "performance_metrics",
    "etl_results": "etl_validation_results",
}


def store_runs(store: str) -> list:
    """Every stored run: (id, status, document, {result table: row count})."""
    if store.startswith("postgres"):
        out = psql(store, "SELECT json_build_object('id', id, 'status', status, 'document', document) FROM database_test_runs")
        runs = [json.loads(line) for line in out.splitlines() if line]
        counts = {}
        for table in RESULT_TABLES.values():
            for line in psql(store, f"SELECT test_run_id || ' ' || count(*) FROM {table} GROUP BY test_run_id").splitlines():
                rid, n = line.split()
                counts[(table, rid)] = int(n)
        return [(r["id"], r["status"], r["document"], {t: counts.get((t, r["id"]), 0) for t in RESULT_TABLES.values()}) for r in runs]
    if not os.path.exists(store):
        return []
    db = sqlite3.connect(store, timeout=30)
    try:
        runs = db.execute("SELECT id, status, document FROM database_test_runs").fetchall()
        out = []
        for rid, status, document in runs:
            counts = {t: db.execute(f"SELECT count(*) FROM {t} WHERE test_run_id = ?", (rid,)).fetchone()[0] for t in RESULT_TABLES.values()}
            out.append((rid, status, document, counts))
        return out
    finally:
        db.close()


def half_written(store: str) -> list:
    """Runs whose rows do not match their document: a run must be stored whole or not at all."""
    bad = []
    for rid, status, document, counts in store_runs(store):
        try:
            doc = json.loads(document)
        except ValueError:
            bad.append(f"{rid}: document is not JSON")
            continue
        if doc.get("test_run_id") != rid or doc.get("status") != status:
            bad.append(f"{rid}: document says {doc.get('test_run_id')}/{doc.get('status')}, row says {rid}/{status}")
        for key, table in RESULT_TABLES.items():
            if len(doc.get(key) or []) != counts[table]:
                bad.append(f"{rid}: {len(doc.get(key) or [])} {key} in the document, {counts[table]} rows in {table}")
    return bad


def sqlite_integrity(store: str) -> str:
    db = sqlite3.connect(store, timeout=30)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def run_id(stdout: str) -> str:
    return json.loads(stdout)["test_run_id"]
