"""Faults of the sandbox itself: the throwaway server's disk fills up, the target goes away
while a validation runs on its copy. Either way: a clear error naming what happened, no
passing run, the target unchanged, nothing left behind (directories, server processes)."""

import os
import subprocess
import time

import faultlib as F
from scenarios import EXIT_ERROR, EXIT_FAILED, EXIT_PASSED

# Each writes ~110 MB into the sandbox: more than the room left beside the server's data.
FILLING_MIGRATIONS = {
    "pg": "CREATE TABLE filler AS SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 200000) g;\nALTER TABLE orders ADD COLUMN note text;\n",
    "my": "CREATE TABLE filler AS SELECT seq, REPEAT('x', 500) AS pad FROM seq_1_to_200000;\nALTER TABLE orders ADD COLUMN note varchar(200);\n",
    "sqlite": "CREATE TABLE filler AS WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < 200000)"
    " SELECT g, printf('%.500c', 'x') AS pad FROM n;\nALTER TABLE customers ADD COLUMN note TEXT;\n",
}
SANDBOXES = {"pg": "PostgreSQL throwaway server", "my": "MariaDB throwaway server", "sqlite": "SQLite copy"}


def _shadow_processes():
    return [pid for pid, cmdline in F.processes() if "dbconsultant-shadow-" in cmdline and ("postgres" in cmdline or "mariadbd" in cmdline)]


def _left_in(directory):
    left = [f"directory {name}" for name in os.listdir(directory) if name.startswith("dbconsultant-")]
    return left + [f"server process {pid}" for pid in _shadow_processes()]


def _template_bytes(prefix):
    """The size of the kept template of a kind of server (made by an earlier run): what each
    sandbox copies into its temporary directory."""
    roots = [os.environ.get("DBCONSULTANT_CACHE_DIR") or "", "/var/cache/dbconsultant", os.path.expanduser("~/.cache/dbconsultant")]
    for root in filter(None, roots):
        templates = os.path.join(root, "templates")
        for name in sorted(os.listdir(templates)) if os.path.isdir(templates) else []:
            if name.startswith(prefix + "-"):
                out = subprocess.run(["du", "-sb", os.path.join(templates, name, "data")], capture_output=True, text=True)
                if out.returncode == 0:
                    return int(out.stdout.split()[0])
    return None


