#!/usr/bin/env python3
"""Run and measure the large-schema benchmark (see large_schema.sh): for each database,
`integrity check`, `inspect tables` and `schema validate` of a one-line migration, one run
each, printing a Markdown table with wall time, time per table, peak RSS and where the time
went (from the CLI's info-level timing logs). Exits non-zero when a planted violation is
missed, miscounted or another check fails.

Usage: large_schema.py BIN TABLES WORK_DIR POSTGRES_URL MARIADB_URL
"""
import json
import os
import re
import subprocess
import sys
import threading
import time

binary, tables, work, pg_url, my_url = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def measure(argv):
    """(wall s, peak RSS MB, stdout, {log message: fields}) of one run."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    streams = {}
    readers = [
        threading.Thread(target=lambda name=name, f=f: streams.__setitem__(name, f.read()))
        for name, f in (("out", child.stdout), ("err", child.stderr))
    ]
    for r in readers:
        r.start()
    # wait4 (not wait) for this child's own resource usage: its peak RSS.
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    for r in readers:
        r.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    out, err = streams["out"], streams["err"]
    rss = usage.ru_maxrss / 1024
    logs = {}
    for line in ANSI.sub("", err).splitlines():
        m = re.search(r" INFO (.*)$", line)
        if m:
            text = m.group(1)
            message = re.split(r" \w+=", text, maxsplit=1)[0].strip()
            logs[message] = dict(re.findall(r"(\w+)=(\S+)", text))
    if child.returncode not in (0, 1, 2):
        sys.exit(f"{' '.join(argv[:3])} failed ({child.returncode}): {err.strip()[-2000:]}")
    return wall, rss, out, logs


def check_counts(run, expected_file, label):
    expected = json.load(open(expected_file))
    found = {f"{r['table_name']}|{r['constraint']}": r["failure_count"] for r in run["integrity_results"] if r["failure_count"]}
    errors = [r for r in run["integrity_results"] if r.get("error")]
    if found != expected or errors:
        missing = {k: v for k, v in expected.items() if found.get(k) != v}
        extra = {k: v for k, v in found.items() if k not in expected}
        sys.exit(f"{label}: planted violations differ: missed or miscounted {missing}, unexpected {extra}, errors {errors[:3]}")
    return len(expected), len(run["integrity_results"])


print(f"| database | command ({tables:,} tables) | wall s | ms per table | peak RSS MB | where the time goes |")
print("|---|---|---:|---:|---:|---|")


class Rows(list):
    def append(self, row):
        label, what, wall, rss, where = row
        print(f"| {label} | {what} | {wall:.2f} | {wall * 1000 / tables:.2f} | {rss:.0f} | {where} |", flush=True)


rows = Rows()
for label, url, sub in (("PostgreSQL", pg_url, "pg"), ("MariaDB", my_url, "my")):
    rules = f"{work}/{sub}/rules.toml"
    wall, rss, _, logs = measure([binary, "--log-level", "info", "inspect", "tables", "--db", url, "--format", "json"])
    rows.append((label, "inspect tables (introspection)", wall, rss, f"catalog queries {logs.get('introspected', {}).get('ms', '?')} ms" if logs.get("introspected") else ""))
    wall, rss, out, logs = measure(
        [binary, "--log-level", "info", "integrity", "check", "--db", url, "--rules", rules, "--format", "json"]
    )
    planted, checks = check_counts(json.loads(out), f"{work}/{sub}/expected.json", label)
    plan = logs.get("integrity checks planned", {})
    where = (
        f"introspection {logs.get('introspected', {}).get('ms', '?')} ms; "
        f"{checks} checks ({plan.get('combined_queries', '?')} combined queries + {plan.get('single_units', '?')} single, "
        f"jobs {plan.get('jobs', '?')}) {logs.get('integrity checks run', {}).get('ms', '?')} ms; "
        f"store {logs.get('run stored', {}).get('ms', '?')} ms; all {planted} planted violations exact"
    )
    rows.append((label, "integrity check", wall, rss, where))
    wall, rss, _, logs = measure(
        [binary, "--log-level", "info", "schema", "validate", "--db", url, f"{work}/one_line.sql", "--format", "json"]
    )
    parts = [
        f"{name} {logs[key]['ms']} ms"
        for name, key in (
            ("target introspection", "target introspected"),
            ("pg_dump", "pg_dump --schema-only of the target"),
            ("pg_restore", "pg_restore into the shadow"),
            ("sample copy", "sample copied"),
            ("sandbox ready", "sandbox open"),
        )
        if key in logs and "ms" in logs[key]
    ]
    rows.append((label, "schema validate, one-line migration", wall, rss, "; ".join(parts)))

