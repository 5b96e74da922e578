"""The REST service under load (tests/bench/rest.sh runs it): two `dbconsultant serve`
processes on one PostgreSQL store, each with its workers.

1. 50 schema validations of the example migration submitted at once (`Prefer: respond-async`,
   spread over both servers): all must succeed; the time until the queue is drained.
2. 200 concurrent clients (wrk, 100 connections per server) reading random run documents for
   DURATION seconds: requests/s, p50/p95/p99 latency, errors (target: p95 < 20 ms, no error).
3. With SOAK=seconds, step 2 repeated for that long, each server's RSS sampled after every
   round: memory must stay flat.
"""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse, urlunparse

import json
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("DBCONSULTANT_BIN", str(ROOT / "target/release/dbconsultant"))
WORK = ROOT / "target/bench/rest"
DURATION = int(os.environ.get("DURATION", "20"))
SOAK = int(os.environ.get("SOAK", "0"))
MIGRATION = (ROOT / "examples/migrations/001_index_order_status.sql").read_text()


def http(method: str, url: str, key: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Bearer {key}", "content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def rss_kib(pid: int) -> int:
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wrk(base: str, ids: pathlib.Path, key: str, seconds: int, connections: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(ROOT / "tests/bench/rest_read.lua"), base, "--", str(ids)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "DBCONSULTANT_BENCH_KEY": key},
    )


def read_round(bases: list[str], ids: pathlib.Path, key: str, seconds: int) -> dict[str, float]:
    procs = [wrk(b, ids, key, seconds, 100) for b in bases]
    total = {"requests": 0.0, "errors": 0.0, "non2xx": 0.0, "p50": 0.0, "p95": 0.0, "p99": 0.0, "rps": 0.0}
    for p in procs:
        out, _ = p.communicate()
        last = out.strip().splitlines()[-1].split()
        requests_, sock, status, dur_us = (int(x) for x in last[:4])
        p50, p95, p99 = (float(x) for x in last[4:])
        total["requests"] += requests_
        total["errors"] += sock
        total["non2xx"] += status
        total["rps"] += requests_ / (dur_us / 1e6)
        # The slower server's percentiles (each wrk sees half the clients).
        total["p50"], total["p95"], total["p99"] = max(total["p50"], p50), max(total["p95"], p95), max(total["p99"], p99)
    return total


def main() -> None:
    admin = os.environ["DBCONSULTANT_TEST_POSTGRES_URL"]
    WORK.mkdir(parents=True, exist_ok=True)
    name = f"bench_rest_{uuid.uuid4().hex[:6]}"
    subprocess.run(["psql", "-q", admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    store = urlunparse(urlparse(admin)._replace(path=f"/{name}"))
    shop = WORK / "shop.db"
    shop.unlink(missing_ok=True)
    subprocess.run([sys.executable, str(ROOT / "examples/make_shop_db.py"), str(shop)], check=True, capture_output=True)
    (WORK / "targets.toml").write_text(f'[targets.shop_qa]\nurl = "sqlite://{shop}"\nenvironment = "qa"\n')
    keys = {}
    for who, grant in [("bench-runner", "runner:qa"), ("bench-reader", "viewer")]:
        keys[who] = subprocess.run([BIN, "--store", store, "keys", "create", who, "--grant", grant], capture_output=True, text=True, check=True).stdout.strip()
    servers = []
    for _ in range(2):
        p = subprocess.Popen([BIN, "--store", store, "serve", "--listen", "127.0.0.1:0", "--targets", str(WORK / "targets.toml"), "--rate-limit", "0", "--workers", "2"], stderr=subprocess.PIPE, text=True)
        assert p.stderr is not None
        base = re.search(r"listening on (http://[^/]+)", p.stderr.readline()).group(1)  # type: ignore[union-attr]
        servers.append((p, base))
    bases = [b for _, b in servers]
    try:
        # 1. 50 validations at once.
        started = time.time()
        def submit(i: int) -> tuple[str, str]:
            status, job = http("POST", bases[i % 2] + "/api/v1/db/schema/validate", keys["bench-runner"], {"database": "shop_qa", "migration_sql": MIGRATION}, {"Prefer": "respond-async"})
            assert status == 202, (status, job)
            return bases[i % 2], job["location"]
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            jobs = list(pool.map(submit, range(50)))
        submitted = time.time() - started
        states: dict[str, str] = {}
        while len(states) < 50 and time.time() - started < 600:
            for base, loc in jobs:
                if loc not in states:
                    _, job = http("GET", base + loc, keys["bench-reader"])
                    if job["state"] in ("succeeded", "failed", "cancelled"):
                        states[loc] = job["state"]
            time.sleep(0.2)
        drained = time.time() - started
        failed = [s for s in states.values() if s != "succeeded"]
        print("| REST (2 servers × 2 workers, PostgreSQL store) | value |")
        print("|---|---:|")
        print(f"| 50 async schema validations: submitted in | {submitted * 1000:.0f} ms |")
        print(f"| … queue drained (all {len(states)} done, {len(failed)} not succeeded) in | {drained:.1f} s |")

        ids = WORK / "run_ids.txt"
        ids.write_text("\n".join(loc.rsplit("/", 1)[1] for _, loc in jobs) + "\n")
        # 2. 200 concurrent readers.
        read_round(bases, ids, keys["bench-reader"], 3)  # warm-up
        result = read_round(bases, ids, keys["bench-reader"], DURATION)
        print(f"| 200 clients reading run documents, {DURATION} s: requests/s | {result['rps']:.0f} |")
        print(f"| … p50 / p95 / p99 latency | {result['p50']:.1f} / {result['p95']:.1f} / {result['p99']:.1f} ms |")
        print(f"| … errors (socket / non-2xx) | {result['errors']:.0f} / {result['non2xx']:.0f} |")
        print(f"| … RSS per server after | {' / '.join(f'{rss_kib(p.pid) // 1024} MB' for p, _ in servers)} |")
        # 3. Soak.
        if SOAK:
            samples = []
            end = time.time() + SOAK
            while time.time() < end:
                r = read_round(bases, ids, keys["bench-reader"], 30)
                samples.append(([rss_kib(p.pid) // 1024 for p, _ in servers], r["p95"], r["errors"] + r["non2xx"]))
            for i, server in enumerate(("A", "B")):
                trail = " ".join(str(s[0][i]) for s in samples)
                print(f"| soak {SOAK} s: server {server} RSS after each 30 s round (MB) | {trail} |")
            print(f"| … worst p95, errors | {max(s[1] for s in samples):.1f} ms, {sum(s[2] for s in samples):.0f} |")
    finally:
        for p, _ in servers:
            p.terminate()
            p.wait(timeout=30)
        subprocess.run(["psql", "-q", admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


if __name__ == "__main__":
    main()
