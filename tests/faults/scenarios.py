"""The fault scenarios, in the order the suite runs them. Each returns a faultlib.Row; a
non-empty `failures` list fails the suite."""

import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import faultlib as F

EXIT_PASSED, EXIT_FAILED, EXIT_PENDING, EXIT_ERROR = 0, 1, 2, 3


def sqlite_validate(env, extra=()):
    return ["schema", "validate", "--db", f"sqlite://{env.sqlite}", env.migrations["sqlite"], "--format", "json", *extra]


# ---------------------------------------------------------------- concurrency

def _first_use(env, name, new_store, rounds, processes):
    row = F.Row(name, 0)
    for _ in range(rounds):
        store = new_store()
        procs = [F.spawn(store, sqlite_validate(env)) for _ in range(processes)]
        ids = []
        for p in procs:
            out, err = p.communicate(timeout=300)
            row.runs += 1
            if p.returncode not in (EXIT_PASSED, EXIT_FAILED):
                row.lost += 1
                row.failures.append(f"exit {p.returncode}: {err.strip()[-300:]}")
            else:
                ids.append(F.run_id(out))
        stored = {r[0] for r in F.store_runs(store)}
        row.lost += len(set(ids) - stored)
        if len(stored) != len(ids):
            row.failures.append(f"{len(ids)} runs reported, {len(stored)} stored")
        row.half_written += len(F.half_written(store))
    if row.lost:
        row.failures.append(f"{row.lost} runs lost")
    return row


def first_use_sqlite(env):
    return _first_use(env, "20 processes open a new SQLite store at once (x5)", env.new_store, 5, 20)


def first_use_postgres(env):
    return _first_use(env, "20 processes open a new PostgreSQL store at once (x3)", env.new_pg_store, 3, 20)


def _parallel_runs(env, name, store, workers=20, each=50):
    row = F.Row(name, workers * each)
    ids, errors = [], []
    lock = threading.Lock()

    def worker(_):
        for _ in range(each):
            out = F.run(store, sqlite_validate(env))
            with lock:
                if out.returncode in (EXIT_PASSED, EXIT_FAILED):
                    ids.append(F.run_id(out.stdout))
                else:
                    errors.append(f"exit {out.returncode}: {out.stderr.strip()[-300:]}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    stored = [r[0] for r in F.store_runs(store)]
    row.lost = len(errors) + len(set(ids) - set(stored))
    if len(set(ids)) != len(ids):
        row.failures.append("two runs were given the same id")
    if len(stored) != len(ids) or len(set(stored)) != len(stored):
        row.failures.append(f"{len(ids)} runs reported, {len(stored)} stored ({len(set(stored))} distinct)")
    row.failures += errors[:3]
    row.half_written = len(F.half_written(store))
    if row.half_written:
        row.failures.append(f"{row.half_written} runs half-written")
    return row


def parallel_runs_sqlite(env):
    return _parallel_runs(env, "20 processes x 50 runs, one SQLite store", env.new_store())


def parallel_runs_postgres(env):
    return _parallel_runs(env, "20 processes x 50 runs, one PostgreSQL store", env.new_pg_store())


def decisions_one_winner(env):
    """10 runs pending approval; 10 processes race to approve or reject each: one winner each."""
    store = env.new_store()
    pending = []
    for _ in range(10):
        out = F.run(store, sqlite_validate(env, ["--require-approval"]))
        if out.returncode != EXIT_PENDING:
            return F.Row("decisions race", 0, failures=[f"--require-approval: exit {out.returncode}: {out.stderr.strip()}"])
        pending.append(F.run_id(out.stdout))
    row = F.Row("10 processes race to decide 10 pending runs", 100)
    results = []
    lock = threading.Lock()

    def decider(who):
        for rid in random.sample(pending, len(pending)):
            verb = random.choice(["approve", "reject"])
            out = F.run(store, ["runs", verb, rid, "--by", f"approver{who}"])
            with lock:
                results.append((rid, verb, who, out.returncode, out.stderr))

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(decider, range(10)))
    stored = {rid: status for rid, status, _, _ in F.store_runs(store)}
    for rid in pending:
        # Exit codes follow the run's outcome: 0 approved, 1 rejected; 3 is a refused decision.
        won = {"approve": 0, "reject": 1}
        winners = [r for r in results if r[0] == rid and r[3] == won[r[1]]]
        losers = [r for r in results if r[0] == rid and r[3] != won[r[1]]]
        if len(winners) != 1:
            row.failures.append(f"run {rid}: {len(winners)} decisions succeeded")
            continue
        expected = {"approve": "approved", "reject": "rejected"}[winners[0][1]]
        if stored.get(rid) != expected:
            row.failures.append(f"run {rid}: the winner {winners[0][1]}d, the store says {stored.get(rid)}")
        bad = [r for r in losers if "only runs pending approval" not in r[4]]
        if bad:
            row.failures.append(f"run {rid}: a losing decision failed unclearly: {bad[0][4].strip()[-200:]}")
    return row


