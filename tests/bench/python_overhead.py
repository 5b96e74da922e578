#!/usr/bin/env python3
"""What the Python binding adds to a call: the same validate_schema on the example database,
N times through the Rust API in-process (core/examples/validate_loop.rs) and N times through
`dbconsultant.DatabaseConsultant`, in one run. Prints a Markdown table with the medians.

    python tests/bench/python_overhead.py [N]   # with the SDK installed in this interpreter
"""

import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import dbconsultant

ROOT = pathlib.Path(__file__).resolve().parents[2]
n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
migration = ROOT / "examples" / "migrations" / "002_unique_customer_email.sql"

with tempfile.TemporaryDirectory() as tmp:
    db = pathlib.Path(tmp) / "shop.db"
    subprocess.run([sys.executable, ROOT / "examples" / "make_shop_db.py", db], check=True, capture_output=True)
    url = f"sqlite://{db}"
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "dbconsultant", "--example", "validate_loop"], cwd=ROOT, check=True)
    rust = float(subprocess.run([ROOT / "target" / "release" / "examples" / "validate_loop", url, migration, str(n), f"{tmp}/rust-store.db"],
                                check=True, capture_output=True, text=True).stdout)
    agent = dbconsultant.DatabaseConsultant(store=f"{tmp}/py-store.db")
    agent.validate_schema(url, migration)  # warm-up
    times = []
    for _ in range(n):
        start = time.perf_counter()
        agent.validate_schema(url, migration)
        times.append((time.perf_counter() - start) * 1000)
    python = statistics.median(times)

print(f"| validate_schema, example 002 on shop.db | median ms ({n} calls) |")
print("|---|---:|")
print(f"| Rust API (in-process) | {rust:.2f} |")
print(f"| Python SDK | {python:.2f} |")
print(f"\nbinding overhead: {python - rust:+.2f} ms per call ({(python - rust) / rust * 100:+.1f}%); target < 2 ms or < 5%")