def _shadow_disk_full(env, kind):
    """A throwaway server's file system is too small for its copy of the template, then too
    small for what the migration writes."""
    row = F.Row(f"the sandbox's disk full (tmpfs), {SANDBOXES[kind]} (x2)", 0)
    store = env.new_store()
    before = env.fingerprint(kind)
    target = {"pg": env.pg, "my": env.my, "sqlite": f"sqlite://{env.sqlite}"}[kind]
    # An ordinary run first: it keeps the template whose size sizes the file systems (a SQLite
    # sandbox copies the database file).
    first = F.run(store, ["schema", "validate", "--db", target, env.migrations[kind], "--format", "json"])
    template = os.path.getsize(env.sqlite) if kind == "sqlite" else _template_bytes({"pg": "postgres", "my": "mariadb"}[kind])
    if first.returncode not in (EXIT_PASSED, EXIT_FAILED) or template is None:
        row.failures.append(f"the ordinary run failed or kept no template: exit {first.returncode}: {first.stderr.strip()[-300:]}")
        return row
    filling = os.path.join(env.work, f"filling_migration_{kind}.sql")
    with open(filling, "w") as f:
        f.write(FILLING_MIGRATIONS[kind])
    cases = [
        ("no room for the copy", template // 2, env.migrations[kind]),
        ("no room for the migration's data", template + 24 * 1024 * 1024, filling),
    ]
    for what, size, migration in cases:
        mount = os.path.join(env.work, f"shadow-tmp-{kind}-{row.runs}")
        os.makedirs(mount)
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=1777", "tmpfs", mount], capture_output=True, text=True)
        if made.returncode != 0:
            row.failures.append(f"cannot mount a small tmpfs (run as root): {made.stderr.strip()}")
            return row
        try:
            t0 = time.time()
            out = F.run(store, ["schema", "validate", "--db", target, migration, "--format", "json"], env=dict(os.environ, TMPDIR=mount))
            row.runs += 1
            said = out.stderr.lower()
            if out.returncode != EXIT_ERROR or not any(w in said for w in ("no space left on device", "disk is full")) or "sandbox" not in said:
                row.failures.append(f"{what}: exit {out.returncode}, expected 3 naming the sandbox's full disk: {out.stderr.strip()[-300:]}")
            elif time.time() - t0 > 60:
                row.failures.append(f"{what}: the error took {time.time() - t0:.0f} s")
            left = _left_in(mount)
            if left:
                row.leftovers += len(left)
                row.failures.append(f"{what}: left behind: {', '.join(left[:3])}")
        finally:
            subprocess.run(["umount", "-l", mount], capture_output=True)
    if env.fingerprint(kind) != before:
        row.target_changed = True
        row.failures.append("the target changed")
    if [r for r in F.store_runs(store) if r[1] == "passed" and r[0] != F.run_id(first.stdout)]:
        row.failures.append("a run on a full sandbox disk was stored as passed")
    row.half_written = len(F.half_written(store))
    return row


def shadow_disk_full_postgres(env):
    return _shadow_disk_full(env, "pg")


def shadow_disk_full_mariadb(env):
    return _shadow_disk_full(env, "my")


def shadow_disk_full_sqlite(env):
    return _shadow_disk_full(env, "sqlite")


def target_gone_mid_validation(env):
    """The target PostgreSQL server stops while a validation runs on its throwaway copy (the
    copy is up, the target's own data checks are still to come)."""
    row = F.Row("PostgreSQL target stopped mid-validation, throwaway server (x2)", 0)
    if not os.environ.get("DBCONSULTANT_TEST_POSTGRES_DATA"):
        row.failures.append("DBCONSULTANT_TEST_POSTGRES_BIN / _DATA not set (scripts/servers.sh exports them)")
        return row
    options = F.pg_start_options()
    store = env.new_store()
    before = env.fingerprint("pg")
    args = ["schema", "validate", "--db", env.pg, env.migrations["pg"], "--format", "json"]
    # At once (the schema is being copied), then a moment later (the migration or the
    # checks of the target's data are running).
    for delay in (0.0, 0.3):
        p = F.spawn(store, args)
        deadline = time.time() + 60
        while time.time() < deadline and p.poll() is None and not _shadow_processes():
            time.sleep(0.01)
        time.sleep(delay)
        if p.poll() is not None:
            row.failures.append("the run ended before its throwaway server was seen")
            continue
        try:
            F.pg_ctl("-m", "fast", "stop")
            out, err = p.communicate(timeout=120)
        finally:
            F.pg_ctl("-o", options, "start")
        row.runs += 1
        if p.returncode == EXIT_PASSED:
            row.failures.append("the run passed although its target went away")
        elif p.returncode != EXIT_ERROR or not any(w in err.lower() for w in ("connect", "terminat", "shut", "closed")):
            row.failures.append(f"exit {p.returncode}, expected 3 with a connection error: {err.strip()[-300:]}")
        left = F.settle(env)
        if left:
            row.leftovers += len(left)
            row.failures.append(f"left behind: {', '.join(left[:3])}")
    if env.fingerprint("pg") != before:
        row.target_changed = True
        row.failures.append("the target changed")
    if [r for r in F.store_runs(store) if r[1] == "passed"]:
        row.failures.append("a run whose target went away was stored as passed")
    row.half_written = len(F.half_written(store))
    return row


ALL = [shadow_disk_full_postgres, shadow_disk_full_mariadb, shadow_disk_full_sqlite, target_gone_mid_validation]