# ---------------------------------------------------------------- kill at random points

def kill_targets(env):
    """Every kind of run that touches a database, with the target it must leave unchanged."""
    pg, my = env.pg, env.my
    return {
        "schema validate, SQLite copy": ("sqlite", sqlite_validate(env)),
        "schema validate, PostgreSQL throwaway server": ("pg", ["schema", "validate", "--db", pg, env.migrations["pg"], "--format", "json"]),
        "schema validate, PostgreSQL --sandbox-url scratch database": (
            "pg",
            ["schema", "validate", "--db", pg, "--sandbox-url", env.pg_server, env.migrations["pg"], "--format", "json"],
        ),
        "schema validate, MariaDB throwaway server": ("my", ["schema", "validate", "--db", my, env.migrations["my"], "--format", "json"]),
        "schema validate, MariaDB scratch database on the target's server": (
            "my",
            ["schema", "validate", "--db", my, "--sandbox-on-target", env.migrations["my"], "--format", "json"],
        ),
        "integrity check, PostgreSQL": ("pg", ["integrity", "check", "--db", pg, "--format", "json"]),
        "ETL validate, PostgreSQL to MariaDB": (
            "pg",
            ["etl", "validate", "--source", pg, "--source-table", "orders", "--target", my, "--format", "json"],
        ),
        "perf profile, PostgreSQL": (
            "pg",
            ["perf", "profile", "--db", pg, "--env", "prod", "--query", "SELECT * FROM orders WHERE customer_id = 42", "--format", "json"],
        ),
    }


def _kill_run(env, name, target, args, sig, kills):
    row = F.Row(f"{signal.Signals(sig).name} during {name}", 0)
    store = env.new_store()
    before = env.fingerprint(target)
    t0 = time.time()
    first = F.run(store, args)
    typical = time.time() - t0
    if first.returncode not in (EXIT_PASSED, EXIT_FAILED, EXIT_PENDING):
        row.failures.append(f"the uninterrupted run failed: exit {first.returncode}: {first.stderr.strip()[-300:]}")
        return row
    finished = [F.run_id(first.stdout)]
    for _ in range(kills):
        p = F.spawn(store, args)
        time.sleep(random.uniform(0.05, typical * 1.1))
        p.send_signal(sig)
        out, err = p.communicate(timeout=120)
        row.runs += 1
        if p.returncode in (EXIT_PASSED, EXIT_FAILED, EXIT_PENDING):
            finished.append(F.run_id(out))  # it ended before the signal: it must be stored
        elif sig != signal.SIGKILL:
            expected = 128 + sig
            if p.returncode != expected:
                row.failures.append(f"exit {p.returncode} after {signal.Signals(sig).name}, expected {expected}: {err.strip()[-200:]}")
            elif "interrupted" not in err:
                row.failures.append(f"no clear message after {signal.Signals(sig).name}: {err.strip()[-200:]}")
        if sig != signal.SIGKILL:
            # A process that was told to stop cleans up itself, before exiting.
            left = env.leftovers()
            if left:
                row.leftovers += len(left)
                row.failures.append(f"left behind after {signal.Signals(sig).name}: {', '.join(left[:3])}")
    if env.fingerprint(target) != before:
        row.target_changed = True
        row.failures.append("the target changed")
    stored = {r[0] for r in F.store_runs(store)}
    row.lost = len(set(finished) - stored)
    if row.lost:
        row.failures.append(f"{row.lost} runs that finished are not stored")
    half = F.half_written(store)
    row.half_written = len(half)
    row.failures += [f"half-written: {h}" for h in half[:3]]
    if sig == signal.SIGKILL:
        # The next run removes what killed ones left (found dead by pid and lease).
        after = F.run(store, args)
        if after.returncode not in (EXIT_PASSED, EXIT_FAILED, EXIT_PENDING):
            row.failures.append(f"the run after the kills failed: exit {after.returncode}: {after.stderr.strip()[-300:]}")
        left = F.settle(env)
        row.leftovers = len(left)
        if left:
            row.failures.append(f"left behind after the next run: {', '.join(left[:4])}")
    return row


