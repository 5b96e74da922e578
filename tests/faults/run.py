#!/usr/bin/env python3
"""Fault injection with real processes and real servers: concurrent first use of the store,
parallel runs and decisions, kill -9 / SIGTERM / SIGINT at random points of every kind of
run, a database server restarted mid-run, and the store's disk filling up.

Every scenario is repeated enough to catch races and checked independently of dbconsultant
(sqlite3, psql, mariadb): every run stored exactly once, a run either complete or absent,
the target unchanged, and nothing left behind (temporary directories, throwaway servers,
scratch databases) after the next run. Prints one table; exits 1 when any scenario fails.

Needs DBCONSULTANT_BIN, DBCONSULTANT_TEST_POSTGRES_URL (+ _POSTGRES_BIN and _POSTGRES_DATA
for the restart) and DBCONSULTANT_TEST_MYSQL_URL, which scripts/servers.sh exports.
"""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import faultlib as F  # noqa: E402
import sandbox_faults  # noqa: E402
import scenarios as S  # noqa: E402


def main() -> int:
    missing = [v for v in ("DBCONSULTANT_BIN", "DBCONSULTANT_TEST_POSTGRES_URL", "DBCONSULTANT_TEST_MYSQL_URL") if not os.environ.get(v)]
    if missing:
        print(f"tests/faults: {', '.join(missing)} not set; run through scripts/test.sh, which builds the CLI and starts the servers")
        return 1
    work = tempfile.mkdtemp(prefix="dbc-faults-")
    # The CLI's temporary directories go here, so leftovers are found without guessing.
    os.environ["TMPDIR"] = os.path.join(work, "tmp")
    os.makedirs(os.environ["TMPDIR"])
    os.chmod(work, 0o755)
    os.chmod(os.environ["TMPDIR"], 0o1777)
    env = F.Env(work)
    started = time.time()
    results = []
    # A developer re-running one scenario: FAULTS_ONLY=<part of its function name>.
    only = os.environ.get("FAULTS_ONLY", "")
    for scenario in [s for s in S.ALL + sandbox_faults.ALL if only in s.__name__]:
        t0 = time.time()
        try:
            row = scenario(env)
        except Exception as e:  # a scenario that crashes is a failed scenario, reported as such
            row = F.Row(scenario.__name__, 0, failures=[f"crashed: {e!r}"])
        row.seconds = time.time() - t0
        results.append(row)
        print(row.line(), flush=True)
    print()
    print(F.table(results))
    print(f"\n{len(results)} scenarios in {time.time() - started:.0f} s")
    failed = [r for r in results if r.failures]
    for r in failed:
        for f in r.failures:
            print(f"FAILED {r.name}: {f}")
    F.remove_tree(work)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