def kill_scenarios():
    def make(name, sig, kills):
        def scenario(env):
            target, args = kill_targets(env)[name]
            return _kill_run(env, name, target, args, sig, kills)

        scenario.__name__ = f"{signal.Signals(sig).name} {name}"
        return scenario

    names = [
        "schema validate, SQLite copy",
        "schema validate, PostgreSQL throwaway server",
        "schema validate, PostgreSQL --sandbox-url scratch database",
        "schema validate, MariaDB throwaway server",
        "schema validate, MariaDB scratch database on the target's server",
        "integrity check, PostgreSQL",
        "ETL validate, PostgreSQL to MariaDB",
        "perf profile, PostgreSQL",
    ]
    out = [make(n, signal.SIGKILL, 6) for n in names]
    for n in (names[0], names[1], names[2], names[4]):
        out.append(make(n, signal.SIGTERM, 3))
        out.append(make(n, signal.SIGINT, 2))
    return out


# ---------------------------------------------------------------- server restart

def server_restart(env):
    """PostgreSQL restarted while an ETL comparison reads from it (the copy has one planted
    difference): a clear connection error, or, when the restart fell between two queries and
    the run reconnected, a complete result that finds exactly the planted difference; never a
    passing run."""
    row = F.Row("PostgreSQL restarted during an ETL run (x3)", 0)
    bindir, data = os.environ.get("DBCONSULTANT_TEST_POSTGRES_BIN"), os.environ.get("DBCONSULTANT_TEST_POSTGRES_DATA")
    if not bindir or not data:
        row.failures.append("DBCONSULTANT_TEST_POSTGRES_BIN / _DATA not set (scripts/servers.sh exports them)")
        return row
    store = env.new_store()
    args = ["etl", "validate", "--source", env.pg, "--source-table", "orders", "--target", env.pg_copy, "--format", "json"]
    for mode in ("fast", "immediate", "fast"):
        p = F.spawn(store, args)
        # Restart once the comparison's queries are running on the server.
        deadline = time.time() + 30
        while time.time() < deadline and p.poll() is None:
            active = F.psql(env.pg_server, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'dbconsultant' AND state = 'active'")
            if int(active or 0) > 0:
                break
            time.sleep(0.02)
        if p.poll() is not None:
            row.failures.append("the run ended before the server could be restarted")
            continue
        user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        # The restarted server inherits pg_ctl's stdout and stderr: pipes there would keep
        # this call waiting for an end-of-file that comes only when the server stops.
        subprocess.run(user + [f"{bindir}/pg_ctl", "-D", data, "-m", mode, "-w", "-t", "60", "restart"],
                       check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out, err = p.communicate(timeout=120)
        row.runs += 1
        if p.returncode == EXIT_PASSED:
            row.failures.append("the run passed although the copy differs")
        elif p.returncode == EXIT_FAILED:
            changed = [c["key"] for r in json.loads(out)["etl_results"] for c in r["changed"]]
            if changed != [{"id": env.planted_key}] or any(r["missing_in_target"] or r["extra_in_target"] for r in json.loads(out)["etl_results"]):
                row.failures.append(f"a completed run found {changed}, expected exactly the planted key {env.planted_key}")
        elif p.returncode != EXIT_ERROR or not any(w in err.lower() for w in ("connect", "terminat", "shut")):
            row.failures.append(f"exit {p.returncode}, expected 3 with a connection error: {err.strip()[-300:]}")
    passed = [r for r in F.store_runs(store) if r[1] == "passed"]
    if passed:
        row.failures.append(f"{len(passed)} passing runs stored")
    row.half_written = len(F.half_written(store))
    return row


def server_down_at_start(env):
    """PostgreSQL stopped when a run starts and back 1.5 s later: the connection is retried
    (backoff with jitter) and the run completes; a wrong password is not retried."""
    row = F.Row("PostgreSQL down when a run connects, back 1.5 s later (x2)", 0)
    bindir, data = os.environ.get("DBCONSULTANT_TEST_POSTGRES_BIN"), os.environ.get("DBCONSULTANT_TEST_POSTGRES_DATA")
    if not bindir or not data:
        row.failures.append("DBCONSULTANT_TEST_POSTGRES_BIN / _DATA not set (scripts/servers.sh exports them)")
        return row
    pg_ctl, options = F.pg_ctl, F.pg_start_options()
    store = env.new_store()
    args = ["integrity", "check", "--db", env.pg, "--format", "json"]
    finished = []
    for _ in range(2):
        pg_ctl("-m", "fast", "stop")
        try:
            p = F.spawn(store, args)
            time.sleep(1.5)
        finally:
            pg_ctl("-o", options, "start")
        out, err = p.communicate(timeout=120)
        row.runs += 1
        if p.returncode not in (EXIT_PASSED, EXIT_FAILED):
            row.failures.append(f"exit {p.returncode} although the server came back within the retry time: {err.strip()[-300:]}")
        else:
            finished.append(F.run_id(out))
    stored = {r[0] for r in F.store_runs(store)}
    row.lost = len(set(finished) - stored)
    wrong = urllib.parse.urlsplit(env.pg)
    wrong = wrong._replace(netloc=f"{wrong.username}:not-the-password@{wrong.hostname}:{wrong.port}").geturl()
    t0 = time.time()
    denied = F.run(store, ["integrity", "check", "--db", wrong, "--format", "json"])
    row.runs += 1
    if denied.returncode != EXIT_ERROR or "password authentication failed" not in denied.stderr or "attempts" in denied.stderr:
        row.failures.append(f"a wrong password: exit {denied.returncode}, expected 3 at the first attempt: {denied.stderr.strip()[-300:]}")
    elif time.time() - t0 > 5:
        row.failures.append(f"a wrong password took {time.time() - t0:.1f} s: it was retried")
    return row


# ---------------------------------------------------------------- disk full

def disk_full(env):
    """The store's file system fills up: a clear error, the store intact, the next run stored
    once there is room again."""
    row = F.Row("the store's disk full (tmpfs)", 0)
    mount = os.path.join(env.work, "small")
    os.makedirs(mount)
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mount], capture_output=True, text=True)
    if made.returncode != 0:
        row.failures.append(f"cannot mount a small tmpfs (run as root): {made.stderr.strip()}")
        return row
    try:
        store = os.path.join(mount, "store.db")
        first = F.run(store, sqlite_validate(env))
        if first.returncode not in (EXIT_PASSED, EXIT_FAILED):
            row.failures.append(f"the first run failed: {first.stderr.strip()[-300:]}")
            return row
        filler = os.path.join(mount, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        full = F.run(store, sqlite_validate(env))
        row.runs += 1
        if full.returncode != EXIT_ERROR or "full" not in full.stderr.lower():
            row.failures.append(f"disk full: exit {full.returncode}, expected 3 naming the full disk: {full.stderr.strip()[-300:]}")
        os.remove(filler)
        check = F.sqlite_integrity(store)
        if check != "ok":
            row.failures.append(f"PRAGMA integrity_check: {check}")
        again = F.run(store, sqlite_validate(env))
        row.runs += 1
        if again.returncode not in (EXIT_PASSED, EXIT_FAILED):
            row.failures.append(f"the run after space came back failed: {again.stderr.strip()[-300:]}")
        stored = {r[0] for r in F.store_runs(store)}
        expected = {F.run_id(first.stdout)} | ({F.run_id(again.stdout)} if again.returncode in (0, 1) else set())
        row.lost = len(expected - stored)
        if stored - expected:
            row.failures.append("the run that failed on the full disk was stored")
        row.half_written = len(F.half_written(store))
    finally:
        subprocess.run(["umount", "-l", mount], capture_output=True)
    return row


ALL = [
    first_use_sqlite,
    first_use_postgres,
    parallel_runs_sqlite,
    parallel_runs_postgres,
    decisions_one_winner,
    *kill_scenarios(),
    server_restart,
    server_down_at_start,
    disk_full,
]
